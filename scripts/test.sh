#!/usr/bin/env bash
# Builds with warnings as errors and runs every test tier (unit, integration,
# crash short tier, fuzz bounded run, compat, e2e); then the same tests again
# under AddressSanitizer + UndefinedBehaviorSanitizer.
# Long crash tier on demand: CAIRN_CRASH_KILLS=200 ctest --preset debug -L crash
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset debug -DCAIRN_WERROR=ON >/dev/null
cmake --build --preset debug -j"$(nproc)"
ctest --preset debug -j2
if [ "${CAIRN_SKIP_ASAN:-0}" != "1" ]; then
  cmake --preset asan -DCAIRN_WERROR=ON >/dev/null
  cmake --build --preset asan -j"$(nproc)"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --preset asan -j2 -LE fuzz
fi
