//! Arbitrary bytes as the DNS replies RFC 3263 resolution reads (NAPTR,
//! SRV, A, AAAA, CNAME), one per query. See `siptls::fuzzing::dns_answers`
//! for what is asserted.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| siptls::fuzzing::dns_answers(data));
