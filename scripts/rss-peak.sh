#!/usr/bin/env bash
# Runs a command and prints, when it ends, the peak of its resident memory
# sampled from /proc/PID/status every 0.2 s: total (VmRSS), heap and other
# anonymous memory (RssAnon) and mapped files (RssFile), in MB.
# Usage: scripts/rss-peak.sh COMMAND [ARGS...]
set -u
"$@" &
pid=$!
max_total=0 max_anon=0 max_file=0
while kill -0 "$pid" 2>/dev/null; do
  if [[ -r /proc/$pid/status ]]; then
    while read -r key value _; do
      case "$key" in
        VmRSS:) ((value > max_total)) && max_total=$value ;;
        RssAnon:) ((value > max_anon)) && max_anon=$value ;;
        RssFile:) ((value > max_file)) && max_file=$value ;;
      esac
    done < /proc/$pid/status 2>/dev/null
  fi
  sleep 0.2
done
wait "$pid"
rc=$?
echo "rss-peak: total_mb=$((max_total / 1024)) anon_mb=$((max_anon / 1024)) file_mb=$((max_file / 1024)) exit=$rc" >&2
exit $rc
