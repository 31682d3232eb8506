#!/usr/bin/env bash
# The C side under scrutiny: the C examples built with AddressSanitizer and
# UndefinedBehaviorSanitizer and run end to end (server + client over
# loopback, dlopen, and reload: SIGHUP reloads and CRL refreshes with live
# calls, and a session freed from its own verify callback), then the plain
# builds run under valgrind with zero errors and zero bytes definitely or
# indirectly lost. valgrind sees every access, the library's own included,
# so a session used after it was freed fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q -p siptls
lib="$PWD/target/debug"
work="$PWD/target/c-checks"
rm -rf "$work"
mkdir -p "$work"
cargo run -q -p siptls-certgen -- --out "$work/certs" >/dev/null

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

echo "== ASan + UBSan build"
sanitize="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
make -s -C c-examples LIBDIR="$lib" BUILD="$work/asan" \
    EXTRA_CFLAGS="$sanitize" EXTRA_LDFLAGS="-fsanitize=address,undefined"

# Proof that the sanitizer runtimes are really linked in.
for program in server client dlopen reload; do
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
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== valgrind"
make -s -C c-examples LIBDIR="$lib" BUILD="$work/plain"
# "Possibly lost" is not counted: x509-parser keeps lookup tables for the
# life of the process behind interior pointers, which valgrind calls
# possibly lost; they are not leaks. Definitely and indirectly lost bytes,
# and every memory error, fail the run.
grind=(valgrind -q --error-exitcode=99 --leak-check=full
       --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect)
bash scripts/run-pair.sh "$work/plain" "$work/certs" "$(free_port)" "${grind[@]}"
"${grind[@]}" "$work/plain/dlopen" "$work/certs" "$lib/libsiptls.so"
"${grind[@]}" "$work/plain/reload" "$work/certs" 20
echo "c-checks: ok"
