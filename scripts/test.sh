#!/usr/bin/env bash
# Runs every check: formatting, clippy, the Rust and C test suites (including
# interop with openssl and gnutls, and the FIPS build's), the C examples under sanitizers and
# valgrind, the installed package as C programs use it, and a short run of
# every fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

echo "== tests"
mkdir -p target
cargo test --workspace 2>&1 | tee target/test-output.log

echo "== FIPS build (target/fips): FIPS mode and refusals, handshakes, interop with openssl and gnutls, verification policy"
CARGO_TARGET_DIR=target/fips cargo test -p siptls --features fips \
    --test fips --test handshake --test interop --test verify_policy 2>&1 | tee -a target/test-output.log

echo "== benchmark smoke (every row moves its bytes and resumes when it should; no timing judged)"
cargo run -q -p siptls-bench -- --quick --svg target/bench-quick.svg
grep -q '<svg' target/bench-quick.svg

echo "== load benchmark smoke (the example server and an OpenSSL server under the load generator)"
bash scripts/load-bench.sh --quick
grep -q '<svg' target/load-bench/load-bench.svg

echo "== C examples under sanitizers and valgrind"
bash scripts/c-checks.sh

echo "== packaging: install into a DESTDIR, build with pkg-config and CMake"
bash scripts/packaging-check.sh release

echo "== fuzz smoke"
bash scripts/fuzz.sh 15

# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' target/test-output.log
