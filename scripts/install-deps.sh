#!/usr/bin/env bash
# Installs what the demo and the tests use, when missing: every command of
# scripts/tools.txt (by its Debian package) and the packages listed there
# without a command; then the Rust components (clippy, rustfmt).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
while read -r command package; do
    case "$command" in ''|'#'*) continue ;; esac
    if [ "$command" = - ]; then
        dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
    else
        command -v "$command" >/dev/null || need+=("$package")
    fi
done <scripts/tools.txt

if [ ${#need[@]} -gt 0 ]; then
    mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
    echo "installing: ${need[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
