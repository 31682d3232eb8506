//! Verification statuses: stable numbers, their names, the TLS alert each
//! one sends, and how webpki's errors map onto them.

use crate::abi::siptls_verify_status;
use std::fmt;
use std::sync::Arc;

use rustls::CertificateError;

use siptls_verify_status::*;

impl siptls_verify_status {
    /// The status' name without its prefix (`UNKNOWN_CA`), as `siptls_verify_status_str` returns it.
    pub const fn name(self) -> &'static std::ffi::CStr {
        match self {
            SIPTLS_VERIFY_OK => c"OK",
            SIPTLS_VERIFY_UNKNOWN_CA => c"UNKNOWN_CA",
            SIPTLS_VERIFY_EXPIRED => c"EXPIRED",
            SIPTLS_VERIFY_NOT_YET_VALID => c"NOT_YET_VALID",
            SIPTLS_VERIFY_CLOCK_UNSET => c"CLOCK_UNSET",
            SIPTLS_VERIFY_DEPTH_EXCEEDED => c"DEPTH_EXCEEDED",
            SIPTLS_VERIFY_BAD_SIGNATURE => c"BAD_SIGNATURE",
            SIPTLS_VERIFY_NAME_MISMATCH => c"NAME_MISMATCH",
            SIPTLS_VERIFY_REVOKED => c"REVOKED",
            SIPTLS_VERIFY_NO_CERTIFICATE => c"NO_CERTIFICATE",
            SIPTLS_VERIFY_BAD_ENCODING => c"BAD_ENCODING",
            SIPTLS_VERIFY_WRONG_KEY_USAGE => c"WRONG_KEY_USAGE",
            SIPTLS_VERIFY_UNSUPPORTED_ALGORITHM => c"UNSUPPORTED_ALGORITHM",
            SIPTLS_VERIFY_REJECTED_BY_CALLBACK => c"REJECTED_BY_CALLBACK",
            SIPTLS_VERIFY_OVERRIDDEN => c"OVERRIDDEN",
            SIPTLS_VERIFY_REVOCATION_UNKNOWN => c"REVOCATION_UNKNOWN",
            SIPTLS_VERIFY_INVALID => c"INVALID",
            SIPTLS_VERIFY_CRL_INVALID => c"CRL_INVALID",
        }
    }

    /// The certificate error handed to rustls, which picks the TLS alert from it.
    pub(crate) fn to_certificate_error(self) -> CertificateError {
        match self {
            SIPTLS_VERIFY_UNKNOWN_CA | SIPTLS_VERIFY_DEPTH_EXCEEDED => {
                CertificateError::UnknownIssuer
            }
            SIPTLS_VERIFY_EXPIRED => CertificateError::Expired,
            SIPTLS_VERIFY_NOT_YET_VALID => CertificateError::NotValidYet,
            SIPTLS_VERIFY_BAD_SIGNATURE => CertificateError::BadSignature,
            SIPTLS_VERIFY_NAME_MISMATCH => CertificateError::NotValidForName,
            SIPTLS_VERIFY_REVOKED => CertificateError::Revoked,
            SIPTLS_VERIFY_REVOCATION_UNKNOWN => CertificateError::UnknownRevocationStatus,
            SIPTLS_VERIFY_BAD_ENCODING => CertificateError::BadEncoding,
            SIPTLS_VERIFY_WRONG_KEY_USAGE => CertificateError::InvalidPurpose,
            SIPTLS_VERIFY_UNSUPPORTED_ALGORITHM => {
                CertificateError::UnsupportedSignatureAlgorithmContext {
                    signature_algorithm_id: Vec::new(),
                    supported_algorithms: Vec::new(),
                }
            }
            SIPTLS_VERIFY_REJECTED_BY_CALLBACK => CertificateError::ApplicationVerificationFailure,
            SIPTLS_VERIFY_OK
            | SIPTLS_VERIFY_OVERRIDDEN
            | SIPTLS_VERIFY_CLOCK_UNSET
            | SIPTLS_VERIFY_NO_CERTIFICATE
            | SIPTLS_VERIFY_INVALID
            | SIPTLS_VERIFY_CRL_INVALID => {
                CertificateError::Other(rustls::OtherError(Arc::new(StatusError(self))))
            }
        }
    }
}

#[derive(Debug)]
struct StatusError(siptls_verify_status);

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.name().to_string_lossy())
    }
}

impl std::error::Error for StatusError {}

pub(crate) fn status_of(error: &webpki::Error) -> siptls_verify_status {
    use webpki::Error as E;
    #[allow(deprecated)]
    match error {
        E::UnknownIssuer => SIPTLS_VERIFY_UNKNOWN_CA,
        E::CertExpired { .. } => SIPTLS_VERIFY_EXPIRED,
        E::CertNotValidYet { .. } => SIPTLS_VERIFY_NOT_YET_VALID,
        E::MaximumPathDepthExceeded => SIPTLS_VERIFY_DEPTH_EXCEEDED,
        E::InvalidSignatureForPublicKey | E::SignatureAlgorithmMismatch => {
            SIPTLS_VERIFY_BAD_SIGNATURE
        }
        E::CertRevoked => SIPTLS_VERIFY_REVOKED,
        E::InvalidCrlSignatureForPublicKey
        | E::IssuerNotCrlSigner
        | E::UnsupportedCrlSignatureAlgorithm
        | E::UnsupportedCrlSignatureAlgorithmContext(_)
        | E::UnsupportedCrlSignatureAlgorithmForPublicKey
        | E::UnsupportedCrlSignatureAlgorithmForPublicKeyContext(_) => SIPTLS_VERIFY_CRL_INVALID,
        E::UnknownRevocationStatus | E::CrlExpired { .. } => SIPTLS_VERIFY_REVOCATION_UNKNOWN,
        E::CertNotValidForName(_) => SIPTLS_VERIFY_NAME_MISMATCH,
        E::BadDer
        | E::BadDerTime
        | E::TrailingData(_)
        | E::MalformedExtensions
        | E::ExtensionValueInvalid
        | E::InvalidCertValidity
        | E::InvalidSerialNumber
        | E::UnsupportedCertVersion
        | E::UnsupportedCriticalExtension => SIPTLS_VERIFY_BAD_ENCODING,
        E::RequiredEkuNotFound
        | E::RequiredEkuNotFoundContext(_)
        | E::EmptyEkuExtension
        | E::CaUsedAsEndEntity
        | E::EndEntityUsedAsCa => SIPTLS_VERIFY_WRONG_KEY_USAGE,
        E::UnsupportedSignatureAlgorithm
        | E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKey
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            SIPTLS_VERIFY_UNSUPPORTED_ALGORITHM
        }
        _ => SIPTLS_VERIFY_INVALID,
    }
}
