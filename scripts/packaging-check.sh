#!/usr/bin/env bash
# Builds siptls from a read-only copy of the sources (a read-only bind mount:
# the build writes nothing there, the header goes to cargo's build
# directory). Installs siptls into a temporary DESTDIR with scripts/install.sh, checks
# what was installed (files, links, soname, exported symbols and their
# version against the header), then builds a C program against it three
# ways and runs each: pkg-config, pkg-config --static with libsiptls.a, and
# CMake find_package (shared and static targets).
#
#   scripts/packaging-check.sh [release|ship]    (default release)
#
# Prints the sizes of the installed library and of a statically linked
# program, stripped.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-release}"

work="$PWD/target/packaging-check-$profile"
rm -rf "$work"
stage="$work/stage"
DESTDIR="$stage" PREFIX=/usr bash scripts/install.sh --profile "$profile" >/dev/null
multiarch=$(cc -print-multiarch 2>/dev/null || true)
libdir="/usr/lib${multiarch:+/$multiarch}"
lib="$stage$libdir"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
major=${version%%.*}
minor=${version#*.}; minor=${minor%%.*}
if [ "$major" = 0 ]; then soname="libsiptls.so.0.$minor"; else soname="libsiptls.so.$major"; fi
node="SIPTLS_$major.$minor"

fail() { echo "packaging-check: $*" >&2; exit 1; }

echo "== build from read-only sources"
# The mount point lives outside $work and is only ever rmdir'ed, so no
# clean-up can reach through it into the sources. Root mounts it directly;
# anyone else does it in a user namespace of their own.
ro=$(mktemp -d /tmp/siptls-ro-src.XXXXXX)
ro_build='mount --bind "$1" "$2" && mount -o remount,ro,bind "$2" &&
    if touch "$2/.write-test" 2>/dev/null; then echo "$2 is writable" >&2; exit 1; fi &&
    CARGO_TARGET_DIR="$3" cargo check -q --locked -p siptls --manifest-path "$2/Cargo.toml"; rc=$?;
    umount "$2"; exit $rc'
if [ "$(id -u)" -eq 0 ]; then
    bash -c "$ro_build" ro-build "$PWD" "$ro" "$work/ro-target"
else
    unshare --user --map-root-user --mount bash -c "$ro_build" ro-build "$PWD" "$ro" "$work/ro-target"
fi || { rmdir "$ro"; fail "the read-only source tree does not build"; }
rmdir "$ro"

echo "== installed files"
for f in "$lib/libsiptls.so.$version" "$lib/libsiptls.a" "$stage/usr/include/siptls.h" \
    "$lib/pkgconfig/siptls.pc" "$lib/cmake/siptls/siptlsConfig.cmake" \
    "$lib/cmake/siptls/siptlsConfigVersion.cmake" "$stage/usr/share/siptls/siptls.supp"; do
    [ -f "$f" ] || fail "missing $f"
done
[ "$(readlink "$lib/$soname")" = "libsiptls.so.$version" ] || fail "$soname does not point at libsiptls.so.$version"
[ "$(readlink "$lib/libsiptls.so")" = "$soname" ] || fail "libsiptls.so does not point at $soname"
cmp -s include/siptls.h "$stage/usr/include/siptls.h" || fail "installed header differs"

echo "== soname and symbols"
got_soname=$(readelf -d "$lib/libsiptls.so.$version" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$got_soname" = "$soname" ] || fail "soname is '$got_soname', expected $soname"
# Every defined dynamic symbol: a siptls_ function of the header, at our version node.
readelf --dyn-syms -W "$lib/libsiptls.so.$version" |
    awk '$7 != "UND" && $5 != "LOCAL" && NR > 3 { print $8 }' | sort >"$work/exported"
grep -v "^$node\$" "$work/exported" | grep -v "@@$node\$" && fail "symbols outside $node (above)"
sed "s/@@$node\$//" "$work/exported" | grep -v "^$node\$" | sort >"$work/exported-names"
grep -v '^ *[/*]' include/siptls.h | grep -o 'siptls_[a-z0-9_]*(' | tr -d '(' | sort -u >"$work/declared"
diff "$work/declared" "$work/exported-names" || fail "exported functions differ from the header's (diff above)"
echo "$(wc -l <"$work/exported-names") functions exported, all siptls_* at $node"

program="tests/c/header_check.c"
export PKG_CONFIG_SYSROOT_DIR="$stage" PKG_CONFIG_LIBDIR="$lib/pkgconfig"
run() { # run PROGRAM: runs it against the staged library, and shows what it loads
    LD_LIBRARY_PATH="$lib" "$1" || fail "$1 failed"
}

echo "== pkg-config"
pkg-config --modversion siptls | grep -qx "$version" || fail "pkg-config version"
# shellcheck disable=SC2046 # word splitting of the flags is the point
cc -std=c11 -Wall -Wextra -Werror -o "$work/pc-shared" "$program" $(pkg-config --cflags --libs siptls)
readelf -d "$work/pc-shared" | grep -q "NEEDED.*\[$soname\]" || fail "pc-shared does not need $soname"
run "$work/pc-shared"

echo "== pkg-config --static, libsiptls.a"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$work/pc-static" "$program" $(pkg-config --cflags siptls) \
    -Wl,--as-needed -Wl,-Bstatic -lsiptls -Wl,-Bdynamic $(pkg-config --static --libs siptls)
readelf -d "$work/pc-static" | grep -q "libsiptls" && fail "pc-static still needs libsiptls.so"
run "$work/pc-static"

echo "== CMake find_package"
cmake -S tests/packaging -B "$work/cmake" -DCMAKE_PREFIX_PATH="$stage/usr" \
    -DCHECK_SOURCE="$PWD/$program" -DSIPTLS_VERSION="$major.$minor" >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "cmake configure"; }
cmake --build "$work/cmake" >>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "cmake build"; }
readelf -d "$work/cmake/consumer_shared" | grep -q "NEEDED.*\[$soname\]" || fail "consumer_shared does not need $soname"
readelf -d "$work/cmake/consumer_static" | grep -q "libsiptls" && fail "consumer_static still needs libsiptls.so"
run "$work/cmake/consumer_shared"
run "$work/cmake/consumer_static"
# Before 1.0 each minor version is its own ABI: asking for an older or a
# newer one fails (an older one would pass a mere "at least" rule).
others="$major.$((minor + 1))"
[ "$major" != 0 ] || [ "$minor" = 0 ] || others="$others $major.$((minor - 1))"
[ "$major" = 0 ] || others="$((major + 1)).0"
for other in $others; do
    mkdir -p "$work/other-abi-$other"
    printf 'cmake_minimum_required(VERSION 3.13)\nproject(other C)\nfind_package(siptls %s REQUIRED)\n' \
        "$other" >"$work/other-abi-$other/CMakeLists.txt"
    if cmake -S "$work/other-abi-$other" -B "$work/other-abi-$other/build" \
        -DCMAKE_PREFIX_PATH="$stage/usr" >/dev/null 2>&1; then
        fail "find_package(siptls $other) accepted version $version"
    fi
done

if [ "$profile" = ship ]; then
    echo "== split debug information"
    debug="$lib/.debug/libsiptls.so.$version.debug"
    [ -f "$debug" ] || fail "missing $debug"
    readelf --string-dump=.gnu_debuglink "$lib/libsiptls.so.$version" |
        grep -q "libsiptls.so.$version.debug" || fail "no debug link to $debug"
    readelf -S "$lib/libsiptls.so.$version" | grep -q '\.debug_info' && fail "the shipped library still has debug info"
fi

echo "== sizes ($profile)"
strip -o "$work/pc-static.stripped" "$work/pc-static"
printf 'libsiptls.so.%s  %s bytes\n' "$version" "$(stat -c %s "$lib/libsiptls.so.$version")"
printf 'static program, stripped  %s bytes\n' "$(stat -c %s "$work/pc-static.stripped")"
echo "packaging-check: ok"
