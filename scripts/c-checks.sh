#!/usr/bin/env bash
# The C side under scrutiny: the C examples built with AddressSanitizer and
# UndefinedBehaviorSanitizer and run end to end (server + client over
# loopback, dlopen, and reload: SIGHUP reloads and CRL refreshes with live
# calls, and a session freed from its own verify callback, and the
# event-driven sip_server with clients, the one-screen minimal client, the
# load generator and signals), then the plain
# builds run under valgrind with zero errors and zero bytes definitely or
# indirectly lost. valgrind sees every access, the library's own included,
# so a session used after it was freed fails the run.
# Builds into $CARGO_TARGET_DIR when it is set (else target/).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q -p siptls
target="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
lib="$target/debug"
work="$target/c-checks"
rm -rf "$work"
mkdir -p "$work"
cargo run -q -p siptls-certgen -- --out "$work/certs" >/dev/null

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The event-driven server with its session store on a redis-server started
# here: three clients, minimal and the load generator (20 connections, two
# rounds: the second resumes through Redis; both under the same wrapper),
# SIGHUP, SIGUSR1, SIGTERM; exits 0.
#   sip_server_run BUILD_DIR [WRAPPER...]
sip_server_run() {
    local build="$1"
    shift
    local port log pid redis_port redis_pid
    port="$(free_port)"
    redis_port="$(free_port)"
    log="$work/sip_server.log"
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
        >"$work/redis.log" 2>&1 &
    redis_pid=$!
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break
        sleep 0.1
    done
    openssl rand -hex 32 >"$work/ticket.keys"
    # Emptied here, not only by the redirection: that happens in the
    # background child, and the check below could read the last run's line.
    : >"$log"
    # valgrind is slow: a generous handshake timeout.
    "$@" "$build/sip_server" --port "$port" --certs "$work/certs/server" --handshake-timeout 60 \
        --ticket-keys "$work/ticket.keys" --redis "127.0.0.1:$redis_port" --redis-timeout 2000 \
        >>"$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do
        grep -q '^sip_server: listening on ' "$log" && break
        sleep 0.1
    done
    for _ in 1 2 3; do
        "$build/client" --port "$port" --certs "$work/certs/client" >/dev/null
    done
    "$@" "$build/minimal" "$work/certs/client" 127.0.0.1 "$port" gw-b.example.test \
        >"$work/minimal.log" 2>&1 && [ "$(cat "$work/minimal.log")" = "SIP/2.0 200 OK" ] ||
        { cat "$work/minimal.log"; echo "minimal under ${*:-no wrapper} failed" >&2
          kill -TERM "$pid"; wait "$pid" || true; return 1; }
    "$@" "$build/sip_load" --port "$port" --certs "$work/certs/client" --connections 20 \
        --requests 2 --rounds 2 --contexts 20 --timeout 300 >"$work/sip_load.log" 2>&1 ||
        { cat "$work/sip_load.log"; echo "sip_load under ${*:-no wrapper} failed" >&2
          kill -TERM "$pid"; wait "$pid" || true; return 1; }
    kill -HUP "$pid"
    kill -USR1 "$pid"
    sleep 1
    kill -TERM "$pid"
    local rc=0
    wait "$pid" || rc=$?
    kill "$redis_pid"
    wait "$redis_pid" || true
    grep -q '^sip_server: reload success' "$log" &&
        grep -q '^counters: siptls_handshakes_total{kind="full"} 24' "$log" &&
        grep -q '^counters: siptls_handshakes_total{kind="resumed"} 20' "$log" &&
        grep -q '^redis: stored=[1-9][0-9]* found=20 missed=0 failed=0' "$log" &&
        grep -q '^sip_load: resumption: 20 of 20 ' "$work/sip_load.log" || rc=1
    [ "$rc" -eq 0 ] || { cat "$log" "$work/sip_load.log"; echo "sip_server under ${*:-no wrapper}: exit $rc" >&2; return 1; }
    echo "sip_server: 3 clients, minimal, sip_load with 20 connections in two rounds (resumed through Redis), SIGHUP, SIGUSR1, SIGTERM: ok"
}

echo "== ASan + UBSan build"
sanitize="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
make -s -C c-examples LIBDIR="$lib" BUILD="$work/asan" \
    EXTRA_CFLAGS="$sanitize" EXTRA_LDFLAGS="-fsanitize=address,undefined"

# Proof that the sanitizer runtimes are really linked in.
for program in server client dlopen reload sip_server sip_load minimal; do
    runtimes=$(ldd "$work/asan/$program")
    grep -q 'libasan' <<<"$runtimes" || { echo "$program: libasan not linked" >&2; exit 1; }
    grep -q 'libubsan' <<<"$runtimes" || { echo "$program: libubsan not linked" >&2; exit 1; }
    echo "$program: $(grep -o 'lib[a-z]*san[^ ]*' <<<"$runtimes" | sort -u | tr '\n' ' ')"
done

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
bash scripts/run-pair.sh "$work/asan" "$work/certs" "$(free_port)"
"$work/asan/dlopen" "$work/certs" "$lib/libsiptls.so"
"$work/asan/reload" "$work/certs" 50
sip_server_run "$work/asan"
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== valgrind"
make -s -C c-examples LIBDIR="$lib" BUILD="$work/plain"
# valgrind as a gateway developer runs it, with the suppression file siptls
# installs: every memory error and every definitely, indirectly or
# possibly lost byte fails the run. The process-wide memories siptls keeps
# (docs/operations.md) are still reachable at exit, which valgrind does
# not count; the file covers tables a dependency makes once with lazy_static.
grind=(valgrind -q --error-exitcode=99 --leak-check=full --suppressions=share/siptls.supp)
bash scripts/run-pair.sh "$work/plain" "$work/certs" "$(free_port)" "${grind[@]}"
"${grind[@]}" "$work/plain/dlopen" "$work/certs" "$lib/libsiptls.so"
"${grind[@]}" "$work/plain/reload" "$work/certs" 20
sip_server_run "$work/plain" "${grind[@]}"
echo "c-checks: ok"
