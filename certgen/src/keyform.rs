//! Re-encodes rcgen's PKCS#8 private keys into the legacy PKCS#1 and SEC1
//! forms, which many C stacks and older configs still expect.
//!
//! Only the few DER constructs those structures use are handled
//! (single-byte tags, definite minimal lengths); anything else is rejected
//! rather than guessed at.

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const OBJECT_IDENTIFIER: u8 = 0x06;
/// `[0] EXPLICIT` holding the curve in an ECPrivateKey (RFC 5915).
const EC_PARAMETERS: u8 = 0xa0;

/// rsaEncryption (1.2.840.113549.1.1.1), as a complete DER TLV.
const RSA_ENCRYPTION: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
];
/// id-ecPublicKey (1.2.840.10045.2.1), as a complete DER TLV.
const EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// One DER element: its tag, its contents, and its full encoding.
#[derive(Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    value: &'a [u8],
    encoded: &'a [u8],
}

/// Reads one element off the front of `input`, returning it and the rest.
fn read_tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    // High-tag-number form never occurs in the structures read here.
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        0x00..=0x7f => (usize::from(first), rest),
        0x81..=0x84 => {
            let count = usize::from(first & 0x7f);
            if rest.len() < count {
                return None;
            }
            let (len_bytes, rest) = rest.split_at(count);
            // DER demands the shortest length encoding.
            if len_bytes[0] == 0 {
                return None;
            }
            let len = len_bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 {
                return None;
            }
            (len, rest)
        }
        // 0x80 is BER's indefinite length; longer length fields cannot fit in memory.
        _ => return None,
    };
    if rest.len() < len {
        return None;
    }
    let header_len = input.len() - rest.len();
    let (value, rest) = rest.split_at(len);
    let encoded = &input[..header_len + len];
    Some((
        Tlv {
            tag,
            value,
            encoded,
        },
        rest,
    ))
}

/// Reads `input` as exactly one element with the given tag.
fn read_single(input: &[u8], tag: u8) -> Option<Tlv<'_>> {
    match read_tlv(input)? {
        (tlv, []) if tlv.tag == tag => Some(tlv),
        _ => None,
    }
}

/// Splits the contents of a constructed element into its children.
fn read_children(mut input: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut children = Vec::new();
    while !input.is_empty() {
        let (child, rest) = read_tlv(input)?;
        children.push(child);
        input = rest;
    }
    Some(children)
}

fn encode_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    out.push(tag);
    if value.len() < 0x80 {
        out.push(value.len() as u8);
    } else {
        let len = value.len().to_be_bytes();
        let skip = len.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (len.len() - skip) as u8);
        out.extend_from_slice(&len[skip..]);
    }
    out.extend_from_slice(value);
    out
}

/// The fields of a PKCS#8 `PrivateKeyInfo` (RFC 5208 / RFC 5958) used here.
struct PrivateKeyInfo<'a> {
    algorithm: Tlv<'a>,
    parameters: Option<Tlv<'a>>,
    private_key: &'a [u8],
}

fn parse_pkcs8(der: &[u8]) -> Option<PrivateKeyInfo<'_>> {
    let info = read_single(der, SEQUENCE)?;
    // version, privateKeyAlgorithm, privateKey, then optional attributes and
    // (RFC 5958 v2) publicKey, which neither legacy form carries over.
    let children = read_children(info.value)?;
    let [version, algorithm_id, private_key, ..] = children.as_slice() else {
        return None;
    };
    if version.tag != INTEGER || algorithm_id.tag != SEQUENCE || private_key.tag != OCTET_STRING {
        return None;
    }
    let (algorithm, parameters) = match read_children(algorithm_id.value)?.as_slice() {
        [algorithm] => (*algorithm, None),
        [algorithm, parameters] => (*algorithm, Some(*parameters)),
        _ => return None,
    };
    if algorithm.tag != OBJECT_IDENTIFIER {
        return None;
    }
    Some(PrivateKeyInfo {
        algorithm,
        parameters,
        private_key: private_key.value,
    })
}

/// Extracts the PKCS#1 `RSAPrivateKey` from a PKCS#8 RSA key; `None` for
/// any other key type.
pub(crate) fn pkcs1_from_pkcs8(pkcs8: &[u8]) -> Option<Vec<u8>> {
    let info = parse_pkcs8(pkcs8)?;
    if info.algorithm.encoded != RSA_ENCRYPTION {
        return None;
    }
    read_single(info.private_key, SEQUENCE).map(|key| key.encoded.to_vec())
}

/// Extracts the SEC1 `ECPrivateKey` from a PKCS#8 EC key; `None` for any
/// other key type.
///
/// Inside PKCS#8 the curve lives in the AlgorithmIdentifier, so encoders
/// (aws-lc among them) drop the ECPrivateKey's own `parameters` field. A
/// standalone SEC1 key has nowhere else to name its curve, so the field is
/// restored from the AlgorithmIdentifier when missing.
pub(crate) fn sec1_from_pkcs8(pkcs8: &[u8]) -> Option<Vec<u8>> {
    let info = parse_pkcs8(pkcs8)?;
    if info.algorithm.encoded != EC_PUBLIC_KEY {
        return None;
    }
    // Only named curves are meaningful here; explicit curve parameters are
    // forbidden by RFC 5480 and never produced by rcgen.
    let curve = info.parameters.filter(|p| p.tag == OBJECT_IDENTIFIER)?;
    let key = read_single(info.private_key, SEQUENCE)?;
    let fields = read_children(key.value)?;
    // version, privateKey, [0] parameters OPTIONAL, [1] publicKey OPTIONAL
    let [version, secret, optional @ ..] = fields.as_slice() else {
        return None;
    };
    if version.tag != INTEGER || secret.tag != OCTET_STRING {
        return None;
    }
    if optional.iter().any(|field| field.tag == EC_PARAMETERS) {
        return Some(key.encoded.to_vec());
    }
    let mut body = [version.encoded, secret.encoded].concat();
    body.extend(encode_tlv(EC_PARAMETERS, curve.encoded));
    for field in optional {
        body.extend_from_slice(field.encoded);
    }
    Some(encode_tlv(SEQUENCE, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// prime256v1 (1.2.840.10045.3.1.7).
    const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

    fn pkcs8(algorithm_id: &[u8], private_key: &[u8]) -> Vec<u8> {
        let body = [
            &[INTEGER, 0x01, 0x00][..],
            &encode_tlv(SEQUENCE, algorithm_id),
            &encode_tlv(OCTET_STRING, private_key),
        ]
        .concat();
        encode_tlv(SEQUENCE, &body)
    }

    #[test]
    fn lengths_round_trip_through_every_form() {
        for len in [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x1_0000] {
            let value = vec![0xab; len];
            let encoded = encode_tlv(OCTET_STRING, &value);
            let (tlv, rest) = read_tlv(&encoded).expect("own encoding must parse");
            assert!(rest.is_empty());
            assert_eq!(tlv.tag, OCTET_STRING);
            assert_eq!(tlv.value, value.as_slice());
            assert_eq!(tlv.encoded, encoded.as_slice());
        }
    }

    #[test]
    fn rejects_non_der_lengths() {
        // indefinite length
        assert!(read_tlv(&[0x30, 0x80, 0x00, 0x00]).is_none());
        // long form for a short length
        assert!(read_tlv(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5]).is_none());
        // leading zero in a long-form length
        assert!(read_tlv(&[0x04, 0x82, 0x00, 0x80]).is_none());
        // contents shorter than announced
        assert!(read_tlv(&[0x04, 0x03, 1, 2]).is_none());
        // high-tag-number form
        assert!(read_tlv(&[0x1f, 0x01, 0x00]).is_none());
    }

    #[test]
    fn sec1_gains_curve_parameters_before_public_key() {
        let public_key = encode_tlv(0xa1, &[0x03, 0x02, 0x00, 0x04]);
        let ec_key = encode_tlv(
            SEQUENCE,
            &[
                &[INTEGER, 0x01, 0x01][..],
                &[OCTET_STRING, 0x01, 0x2a],
                &public_key,
            ]
            .concat(),
        );
        let sec1 = sec1_from_pkcs8(&pkcs8(&[EC_PUBLIC_KEY, P256].concat(), &ec_key)).unwrap();

        let key = read_single(&sec1, SEQUENCE).unwrap();
        let fields = read_children(key.value).unwrap();
        let tags: Vec<u8> = fields.iter().map(|f| f.tag).collect();
        assert_eq!(tags, [INTEGER, OCTET_STRING, EC_PARAMETERS, 0xa1]);
        assert_eq!(fields[2].value, P256);
        assert_eq!(fields[3].encoded, public_key.as_slice());
    }

    #[test]
    fn sec1_with_parameters_is_kept_verbatim() {
        let ec_key = encode_tlv(
            SEQUENCE,
            &[
                &[INTEGER, 0x01, 0x01][..],
                &[OCTET_STRING, 0x01, 0x2a],
                &encode_tlv(EC_PARAMETERS, P256),
            ]
            .concat(),
        );
        let sec1 = sec1_from_pkcs8(&pkcs8(&[EC_PUBLIC_KEY, P256].concat(), &ec_key)).unwrap();
        assert_eq!(sec1, ec_key);
    }

    #[test]
    fn key_type_mismatches_yield_none() {
        let rsa_key = encode_tlv(SEQUENCE, &[INTEGER, 0x01, 0x00]);
        let rsa = pkcs8(&[RSA_ENCRYPTION, &[0x05, 0x00]].concat(), &rsa_key);
        assert_eq!(pkcs1_from_pkcs8(&rsa), Some(rsa_key));
        assert_eq!(sec1_from_pkcs8(&rsa), None);

        let ec_key = encode_tlv(
            SEQUENCE,
            &[&[INTEGER, 0x01, 0x01][..], &[OCTET_STRING, 0x01, 0x2a]].concat(),
        );
        let ec = pkcs8(&[EC_PUBLIC_KEY, P256].concat(), &ec_key);
        assert_eq!(pkcs1_from_pkcs8(&ec), None);

        assert_eq!(pkcs1_from_pkcs8(b"not der"), None);
        assert_eq!(sec1_from_pkcs8(&[]), None);
    }
}
