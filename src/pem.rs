//! Turning caller input (PEM text or DER) into certificates, keys and CRLs,
//! with errors that say what was found instead of what was expected.

use crate::abi::siptls_result::*;
use pki_types::pem::{self, PemObject};
use pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use zeroize::Zeroizing;

use crate::der;
use crate::error::{Error, Result};

/// The labels of all `-----BEGIN X-----` lines, so that errors can name what
/// the input really holds (a key where a certificate was expected, an
/// encrypted key, a CSR...).
fn labels(input: &[u8]) -> Vec<String> {
    input
        .split(|&b| b == b'\n' || b == b'\r')
        .filter_map(|line| {
            let line = line.trim_ascii();
            let label = line.strip_prefix(b"-----BEGIN ")?.strip_suffix(b"-----")?;
            Some(String::from_utf8_lossy(label).into_owned())
        })
        .collect()
}

fn describe_labels(labels: &[String]) -> String {
    if labels.is_empty() {
        "no PEM sections at all".to_string()
    } else {
        format!("found only: {}", labels.join(", "))
    }
}

fn pem_error(e: pem::Error, what: &str) -> Error {
    match e {
        pem::Error::NoItemsFound => Error::new(SIPTLS_ERR_PEM_EMPTY, format!("no {what} found")),
        // The decoder's message names its enum value (InvalidCharacter(42)).
        pem::Error::Base64Decode(_) => Error::new(
            SIPTLS_ERR_PEM_MALFORMED,
            format!("bad base64 in the {what}: a character outside the base64 alphabet, or a block cut short"),
        ),
        pem::Error::MissingSectionEnd { end_marker } => Error::new(
            SIPTLS_ERR_PEM_MALFORMED,
            format!(
                "section not terminated: missing '-----END {}-----'",
                String::from_utf8_lossy(&end_marker)
            ),
        ),
        _ => Error::new(
            SIPTLS_ERR_PEM_MALFORMED,
            format!("the {what} is not well-formed PEM: check its BEGIN and END lines"),
        ),
    }
}

/// Checks that DER really is an X.509 certificate, so that garbage is refused
/// at load time rather than at the first handshake.
pub fn check_certificate(der: &[u8], position: usize) -> Result<()> {
    match x509_parser::parse_x509_certificate(der) {
        Ok(([], _)) => Ok(()),
        Ok(_) => Err(Error::new(
            SIPTLS_ERR_CERT_MALFORMED,
            format!("certificate #{position}: trailing bytes after the certificate"),
        )),
        // x509-parser's errors print as nested enum values: say it in words.
        Err(_) => Err(Error::new(
            SIPTLS_ERR_CERT_MALFORMED,
            format!("certificate #{position}: not valid X.509 DER: the bytes inside the PEM block do not parse as a certificate; check it with `openssl x509 -text`"),
        )),
    }
}

/// All certificates in PEM text, in order. At least one is required.
pub fn certificates(input: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(input)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| pem_error(e, "certificate"))?;
    if certs.is_empty() {
        return Err(Error::new(
            SIPTLS_ERR_PEM_EMPTY,
            format!(
                "no CERTIFICATE section ({})",
                describe_labels(&labels(input))
            ),
        ));
    }
    for (i, cert) in certs.iter().enumerate() {
        check_certificate(cert, i + 1)?;
    }
    Ok(certs)
}

/// One certificate given as DER.
pub fn certificate_der(input: &[u8]) -> Result<CertificateDer<'static>> {
    check_certificate(input, 1)?;
    Ok(CertificateDer::from(input.to_vec()))
}

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];

/// Says why a PKCS#8 key the crypto provider refused cannot be used: an
/// algorithm we do not support, or a malformed key of a supported one.
fn classify_unloadable_key(key: &PrivateKeyDer<'_>) -> Error {
    let PrivateKeyDer::Pkcs8(pkcs8) = key else {
        return Error::new(SIPTLS_ERR_KEY_MALFORMED, "private key does not parse");
    };
    match der::pkcs8_algorithm(pkcs8.secret_pkcs8_der()) {
        None => Error::new(
            SIPTLS_ERR_KEY_MALFORMED,
            "PKCS#8 private key does not parse",
        ),
        Some((OID_RSA | OID_RSA_PSS | OID_ED25519, _))
        | Some((OID_EC, Some(OID_P256 | OID_P384 | OID_P521))) => Error::new(
            SIPTLS_ERR_KEY_MALFORMED,
            "private key of a supported type does not parse",
        ),
        Some((OID_EC, curve)) => Error::new(
            SIPTLS_ERR_KEY_UNSUPPORTED,
            format!(
                "unsupported elliptic curve {} (supported: P-256, P-384, P-521)",
                curve.map_or_else(|| "(none given)".to_string(), der::oid_text)
            ),
        ),
        Some((oid, _)) => Error::new(
            SIPTLS_ERR_KEY_UNSUPPORTED,
            format!(
                "unsupported key algorithm {} (supported: RSA, ECDSA, Ed25519)",
                der::oid_text(oid)
            ),
        ),
    }
}

/// The private key in PEM text: PKCS#8, PKCS#1 (RSA) or SEC1 (EC), wiped
/// when dropped.
pub fn private_key(input: &[u8]) -> Result<Zeroizing<PrivateKeyDer<'static>>> {
    let found = labels(input);
    let encrypted = found.iter().any(|l| l == "ENCRYPTED PRIVATE KEY")
        || input.windows(b"ENCRYPTED".len()).any(|w| w == b"ENCRYPTED")
            && found.iter().any(|l| l.ends_with("PRIVATE KEY"));
    if encrypted {
        return Err(Error::new(
            SIPTLS_ERR_KEY_ENCRYPTED,
            "the private key is encrypted; encrypted keys are not supported: store it unencrypted with restrictive file permissions",
        ));
    }
    PrivateKeyDer::from_pem_slice(input)
        .map(Zeroizing::new)
        .map_err(|e| match e {
            pem::Error::NoItemsFound => Error::new(
                SIPTLS_ERR_PEM_EMPTY,
                format!(
                    "no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY section ({})",
                    describe_labels(&found)
                ),
            ),
            other => pem_error(other, "private key"),
        })
}

/// Loads a key into the crypto provider, classifying failures.
pub fn signing_key(
    key: &PrivateKeyDer<'static>,
) -> Result<std::sync::Arc<dyn rustls::sign::SigningKey>> {
    rustls::crypto::aws_lc_rs::sign::any_supported_type(key)
        .map_err(|_| classify_unloadable_key(key))
}

/// CRLs in PEM text or a single DER CRL.
pub fn crls(input: &[u8]) -> Result<Vec<CertificateRevocationListDer<'static>>> {
    if input.first() == Some(&der::TAG_SEQUENCE) {
        return Ok(vec![CertificateRevocationListDer::from(input.to_vec())]);
    }
    let crls = CertificateRevocationListDer::pem_slice_iter(input)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| pem_error(e, "CRL"))?;
    if crls.is_empty() {
        return Err(Error::new(
            SIPTLS_ERR_PEM_EMPTY,
            format!("no X509 CRL section ({})", describe_labels(&labels(input))),
        ));
    }
    Ok(crls)
}

/// Reads a whole file, with errors that name the file and the reason.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    let name = path.display();
    if path.is_dir() {
        return Err(Error::new(
            SIPTLS_ERR_IO,
            format!("{name}: is a directory, expected a file"),
        ));
    }
    std::fs::read(path).map_err(|e| Error::new(SIPTLS_ERR_IO, format!("{name}: {e}")))
}

/// Reads a whole file holding secrets (a private key, ticket keys), wiped
/// when dropped.
pub fn read_secret_file(path: &std::path::Path) -> Result<Zeroizing<Vec<u8>>> {
    read_file(path).map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_what_was_found_instead_of_a_certificate() {
        let input = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let err = certificates(input).unwrap_err();
        assert_eq!(err.code, SIPTLS_ERR_PEM_EMPTY);
        assert!(
            err.detail.contains("found only: PRIVATE KEY"),
            "{}",
            err.detail
        );
    }

    #[test]
    fn encrypted_keys_are_named() {
        let pkcs8 =
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert_eq!(
            private_key(pkcs8).unwrap_err().code,
            SIPTLS_ERR_KEY_ENCRYPTED
        );
        let legacy = b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        let err = private_key(legacy).unwrap_err();
        assert_eq!(err.code, SIPTLS_ERR_KEY_ENCRYPTED);
        assert!(err.detail.contains("encrypted keys are not supported"));
    }

    #[test]
    fn garbage_certificate_der_is_refused() {
        let err = certificate_der(&[0x30, 0x03, 0x02, 0x01, 0x01]).unwrap_err();
        assert_eq!(err.code, SIPTLS_ERR_CERT_MALFORMED);
    }

    #[test]
    fn unterminated_pem_is_malformed() {
        let err = certificates(b"-----BEGIN CERTIFICATE-----\nMIIB\n").unwrap_err();
        assert_eq!(err.code, SIPTLS_ERR_PEM_MALFORMED, "{}", err.detail);
    }
}
