#!/usr/bin/env bash
# Builds ParamScope and runs the whole test suite, then the sanitizer run. CI runs this.
#   bash scripts/test.sh            normal build + every test, then the sanitizer run
#   bash scripts/test.sh --asan     the sanitizer run only
#   bash scripts/test.sh --no-asan  the normal build + tests only
#
# 0. The format check: every C++ source formatted with .clang-format (scripts/check_format.sh).
#    The build itself checks the layering (cmake/Layering.cmake, scripts/check_layering.py).
# 1. build/: the whole product, every CTest test (unit, loader, CLI and GUI tests; GUI tests
#    run offscreen).
# 2. build-asan/: a second build, with clang, of only what the sanitizer run needs
#    (PARAMSCOPE_CORE_ONLY: core, paramscope-cli, the core and CLI tests, the fuzz targets;
#    no window and no LibTorch plug-in to compile), with AddressSanitizer +
#    UndefinedBehaviorSanitizer (-fno-sanitize-recover=undefined: any UB fails the test).
#    It runs the core and CLI tests and every libFuzzer target for a short fixed number of
#    executions over its seed corpus (from the fixtures), tests/fuzz/corpus/ and
#    tests/fuzz/regressions/ (CTest label `fuzz`). Tests that need LibTorch use the plug-in
#    of build/ when it is there (LibTorch itself is not instrumented); without it they are
#    reported as disabled. The GUI tests are not in this build (they run in step 1).
# The script fails when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
paramscope_install_deps

mode=${1:-all}
case "$mode" in
  all|--asan|--no-asan) ;;
  *) echo "usage: bash scripts/test.sh [--asan|--no-asan]" >&2; exit 2 ;;
esac

if [ "$mode" != "--asan" ]; then
  bash scripts/check_format.sh
  paramscope_build build
  ctest --test-dir build --output-on-failure --parallel 2 --timeout 900
fi

if [ "$mode" != "--no-asan" ]; then
  # The LibTorch plug-in of build/ (same sources; rebuilt here when only --asan runs).
  plugin=(-DPARAMSCOPE_TORCH_PLUGIN_PATH=)
  if [ -f build/build.ninja ]; then
    if [ "$mode" = "--asan" ]; then
      cmake --build build --target paramscope_torch --parallel "$(nproc)"
    fi
    plugin=(-DPARAMSCOPE_TORCH_PLUGIN_PATH="$PWD/build/plugins/torch/libparamscope_torch.so")
  fi
  paramscope_asan_build build-asan "${plugin[@]}"
  # Leaks are not checked in the tests (Qt and LibTorch keep memory until exit); the fuzz
  # targets check them per input (run_short.sh). protect_shadow_gap=0: LibTorch maps memory
  # where ASan's shadow gap would be.
  export ASAN_OPTIONS=detect_leaks=0:protect_shadow_gap=0:abort_on_error=1:detect_stack_use_after_return=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ctest --test-dir build-asan --output-on-failure --parallel 2 --timeout 1500
fi
