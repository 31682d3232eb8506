#!/usr/bin/env bash
# Installs the release library and header under PREFIX (default /usr/local):
# libsiptls.so.X.Y.Z with its soname link libsiptls.so.X and the link-time
# name libsiptls.so, libsiptls.a, and include/siptls.h.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${1:-/usr/local}"

cargo build --release -p siptls
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
major=${version%%.*}

install -d "$prefix/lib" "$prefix/include"
install -m 0755 target/release/libsiptls.so "$prefix/lib/libsiptls.so.$version"
ln -sf "libsiptls.so.$version" "$prefix/lib/libsiptls.so.$major"
ln -sf "libsiptls.so.$major" "$prefix/lib/libsiptls.so"
install -m 0644 target/release/libsiptls.a "$prefix/lib/libsiptls.a"
install -m 0644 include/siptls.h "$prefix/include/siptls.h"
echo "installed siptls $version under $prefix (run ldconfig if $prefix/lib is a system path)"
