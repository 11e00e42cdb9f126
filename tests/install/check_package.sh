#!/usr/bin/env bash
# The Debian packages CPack builds from a build folder, checked: both packages exist, their
# metadata (dpkg-deb -I: name, version, computed Depends on Qt, QCustomPlot and, for the
# plug-in package, LibTorch), their contents (dpkg-deb -c: exactly the expected files, the
# plug-in only in paramscope-torch), that apt can install them (apt-get install --simulate:
# every Depends resolvable on this system), lintian when it is installed (no error tags but
# the tolerated ones below), the README's install line (it names exactly the packages CPack
# made, and apt can install them), and the programs run from the unpacked packages
# (dpkg-deb -x) as an installed copy would.
#
#   check_package.sh BUILD_DIR VERSION FIXTURES_DIR
set -euo pipefail
build=$1 version=$2 fixtures=$3
here=$(cd "$(dirname "$0")" && pwd)
readme="$here/../../README.md"
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
[ "$(field "$torch" Version)" = "$version" ] || fail "plug-in package version"
deps=$(field "$main" Depends)
for lib in libqt6core6 libqt6widgets6 libqcustomplot; do
  echo "$deps" | grep -q "$lib" || fail "paramscope's Depends lacks $lib: $deps"
done
echo "$deps" | grep -qi torch && fail "paramscope depends on LibTorch: $deps"
tdeps=$(field "$torch" Depends)
echo "$tdeps" | grep -q "paramscope (= $version)" || fail "paramscope-torch does not depend on paramscope: $tdeps"
echo "$tdeps" | grep -qi "libtorch" || fail "paramscope-torch's Depends lacks LibTorch: $tdeps"
[ "$(field "$main" Suggests)" = paramscope-torch ] || fail "paramscope does not suggest paramscope-torch"

# The contents, file by file (directories aside): exactly these, nothing missing, nothing
# more; the plug-in is in paramscope-torch only.
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$build/CMakeCache.txt")
libexec=$(sed -n 's/^CMAKE_INSTALL_LIBEXECDIR:PATH=//p' "$build/CMakeCache.txt")
files() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ {print $6}' | sort; }
{
  printf '%s\n' ./usr/bin/paramscope ./usr/bin/paramscope-cli "./usr/$libexec/paramscope/paramscope-torch-helper" \
    ./usr/share/applications/io.github.paramscope.ParamScope.desktop \
    ./usr/share/metainfo/io.github.paramscope.ParamScope.metainfo.xml \
    ./usr/share/mime/packages/paramscope.xml ./usr/share/bash-completion/completions/paramscope-cli \
    ./usr/share/man/man1/paramscope-cli.1.gz ./usr/share/man/man1/paramscope.1.gz \
    ./usr/share/paramscope/demo_model.pt ./usr/share/icons/hicolor/scalable/apps/paramscope.svg
  for s in 16 32 48 64 128 256; do echo "./usr/share/icons/hicolor/${s}x${s}/apps/paramscope.png"; done
} | sort >"$out/main.want"
echo "./usr/$libdir/paramscope/libparamscope_torch.so" >"$out/torch.want"
files "$main" >"$out/main.got"
files "$torch" >"$out/torch.got"
for p in main torch; do
  diff -u "$out/$p.want" "$out/$p.got" >"$out/$p.diff" || { cat "$out/$p.diff"; fail "the $p package's files differ (- expected, + packaged)"; }
done

# apt resolves every Depends (the computed library packages exist in this system's
# archives or are installed): the main package alone, and with the plug-in.
sim() { apt-get install --simulate --no-install-recommends "$@" >"$out/apt.log" 2>&1 || { cat "$out/apt.log"; fail "apt-get install --simulate $*"; }; }
sim "$main"
sim "$main" "$torch"

# lintian, when installed: no error tag except these, each unavoidable for now:
#   no-copyright-file: ParamScope has no licence yet (no LICENSE file), which
#     /usr/share/doc/PACKAGE/copyright would have to state.
#   no-changelog: CPack packages, not built from a Debian source package with a
#     debian/changelog; the history is the git log.
tolerated="no-copyright-file no-changelog"
if command -v lintian >/dev/null; then
  lintian --tag-display-limit 0 "$main" "$torch" >"$out/lintian.log" 2>&1 || true
  errors=$(grep '^E: ' "$out/lintian.log" || true)
  for t in $tolerated; do errors=$(echo "$errors" | grep -v "^E: [^:]*: $t\( \|$\)" || true); done
  [ -z "$errors" ] || { cat "$out/lintian.log"; fail "lintian errors:"$'\n'"$errors"; }
else
  echo "check_package: lintian not installed, not run"
fi

# The README's install line: run from a folder whose build/ holds the packages, its
# arguments (globs expanded) are exactly the two packages CPack made, and apt takes them.
line=$(grep -E '^apt install \./build/' "$readme" || true)
[ "$(echo "$line" | grep -c .)" = 1 ] || fail "README.md has no single 'apt install ./build/...' line: $line"
mkdir "$out/readme" && ln -s "$out" "$out/readme/build"
read -ra words <<<"${line#apt install }"
named=()
for w in "${words[@]}"; do
  [ "${w:0:1}" = "#" ] && break
  mapfile -t hits < <(cd "$out/readme" && compgen -G "$w" || true)
  [ ${#hits[@]} -gt 0 ] || fail "README.md's '$w' names no package CPack made ($(cd "$out" && ls ./*.deb | xargs))"
  named+=("${hits[@]}")
done
want=$(printf './build/%s\n' "$(basename "$main")" "$(basename "$torch")" | sort)
got=$(printf '%s\n' "${named[@]}" | sort)
[ "$got" = "$want" ] || fail "README.md's install line names $(echo $got), CPack made $(echo $want)"
(cd "$out/readme" && sim "${named[@]}")

# Unpacked as dpkg would install them, the programs run from there.
dpkg-deb -x "$main" "$out/root"
dpkg-deb -x "$torch" "$out/root"
export PARAMSCOPE_NO_BUILD_PATHS=1 QT_QPA_PLATFORM=offscreen
cli="$out/root/usr/bin/paramscope-cli"
[ "$("$cli" --version)" = "paramscope-cli $version" ] || fail "packaged paramscope-cli --version"
"$out/root/usr/bin/paramscope" --version | grep -q "$version" || fail "packaged paramscope --version"
"$cli" list "$out/root/usr/share/paramscope/demo_model.pt" >"$out/list.txt" || fail "packaged paramscope-cli list demo_model.pt"
[ -s "$out/list.txt" ] || fail "packaged paramscope-cli list printed nothing for the demo model"
"$cli" list --engine libtorch "$fixtures/nested.pt" >/dev/null || fail "packaged LibTorch engine"
"$out/root/usr/bin/paramscope" --print-loaded --demo | grep -q "^loaded" || fail "packaged paramscope"
echo "check_package: $(basename "$main") ($(du -h "$main" | cut -f1)) and $(basename "$torch") ($(du -h "$torch" | cut -f1))"
