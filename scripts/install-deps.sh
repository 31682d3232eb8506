#!/usr/bin/env bash
# Installs the system tools the demo and the tests use, when missing:
# gcc, clang and make for the C examples and the header checks (C and C++),
# cmake and pkg-config for the packaging test, OpenSSL and GnuTLS
# command-line peers for interop tests, valgrind, binutils' nm/readelf for
# the ABI tests, python3 for the C checks, and OpenSSL's headers for the
# benchmark.
set -euo pipefail

need=()
command -v cc >/dev/null || need+=(gcc)
command -v g++ >/dev/null || need+=(g++)
command -v clang >/dev/null || need+=(clang)
command -v cmake >/dev/null || need+=(cmake)
command -v python3 >/dev/null || need+=(python3)
command -v make >/dev/null || need+=(make)
command -v nm >/dev/null || need+=(binutils)
command -v openssl >/dev/null || need+=(openssl)
command -v gnutls-cli >/dev/null || need+=(gnutls-bin)
command -v valgrind >/dev/null || need+=(valgrind)
command -v git >/dev/null || need+=(git)
# The benchmark compares against OpenSSL through its C library.
command -v pkg-config >/dev/null || need+=(pkg-config)
dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev)

if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
