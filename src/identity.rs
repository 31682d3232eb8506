//! Our own identity: the certificate chain (`publickey.pem`) and its private
//! key (`privateKey.pem`), checked to belong together before they are used.

use crate::abi::siptls_result::*;
use std::sync::Arc;

use rustls::sign::CertifiedKey;

use crate::error::{Error, Result};
use crate::pem;

/// Builds the identity from PEM text: `cert_pem` holds the end-entity
/// certificate first, optionally followed by its chain. The labels (file
/// names, usually) say in error messages which input was at fault.
pub fn from_pem(
    cert_pem: &[u8],
    cert_label: &str,
    key_pem: &[u8],
    key_label: &str,
) -> Result<Arc<CertifiedKey>> {
    let chain = pem::certificates(cert_pem).map_err(|e| e.context(cert_label))?;
    let key = match crate::pkcs11::in_key_text(key_pem) {
        Some(uri) => uri.and_then(|uri| crate::pkcs11::signing_key(&uri, &chain[0])),
        None => pem::private_key(key_pem).and_then(|der| pem::signing_key(&der)),
    }
    .map_err(|e| e.context(key_label))?;
    let certified = CertifiedKey::new(chain, key);
    match certified.keys_match() {
        // Unknown: the key type cannot report its public key; the handshake will tell.
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
            Ok(Arc::new(certified))
        }
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(Error::new(
                SIPTLS_ERR_KEY_MISMATCH,
                format!("{key_label} does not belong to the first certificate of {cert_label}"),
            ))
        }
        // rustls words this as a peer problem; here it is our own certificate.
        Err(rustls::Error::InvalidCertificate(_)) => Err(Error::new(
            SIPTLS_ERR_CERT_MALFORMED,
            format!("{cert_label}: the certificate cannot serve as this side's own, because its public key cannot be read or is of a kind TLS does not use; check it with `openssl x509 -text`"),
        )),
        Err(e) => Err(Error::new(
            SIPTLS_ERR_CERT_MALFORMED,
            format!("{cert_label}: {e}"),
        )),
    }
}
