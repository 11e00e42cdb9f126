#!/usr/bin/env bash
# Builds ParamScope and runs the whole test suite (CTest: unit, loader, CLI and GUI tests;
# GUI tests run offscreen). With --asan, in an AddressSanitizer+UBSan build (build-asan/).
#   bash scripts/test.sh [--asan]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
paramscope_install_deps
if [ "${1:-}" = "--asan" ]; then
  paramscope_build build-asan -DCMAKE_BUILD_TYPE=Debug -DPARAMSCOPE_SANITIZE=ON
  export ASAN_OPTIONS=detect_leaks=0:protect_shadow_gap=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  exec ctest --test-dir build-asan --output-on-failure --timeout 1500
fi
paramscope_build build
exec ctest --test-dir build --output-on-failure --parallel 2 --timeout 900
