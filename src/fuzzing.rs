//! Built only for fuzzing (`--cfg fuzzing`, which cargo-fuzz sets): what a
//! server does with the bytes of a ticket, below the C API, where a fuzzer
//! can reach it. Through the C API a ticket's contents are out of reach: a
//! fuzzer cannot forge one that authenticates.

use crate::abi::siptls_role;
use std::sync::{Arc, LazyLock};

use pki_types::CertificateDer;

use crate::clock::Clock;
use crate::context::Context;
use crate::resume::{record, KeyRing, Sealer};
use crate::verify;

/// The fuzzing server's clock: a fixed time, so issue times can be fresh.
const NOW: u64 = 1_750_000_000;
const LIFETIME: u32 = 7200;
/// The certificate digest of the identity the fuzzing server presents.
const OWN: [u8; 32] = [0x5a; 32];
const KEYS: &str = "8f6a3c0e1d2b4a5968778695a4b3c2d1e0f0112233445566778899aabbccddee\n\
                    0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";

static SEALER: LazyLock<Sealer> = LazyLock::new(|| {
    let ctx = Context::new(siptls_role::SIPTLS_ROLE_SERVER);
    ctx.set_clock(Clock::Gateway(Arc::new(|| Some(NOW))), None)
        .expect("a clock always applies");
    Sealer {
        ring: Arc::new(KeyRing::from_text(KEYS.as_bytes()).expect("valid keys")),
        policy: ctx.snapshot().current.clone(),
        lifetime: LIFETIME,
    }
});

/// `data` three ways: as a ticket a client sent (it must not open); as the
/// sealed plaintext (it opens only if it decodes, is fresh, is for this
/// server, and its chain passes the checks: with no trust entry, only an
/// empty chain where none is required could, and a server requires one);
/// and split into a chain and state (`[count][u16 length, DER]... state`)
/// sealed as a record of now, whose chain runs through every check.
pub fn ticket(data: &[u8]) {
    let sealer = &*SEALER;
    let step = verify::Step {
        served_digest: Some(OWN),
        ..verify::Step::default()
    };
    let open = |sealed: &[u8]| verify::in_scope(step.clone(), || sealer.open(sealed));
    assert!(open(data).0.is_none(), "unsealed bytes opened");

    let sealed = sealer.ring.seal(NOW, LIFETIME, data).expect("sealing");
    let (opened, stepped) = open(&sealed);
    assert!(
        opened.is_none(),
        "a record passed the checks of an empty trust table"
    );
    assert!(stepped.resumable.is_empty());

    let (chain, state) = split_chain(data);
    if let Some(plain) = record::encode(NOW, &OWN, &chain, state) {
        match record::decode(&plain) {
            Some(decoded) => {
                assert_eq!((decoded.issued_at, decoded.state), (NOW, state));
                assert_eq!(&decoded.chain[..], &chain[..]);
            }
            // A record always holds some rustls state.
            None => assert!(state.is_empty() || chain.iter().any(|c| c.is_empty())),
        }
        let sealed = sealer.ring.seal(NOW, LIFETIME, &plain).expect("sealing");
        assert!(
            open(&sealed).0.is_none(),
            "a chain passed an empty trust table"
        );
        // A ClientHello repeating the ticket: every copy opens in one step.
        let copies = usize::from(data.first().copied().unwrap_or(0) % 8) + 2;
        let (opened, stepped) = verify::in_scope(step.clone(), || {
            (0..copies)
                .map(|_| sealer.open(&sealed))
                .filter(Option::is_some)
                .count()
        });
        assert_eq!(opened, 0, "a repeated ticket passed an empty trust table");
        assert!(stepped.resumable.is_empty());
    }
}

fn split_chain(data: &[u8]) -> (Vec<CertificateDer<'static>>, &[u8]) {
    let Some((&count, mut rest)) = data.split_first() else {
        return (Vec::new(), data);
    };
    let mut chain = Vec::new();
    for _ in 0..count % 12 {
        let Some((len, after)) = rest.split_first_chunk::<2>() else {
            break;
        };
        let len = usize::from(u16::from_be_bytes(*len)).min(after.len());
        let (der, after) = after.split_at(len);
        chain.push(CertificateDer::from(der.to_vec()));
        rest = after;
    }
    (chain, rest)
}

/// What RFC 3263 resolution does with DNS answers it did not choose: the
/// first byte picks the URI, the rest is replies, each prefixed by its
/// 16-bit length, handed out one per query (NXDOMAIN once they run out).
/// Nothing may panic or run without bound, and every target found names
/// the URI's domain as the name to verify.
pub fn dns_answers(data: &[u8]) {
    use crate::resolve::rfc3263::{Lookup, LookupError, Record, RecordType};

    struct Replies<'a>(&'a [u8]);
    impl Lookup for Replies<'_> {
        fn lookup(&mut self, _: &str, _: RecordType) -> Result<Vec<Record>, LookupError> {
            let [high, low, rest @ ..] = self.0 else {
                return Err(LookupError::NoSuchName);
            };
            let len = usize::from(u16::from_be_bytes([*high, *low])).min(rest.len());
            let (reply, rest) = rest.split_at(len);
            self.0 = rest;
            crate::resolve::dns::records(reply)
        }
    }
    let Some((&pick, replies)) = data.split_first() else {
        return;
    };
    let uris = [
        "sips:example.test",
        "sip:example.test",
        "sips:example.test;transport=tcp",
        "sip:example.test:5070",
    ];
    let uri = uris[usize::from(pick) % uris.len()];
    let mut random = |bound: u32| u32::from(pick) % (bound + 1);
    if let Ok(targets) = crate::resolve::resolve_uri(uri, &mut Replies(replies), &mut random) {
        assert!(targets.len() <= 64);
        assert!(targets.iter().all(|t| t.verify_name == "example.test"));
    }
}
