#!/bin/bash
# Builds corehttpd's Debian package the Debian way: stages a copy of the
# source tree (the files git knows, tracked or new, none it ignores: so no
# build*/ tree and no generated site data) with packaging/debian/ as its
# debian/, and runs dpkg-buildpackage -us -uc -b there. debhelper builds it
# from source with CMake, with Debian's hardening flags, and runs the unit
# tests (DEB_BUILD_OPTIONS=nocheck skips them).
#
# Usage: packaging/build-deb.sh [OUTDIR]   (default: <repo>/build-deb)
# Leaves in OUTDIR: corehttpd_VERSION_ARCH.deb (and its -dbgsym), the
# .buildinfo and .changes,
# and build.log (dpkg-buildpackage's output, for blhc). Needs the build
# packages (packaging/install-deps.sh build package).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/build-deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The package's version is the project's: CMake's project() and the top
# entry of debian/changelog must agree.
cmake_ver=$(sed -n 's/^project(corehttpd VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
deb_ver=$(dpkg-parsechangelog -l "$repo/packaging/debian/changelog" -S Version)
case $deb_ver in
"$cmake_ver" | "$cmake_ver"[+~-]*) ;;
*)
    echo "build-deb.sh: debian/changelog has $deb_ver, CMakeLists.txt $cmake_ver" >&2
    exit 1
    ;;
esac

stage=$out/src
src=$stage/corehttpd-$deb_ver
rm -rf "$stage"
mkdir -p "$src"
if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked and untracked files, not ignored ones (a tracked file deleted
    # in the work tree is skipped).
    git -C "$repo" ls-files -z --cached --others --exclude-standard |
        tar -C "$repo" --null -T - --ignore-failed-read -cf - 2>/dev/null |
        tar -C "$src" -xf -
else
    tar -C "$repo" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$src" -xf -
fi
rm -rf "$src/debian"
cp -a "$src/packaging/debian" "$src/debian"

echo "build-deb.sh: building corehttpd $deb_ver in $src"
rm -f "$out"/corehttpd*_*.deb "$out"/corehttpd_*.buildinfo "$out"/corehttpd_*.changes
set +e
(cd "$src" && dpkg-buildpackage -us -uc -b -j"${JOBS:-2}") >"$out/build.log" 2>&1
rc=$?
set -e
if [ "$rc" != 0 ]; then
    tail -n 60 "$out/build.log" >&2
    echo "build-deb.sh: dpkg-buildpackage failed (exit $rc); full log: $out/build.log" >&2
    exit "$rc"
fi
mv "$stage"/corehttpd*_*.deb "$stage"/corehttpd_*.buildinfo "$stage"/corehttpd_*.changes "$out"/
rm -rf "$stage"
ls -l "$out"/corehttpd*_*.deb
