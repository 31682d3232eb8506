//! Private keys on PKCS#11 tokens and HSMs, named by RFC 7512 `pkcs11:`
//! URIs: in a key file instead of a PEM key, or given to
//! `siptls_ctx_add_identity_pkcs11`. The token signs through the same path
//! as a gateway's signing callback (`signer.rs`), so scheme choice, the
//! r||s conversion and failure reporting are shared.

#[cfg(feature = "pkcs11")]
mod token;
mod uri;

pub use uri::in_key_text;

use std::sync::Arc;

use pki_types::CertificateDer;
use rustls::sign::SigningKey;

use crate::error::Result;

/// The signing key a `pkcs11:` URI names, for the certificate `leaf`:
/// loaded, logged in, and proven to be the certificate's key by one
/// signature checked with the certificate's public key.
#[cfg(feature = "pkcs11")]
pub fn signing_key(uri_text: &str, leaf: &CertificateDer<'_>) -> Result<Arc<dyn SigningKey>> {
    use crate::abi::siptls_result::SIPTLS_ERR_KEY_MISMATCH;
    use crate::error::Error;
    use crate::signer::{ExternalKey, KeyKind};

    let uri = uri::KeyUri::parse(uri_text)?;
    let token = token::TokenKey::open(uri)?;
    token::check_kind(&token, KeyKind::of_certificate(leaf.as_ref()))?;
    let kind = token.kind;
    let described = token.describe();
    let holder = format!("The PKCS#11 token holding {described}");
    let token = Arc::new(token);
    let key = ExternalKey::held_by(
        &holder,
        kind,
        matches!(kind, KeyKind::EcdsaP256 | KeyKind::EcdsaP384),
        Arc::new(move |scheme, message, out: &mut [u8]| {
            let signature = token.sign(scheme, message)?;
            let room = out.len();
            out.get_mut(..signature.len())
                .ok_or_else(|| {
                    format!(
                        "the token's {}-byte signature exceeds {room} bytes",
                        signature.len()
                    )
                })?
                .copy_from_slice(&signature);
            Ok(signature.len())
        }),
    )?;
    if !proves_certificate_key(&key, kind, leaf) {
        return Err(Error::new(
            SIPTLS_ERR_KEY_MISMATCH,
            format!("{described} does not belong to the certificate: a signature it made does not verify with the certificate's public key"),
        ));
    }
    Ok(Arc::new(key))
}

/// Signs a fixed message with the key and verifies it with the
/// certificate's public key.
#[cfg(feature = "pkcs11")]
fn proves_certificate_key(
    key: &crate::signer::ExternalKey,
    kind: crate::signer::KeyKind,
    leaf: &CertificateDer<'_>,
) -> bool {
    use crate::signer::KeyKind;
    use aws_lc_rs::signature::{self, UnparsedPublicKey};
    use rustls::SignatureScheme;

    let (scheme, algorithm): (_, &dyn signature::VerificationAlgorithm) = match kind {
        KeyKind::EcdsaP256 => (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &signature::ECDSA_P256_SHA256_ASN1,
        ),
        KeyKind::EcdsaP384 => (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &signature::ECDSA_P384_SHA384_ASN1,
        ),
        KeyKind::Rsa => (
            SignatureScheme::RSA_PSS_SHA256,
            &signature::RSA_PSS_2048_8192_SHA256,
        ),
        KeyKind::Ed25519 => return false,
    };
    let Ok((_, certificate)) = x509_parser::parse_x509_certificate(leaf.as_ref()) else {
        return false;
    };
    let message = b"siptls: this key belongs to this certificate";
    let Some(signer) = key.choose_scheme(&[scheme]) else {
        return false;
    };
    signer.sign(message).is_ok_and(|made| {
        UnparsedPublicKey::new(algorithm, &certificate.public_key().subject_public_key.data)
            .verify(message, &made)
            .is_ok()
    })
}

#[cfg(not(feature = "pkcs11"))]
pub fn signing_key(uri_text: &str, _leaf: &CertificateDer<'_>) -> Result<Arc<dyn SigningKey>> {
    use crate::abi::siptls_result::SIPTLS_ERR_NOT_BUILT;
    uri::KeyUri::parse(uri_text)?;
    Err(crate::error::Error::new(
        SIPTLS_ERR_NOT_BUILT,
        "This siptls was built without PKCS#11 (cargo feature pkcs11); a pkcs11: key needs a build with it",
    ))
}
