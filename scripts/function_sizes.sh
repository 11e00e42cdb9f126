#!/usr/bin/env bash
# Lists the project's functions longer than a line limit (default 100), with clang-tidy's
# readability-function-size over a configured build's compile_commands.json.
#   bash scripts/function_sizes.sh [BUILD_DIR] [LINES]
# Slow (clang-tidy parses every source: minutes); not part of the test command.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
limit=${2:-100}
[ -f "$build/compile_commands.json" ] || { echo "no $build/compile_commands.json: configure $build first" >&2; exit 2; }
mapfile -t files < <(git ls-files -- 'core/*.cpp' 'cli/*.cpp' 'session/*.cpp' 'ui/*.cpp' 'app/*.cpp' 'tools/*.cpp' 'plugins/*.cpp')
config="{CheckOptions: [{key: readability-function-size.LineThreshold, value: $limit}]}"
found=0
for f in "${files[@]}"; do
  out=$(clang-tidy -p "$build" --quiet --checks='-*,readability-function-size' --config="$config" "$f" 2>/dev/null | grep -A1 'warning: function' | grep -E 'warning:|lines including' || true)
  if [ -n "$out" ]; then
    echo "$out" | grep 'warning:' | sed -E 's/ exceeds recommended.*//'
    found=1
  fi
done
[ $found -eq 0 ] && echo "no function over $limit lines"
exit 0
