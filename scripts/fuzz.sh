#!/usr/bin/env bash
# The long fuzz run (hours): every libFuzzer target, one after another, each for the given
# seconds, with ASan + UBSan, in the sanitizer build (build-asan/, built here if needed).
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   e.g. bash scripts/fuzz.sh 3600                 all targets, an hour each
#        bash scripts/fuzz.sh 600 pickle model     two of them
# Targets: zip pickle safetensors model search (tests/fuzz/fuzz_<target>.cpp).
#
# Environment:
#   PARAMSCOPE_FUZZ_DIR   where corpora and crashes live (default: ~/.cache/paramscope-fuzz),
#                         outside the source tree so that a long run's thousands of inputs
#                         never end up in a commit:
#                           $PARAMSCOPE_FUZZ_DIR/corpus/<target>/   grows across runs
#                           $PARAMSCOPE_FUZZ_DIR/crashes/<target>/  crash-*, timeout-*, oom-*, leak-*
#   PARAMSCOPE_FUZZ_JOBS  parallel fuzzing processes per target (default 1)
#   PARAMSCOPE_FUZZ_HUGE=1  let the targets summarise/export tensors of any logical size
#                         (by default they skip those above 65,536 elements to keep each run
#                         in milliseconds)
#
# The first run seeds the corpus from the PyTorch-written test fixtures (tests/fuzz/make_seeds.py)
# and from tests/fuzz/corpus/ and tests/fuzz/regressions/.
#
# A crash becomes a regression file like this:
#   1. reproduce it:  build-asan/tests/fuzz/fuzz_<target> $PARAMSCOPE_FUZZ_DIR/crashes/<target>/crash-<sha>
#      (add -runs=1; the stack names the defect);
#   2. shrink it:     build-asan/tests/fuzz/fuzz_<target> -minimize_crash=1 -runs=10000 \
#                       -exact_artifact_path=/tmp/min crash-<sha>
#   3. fix the defect in core/ (and add a unit test that states the expected message);
#   4. copy the (minimised) input to tests/fuzz/regressions/<target>/<what-it-was> and commit
#      it with the fix: the short fuzz run in scripts/test.sh (CTest fuzz_<target>_short)
#      executes every file there (with PARAMSCOPE_FUZZ_HUGE=1), so the bug cannot come back
#      unnoticed. Never commit a reproducer before its fix: it would turn CI red.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
paramscope_install_deps

secs=${1:-3600}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(zip pickle safetensors model search)
dir=${PARAMSCOPE_FUZZ_DIR:-$HOME/.cache/paramscope-fuzz}
jobs=${PARAMSCOPE_FUZZ_JOBS:-1}

paramscope_asan_build build-asan

# Seeds: the fixtures are written by real PyTorch (the fixtures_* CTest tests).
if [ ! -d build-asan/tests/fuzz/seeds ]; then
  ctest --test-dir build-asan -R '^fixtures_' --output-on-failure
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The targets' scratch files, removed at the end even after crashes.
base=/dev/shm; [ -w "$base" ] || base=${TMPDIR:-/tmp}
PARAMSCOPE_FUZZ_SCRATCH=$(mktemp -d "$base/paramscope-fuzz.XXXXXX")
export PARAMSCOPE_FUZZ_SCRATCH
trap 'rm -rf "$PARAMSCOPE_FUZZ_SCRATCH"' EXIT
status=0
for t in "${targets[@]}"; do
  exe=build-asan/tests/fuzz/fuzz_$t
  [ -x "$exe" ] || { echo "no fuzz target '$t' ($exe)" >&2; exit 2; }
  mkdir -p "$dir/corpus/$t" "$dir/crashes/$t"
  extra=()
  for d in build-asan/tests/fuzz/seeds/$t tests/fuzz/corpus/$t tests/fuzz/regressions/$t; do
    [ -d "$d" ] && extra+=("$d")
  done
  dict=()
  [ -f tests/fuzz/$t.dict ] && dict=(-dict=tests/fuzz/$t.dict)
  before=$(find "$dir/crashes/$t" -type f | wc -l)
  echo "== fuzz_$t for ${secs}s: corpus $dir/corpus/$t, crashes $dir/crashes/$t"
  # -fork keeps fuzzing after a crash, timeout or OOM (each is saved), so an hours-long run
  # is not stopped by its first finding.
  if ! "$exe" -max_total_time="$secs" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 "${dict[@]}" \
        -artifact_prefix="$dir/crashes/$t/" "$dir/corpus/$t" "${extra[@]}"; then
    status=1
  fi
  n=$(( $(find "$dir/crashes/$t" -type f | wc -l) - before ))
  if [ "$n" -gt 0 ]; then
    echo "fuzz_$t: $n new finding(s) in $dir/crashes/$t (see the comment at the top of scripts/fuzz.sh)"
    status=1
  fi
done
exit $status
