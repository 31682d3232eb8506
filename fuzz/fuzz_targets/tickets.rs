//! Arbitrary bytes as the tickets and cache entries a server opens: as sent
//! by a client (never opened), as sealed plaintext (record parsing), and as
//! a peer chain stored in a record of now (every check on it). See
//! `siptls::fuzzing::ticket` for what is asserted.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| siptls::fuzzing::ticket(data));
