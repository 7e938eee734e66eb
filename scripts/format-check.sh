#!/usr/bin/env bash
# Fails when a C++ file of the tree is not formatted as .clang-format says
# (Google style, 100 columns). Fix with: scripts/format-check.sh --fix
set -euo pipefail
cd "$(dirname "$0")/.."
# The formatting depends on clang-format's version: Debian 12's, 14.
version=$(clang-format --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p')
if [ "$version" != "14" ]; then
  echo "format-check: needs clang-format 14 (Debian 12's), found: $(clang-format --version)" >&2
  exit 1
fi
mapfile -t files < <(git ls-files '*.cc' '*.h')
if [ "${#files[@]}" -eq 0 ]; then
  echo "format-check: no C++ files found (not a git checkout?)" >&2
  exit 1
fi
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
else
  clang-format --dry-run --Werror "${files[@]}"
  echo "format-check: ${#files[@]} files formatted"
fi
