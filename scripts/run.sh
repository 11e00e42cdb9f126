#!/usr/bin/env bash
# Builds ParamScope and opens the window on MODEL (default: the bundled demo model).
#   bash scripts/run.sh [MODEL]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
paramscope_install_deps
paramscope_build build
model="${1:-}"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display here (DISPLAY is not set): printing the model with the command-line tool instead."
  exec build/app/paramscope-cli tree "${model:-resources/demo_model.pt}" --depth 3
fi
if [ -n "$model" ]; then
  exec build/app/paramscope "$model"
fi
exec build/app/paramscope
