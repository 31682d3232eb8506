#!/usr/bin/env bash
# Runs the C example server and client against each other once:
#   run-pair.sh BUILD_DIR CERTS_DIR PORT [WRAPPER...]
# WRAPPER (e.g. valgrind and its options) is put in front of both programs.
# SIPTLS_PAIR_ARGS (e.g. "--profile 128bit") is given to both programs.
# Prints both outputs tagged [server] / [client]; exits non-zero if either failed.
set -euo pipefail

build="$1" certs="$2" port="$3"
shift 3
wrapper=("$@")
host=127.0.0.1
read -r -a pair_args <<<"${SIPTLS_PAIR_ARGS:-}"

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

"${wrapper[@]}" "$build/server" --host "$host" --port "$port" --certs "$certs/server" \
    "${pair_args[@]}" >"$logs/server.log" 2>&1 &
server_pid=$!

# The server prints its "listening" line once listen() succeeded. Probing
# the port with a connection (bash /dev/tcp) would not do: the server
# serves exactly one connection, and the probe would be it.
for _ in $(seq 1 300); do
    grep -q '^server: listening on ' "$logs/server.log" && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q '^server: listening on ' "$logs/server.log"; then
    show server
    echo "the server did not start listening on $host:$port" >&2
    exit 1
fi

client_rc=0
"${wrapper[@]}" "$build/client" --host "$host" --port "$port" --certs "$certs/client" \
    --peer-name gw-b.example.test "${pair_args[@]}" >"$logs/client.log" 2>&1 || client_rc=$?

# The server is done once the client is, unless something went wrong:
# give it a bounded time, then stop it.
for _ in $(seq 1 300); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$server_pid" 2>/dev/null; then
    echo "the server did not finish; stopping it" >&2
    kill "$server_pid" 2>/dev/null || true
fi
server_rc=0
wait "$server_pid" || server_rc=$?
server_pid=""

show server
show client
echo "server exit $server_rc, client exit $client_rc"
[[ $server_rc -eq 0 && $client_rc -eq 0 ]]
