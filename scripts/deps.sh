#!/usr/bin/env bash
# Installs, from Debian 12's packages, whatever ParamScope needs that is missing.
# Sourced by run.sh and test.sh; works as root or through sudo, without a terminal.
set -euo pipefail

PARAMSCOPE_PACKAGES=(
  cmake ninja-build g++ ccache pkg-config
  qt6-base-dev libgl-dev libqcustomplot-dev
  libtorch-dev zlib1g-dev libpcre2-dev
  python3 python3-torch python3-numpy
  fonts-dejavu-core
  # The format check of the test command (scripts/check_format.sh).
  clang-format
  # The sanitizer build and the fuzz targets (scripts/test.sh, scripts/fuzz.sh): clang with
  # its sanitizer and libFuzzer runtimes, llvm-symbolizer for readable stacks.
  clang libclang-rt-14-dev llvm
  # The install test (tests/install/check_install.sh): the desktop entry's and the AppStream
  # metainfo's validators, groff for the man pages, update-mime-database for the MIME types,
  # bash-completion's library to run the completion (check_completion.sh).
  desktop-file-utils appstream groff-base shared-mime-info bash-completion
  # The package test (tests/install/check_package.sh): dpkg-shlibdeps computes Depends,
  # lintian checks the packages.
  dpkg-dev lintian
)

paramscope_install_deps() {
  local missing=()
  for p in "${PARAMSCOPE_PACKAGES[@]}" "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo -n)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Configures (once) and builds into $1 (default: build/). Extra arguments go to the first
# configure.
paramscope_build() {
  local dir="${1:-build}"
  shift || true
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
  fi
  cmake --build "$dir" --parallel "$(nproc)"
}

# Configures (once, or again when given options change) and builds the sanitizer build in $1
# (default: build-asan/): clang, ASan + UBSan, core only, with the fuzz targets. Extra
# arguments go to CMake (e.g. -DPARAMSCOPE_TORCH_PLUGIN_PATH=...).
paramscope_asan_build() {
  local dir="${1:-build-asan}"
  shift || true
  # An older build-asan/ made with g++ (the former --asan): start it afresh with clang.
  if [ -f "$dir/CMakeCache.txt" ] && ! grep -q '^CMAKE_CXX_COMPILER:.*clang' "$dir/CMakeCache.txt"; then
    rm -rf "$dir"
  fi
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ \
    -DPARAMSCOPE_SANITIZE=ON -DPARAMSCOPE_CORE_ONLY=ON -DPARAMSCOPE_FUZZ=ON "$@" >/dev/null
  cmake --build "$dir" --parallel "$(nproc)"
}
