#!/usr/bin/env bash
# Fails when a C++ file of the tree is not formatted as .clang-format says
# (Google style, 100 columns). Fix with: scripts/format-check.sh --fix
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
else
  clang-format --dry-run --Werror "${files[@]}"
  echo "format-check: ${#files[@]} files formatted"
fi
