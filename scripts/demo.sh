#!/usr/bin/env bash
# Demo: the C example server and client do one SIP OPTIONS / 200 OK over
# mutual TLS on 127.0.0.1 (port 5061, or $SIPTLS_DEMO_PORT), with the
# 128-bit profile (AES-128-GCM only, as the reference gateway's "128-bit
# encryption only"; SIPTLS_DEMO_PROFILE=default for every suite). Builds the
# library and the examples, generates demo certificates into certs/ when
# there are none, and exits non-zero if either program fails.
set -euo pipefail
cd "$(dirname "$0")/.."

port="${SIPTLS_DEMO_PORT:-5061}"

bash scripts/install-deps.sh

echo "== building libsiptls (release)"
cargo build --release -p siptls

# Kept across runs; regenerated (all files together) when any is missing.
certs_complete=true
for f in certs/{server,client}/{privateKey,publickey,CAList}.pem; do
    [[ -f "$f" ]] || certs_complete=false
done
if [[ $certs_complete != true ]]; then
    echo "== generating demo certificates into certs/"
    cargo run -q --release -p siptls-certgen -- --out certs
fi

echo "== building the C examples"
make -C c-examples

profile="${SIPTLS_DEMO_PROFILE:-128bit}"
echo "== running server and client on 127.0.0.1:$port, profile $profile"
if SIPTLS_PAIR_ARGS="--profile $profile" bash scripts/run-pair.sh c-examples/build certs "$port"; then
    echo "demo: ok"
else
    echo "demo: failed" >&2
    exit 1
fi
