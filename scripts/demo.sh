#!/usr/bin/env bash
# Demo: the C example server and client do one SIP OPTIONS / 200 OK over
# mutual TLS on 127.0.0.1 (port 5061, or $SIPTLS_DEMO_PORT). Builds the
# library and the examples, generates demo certificates into certs/ when
# there are none, and exits non-zero if either program fails.
set -euo pipefail
cd "$(dirname "$0")/.."

host=127.0.0.1
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

logs="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$logs"
}
trap cleanup EXIT

show() { # show NAME: the program's output, each line tagged with its name
    sed "s/^/[$1] /" "$logs/$1.log"
}

echo "== running server and client on $host:$port"
c-examples/build/server --host "$host" --port "$port" --certs certs/server \
    >"$logs/server.log" 2>&1 &
server_pid=$!

# The server prints its "listening" line once listen() succeeded. Probing
# the port with a connection (bash /dev/tcp) would not do: the server
# serves exactly one connection, and the probe would be it.
for _ in $(seq 1 100); do
    grep -q '^server: listening on ' "$logs/server.log" && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q '^server: listening on ' "$logs/server.log"; then
    show server
    echo "demo: the server did not start listening on $host:$port" >&2
    exit 1
fi

client_rc=0
c-examples/build/client --host "$host" --port "$port" --certs certs/client \
    --peer-name gw-b.example.test >"$logs/client.log" 2>&1 || client_rc=$?

# The server is done once the client is, unless something went wrong:
# give it a bounded time, then stop it.
for _ in $(seq 1 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$server_pid" 2>/dev/null; then
    echo "demo: the server did not finish; stopping it" >&2
    kill "$server_pid" 2>/dev/null || true
fi
server_rc=0
wait "$server_pid" || server_rc=$?
server_pid=""

show server
show client
echo "demo: server exit $server_rc, client exit $client_rc"
if [[ $server_rc -ne 0 || $client_rc -ne 0 ]]; then
    exit 1
fi
echo "demo: ok"
