//! Just enough DER reading to split signed structures and name key algorithms.
//!
//! Certificates themselves are parsed by webpki and x509-parser; this reader
//! only serves the two places where we need raw sub-slices those libraries do
//! not expose: the signed parts of a CRL and the algorithm of a PKCS#8 key.

pub(crate) const TAG_SEQUENCE: u8 = 0x30;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_INTEGER: u8 = 0x02;

/// One tag-length-value element.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    /// The value bytes, without tag and length.
    pub value: &'a [u8],
    /// The whole element, tag and length included.
    pub raw: &'a [u8],
}

/// Reads one element from the front of `input`; returns it and the rest.
/// Only definite lengths of up to four bytes are accepted (DER never needs more here).
pub fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[count..])
    };
    if rest.len() < len {
        return None;
    }
    let header = input.len() - rest.len();
    let tlv = Tlv {
        tag,
        value: &rest[..len],
        raw: &input[..header + len],
    };
    Some((tlv, &rest[len..]))
}

/// Reads one element that must carry `tag`.
pub fn expect(input: &[u8], tag: u8) -> Option<(Tlv<'_>, &[u8])> {
    read(input).filter(|(tlv, _)| tlv.tag == tag)
}

/// The three parts of a signed X.509 structure (certificate or CRL):
/// the signed bytes, the signature AlgorithmIdentifier's contents and the signature.
pub struct Signed<'a> {
    pub tbs: &'a [u8],
    pub algorithm: &'a [u8],
    pub signature: &'a [u8],
}

pub fn signed(der: &[u8]) -> Option<Signed<'_>> {
    let (outer, trailing) = expect(der, TAG_SEQUENCE)?;
    if !trailing.is_empty() {
        return None;
    }
    let (tbs, rest) = expect(outer.value, TAG_SEQUENCE)?;
    let (algorithm, rest) = expect(rest, TAG_SEQUENCE)?;
    let (signature, rest) = expect(rest, TAG_BIT_STRING)?;
    // A BIT STRING starts with its count of unused bits, which must be zero for signatures.
    let (&0, signature) = signature.value.split_first()? else {
        return None;
    };
    rest.is_empty().then_some(Signed {
        tbs: tbs.raw,
        algorithm: algorithm.value,
        signature,
    })
}

/// Splits SubjectPublicKeyInfo contents (as webpki's trust anchors keep them)
/// into the AlgorithmIdentifier contents and the key bits.
pub fn spki_parts(spki_contents: &[u8]) -> Option<(&[u8], &[u8])> {
    let (algorithm, rest) = expect(spki_contents, TAG_SEQUENCE)?;
    let (key, _) = expect(rest, TAG_BIT_STRING)?;
    let (&0, key) = key.value.split_first()? else {
        return None;
    };
    Some((algorithm.value, key))
}

/// The algorithm OID (value bytes) and the first parameter OID, if any, of a PKCS#8 key.
pub fn pkcs8_algorithm(der: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let (info, _) = expect(der, TAG_SEQUENCE)?;
    let (_version, rest) = expect(info.value, TAG_INTEGER)?;
    let (algorithm, _) = expect(rest, TAG_SEQUENCE)?;
    let (oid, params) = expect(algorithm.value, TAG_OID)?;
    let param_oid = expect(params, TAG_OID).map(|(p, _)| p.value);
    Some((oid.value, param_oid))
}

/// Dotted text of an OID's value bytes, for messages.
pub fn oid_text(oid: &[u8]) -> String {
    let mut arcs = Vec::new();
    let mut value: u64 = 0;
    for &b in oid {
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let short = [0x04, 0x02, 0xaa, 0xbb, 0xff];
        let (tlv, rest) = read(&short).unwrap();
        assert_eq!(
            (tlv.tag, tlv.value, rest),
            (0x04, &[0xaa, 0xbb][..], &[0xff][..])
        );

        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7u8, 0x80));
        let (tlv, rest) = read(&long).unwrap();
        assert_eq!(tlv.value.len(), 0x80);
        assert_eq!(tlv.raw.len(), long.len());
        assert!(rest.is_empty());
    }

    #[test]
    fn refuses_truncated_and_indefinite() {
        assert!(read(&[0x30, 0x05, 0x01]).is_none());
        assert!(read(&[0x30, 0x80, 0x00, 0x00]).is_none());
        assert!(read(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(read(&[0x30]).is_none());
        assert!(read(&[]).is_none());
    }

    #[test]
    fn oid_text_matches_known_oids() {
        assert_eq!(
            oid_text(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
            "1.2.840.10045.2.1"
        );
        assert_eq!(oid_text(&[0x2b, 0x65, 0x70]), "1.3.101.112");
    }
}
