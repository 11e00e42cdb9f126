#!/usr/bin/env bash
# The Debian packages CPack builds from a build folder, checked: both packages exist, their
# metadata (dpkg-deb -I: name, version, computed Depends on Qt, QCustomPlot and, for the
# plug-in package, LibTorch), their contents (dpkg-deb -c: every file where the install puts
# it, nothing else), lintian when it is installed, and the programs run from the unpacked
# packages (dpkg-deb -x) as an installed copy would.
#
#   check_package.sh BUILD_DIR VERSION FIXTURES_DIR
set -euo pipefail
build=$1 version=$2 fixtures=$3
out=$(mktemp -d "${TMPDIR:-/tmp}/paramscope-deb.XXXXXX")
trap 'rm -rf "$out"' EXIT
fail() { echo "check_package: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$out" >"$out/cpack.log" 2>&1) || { cat "$out/cpack.log"; fail "cpack failed"; }
main=$(ls "$out"/paramscope_"$version"_*.deb 2>/dev/null | head -1)
torch=$(ls "$out"/paramscope-torch_"$version"_*.deb 2>/dev/null | head -1)
[ -f "$main" ] || { ls "$out"; fail "no paramscope package"; }
[ -f "$torch" ] || { ls "$out"; fail "no paramscope-torch package"; }

field() { dpkg-deb -f "$1" "$2"; }
[ "$(field "$main" Package)" = paramscope ] || fail "main package name"
[ "$(field "$main" Version)" = "$version" ] || fail "main package version"
deps=$(field "$main" Depends)
for lib in libqt6core6 libqt6widgets6 libqcustomplot; do
  echo "$deps" | grep -q "$lib" || fail "paramscope's Depends lacks $lib: $deps"
done
echo "$deps" | grep -qi torch && fail "paramscope depends on LibTorch: $deps"
tdeps=$(field "$torch" Depends)
echo "$tdeps" | grep -q "paramscope (= $version)" || fail "paramscope-torch does not depend on paramscope: $tdeps"
echo "$tdeps" | grep -qi "libtorch" || fail "paramscope-torch's Depends lacks LibTorch: $tdeps"
[ "$(field "$main" Suggests)" = paramscope-torch ] || fail "paramscope does not suggest paramscope-torch"

dpkg-deb -c "$main" | awk '{print $6}' >"$out/main.txt"
dpkg-deb -c "$torch" | awk '{print $6}' >"$out/torch.txt"
for f in ./usr/bin/paramscope ./usr/bin/paramscope-cli ./usr/share/applications/io.github.paramscope.ParamScope.desktop \
         ./usr/share/metainfo/io.github.paramscope.ParamScope.metainfo.xml ./usr/share/man/man1/paramscope-cli.1.gz \
         ./usr/share/icons/hicolor/scalable/apps/paramscope.svg; do
  grep -qx "$f" "$out/main.txt" || fail "paramscope lacks $f"
done
grep -q "paramscope-torch-helper$" "$out/main.txt" || fail "paramscope lacks the helper"
grep -q "libparamscope_torch.so$" "$out/main.txt" && fail "the plug-in is in the main package"
grep -q "libparamscope_torch.so$" "$out/torch.txt" || fail "paramscope-torch lacks the plug-in"
if command -v lintian >/dev/null; then lintian --no-tag-display-limit "$main" "$torch" || true; fi

# Unpacked as dpkg would install them, the programs run from there.
dpkg-deb -x "$main" "$out/root"
dpkg-deb -x "$torch" "$out/root"
export PARAMSCOPE_NO_BUILD_PATHS=1 QT_QPA_PLATFORM=offscreen
[ "$("$out/root/usr/bin/paramscope-cli" --version)" = "paramscope-cli $version" ] || fail "packaged paramscope-cli"
"$out/root/usr/bin/paramscope-cli" list --engine libtorch "$fixtures/nested.pt" >/dev/null || fail "packaged LibTorch engine"
"$out/root/usr/bin/paramscope" --print-loaded --demo | grep -q "^loaded" || fail "packaged paramscope"
echo "check_package: $(basename "$main") ($(du -h "$main" | cut -f1)) and $(basename "$torch") ($(du -h "$torch" | cut -f1))"
