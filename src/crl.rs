//! Certificate revocation lists. The reference gateway has none; we accept
//! CRLs signed by a trust entry and check every certificate of a peer's chain
//! against them.

use pki_types::CertificateRevocationListDer;
use rustls::crypto::WebPkiSupportedAlgorithms;
use webpki::{CertRevocationList, OwnedCertRevocationList};

use crate::der;
use crate::error::{siptls_result::*, Error, Result};
use crate::trust::TrustTable;

/// What to do with a certificate whose issuer has published no CRL we hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingCrl {
    /// Accept: CRLs are an addition, not a requirement (the default).
    #[default]
    Allow,
    /// Refuse with REVOCATION_UNKNOWN.
    Deny,
}

#[derive(Debug, Clone)]
pub struct Crl {
    pub list: std::sync::Arc<CertRevocationList<'static>>,
    /// The trust entry whose key signed this CRL.
    pub issuer_trust_id: u32,
}

/// Parses a DER CRL and checks that a trust entry signed it.
pub fn load(
    der_crl: &CertificateRevocationListDer<'_>,
    position: usize,
    trust: &TrustTable,
    algorithms: &WebPkiSupportedAlgorithms,
) -> Result<Crl> {
    let malformed =
        |why: String| Error::new(SIPTLS_ERR_CRL_MALFORMED, format!("CRL #{position}: {why}"));
    let owned = OwnedCertRevocationList::from_der(der_crl).map_err(|e| malformed(e.to_string()))?;
    let list = CertRevocationList::from(owned);
    let signed = der::signed(der_crl).ok_or_else(|| malformed("not a signed structure".into()))?;

    let issuer_trust_id = trust
        .entries()
        .iter()
        .filter(|entry| entry.anchor.subject.as_ref() == list.issuer())
        .find(|entry| {
            signed_by(
                &signed,
                entry.anchor.subject_public_key_info.as_ref(),
                algorithms,
            )
        })
        .map(|entry| entry.id)
        .ok_or_else(|| {
            Error::new(
                SIPTLS_ERR_CRL_UNTRUSTED,
                format!(
                    "CRL #{position}: not signed by any trust entry (add its issuing CA first)"
                ),
            )
        })?;
    Ok(Crl {
        list: std::sync::Arc::new(list),
        issuer_trust_id,
    })
}

fn signed_by(
    signed: &der::Signed<'_>,
    spki_contents: &[u8],
    algorithms: &WebPkiSupportedAlgorithms,
) -> bool {
    let Some((key_algorithm, public_key)) = der::spki_parts(spki_contents) else {
        return false;
    };
    algorithms
        .all
        .iter()
        .filter(|alg| {
            alg.public_key_alg_id().as_ref() == key_algorithm
                && alg.signature_alg_id().as_ref() == signed.algorithm
        })
        .any(|alg| {
            alg.verify_signature(public_key, signed.tbs, signed.signature)
                .is_ok()
        })
}
