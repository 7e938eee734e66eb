#!/usr/bin/env bash
# Runs the official Node clients against a real `cairn serve` on loopback.
#
#   tests/server/run-node-tests.sh CAIRN_BIN [FILE.test.mjs ...]
#
# CAIRN_BIN is the cairn binary (e.g. build/debug/cli/cairn). Without FILEs every
# *.test.mjs under tests/server/node runs, one node process per file. Installs
# the pinned clients with `npm ci` when node_modules is missing or older than
# package-lock.json. Exits 1 naming each file that failed.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 CAIRN_BIN [FILE.test.mjs ...]" >&2
  exit 2
fi
bin=$(realpath -- "$1")
shift
if [[ ! -x $bin ]]; then
  echo "$0: not an executable: $bin" >&2
  exit 2
fi

cd -- "$(dirname -- "${BASH_SOURCE[0]}")/node"

# npm writes node_modules/.package-lock.json on every install.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

if [[ $# -gt 0 ]]; then
  files=("$@")
else
  files=(*.test.mjs)
fi

failed=()
# Each file once per client, each run in its own process (harness.mjs says why).
for client in kurrentdb eventstore; do
  for file in "${files[@]}"; do
    echo "=== ${file} (${client})"
    # The timeout only stops a hung call from hanging the run; no test is timed.
    if ! CAIRN_NODE_CLIENT=$client CAIRN_BIN=$bin node --test --test-concurrency=1 \
        --test-timeout=120000 --test-reporter=spec "$file"; then
      failed+=("${file} (${client})")
    fi
  done
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "all ${#files[@]} files passed with both clients"
