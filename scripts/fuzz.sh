#!/usr/bin/env bash
# Runs every siptls fuzz target (cargo-fuzz, libFuzzer, AddressSanitizer),
# one after another, and prints per target the libFuzzer final stats.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [--runs N] [--fork N] [--sanitizer S]
#                   [--no-trace-compares] [--target NAME]...
#
#   SECONDS_PER_TARGET  time budget per target (default 60), -max_total_time
#   --runs N            stop each target after N executions instead (-runs=N);
#                       the time budget is then not applied
#   --fork N            N fuzzing processes per target (libFuzzer -fork=N);
#                       default: one in-process fuzzer
#   --sanitizer S       address (default) or none: without ASan, faster,
#                       for long runs (the Rust code is memory-safe without
#                       it, and aws-lc's C is not instrumented either way);
#                       built in fuzz/target/sanitizer-none/
#   --no-trace-compares build without comparison tracing: faster, with less
#                       guidance toward magic values; for targets whose input
#                       no check compares against such values (pump_roundtrip:
#                       sizes, flags, opaque plaintext); built in its own
#                       directory (fuzz/target/<dir>-notc/)
#   --target NAME       run only this target (repeatable); default: all
#
# Environment: FUZZ_ARGS adds libFuzzer flags (e.g. FUZZ_ARGS="-max_len=8192");
# FUZZ_TOOLCHAIN picks the toolchain (default: nightly if installed, else the
# default one with RUSTC_BOOTSTRAP=1).
#
# Exits non-zero if a build fails or any target crashed (the crashing input
# is in fuzz/artifacts/<target>/). See docs/fuzzing.md.
set -euo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

seconds=60
runs=""
fork=""
sanitizer=address
trace_compares=yes
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
        --runs=*) runs="${1#--runs=}"; shift ;;
        --fork) fork="${2:?--fork needs a number}"; shift 2 ;;
        --fork=*) fork="${1#--fork=}"; shift ;;
        --sanitizer) sanitizer="${2:?--sanitizer needs a name}"; shift 2 ;;
        --sanitizer=*) sanitizer="${1#--sanitizer=}"; shift ;;
        --no-trace-compares) trace_compares=no; shift ;;
        --target) targets+=("${2:?--target needs a name}"); shift 2 ;;
        --target=*) targets+=("${1#--target=}"); shift ;;
        -h|--help) usage; exit 0 ;;
        *[!0-9]*|'') echo "fuzz.sh: unexpected argument '$1'" >&2; usage >&2; exit 2 ;;
        *) seconds="$1"; shift ;;
    esac
done
if [ -n "$runs" ] && ! [[ "$runs" =~ ^[0-9]+$ ]]; then
    echo "fuzz.sh: --runs needs a number, got '$runs'" >&2
    exit 2
fi
case "$sanitizer" in
    address|none) ;;
    *) echo "fuzz.sh: --sanitizer is address or none, got '$sanitizer'" >&2; exit 2 ;;
esac
if [ -n "$fork" ] && ! [[ "$fork" =~ ^[1-9][0-9]*$ ]]; then
    echo "fuzz.sh: --fork needs a number of processes, got '$fork'" >&2
    exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

all_targets=(feed_ciphertext load_inputs pump_roundtrip api_sequence tickets sip_framer dns_answers)
if [ ${#targets[@]} -eq 0 ]; then
    targets=("${all_targets[@]}")
fi
for t in "${targets[@]}"; do
    [ -f "fuzz/fuzz_targets/$t.rs" ] || { echo "fuzz.sh: no fuzz target '$t'" >&2; exit 2; }
done

# --- Tools -----------------------------------------------------------------
# cargo-fuzz needs unstable flags (-Zsanitizer=address). Use the nightly
# toolchain when there is one; otherwise (a fresh machine has only the stable
# toolchain, and no other can be fetched) the default toolchain with
# RUSTC_BOOTSTRAP=1, whose standard library ships the ASan runtime too.
# FUZZ_TOOLCHAIN=name picks a toolchain explicitly.
if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
    tc=("+$FUZZ_TOOLCHAIN")
elif cargo +nightly --version >/dev/null 2>&1; then
    tc=(+nightly)
else
    tc=()
fi
rustc_version="$(rustc "${tc[@]}" --version)"
if [[ "$rustc_version" != *nightly* ]]; then
    export RUSTC_BOOTSTRAP=1
    echo "fuzz.sh: $rustc_version is not a nightly: building with RUSTC_BOOTSTRAP=1"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# --- Build -------------------------------------------------------------------
# One build for all targets and the seed generator; `cargo fuzz run` below
# then finds everything up to date. The first build compiles aws-lc again
# (fuzz/target is separate from the crate's target/): several minutes.
# A build without ASan gets its own directory, so that switching does not
# rebuild everything (aws-lc included) each time.
target_dir="$root/fuzz/target"
[ "$sanitizer" = address ] || target_dir="$target_dir/sanitizer-$sanitizer"
build_flags=(-s "$sanitizer")
if [ "$trace_compares" = no ]; then
    [ "$sanitizer" = address ] && target_dir="$target_dir/address"
    target_dir="$target_dir-notc"
    build_flags+=(--no-trace-compares)
fi
build_flags+=(--target-dir "$target_dir")
echo "fuzz.sh: building the fuzz targets (cargo ${tc[*]:-} fuzz build ${build_flags[*]})"
if [ "$sanitizer" = address ]; then
    cargo "${tc[@]}" fuzz build "${build_flags[@]}"
else
    # Target by target: make_seeds cannot link with coverage instrumentation
    # but without the ASan runtime, which is what provides its symbols.
    for t in "${targets[@]}"; do
        cargo "${tc[@]}" fuzz build "${build_flags[@]}" "$t"
    done
fi

# --- Seeds -------------------------------------------------------------------
# Generated, never downloaded: a fresh PKI and in-memory handshakes. Seeds
# do not depend on the sanitizer: the ASan build of make_seeds serves all.
triple="$(rustc "${tc[@]}" -vV | sed -n 's/^host: //p')"
seeder="fuzz/target/$triple/release/make_seeds"
if ! "$seeder" fuzz/corpus 2>/dev/null; then
    echo "fuzz.sh: the ASan build of make_seeds did not run; building it plainly"
    cargo "${tc[@]}" run --quiet --manifest-path fuzz/Cargo.toml --bin make_seeds -- fuzz/corpus
fi

# --- Run ---------------------------------------------------------------------
logdir="fuzz/artifacts/logs"
mkdir -p "$logdir"
limit=(-max_total_time="$seconds")
budget="${seconds}s"
if [ -n "$runs" ]; then
    limit=(-runs="$runs")
    budget="$runs runs"
fi
if [ -n "$fork" ]; then
    limit+=(-fork="$fork")
    budget="$budget, $fork processes"
fi
[ "$sanitizer" = address ] || budget="$budget, sanitizer $sanitizer"
[ "$trace_compares" = yes ] || budget="$budget, no comparison tracing"

crashed=0
summary=()
for t in "${targets[@]}"; do
    log="$logdir/$t.log"
    echo
    echo "=== $t ($budget) ==="
    start=$(date +%s)
    # --jobs 1: no cargo-fuzz parallelism; --fork (above) asks libFuzzer
    # for more processes instead, one corpus and one log for all of them.
    # -timeout=60: one input running for a minute is a bug (hang) too.
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
    if cargo "${tc[@]}" fuzz run "${build_flags[@]}" --jobs 1 "$t" "fuzz/corpus/$t" -- \
        "${limit[@]}" -print_final_stats=1 -timeout=60 ${FUZZ_ARGS:-} >"$log" 2>&1; then
        status=0
    else
        status=$?
    fi
    elapsed=$(( $(date +%s) - start ))
    units=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    if [ -z "$units" ]; then
        # -fork: the parent prints no final stats; its status lines
        # ("#N: cov: ...") count the executions of all processes.
        units=$(sed -n 's/^#\([0-9][0-9]*\): .*/\1/p' "$log" | tail -n 1)
        [ -z "$units" ] || [ "$elapsed" -eq 0 ] || rate=$((units / elapsed))
    fi
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)
    [ -n "$done_line" ] || done_line=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
    if [ "$status" -ne 0 ] || grep -qE '^(==[0-9]+==ERROR|SUMMARY: |.*Test unit written to)' "$log"; then
        result="CRASHED (exit $status)"
        crashed=$((crashed + 1))
        grep -E 'panicked at|==ERROR|SUMMARY|Test unit written to|^Failing input|cargo fuzz run' "$log" | head -n 20 || true
        echo "    full log: $log"
    else
        result="ok"
    fi
    echo "$done_line"
    echo "$t: ${units:-?} executions in ${elapsed}s, ${rate:-?} exec/s: $result"
    summary+=("| $t | $elapsed | ${units:-?} | ${rate:-?} | $result |")
done

echo
echo "| target | seconds | executions | exec/s | result |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${summary[@]}"
if [ "$crashed" -ne 0 ]; then
    echo "fuzz.sh: $crashed target(s) crashed; inputs are in fuzz/artifacts/<target>/" >&2
    exit 1
fi
