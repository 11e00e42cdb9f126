#!/bin/sh
# Renders the main window on the bundled demo model into docs/screenshot.png (used by
# README.md) with tools/paramscope-screenshot: it loads the model, searches, selects a
# tensor, grabs the window and quits; settings are not touched.
#
#   scripts/screenshot.sh [BUILD_DIR] [OUT.png]
#
# BUILD_DIR defaults to ./build (it must contain tools/paramscope-screenshot). Runs under xvfb-run
# when available (real X11 rendering), otherwise on Qt's offscreen platform.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}
out=${2:-"$here/docs/screenshot.png"}
app="$build/tools/paramscope-screenshot"
if [ ! -x "$app" ]; then
    echo "screenshot.sh: $app not found; build the 'paramscope-screenshot' target first" >&2
    exit 1
fi
mkdir -p "$(dirname "$out")"
set -- "$app" --demo --screenshot "$out" --size 1280x760 \
    --search "q_proj" --select "layers.1.attn.q_proj.weight"
if command -v xvfb-run >/dev/null 2>&1; then
    xvfb-run -a -s "-screen 0 1400x900x24" "$@"
else
    QT_QPA_PLATFORM=offscreen "$@"
fi
