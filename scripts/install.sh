#!/usr/bin/env bash
# Builds siptls and installs it for C programs.
#
#   scripts/install.sh [--prefix DIR] [--libdir DIR] [--profile release|ship]
#
# Environment, as packagers use it: PREFIX (default /usr/local), LIBDIR
# (default PREFIX/lib/<multiarch>, or PREFIX/lib), DESTDIR (a staging root
# put in front of every installed path), PROFILE (default release; ship is
# link-time optimised and stripped, its debug information split off).
#
# Installs:
#   LIBDIR/libsiptls.so.X.Y.Z   the shared library: soname libsiptls.so.0.Y
#                               before 1.0 (libsiptls.so.X after), only
#                               siptls_* exported, versioned SIPTLS_X.Y
#   LIBDIR/libsiptls.so.0.Y, LIBDIR/libsiptls.so   its soname and link-time links
#   LIBDIR/libsiptls.a          for static linking
#   PREFIX/include/siptls.h
#   PREFIX/share/siptls/siptls.supp   valgrind suppressions (docs/operations.md)
#   LIBDIR/pkgconfig/siptls.pc  (Libs.private: what a static link needs)
#   LIBDIR/cmake/siptls/        find_package(siptls): siptls::siptls and
#                               siptls::siptls_static
#   LIBDIR/.debug/libsiptls.so.X.Y.Z.debug   (ship profile only; gdb finds it)
#
# PREFIX, LIBDIR and DESTDIR must be absolute paths.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix="${PREFIX:-/usr/local}"
libdir="${LIBDIR:-}"
profile="${PROFILE:-release}"
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --libdir) libdir="$2"; shift 2 ;;
        --profile) profile="$2"; shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$profile" in release|ship) ;; *) echo "install.sh: --profile is release or ship" >&2; exit 2 ;; esac
if [ -z "$libdir" ]; then
    multiarch=$(cc -print-multiarch 2>/dev/null || true)
    libdir="$prefix/lib${multiarch:+/$multiarch}"
fi
dest="${DESTDIR:-}"
for path in "$prefix" "$libdir" ${dest:+"$dest"}; do
    case "$path" in /*) ;; *) echo "install.sh: '$path' is not an absolute path" >&2; exit 2 ;; esac
done

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
major=${version%%.*}
minor=${version#*.}; minor=${minor%%.*}
if [ "$major" = 0 ]; then soname="libsiptls.so.0.$minor"; else soname="libsiptls.so.$major"; fi

# The static library, and the system libraries it needs (for the shared
# link below, pkg-config's Libs.private and CMake's static target).
out="target/$profile"
mkdir -p target
log="target/install-$profile.log"
if ! cargo rustc --profile "$profile" -p siptls --lib --crate-type staticlib \
    -- --print native-static-libs >"$log" 2>&1; then
    cat "$log" >&2
    echo "install.sh: the build failed (log above, also in $log)" >&2
    exit 1
fi
native=$(sed -n 's/.*native-static-libs: //p' "$log" | tail -n 1)
[ -n "$native" ] || { echo "install.sh: rustc did not report native-static-libs ($log)" >&2; exit 1; }

# The header installed must be the one this build generated.
generated=$(ls -t "$out"/build/siptls-*/out/siptls.h 2>/dev/null | head -n 1)
[ -n "$generated" ] || { echo "install.sh: no generated header under $out/build" >&2; exit 1; }
cmp -s "$generated" include/siptls.h || {
    echo "install.sh: include/siptls.h is not the generated header; run SIPTLS_UPDATE_HEADER=1 cargo build -p siptls" >&2
    exit 1
}

# The shared library, linked from the static one so that the exported
# symbols, their version node and the soname are exactly ours.
dist="target/dist-$profile"
rm -rf "$dist"
mkdir -p "$dist"
# shellcheck disable=SC2086 # $native is a list of linker flags
cc -shared -o "$dist/libsiptls.so.$version" -Wl,-soname,"$soname" \
    -Wl,--version-script=siptls.map -Wl,--gc-sections -Wl,-z,relro,-z,now \
    -Wl,--whole-archive "$out/libsiptls.a" -Wl,--no-whole-archive $native
if [ "$profile" = ship ]; then
    objcopy --only-keep-debug "$dist/libsiptls.so.$version" "$dist/libsiptls.so.$version.debug"
    strip --strip-unneeded "$dist/libsiptls.so.$version"
    objcopy --add-gnu-debuglink="$dist/libsiptls.so.$version.debug" "$dist/libsiptls.so.$version"
fi

# Paths the CMake files use, relative to themselves, so a staged (DESTDIR)
# or moved installation still finds its files.
rel_to_prefix=$(realpath -m --relative-to="$libdir/cmake/siptls" "$prefix")
rel_to_libdir=$(realpath -m --relative-to="$libdir/cmake/siptls" "$libdir")
cmake_libs=$(for flag in $native; do printf '%s;' "${flag#-l}"; done)

install -d "$dest$libdir/pkgconfig" "$dest$libdir/cmake/siptls" "$dest$prefix/include"
install -m 0755 "$dist/libsiptls.so.$version" "$dest$libdir/libsiptls.so.$version"
ln -sfn "libsiptls.so.$version" "$dest$libdir/$soname"
ln -sfn "$soname" "$dest$libdir/libsiptls.so"
install -m 0644 "$out/libsiptls.a" "$dest$libdir/libsiptls.a"
install -m 0644 include/siptls.h "$dest$prefix/include/siptls.h"
install -d "$dest$prefix/share/siptls"
install -m 0644 share/siptls.supp "$dest$prefix/share/siptls/siptls.supp"
if [ "$profile" = ship ]; then
    install -d "$dest$libdir/.debug"
    install -m 0644 "$dist/libsiptls.so.$version.debug" "$dest$libdir/.debug/"
fi

# Written into the build directory, then installed with their modes set:
# the umask must not decide who may read them.
cat >"$dist/siptls.pc" <<PC
prefix=$prefix
libdir=$libdir
includedir=\${prefix}/include

Name: siptls
Description: SIP over TLS (SIPS) transport for C gateways
Version: $version
Libs: -L\${libdir} -lsiptls
Libs.private: $native
Cflags: -I\${includedir}
PC

cat >"$dist/siptlsConfig.cmake" <<CMAKE
# find_package(siptls): siptls::siptls (shared) and siptls::siptls_static.
get_filename_component(_siptls_prefix "\${CMAKE_CURRENT_LIST_DIR}/$rel_to_prefix" ABSOLUTE)
get_filename_component(_siptls_libdir "\${CMAKE_CURRENT_LIST_DIR}/$rel_to_libdir" ABSOLUTE)
if(NOT TARGET siptls::siptls)
  add_library(siptls::siptls SHARED IMPORTED)
  set_target_properties(siptls::siptls PROPERTIES
    IMPORTED_LOCATION "\${_siptls_libdir}/libsiptls.so.$version"
    IMPORTED_SONAME "$soname"
    INTERFACE_INCLUDE_DIRECTORIES "\${_siptls_prefix}/include")
  add_library(siptls::siptls_static STATIC IMPORTED)
  set_target_properties(siptls::siptls_static PROPERTIES
    IMPORTED_LOCATION "\${_siptls_libdir}/libsiptls.a"
    INTERFACE_INCLUDE_DIRECTORIES "\${_siptls_prefix}/include"
    INTERFACE_LINK_LIBRARIES "$cmake_libs")
endif()
set(siptls_FOUND TRUE)
CMAKE

cat >"$dist/siptlsConfigVersion.cmake" <<CMAKE
# Compatible: the same major version, and before 1.0 the same minor one
# too (the ABI policy), at least the version asked for.
set(PACKAGE_VERSION "$version")
set(PACKAGE_VERSION_COMPATIBLE FALSE)
if(PACKAGE_FIND_VERSION_MAJOR EQUAL $major AND NOT PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  if(NOT $major EQUAL 0 OR PACKAGE_FIND_VERSION_MINOR EQUAL $minor)
    set(PACKAGE_VERSION_COMPATIBLE TRUE)
  endif()
endif()
if(PACKAGE_FIND_VERSION VERSION_EQUAL PACKAGE_VERSION)
  set(PACKAGE_VERSION_EXACT TRUE)
endif()
# Built for $(getconf LONG_BIT)-bit programs only.
if(NOT CMAKE_SIZEOF_VOID_P EQUAL $(( $(getconf LONG_BIT) / 8 )))
  set(PACKAGE_VERSION "\${PACKAGE_VERSION} ($(getconf LONG_BIT)-bit)")
  set(PACKAGE_VERSION_UNSUITABLE TRUE)
endif()
CMAKE
install -m 0644 "$dist/siptls.pc" "$dest$libdir/pkgconfig/siptls.pc"
install -m 0644 "$dist/siptlsConfig.cmake" "$dist/siptlsConfigVersion.cmake" "$dest$libdir/cmake/siptls/"

echo "installed siptls $version ($profile) into ${dest}$prefix, libraries in ${dest}$libdir"
[ -n "$dest" ] || echo "(run ldconfig if $libdir is a system library directory)"
