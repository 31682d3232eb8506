#!/usr/bin/env bash
# Concurrent-connection benchmark: c-examples/sip_load opens N mutual-TLS
# connections at once against each of three servers on 127.0.0.1, in
# interleaved rounds, and this prints the median and min-max of every
# figure and the ratios of the medians, then draws them:
#
#   siptls         c-examples/sip_server (siptls, epoll, the SIP framer)
#   openssl        bench/c/openssl_sip_server (OpenSSL 3 on the same job,
#                  its defaults)
#   openssl-tuned  the same with read-ahead and SSL_MODE_RELEASE_BUFFERS
#
#   scripts/load-bench.sh [--connections N[,N...]] [--rounds R] [--requests K]
#                         [--chart FILE] [--quick]
#
#   --connections N  concurrent connections per round (default 10000; the
#                    open-file limit is raised to N + 256 when it can be);
#                    a list such as 1000,2500,5000,10000 measures each
#   --rounds R       rounds per server, interleaved (default 3)
#   --requests K     OPTIONS per connection, one after another (default 10)
#   --chart FILE     the SVG chart to write (default
#                    target/load-bench/load-bench.svg): handshakes/s and
#                    server memory per connection against the connection
#                    count, per server, drawn by gnuplot
#   --quick          a smoke run: 200 connections, 1 round, 2 requests
#
# All servers load the same certificates (ECDSA P-256, the demo's
# generator) and offer the 128-bit profile (TLS 1.3 AES-128-GCM, X25519);
# the client side is the same siptls load generator for all. In the main
# load every connection presents the same client certificate (siptls
# remembers a verified signature; OpenSSL checks it each time). Each round
# also measures first contact: as many connections, each presenting a
# client certificate of its own (siptls-certgen --clients), so no server
# has verified any of them before; one request each. The load generator
# then loads the next certificate before each connection, the same work
# whichever server it meets. Client and server share the machine's cores,
# so the rates are those of the pair. Memory per connection is the
# server's resident memory with every connection open and idle, less its
# resident memory before the first connection, divided by N. Release
# builds. Exits non-zero when a round did not complete every request and
# close every connection cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

connection_counts=10000
rounds=3
requests=10
chart=target/load-bench/load-bench.svg
while [ $# -gt 0 ]; do
    case "$1" in
        --connections) connection_counts="${2:?--connections needs a number}"; shift 2 ;;
        --rounds) rounds="${2:?--rounds needs a number}"; shift 2 ;;
        --requests) requests="${2:?--requests needs a number}"; shift 2 ;;
        --chart) chart="${2:?--chart needs a file name}"; shift 2 ;;
        --quick) connection_counts=200; rounds=1; requests=2; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "load-bench.sh: unexpected argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
IFS=, read -r -a counts <<< "$connection_counts"
for v in "${counts[@]}" "$rounds" "$requests"; do
    [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "load-bench.sh: '$v' is not a positive number" >&2; exit 2; }
done
# Ascending, so the chart's lines run left to right.
mapfile -t counts < <(printf '%s\n' "${counts[@]}" | sort -n -u)
most=${counts[-1]}
command -v gnuplot >/dev/null ||
    { echo "load-bench.sh: gnuplot draws the chart; install it (Debian: gnuplot-nox)" >&2; exit 1; }

work=target/load-bench
mkdir -p "$work"
echo "load-bench: building (release)"
cargo build --quiet --release -p siptls
make --quiet -C c-examples BUILD="$PWD/$work/c-examples" LIBDIR="$PWD/target/release" >/dev/null
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wpedantic -Werror -O2 \
    -o "$work/openssl_sip_server" bench/c/openssl_sip_server.c -lssl -lcrypto
# A client certificate per connection, for first contact.
clients="$work/certs/client/clients.pem"
if [ ! -f "$clients" ] || [ "$(grep -c 'END CERTIFICATE' "$clients")" -lt "$most" ]; then
    cargo run --quiet --release -p siptls-certgen -- --out "$work/certs" --clients "$most" >/dev/null
fi

# Each process holds N sockets (the server one more per listener).
ulimit -Sn "$(( most + 256 ))" 2>/dev/null || ulimit -Sn "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $(( most + 64 )) ]; then
    echo "load-bench.sh: the open-file limit ($(ulimit -n)) is too low for $most connections" >&2
    exit 1
fi

port=$(( 20000 + RANDOM % 20000 ))
results="$work/results"
: > "$results"

# run_round SERVER ROUND CONNECTIONS MODE: one server, one load (MODE
# "memo": every connection the same client certificate; "first": each its
# own); appends "connections mode server handshakes/s requests/s p50_ms
# p99_ms bytes_per_connection" to $results.
run_round() {
    local name="$1" round="$2" connections="$3" mode="$4"
    local log="$work/$1.log" out="$work/load-$1.out" load=(--requests "$requests")
    [ "$mode" = first ] && load=(--requests 1 --client-certs "$clients")
    port=$(( port + 1 ))
    # Emptied here, not by the redirection below: that one happens in the
    # background child, and a check racing it would read the last round's
    # "listening on".
    : > "$log"
    case "$name" in
        siptls) "$work/c-examples/sip_server" --port "$port" --certs "$work/certs/server" \
                    --profile 128bit --max-connections $(( connections + 16 )) \
                    --handshake-timeout 600 >> "$log" 2>&1 & ;;
        openssl) "$work/openssl_sip_server" --port "$port" --certs "$work/certs/server" \
                    --128bit >> "$log" 2>&1 & ;;
        openssl-tuned) "$work/openssl_sip_server" --port "$port" --certs "$work/certs/server" \
                    --128bit --tuned >> "$log" 2>&1 & ;;
    esac
    local pid=$!
    # Ctrl-C or a failed round must not leave the server behind.
    trap 'kill -TERM '"$pid"' 2>/dev/null || true' EXIT
    for _ in $(seq 300); do
        grep -q "listening on" "$log" && break
        sleep 0.1
    done
    if ! grep -q "listening on" "$log"; then
        cat "$log" >&2
        # Its state and where it waits, from /proc (procps may not be installed).
        grep -E '^(State|Threads):' "/proc/$pid/status" >&2 2>/dev/null || echo "(not running)" >&2
        echo "wchan: $(cat "/proc/$pid/wchan" 2>/dev/null)" >&2
        echo "load-bench.sh: $name is not listening after 30 s" >&2
        exit 1
    fi
    local rc=0
    "$work/c-examples/sip_load" --port "$port" --certs "$work/certs/client" --profile 128bit \
        --connections "$connections" "${load[@]}" --server-pid "$pid" \
        --timeout 600 > "$out" 2>&1 || rc=$?
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    trap - EXIT
    if [ "$rc" -ne 0 ]; then
        cat "$out" "$log" >&2
        echo "load-bench.sh: round $round against $name ($connections connections, $mode) failed" >&2
        exit 1
    fi
    local hs rq p50 p99 mem
    hs=$(sed -n 's/^sip_load: handshakes: .*: \([0-9]*\) handshakes\/s;.*/\1/p' "$out")
    rq=$(sed -n 's/^sip_load: requests: .*: \([0-9]*\) requests\/s;.*/\1/p' "$out")
    p50=$(sed -n 's/.*latency p50 \([0-9.]*\) ms.*/\1/p' "$out")
    p99=$(sed -n 's/.*p99 \([0-9.]*\) ms$/\1/p' "$out")
    mem=$(sed -n 's/.*: \([0-9]*\) bytes per connection$/\1/p' "$out")
    if [ -z "$hs" ] || [ -z "$rq" ] || [ -z "$p50" ] || [ -z "$p99" ] || [ -z "$mem" ]; then
        cat "$out" >&2
        echo "load-bench.sh: a figure is missing from sip_load's output above" >&2
        exit 1
    fi
    printf 'round %d %6d %-5s %-13s %6s handshakes/s %7s requests/s  p50 %7s ms  p99 %7s ms  %6s B/conn\n' \
        "$round" "$connections" "$mode" "$name" "$hs" "$rq" "$p50" "$p99" "$mem"
    echo "$connections $mode $name $hs $rq $p50 $p99 $mem" >> "$results"
}

echo "load-bench: ${counts[*]} connections, $requests OPTIONS each, $rounds rounds, $(nproc) cores"
for connections in "${counts[@]}"; do
    for round in $(seq "$rounds"); do
        # Rotate which server goes first, so none always runs on a machine
        # warmed (or tired) by another.
        case $(( round % 3 )) in
            1) order="siptls openssl openssl-tuned" ;;
            2) order="openssl openssl-tuned siptls" ;;
            0) order="openssl-tuned siptls openssl" ;;
        esac
        for mode in memo first; do
            for server in $order; do
                run_round "$server" "$round" "$connections" "$mode"
            done
        done
    done
done

# For both awk programs below: median(KEY) of the values v[KEY, 1..n[KEY]],
# leaving their least and greatest in lo[KEY] and hi[KEY].
median_awk='
    function median(key,   i, j, t, k, a) {
        k = n[key]
        for (i = 1; i <= k; i++) a[i] = v[key, i]
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        lo[key] = a[1]; hi[key] = a[k]
        return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
    }'

# summary CONNECTIONS MODE COLUMN WHAT BETTER: per server the median and
# min-max of the column, then siptls' median over each other's.
summary() {
    awk -v count="$1" -v mode="$2" -v col="$3" -v what="$4" -v better="$5" "$median_awk"'
        $1 != count || $2 != mode { next }
        { if (!($3 in n)) order[++servers] = $3; v[$3, ++n[$3]] = $col }
        END {
            for (i = 1; i <= servers; i++) m[order[i]] = median(order[i])
            line = sprintf("%-24s", what)
            for (i = 1; i <= servers; i++)
                line = line sprintf(" %s %g (%g-%g)", order[i], m[order[i]], lo[order[i]], hi[order[i]])
            for (i = 1; i <= servers; i++)
                if (order[i] != "siptls" && m[order[i]])
                    line = line sprintf("  siptls/%s %.2fx", order[i], m["siptls"] / m[order[i]])
            print line " (" better ")"
        }' "$results"
}
for connections in "${counts[@]}"; do
    echo
    echo "$connections connections: medians (min-max) over $rounds rounds:"
    summary "$connections" memo 4 "handshakes/s" "higher is better"
    summary "$connections" first 4 "first-contact hs/s" "higher is better"
    summary "$connections" memo 5 "requests/s" "higher is better"
    summary "$connections" memo 6 "latency p50 (ms)" "lower is better"
    summary "$connections" memo 7 "latency p99 (ms)" "lower is better"
    summary "$connections" memo 8 "server bytes/connection" "lower is better"
done

# The chart's data: a block per server (siptls, openssl, openssl-tuned),
# a line per connection count (ascending, as $results has them): the
# medians of handshakes/s, first-contact handshakes/s and bytes/connection.
data="$work/chart.dat"
awk -v list="${counts[*]}" "$median_awk"'
    function add(key, value) { v[key, ++n[key]] = value }
    $2 == "memo" { add($1 " " $3 " hs", $4); add($1 " " $3 " mem", $8) }
    $2 == "first" { add($1 " " $3 " first", $4) }
    END {
        split("siptls openssl openssl-tuned", servers, " ")
        count_n = split(list, counts, " ")
        for (s = 1; s <= 3; s++) {
            print "# " servers[s] ": connections handshakes/s first-contact-handshakes/s bytes/connection"
            for (c = 1; c <= count_n; c++) {
                key = counts[c] " " servers[s]
                print counts[c], median(key " hs"), median(key " first"), median(key " mem")
            }
            print ""; print ""
        }
    }' "$results" > "$data"
mkdir -p "$(dirname "$chart")"
title="scripts/load-bench.sh, $(nproc) cores: medians of $rounds round(s), $requests OPTIONS per connection"
gnuplot <<EOF
set terminal svg size 1000,500 dynamic font "sans,12"
set output "$chart"
set multiplot layout 1,2 title "$title"
set key top left box opaque
set grid
set xlabel "concurrent connections"
set xrange [0:*]
set yrange [0:*]
names = "siptls openssl openssl-tuned"
set ylabel "handshakes/s"
# Headroom above the lines for the key.
set offsets 0, 0, graph 0.6, 0
plot for [i=0:2] "$data" index i using 1:2 with linespoints lw 2 lt i+1 title word(names, i+1), \
     for [i=0:2] "$data" index i using 1:3 with linespoints lw 2 lt i+1 dt 2 \
         title word(names, i+1)." at first contact"
set ylabel "server memory per connection (bytes)"
set offsets 0, 0, graph 0.3, 0
plot for [i=0:2] "$data" index i using 1:4 with linespoints lw 2 lt i+1 title word(names, i+1)
unset multiplot
EOF
echo
echo "load-bench: chart written to $chart"
