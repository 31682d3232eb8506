//! Keys the gateway holds (a secure element, a TPM, an HSM): the private
//! key never enters siptls; the handshake's signature is asked of the
//! gateway's callback. siptls chooses only schemes the key supports (RSA-PSS
//! first, PKCS#1 v1.5 only where the peer offers it for TLS 1.2), turns a
//! device's raw ECDSA `r||s` into the DER TLS wants, and turns a failure
//! into a handshake failure with its own code and detail.

use std::sync::Arc;

use rustls::sign::{Signer, SigningKey};
use rustls::{OtherError, SignatureAlgorithm, SignatureScheme};

use crate::error::{Error, Result};

/// The kind of key the gateway holds (`siptls_key_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    EcdsaP256,
    EcdsaP384,
    Rsa,
    Ed25519,
}

impl KeyKind {
    /// The schemes the key can make, in our order of preference.
    fn schemes(self) -> &'static [SignatureScheme] {
        use SignatureScheme::*;
        match self {
            KeyKind::EcdsaP256 => &[ECDSA_NISTP256_SHA256],
            KeyKind::EcdsaP384 => &[ECDSA_NISTP384_SHA384],
            KeyKind::Rsa => &[
                RSA_PSS_SHA256,
                RSA_PSS_SHA384,
                RSA_PSS_SHA512,
                RSA_PKCS1_SHA256,
                RSA_PKCS1_SHA384,
                RSA_PKCS1_SHA512,
            ],
            KeyKind::Ed25519 => &[ED25519],
        }
    }

    /// The size of one ECDSA scalar, for a raw `r||s` signature.
    fn scalar_len(self) -> Option<usize> {
        match self {
            KeyKind::EcdsaP256 => Some(32),
            KeyKind::EcdsaP384 => Some(48),
            _ => None,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            KeyKind::EcdsaP256 => "ECDSA P-256",
            KeyKind::EcdsaP384 => "ECDSA P-384",
            KeyKind::Rsa => "RSA",
            KeyKind::Ed25519 => "Ed25519",
        }
    }

    /// The kind of the public key in a certificate, if it is one of ours.
    pub fn of_certificate(der: &[u8]) -> Option<KeyKind> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        Self::of_parsed(&cert)
    }

    /// As `of_certificate`, for a certificate x509-parser has read.
    pub fn of_parsed(cert: &x509_parser::certificate::X509Certificate<'_>) -> Option<KeyKind> {
        let spki = cert.public_key();
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok())
            .map(|o| o.to_id_string());
        match (
            spki.algorithm.algorithm.to_id_string().as_str(),
            curve.as_deref(),
        ) {
            ("1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7")) => Some(KeyKind::EcdsaP256),
            ("1.2.840.10045.2.1", Some("1.3.132.0.34")) => Some(KeyKind::EcdsaP384),
            ("1.2.840.113549.1.1.1", _) => Some(KeyKind::Rsa),
            ("1.3.101.112", _) => Some(KeyKind::Ed25519),
            _ => None,
        }
    }
}

/// What the gateway's signing function answers: the signature's length in
/// the buffer it was given, or why it could not sign.
pub type SignFn = Arc<
    dyn Fn(SignatureScheme, &[u8], &mut [u8]) -> std::result::Result<usize, String> + Send + Sync,
>;

/// Room for any signature of the supported keys: RSA up to 8192 bits.
const SIGNATURE_ROOM: usize = 1024;

/// A key held by the gateway.
pub struct ExternalKey {
    kind: KeyKind,
    /// Who signs, for details: "The gateway's signing callback", or the
    /// key on its token.
    holder: Arc<str>,
    /// The device returns ECDSA signatures as raw `r||s`.
    raw_ecdsa: bool,
    sign: SignFn,
}

impl std::fmt::Debug for ExternalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a {} key: {}", self.kind.describe(), self.holder)
    }
}

impl ExternalKey {
    /// The gateway's own callback signs.
    pub fn new(kind: KeyKind, raw_ecdsa: bool, sign: SignFn) -> Result<Self> {
        Self::held_by("The gateway's signing callback", kind, raw_ecdsa, sign)
    }

    /// `holder` (a sentence's subject) signs.
    pub fn held_by(holder: &str, kind: KeyKind, raw_ecdsa: bool, sign: SignFn) -> Result<Self> {
        if raw_ecdsa && kind.scalar_len().is_none() {
            return Err(Error::new(
                crate::abi::siptls_result::SIPTLS_ERR_INVALID_ARGUMENT,
                format!(
                    "raw r||s signatures are an ECDSA form; a {} key does not make them",
                    kind.describe()
                ),
            ));
        }
        Ok(Self {
            kind,
            holder: holder.into(),
            raw_ecdsa,
            sign,
        })
    }
}

impl SigningKey for ExternalKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let scheme = self
            .kind
            .schemes()
            .iter()
            .copied()
            .find(|s| offered.contains(s))?;
        Some(Box::new(ExternalSigner {
            kind: self.kind,
            holder: self.holder.clone(),
            raw_ecdsa: self.raw_ecdsa,
            sign: self.sign.clone(),
            scheme,
        }))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match self.kind {
            KeyKind::EcdsaP256 | KeyKind::EcdsaP384 => SignatureAlgorithm::ECDSA,
            KeyKind::Rsa => SignatureAlgorithm::RSA,
            KeyKind::Ed25519 => SignatureAlgorithm::ED25519,
        }
    }
}

/// A signing failure of the gateway's callback, carried through rustls to
/// the session, which reports it with its own code.
#[derive(Debug)]
pub struct SigningFailed(pub String);

impl std::fmt::Display for SigningFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SigningFailed {}

fn failed(why: String) -> rustls::Error {
    rustls::Error::Other(OtherError(Arc::new(SigningFailed(why))))
}

struct ExternalSigner {
    kind: KeyKind,
    holder: Arc<str>,
    raw_ecdsa: bool,
    sign: SignFn,
    scheme: SignatureScheme,
}

impl std::fmt::Debug for ExternalSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} through the gateway's callback", self.scheme)
    }
}

impl Signer for ExternalSigner {
    fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, rustls::Error> {
        let mut out = vec![0u8; SIGNATURE_ROOM];
        let scheme = self.scheme.as_str().unwrap_or("a TLS signature scheme");
        let len = (self.sign)(self.scheme, message, &mut out).map_err(|why| {
            failed(format!(
                "{} could not sign with {scheme} for this {} key: {why}.",
                self.holder,
                self.kind.describe()
            ))
        })?;
        if len == 0 || len > out.len() {
            return Err(failed(format!(
                "{} reported a {len}-byte signature for {scheme}, in a buffer of {}; a signature is 1 to that many bytes.",
                self.holder,
                out.len()
            )));
        }
        out.truncate(len);
        match (self.raw_ecdsa, self.kind.scalar_len()) {
            (true, Some(n)) => der_ecdsa(&out, n).ok_or_else(|| {
                failed(format!(
                    "{} returned {len} bytes for a raw {} signature, which is r||s of {} bytes.",
                    self.holder,
                    self.kind.describe(),
                    2 * n
                ))
            }),
            _ => Ok(out),
        }
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

/// ECDSA-Sig-Value (RFC 3279) from a raw `r||s` of two `n`-byte scalars.
fn der_ecdsa(raw: &[u8], n: usize) -> Option<Vec<u8>> {
    if raw.len() != 2 * n {
        return None;
    }
    let integer = |scalar: &[u8]| {
        let digits: Vec<u8> = match scalar.iter().position(|&b| b != 0) {
            Some(first) => scalar[first..].to_vec(),
            None => vec![0],
        };
        // A leading 1 bit would make it negative: a zero byte before it.
        let mut out = vec![0x02];
        let pad = usize::from(digits[0] & 0x80 != 0);
        out.push((digits.len() + pad) as u8);
        out.extend(std::iter::repeat_n(0, pad));
        out.extend(digits);
        out
    };
    let body = [integer(&raw[..n]), integer(&raw[n..])].concat();
    // At most 2 * (2 + 49) = 102 bytes for P-384: a short-form length.
    let mut der = vec![0x30];
    der.push(body.len() as u8);
    der.extend(body);
    Some(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_r_and_s_become_der_integers() {
        let mut raw = [0u8; 64];
        raw[31] = 1; // r = 1
        raw[32] = 0x80; // s has its top bit set: a zero byte first
        let der = der_ecdsa(&raw, 32).unwrap();
        assert_eq!(&der[..5], &[0x30, 0x26, 0x02, 0x01, 0x01]);
        assert_eq!(&der[5..8], &[0x02, 0x21, 0x00]);
        assert_eq!(der.len(), 2 + 3 + 2 + 33);
        assert!(der_ecdsa(&raw[..63], 32).is_none());
        // P-384 with full-length scalars, top bits set: the longest form.
        let raw = [0xffu8; 96];
        let der = der_ecdsa(&raw, 48).unwrap();
        assert_eq!(&der[..5], &[0x30, 2 * (2 + 49), 0x02, 49, 0x00]);
        assert_eq!(der.len(), 2 + 102);
    }

    #[test]
    fn rsa_prefers_pss_and_takes_pkcs1_only_when_offered_alone() {
        let key = ExternalKey::new(KeyKind::Rsa, false, Arc::new(|_, _, _| Ok(1))).unwrap();
        let pick = |offered: &[SignatureScheme]| key.choose_scheme(offered).map(|s| s.scheme());
        assert_eq!(
            pick(&[
                SignatureScheme::RSA_PKCS1_SHA256,
                SignatureScheme::RSA_PSS_SHA256
            ]),
            Some(SignatureScheme::RSA_PSS_SHA256)
        );
        assert_eq!(
            pick(&[SignatureScheme::RSA_PKCS1_SHA384]),
            Some(SignatureScheme::RSA_PKCS1_SHA384)
        );
        assert_eq!(pick(&[SignatureScheme::ECDSA_NISTP256_SHA256]), None);
        assert!(ExternalKey::new(KeyKind::Rsa, true, Arc::new(|_, _, _| Ok(1))).is_err());
    }
}
