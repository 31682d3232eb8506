//! OCSP stapling (RFC 6960, RFC 6066 status_request): a response the
//! gateway supplies for one of its identities, checked before a server
//! staples it: that it is a successful basic response, that it speaks of
//! exactly this certificate (CertID: the issuer's name and key hashes and
//! the serial), that it says "good", that the gateway's clock lies between
//! its thisUpdate and nextUpdate, and that its signature verifies with the
//! issuer's key or with a responder certificate the issuer signed for
//! OCSPSigning. A response failing any of these is refused with a sentence
//! saying which; nothing is stapled that a careful client would reject.

use crate::abi::siptls_result::*;

use aws_lc_rs::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY, SHA256};
use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use der::{Decode, Encode};
use x509_ocsp::{BasicOcspResponse, CertStatus, OcspResponse, OcspResponseStatus};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::clock::when;
use crate::error::{printable, Error, Result};
use crate::signer::KeyKind;

/// A response checked for one certificate, ready to staple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staple {
    pub der: Vec<u8>,
    pub this_update: i64,
    pub next_update: i64,
}

// OIDs, dotted.
const ID_PKIX_OCSP_BASIC: &str = "1.3.6.1.5.5.7.48.1.1";
const SHA1: &str = "1.3.14.3.2.26";
const SHA256_OID: &str = "2.16.840.1.101.3.4.2.1";
const OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";

fn malformed(why: impl std::fmt::Display) -> Error {
    Error::new(
        SIPTLS_ERR_OCSP_MALFORMED,
        format!("The OCSP response does not parse as RFC 6960 DER ({why}); supply the DER `openssl ocsp -respout` writes."),
    )
}

fn parse_cert(der: &[u8]) -> Result<X509Certificate<'_>> {
    X509Certificate::from_der(der).map(|(_, c)| c).map_err(|e| {
        Error::new(
            SIPTLS_ERR_CERT_MALFORMED,
            format!("a certificate of the chain does not parse ({e})"),
        )
    })
}

/// The verification algorithm for a signature `algorithm` (dotted OID) made
/// with a key of the SPKI `key`.
fn algorithm_for(
    algorithm: &str,
    key: &X509Certificate<'_>,
) -> Option<&'static dyn VerificationAlgorithm> {
    use KeyKind::*;
    Some(match (algorithm, KeyKind::of_parsed(key)?) {
        ("1.2.840.10045.4.3.2", EcdsaP256) => &signature::ECDSA_P256_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", EcdsaP256) => &signature::ECDSA_P256_SHA384_ASN1,
        ("1.2.840.10045.4.3.2", EcdsaP384) => &signature::ECDSA_P384_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", EcdsaP384) => &signature::ECDSA_P384_SHA384_ASN1,
        ("1.2.840.113549.1.1.11", Rsa) => &signature::RSA_PKCS1_2048_8192_SHA256,
        ("1.2.840.113549.1.1.12", Rsa) => &signature::RSA_PKCS1_2048_8192_SHA384,
        ("1.2.840.113549.1.1.13", Rsa) => &signature::RSA_PKCS1_2048_8192_SHA512,
        ("1.3.101.112", Ed25519) => &signature::ED25519,
        _ => return None,
    })
}

/// Whether `signature` over `message` with `algorithm` verifies with the
/// public key of `signer`.
fn verifies(signer: &X509Certificate<'_>, algorithm: &str, message: &[u8], sig: &[u8]) -> bool {
    algorithm_for(algorithm, signer).is_some_and(|alg| {
        UnparsedPublicKey::new(alg, signer.public_key().subject_public_key.data.as_ref())
            .verify(message, sig)
            .is_ok()
    })
}

fn untrusted(why: String) -> Error {
    Error::new(SIPTLS_ERR_OCSP_UNTRUSTED, why)
}

/// Checks `response` for the first certificate of `chain`, whose issuer is
/// `chain[1]` or else the one of `anchors` (the trust table's certificates)
/// named as its issuer, at the gateway time `now`.
pub fn check(
    response: &[u8],
    chain: &[&[u8]],
    anchors: &[&[u8]],
    now: Option<i64>,
) -> Result<Staple> {
    let Some(now) = now else {
        return Err(Error::new(
            SIPTLS_ERR_OCSP_STALE,
            "The gateway clock is not synchronized (its time callback reports no time), so the OCSP response's validity cannot be checked; load it once the clock is set.",
        ));
    };
    let leaf_der = *chain.first().ok_or_else(|| {
        Error::new(
            SIPTLS_ERR_NO_IDENTITY,
            "the identity has no certificate to staple a response for",
        )
    })?;
    let leaf = parse_cert(leaf_der)?;
    let named_issuer = || {
        anchors.iter().copied().find(|der| {
            X509Certificate::from_der(der)
                .is_ok_and(|(_, a)| a.subject().as_raw() == leaf.issuer().as_raw())
        })
    };
    let issuer_der = chain.get(1).copied().or_else(named_issuer).ok_or_else(|| {
        Error::new(
            SIPTLS_ERR_OCSP_MISMATCH,
            format!(
                "The issuer of {} is neither in the identity's chain nor in the trust table, so an OCSP response for it cannot be checked; add the issuing CA to the certificate file.",
                printable(&leaf.subject().to_string())
            ),
        )
    })?;
    let issuer = parse_cert(issuer_der)?;
    let outer = OcspResponse::from_der(response).map_err(malformed)?;
    if outer.response_status != OcspResponseStatus::Successful {
        return Err(Error::new(
            SIPTLS_ERR_OCSP_NOT_GOOD,
            format!(
                "The OCSP response carries no status: the responder answered {:?}; ask it again.",
                outer.response_status
            ),
        ));
    }
    let bytes = outer
        .response_bytes
        .ok_or_else(|| malformed("no responseBytes"))?;
    if bytes.response_type.to_string() != ID_PKIX_OCSP_BASIC {
        return Err(malformed(format!(
            "response type {} is not id-pkix-ocsp-basic",
            bytes.response_type
        )));
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).map_err(malformed)?;
    // The response that speaks of our certificate.
    let serial = leaf.raw_serial();
    let name = issuer.subject().as_raw();
    let key = issuer.public_key().subject_public_key.data.as_ref();
    let ours = basic.tbs_response_data.responses.iter().find(|single| {
        let id = &single.cert_id;
        let hash = |bytes: &[u8]| match id.hash_algorithm.oid.to_string().as_str() {
            SHA1 => Some(digest(&SHA1_FOR_LEGACY_USE_ONLY, bytes).as_ref().to_vec()),
            SHA256_OID => Some(digest(&SHA256, bytes).as_ref().to_vec()),
            _ => None,
        };
        id.serial_number.as_bytes() == serial
            && hash(name).as_deref() == Some(id.issuer_name_hash.as_bytes())
            && hash(key).as_deref() == Some(id.issuer_key_hash.as_bytes())
    });
    let subject = printable(&leaf.subject().to_string());
    let serial_hex = leaf
        .raw_serial_as_string()
        .replace(':', "")
        .to_ascii_uppercase();
    let Some(single) = ours else {
        return Err(Error::new(
            SIPTLS_ERR_OCSP_MISMATCH,
            format!(
                "The OCSP response speaks of {} certificate(s), none of them {subject} (serial {serial_hex}) issued by {}; ask the responder about this certificate (openssl ocsp -issuer ... -cert ...).",
                basic.tbs_response_data.responses.len(),
                printable(&issuer.subject().to_string())
            ),
        ));
    };
    match &single.cert_status {
        CertStatus::Good(_) => {}
        CertStatus::Revoked(info) => {
            return Err(Error::new(
                SIPTLS_ERR_OCSP_NOT_GOOD,
                format!(
                    "The OCSP response says {subject} (serial {serial_hex}) was revoked on {}; the identity needs a new certificate.",
                    when(secs(&info.revocation_time))
                ),
            ))
        }
        CertStatus::Unknown(_) => {
            return Err(Error::new(
                SIPTLS_ERR_OCSP_NOT_GOOD,
                format!("The OCSP responder does not know {subject} (serial {serial_hex}): status unknown; ask the issuer's own responder."),
            ))
        }
    }
    let this_update = secs(&single.this_update);
    let Some(next_update) = single.next_update.as_ref().map(secs) else {
        return Err(Error::new(
            SIPTLS_ERR_OCSP_STALE,
            format!("The OCSP response for {subject} has no nextUpdate, so nothing says until when it holds; a response to staple needs one (openssl ocsp -ndays)."),
        ));
    };
    if now < this_update || now >= next_update {
        return Err(Error::new(
            SIPTLS_ERR_OCSP_STALE,
            format!(
                "The OCSP response for {subject} holds from {} to {}, and the gateway clock reads {}; fetch a current one.",
                when(this_update),
                when(next_update),
                when(now)
            ),
        ));
    }
    // The signature: the issuer's own, or a responder the issuer delegated to.
    let tbs = basic.tbs_response_data.to_der().map_err(malformed)?;
    let algorithm = basic.signature_algorithm.oid.to_string();
    let sig = basic.signature.raw_bytes();
    if !verifies(&issuer, &algorithm, &tbs, sig) {
        let delegated = basic.certs.iter().flatten().find_map(|cert| {
            let der = cert.to_der().ok()?;
            let responder = X509Certificate::from_der(&der).ok()?.1;
            let for_ocsp = responder
                .extended_key_usage()
                .ok()
                .flatten()
                .is_some_and(|eku| {
                    eku.value.ocsp_signing
                        || eku
                            .value
                            .other
                            .iter()
                            .any(|o| o.to_id_string() == OCSP_SIGNING)
                });
            let signed_by_issuer = responder.issuer().as_raw() == name
                && verifies(
                    &issuer,
                    &responder.signature_algorithm.algorithm.to_id_string(),
                    responder.tbs_certificate.as_ref(),
                    responder.signature_value.data.as_ref(),
                );
            (for_ocsp && signed_by_issuer && verifies(&responder, &algorithm, &tbs, sig))
                .then_some(())
        });
        if delegated.is_none() {
            return Err(untrusted(format!(
                "The OCSP response for {subject} is not signed by its issuer {} nor by a responder certificate the issuer signed for OCSPSigning; it cannot be trusted.",
                printable(&issuer.subject().to_string())
            )));
        }
    }
    Ok(Staple {
        der: response.to_vec(),
        this_update,
        next_update,
    })
}

fn secs(t: &x509_ocsp::OcspGeneralizedTime) -> i64 {
    i64::try_from(t.0.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}
