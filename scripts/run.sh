#!/usr/bin/env bash
# Builds ParamScope and opens the window on MODEL (default: the bundled demo model).
#   bash scripts/run.sh [MODEL]
# Without a display it prints the model's tree with the command-line tool instead (Qt's
# offscreen platform, QT_QPA_PLATFORM=offscreen, counts as a display). For tests:
# PARAMSCOPE_BUILD_DIR names the build folder (default build), PARAMSCOPE_RUN_NO_BUILD=1
# skips installing and building, PARAMSCOPE_RUN_ARGS adds options to the window's command.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${PARAMSCOPE_BUILD_DIR:-build}"
if [ -z "${PARAMSCOPE_RUN_NO_BUILD:-}" ]; then
  . scripts/deps.sh
  paramscope_install_deps
  paramscope_build "$build"
fi
model="${1:-}"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ "${QT_QPA_PLATFORM:-}" != offscreen ]; then
  echo "No display here (DISPLAY is not set): printing the model with the command-line tool instead."
  exec "$build/app/paramscope-cli" tree "${model:-resources/demo_model.pt}" --depth 3
fi
read -r -a extra <<< "${PARAMSCOPE_RUN_ARGS:-}"
if [ -n "$model" ]; then
  exec "$build/app/paramscope" "${extra[@]}" "$model"
fi
exec "$build/app/paramscope" "${extra[@]}" --demo
