//! What a server seals into a ticket or a cache entry: rustls' own session
//! state, plus what siptls needs to decide later whether it may resume:
//! when the session was first issued (gateway clock: its full handshake,
//! kept by the tickets issued while it resumes), which certificate the
//! server itself presented, and the peer chain accepted then.
//!
//! `version (1) || issued_at (8, big-endian) || own certificate SHA-256 (32)
//!  || count (1) || count * certificate || rustls state`, each certificate
//! `0 || length (3) || DER`, or `1 || length (3) || offset (3)` where the
//! same DER lies at that offset of rustls' state. rustls keeps a client's
//! chain in its state too, so the chain is usually written once, which
//! keeps tickets short: they are hashed into every handshake that offers
//! or issues them.

use memchr::memmem;
use pki_types::CertificateDer;

use crate::verify::PeerChain;

const VERSION: u8 = 2;
/// A leaf and webpki's six intermediates, with room to spare.
const MAX_CERTS: usize = 10;
const INLINE: u8 = 0;
const IN_STATE: u8 = 1;
/// Lengths and offsets are 24 bits, as in TLS.
const LIMIT: usize = 1 << 24;

/// SHA-256 of the server's own end-entity certificate.
pub type OwnDigest = [u8; 32];

pub struct Record<'a> {
    pub issued_at: u64,
    pub own: OwnDigest,
    pub chain: PeerChain,
    pub state: &'a [u8],
}

fn put_u24(out: &mut Vec<u8>, value: usize) -> Option<()> {
    let value = u32::try_from(value).ok().filter(|_| value < LIMIT)?;
    out.extend_from_slice(&value.to_be_bytes()[1..]);
    Some(())
}

fn take_u24(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let (v, rest) = bytes.split_first_chunk::<3>()?;
    Some((
        usize::from(v[0]) << 16 | usize::from(v[1]) << 8 | usize::from(v[2]),
        rest,
    ))
}

/// Where `cert` lies in `state`, if it does. Searched by its last bytes,
/// which end its signature: few, so the search is cheap, and unlikely to
/// recur anywhere else, so few places need the whole comparison.
fn position_in(state: &[u8], cert: &[u8]) -> Option<usize> {
    let tail = &cert[cert.len().saturating_sub(32)..];
    let finder = memmem::Finder::new(tail);
    let mut from = 0;
    while let Some(found) = state.get(from..).and_then(|rest| finder.find(rest)) {
        let end = from + found + tail.len();
        let start = end.checked_sub(cert.len());
        if let Some(start) = start.filter(|&s| state[s..end] == *cert) {
            return Some(start);
        }
        // Occurrences may overlap.
        from += found + 1;
    }
    None
}

pub fn encode(
    issued_at: u64,
    own: &OwnDigest,
    chain: &[CertificateDer<'_>],
    state: &[u8],
) -> Option<Vec<u8>> {
    if chain.len() > MAX_CERTS {
        return None;
    }
    // Room for every certificate inline, the most it can take.
    let most = 42 + chain.iter().map(|c| 4 + c.len()).sum::<usize>() + state.len();
    let mut out = Vec::with_capacity(most);
    out.push(VERSION);
    out.extend_from_slice(&issued_at.to_be_bytes());
    out.extend_from_slice(own);
    out.push(chain.len() as u8);
    for cert in chain {
        let found = position_in(state, cert).filter(|&at| at < LIMIT);
        out.push(if found.is_some() { IN_STATE } else { INLINE });
        put_u24(&mut out, cert.len())?;
        match found {
            Some(at) => put_u24(&mut out, at)?,
            None => out.extend_from_slice(cert),
        }
    }
    out.extend_from_slice(state);
    Some(out)
}

pub fn decode(bytes: &[u8]) -> Option<Record<'_>> {
    let (&version, rest) = bytes.split_first()?;
    if version != VERSION {
        return None;
    }
    let (issued_at, rest) = rest.split_first_chunk::<8>()?;
    let (own, rest) = rest.split_first_chunk::<32>()?;
    let (&count, mut rest) = rest.split_first()?;
    if usize::from(count) > MAX_CERTS {
        return None;
    }
    // Where each certificate lies: inline (in `bytes`) or in the state.
    let mut places = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let (&tag, after) = rest.split_first()?;
        let (len, after) = take_u24(after)?;
        if len == 0 {
            return None;
        }
        rest = match tag {
            INLINE => {
                let (der, after) = after.split_at_checked(len)?;
                places.push(Ok(der));
                after
            }
            IN_STATE => {
                let (at, after) = take_u24(after)?;
                places.push(Err(at..at + len));
                after
            }
            _ => return None,
        };
    }
    let state = rest;
    if state.is_empty() {
        return None;
    }
    let chain = places
        .into_iter()
        .map(|place| {
            let der = match place {
                Ok(der) => der,
                Err(range) => state.get(range)?,
            };
            Some(CertificateDer::from(der.to_vec()))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Record {
        issued_at: u64::from_be_bytes(*issued_at),
        own: *own,
        chain: chain.into(),
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_every_truncation_is_refused() {
        let chain = [
            CertificateDer::from(vec![0x30, 1, 2]),
            CertificateDer::from(vec![0x30; 300]),
        ];
        let bytes = encode(1_700_000_000, &[9; 32], &chain, b"rustls").unwrap();
        let record = decode(&bytes).unwrap();
        assert_eq!(record.issued_at, 1_700_000_000);
        assert_eq!(record.own, [9; 32]);
        assert_eq!(&record.chain[..], &chain[..]);
        assert_eq!(record.state, b"rustls");
        // Shorter inputs either fail or lose the state's tail, never panic.
        for cut in 0..bytes.len() - b"rustls".len() {
            assert!(decode(&bytes[..cut]).is_none(), "cut at {cut}");
        }
        let mut other_version = bytes.clone();
        other_version[0] = 1;
        assert!(decode(&other_version).is_none());
        let anonymous = encode(5, &[0; 32], &[], b"s").unwrap();
        assert!(decode(&anonymous).unwrap().chain.is_empty());
    }

    #[test]
    fn a_certificate_the_state_holds_is_written_once() {
        let (leaf, ca) = (vec![0x30; 400], vec![0x31; 300]);
        let chain = [CertificateDer::from(leaf.clone()), CertificateDer::from(ca)];
        // The state holds the leaf (as rustls keeps a client's chain), not the CA.
        let state = [b"head".as_slice(), &leaf, b"tail"].concat();
        let bytes = encode(7, &[1; 32], &chain, &state).unwrap();
        assert_eq!(bytes.len(), 42 + 7 + (4 + 300) + state.len());
        let record = decode(&bytes).unwrap();
        assert_eq!(&record.chain[..], &chain[..]);
        assert_eq!(record.state, &state[..]);

        // The signature's bytes alone, earlier in the state, are no match.
        let decoy = [&leaf[400 - 40..], b"..", &leaf].concat();
        assert_eq!(position_in(&decoy, &leaf), Some(42));
        assert_eq!(position_in(&decoy[..decoy.len() - 1], &leaf), None);

        // A reference past the state's end, or a tag never written, is refused.
        let reference = 42 + 1 + 3;
        let mut beyond = bytes.clone();
        beyond[reference..reference + 3].copy_from_slice(&[0, 0x01, 0x00]);
        assert!(decode(&beyond).is_none());
        let mut unknown_tag = bytes.clone();
        unknown_tag[42] = 2;
        assert!(decode(&unknown_tag).is_none());
        // Every truncation, cutting into the state or the references.
        for cut in 0..bytes.len() {
            let decoded = decode(&bytes[..cut]);
            assert!(
                decoded.is_none_or(|r| r.chain[..] == chain[..]),
                "cut at {cut}"
            );
        }
    }
}
