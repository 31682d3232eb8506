//! What a server seals into a ticket or a cache entry: rustls' own session
//! state, plus what siptls needs to decide later whether it may resume:
//! when the session was first issued (gateway clock: its full handshake,
//! kept by the tickets issued while it resumes), which certificate the
//! server itself presented, and the peer chain accepted then.
//!
//! `version (1) || issued_at (8, big-endian) || own certificate SHA-256 (32)
//!  || count (1) || count * (length (3, big-endian) || certificate DER)
//!  || rustls state`

use pki_types::CertificateDer;

use crate::verify::PeerChain;

const VERSION: u8 = 1;
/// A leaf and webpki's six intermediates, with room to spare.
const MAX_CERTS: usize = 10;

/// SHA-256 of the server's own end-entity certificate.
pub type OwnDigest = [u8; 32];

pub struct Record<'a> {
    pub issued_at: u64,
    pub own: OwnDigest,
    pub chain: PeerChain,
    pub state: &'a [u8],
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
    let size = 42 + chain.iter().map(|c| 3 + c.len()).sum::<usize>() + state.len();
    let mut out = Vec::with_capacity(size);
    out.push(VERSION);
    out.extend_from_slice(&issued_at.to_be_bytes());
    out.extend_from_slice(own);
    out.push(chain.len() as u8);
    for cert in chain {
        let len = u32::try_from(cert.len()).ok().filter(|&l| l < 1 << 24)?;
        out.extend_from_slice(&len.to_be_bytes()[1..]);
        out.extend_from_slice(cert);
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
    let mut chain = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let (len, after) = rest.split_first_chunk::<3>()?;
        let len = usize::from(len[0]) << 16 | usize::from(len[1]) << 8 | usize::from(len[2]);
        if len == 0 || len > after.len() {
            return None;
        }
        let (der, after) = after.split_at(len);
        chain.push(CertificateDer::from(der.to_vec()));
        rest = after;
    }
    if rest.is_empty() {
        return None;
    }
    Some(Record {
        issued_at: u64::from_be_bytes(*issued_at),
        own: *own,
        chain: chain.into(),
        state: rest,
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
        other_version[0] = 2;
        assert!(decode(&other_version).is_none());
        let anonymous = encode(5, &[0; 32], &[], b"s").unwrap();
        assert!(decode(&anonymous).unwrap().chain.is_empty());
    }
}
