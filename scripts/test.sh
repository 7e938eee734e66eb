#!/usr/bin/env bash
# Builds with warnings as errors and runs every test tier:
# unit, integration, crash (short tier), fuzz (bounded), e2e.
# Long crash tier on demand: CAIRN_CRASH_KILLS=200 ctest --preset debug -L crash
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset debug -DCAIRN_WERROR=ON >/dev/null
cmake --build --preset debug -j"$(nproc)"
ctest --preset debug -j2
