#!/usr/bin/env bash
# One fuzz target for a short fixed number of executions (CTest: fuzz_<target>_short).
#   run_short.sh EXE TARGET BUILD_DIR SOURCE_DIR SEEDS_DIR RUNS MAX_SECONDS [DICT]
# New inputs go to a scratch corpus in the build tree (the first corpus folder is the one
# libFuzzer writes to), never into the source tree; a crash leaves its input in
# BUILD_DIR/artifacts/TARGET/ and fails the test.
set -euo pipefail
exe=$1 target=$2 build=$3 src=$4 seeds=$5 runs=$6 secs=$7 dict=${8:-}
work="$build/work/$target"
artifacts="$build/artifacts/$target"
rm -rf "$work"
mkdir -p "$work" "$artifacts"
dirs=("$work")
for d in "$seeds/$target" "$src/corpus/$target" "$src/regressions/$target"; do
  [ -d "$d" ] && dirs+=("$d")
done
# A fixed seed: the same executions on every run, so the test fails only when the code or
# the corpus changes (exploring is scripts/fuzz.sh's job). PARAMSCOPE_FUZZ_SEED overrides.
args=(-seed="${PARAMSCOPE_FUZZ_SEED:-1}" -runs="$runs" -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10
      -print_final_stats=1 -artifact_prefix="$artifacts/")
[ -n "$dict" ] && args+=(-dict="$dict")
# Scratch files of the targets (inputs written out for the readers, exports) in memory,
# removed afterwards even when the target crashed.
base=/dev/shm; [ -w "$base" ] || base=${TMPDIR:-/tmp}
PARAMSCOPE_FUZZ_SCRATCH=$(mktemp -d "$base/paramscope-fuzz-$target.XXXXXX")
export PARAMSCOPE_FUZZ_SCRATCH
trap 'rm -rf "$PARAMSCOPE_FUZZ_SCRATCH"' EXIT
# Leaks are checked per input (libFuzzer's own leak check), whatever the caller set.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Reproducers of fixed bugs first, each executed once with no bound on tensor sizes
# (PARAMSCOPE_FUZZ_HUGE): the inputs that crashed must now end in a clear refusal.
reg="$src/regressions/$target"
if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
  echo "PARAMSCOPE_FUZZ_HUGE=1 $exe -runs=0 $reg"
  PARAMSCOPE_FUZZ_HUGE=1 "$exe" -runs=0 -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=60 \
    -artifact_prefix="$artifacts/regression-" "$reg"
fi
echo "$exe ${args[*]} ${dirs[*]}"
"$exe" "${args[@]}" "${dirs[@]}"
