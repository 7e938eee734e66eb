#!/usr/bin/env bash
# Paired A/B of two builds of cairn-bench: ROUNDS alternated rounds (base
# first in odd rounds, new first in even ones, so drift of a shared machine
# hits both alike), then per workload the median of the per-round ratios
# new/base of events_per_s. Raw lines go to OUT (prefixed base/new).
#   bench/ab.sh BASE_BENCH NEW_BENCH ROUNDS OUT -- WORKLOAD... [OPTIONS]
# e.g. bench/ab.sh /work/ab-before/build/release/cli/cairn-bench \
#        build/release/cli/cairn-bench 5 bench/results/ab.txt -- \
#        append-single append-batch --no-peers --db /work/benchdata
set -euo pipefail
[ "$#" -ge 6 ] && [ "$5" = "--" ] || { sed -n 2,9p "$0" >&2; exit 2; }
base=$1 new=$2 rounds=$3 out=$4
shift 5
echo "# bench/ab.sh $base $new $rounds $out -- $*" >"$out"
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then
    "$base" "$@" | grep '^workload=' | sed "s/^/base r=$r /" >>"$out"
    "$new" "$@" | grep '^workload=' | sed "s/^/new r=$r /" >>"$out"
  else
    "$new" "$@" | grep '^workload=' | sed "s/^/new r=$r /" >>"$out"
    "$base" "$@" | grep '^workload=' | sed "s/^/base r=$r /" >>"$out"
  fi
done
awk '
  /^#/ { next }
  { side=$1; r=$2; sub("r=","",r); w=""; v="";
    for (i = 3; i <= NF; i++) {
      if ($i ~ /^workload=/) w = substr($i, 10);
      if ($i ~ /^events_per_s=/) v = substr($i, 14);
    }
    val[side, w, r] = v; seen[w] = 1; if (r > maxr) maxr = r }
  END {
    for (w in seen) {
      n = 0; line = "";
      for (r = 1; r <= maxr; r++) {
        if ((("base", w, r) in val) && (("new", w, r) in val) && val["base", w, r] > 0) {
          ratio[++n] = val["new", w, r] / val["base", w, r];
          line = line sprintf(" %.2f", ratio[n]);
        }
      }
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
        if (ratio[j] < ratio[i]) { t = ratio[i]; ratio[i] = ratio[j]; ratio[j] = t }
      med = (n % 2) ? ratio[(n + 1) / 2] : (ratio[n / 2] + ratio[n / 2 + 1]) / 2;
      printf "ab workload=%s rounds=%d median_ratio_new_over_base=%.2f ratios=%s\n", w, n, med, line
    }
  }' "$out" | sort
