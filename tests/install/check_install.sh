#!/usr/bin/env bash
# `cmake --install` of a build into a temporary DESTDIR, checked as a user would meet it:
# every file in its GNU directory, the desktop entry (desktop-file-validate), the AppStream
# metainfo (appstreamcli validate), the MIME types (xmllint when there; update-mime-database,
# then x.pt, x.pth, x.ckpt, x.safetensors and model.safetensors.index.json resolved through
# its globs2 by mime_lookup.py), the man pages (gzip-compressed, groff without warnings), the
# bash completion (bash -n, and check_completion.sh: run in bash against every command's
# --help), and the installed programs run from the installed tree only
# (PARAMSCOPE_NO_BUILD_PATHS: the LibTorch helper and plug-in are found through their
# installed paths, not the build's).
#
#   check_install.sh BUILD_DIR VERSION FIXTURES_DIR
set -euo pipefail
build=$1 version=$2 fixtures=$3
dest=$(mktemp -d "${TMPDIR:-/tmp}/paramscope-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT
fail() { echo "check_install: $*" >&2; exit 1; }

DESTDIR="$dest" cmake --install "$build" --prefix /usr >"$dest.log" 2>&1 || { cat "$dest.log"; fail "cmake --install failed"; }
rm -f "$dest.log"
root="$dest/usr"
installed=$(find "$root" -type f | wc -l)
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$build/CMakeCache.txt")
libexec=$(sed -n 's/^CMAKE_INSTALL_LIBEXECDIR:PATH=//p' "$build/CMakeCache.txt")
for f in bin/paramscope bin/paramscope-cli "$libexec/paramscope/paramscope-torch-helper" \
         "$libdir/paramscope/libparamscope_torch.so" share/paramscope/demo_model.pt \
         share/icons/hicolor/scalable/apps/paramscope.svg \
         share/applications/io.github.paramscope.ParamScope.desktop \
         share/metainfo/io.github.paramscope.ParamScope.metainfo.xml \
         share/mime/packages/paramscope.xml share/man/man1/paramscope-cli.1.gz share/man/man1/paramscope.1.gz \
         share/bash-completion/completions/paramscope-cli; do
  [ -e "$root/$f" ] || fail "not installed: /usr/$f"
done
for s in 16 32 48 64 128 256; do
  png="$root/share/icons/hicolor/${s}x${s}/apps/paramscope.png"
  [ -f "$png" ] || fail "no ${s}x${s} icon"
  # The PNG's own size (IHDR width, bytes 16-19).
  w=$(od -An -tu1 -j16 -N4 "$png" | awk '{print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4}')
  [ "$w" = "$s" ] || fail "the ${s}x${s} icon is $w pixels wide"
done

desktop-file-validate "$root/share/applications/io.github.paramscope.ParamScope.desktop" || fail "desktop entry"
appstreamcli validate --no-net "$root/share/metainfo/io.github.paramscope.ParamScope.metainfo.xml" >/dev/null ||
  { appstreamcli validate --no-net "$root/share/metainfo/io.github.paramscope.ParamScope.metainfo.xml"; fail "metainfo"; }
grep -q "version=\"$version\"" "$root/share/metainfo/io.github.paramscope.ParamScope.metainfo.xml" || fail "metainfo release"
if command -v xmllint >/dev/null; then xmllint --noout "$root/share/mime/packages/paramscope.xml" || fail "mime xml"; fi
python3 -c "import sys, xml.dom.minidom as m; m.parse(sys.argv[1])" "$root/share/mime/packages/paramscope.xml" || fail "mime xml"
for m in paramscope-cli paramscope; do
  page=$(gzip -dc "$root/share/man/man1/$m.1.gz") || fail "man page $m: not gzip"
  out=$(echo "$page" | groff -man -Tutf8 -ww -z 2>&1) || fail "man page $m"
  [ -z "$out" ] || fail "man page $m: $out"
  echo "$page" | grep -q "ParamScope $version" || fail "man page $m: version"
done
bash -n "$root/share/bash-completion/completions/paramscope-cli" || fail "bash completion"

# The MIME types as a desktop resolves them: update-mime-database (no warnings) builds the
# installed mime/ tree's globs2, mime.cache and subclasses; each model file name resolves,
# against it and the system's database, to ParamScope's type (not to application/json, not
# ambiguously), and the sharded index is a kind of JSON.
mime="$root/share/mime"
mout=$(XDG_DATA_DIRS="$root/share:/usr/share" update-mime-database "$mime" 2>&1) || fail "update-mime-database: $mout"
[ -z "$mout" ] || fail "update-mime-database: $mout"
[ -s "$mime/mime.cache" ] && [ -s "$mime/globs2" ] || fail "update-mime-database made no mime.cache/globs2"
system_mime=()
[ -f /usr/share/mime/globs2 ] && system_mime=(/usr/share/mime)
want_mime="x.pt application/x-pytorch
x.pth application/x-pytorch
x.ckpt application/x-pytorch
x.safetensors application/vnd.safetensors
model.safetensors.index.json application/x-safetensors-index+json
X.PT application/x-pytorch"
got_mime=$(python3 "$(dirname "$0")/mime_lookup.py" "$mime" "${system_mime[@]}" -- $(echo "$want_mime" | cut -d' ' -f1))
[ "$got_mime" = "$want_mime" ] || fail "MIME types resolve to:"$'\n'"$got_mime"$'\n'"not:"$'\n'"$want_mime"
grep -qx "application/x-safetensors-index+json application/json" "$mime/subclasses" ||
  fail "the sharded index is not a subclass of application/json"
for t in application/x-pytorch application/vnd.safetensors application/x-safetensors-index+json; do
  [ -f "$mime/${t%%/*}/${t#*/}.xml" ] || fail "update-mime-database made no $t"
  grep -q "$t" "$root/share/applications/io.github.paramscope.ParamScope.desktop" || fail "the desktop entry lacks $t"
done

export PARAMSCOPE_NO_BUILD_PATHS=1 QT_QPA_PLATFORM=offscreen
[ "$("$root/bin/paramscope-cli" --version)" = "paramscope-cli $version" ] || fail "paramscope-cli --version"
"$root/bin/paramscope" --version | grep -q "$version" || fail "paramscope --version"
"$root/bin/paramscope-cli" list "$fixtures/scan_problems.pt" >/dev/null || fail "installed paramscope-cli list"
# The LibTorch engine: the installed helper, which loads the installed plug-in.
"$root/bin/paramscope-cli" list --engine libtorch "$fixtures/nested.pt" >/dev/null ||
  fail "the LibTorch engine from the installed tree"
bash "$(dirname "$0")/check_completion.sh" "$root/share/bash-completion/completions/paramscope-cli" \
  "$root/bin/paramscope-cli" || fail "bash completion"
"$root/bin/paramscope" --print-loaded --demo | grep -q "^loaded" || fail "installed paramscope --demo"
echo "check_install: $installed files installed and checked"
