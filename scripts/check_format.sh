#!/usr/bin/env bash
# Checks that every C++ source is formatted with the checked-in .clang-format (Debian's
# clang-format 14). scripts/test.sh runs it; fix a failure with
#   bash scripts/check_format.sh --fix
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -- '*.cpp' '*.h' 2>/dev/null || find app cli core plugins session tools ui tests bench \( -name '*.cpp' -o -name '*.h' \) 2>/dev/null)
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
if ! clang-format --dry-run --Werror "${files[@]}" 2> /tmp/paramscope-format.$$; then
  grep -E '^[^ ].*: (error|warning):' /tmp/paramscope-format.$$ | cut -d: -f1 | sort -u | sed 's/^/not formatted: /' >&2
  rm -f /tmp/paramscope-format.$$
  echo "clang-format: the files above differ from .clang-format; run: bash scripts/check_format.sh --fix" >&2
  exit 1
fi
rm -f /tmp/paramscope-format.$$
echo "clang-format: ${#files[@]} files formatted"
