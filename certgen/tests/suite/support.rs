//! Helpers shared by the integration tests: path validation with
//! rustls-webpki (the verifier siptls itself uses) and X.509 inspection
//! with x509-parser.

use pki_types::{CertificateDer, ServerName, UnixTime};
use webpki::{
    anchor_from_trusted_cert, BorrowedCertRevocationList, CertRevocationList, EndEntityCert,
    KeyUsage, RevocationOptionsBuilder, ALL_VERIFICATION_ALGS,
};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};

/// Builds and validates the path `leaf` → `intermediates` → `anchor` now,
/// consulting `crls` (DER) for every certificate in the path when given.
pub fn verify(
    leaf: &[u8],
    intermediates: &[&[u8]],
    anchor: &[u8],
    usage: KeyUsage,
    crls: &[&[u8]],
) -> Result<(), webpki::Error> {
    let anchor_der = CertificateDer::from(anchor);
    let anchors = [anchor_from_trusted_cert(&anchor_der)?];
    let intermediates: Vec<_> = intermediates
        .iter()
        .map(|der| CertificateDer::from(*der))
        .collect();
    let crls = crls
        .iter()
        .map(|der| BorrowedCertRevocationList::from_der(der).map(CertRevocationList::from))
        .collect::<Result<Vec<_>, _>>()?;
    let crl_refs: Vec<_> = crls.iter().collect();
    let revocation = RevocationOptionsBuilder::new(&crl_refs)
        .ok()
        .map(|builder| builder.build());

    let leaf_der = CertificateDer::from(leaf);
    EndEntityCert::try_from(&leaf_der)?
        .verify_for_usage(
            ALL_VERIFICATION_ALGS,
            &anchors,
            &intermediates,
            UnixTime::now(),
            usage,
            revocation,
            None,
        )
        .map(|_| ())
}

/// Checks that `leaf` is valid for `name` (a DNS name or IP address).
pub fn valid_for_name(leaf: &[u8], name: &str) -> Result<(), webpki::Error> {
    let der = CertificateDer::from(leaf);
    let server_name = ServerName::try_from(name).expect("test names are well-formed");
    EndEntityCert::try_from(&der)?.verify_is_valid_for_subject_name(&server_name)
}

pub fn parse(der: &[u8]) -> X509Certificate<'_> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der).expect("certificate parses");
    assert!(rest.is_empty(), "trailing bytes after certificate");
    cert
}

pub fn common_name(cert: &X509Certificate<'_>) -> String {
    let mut names = cert.subject().iter_common_name();
    let cn = names.next().expect("subject has a CN");
    assert!(names.next().is_none(), "subject has a single CN");
    cn.as_str().expect("CN is a string").to_owned()
}

/// The subjectAltName entries, rendered as `DNS:…`, `URI:…` or `IP:…`, in
/// certificate order; `None` when the extension is absent.
pub fn sans(cert: &X509Certificate<'_>) -> Option<Vec<String>> {
    let ext = cert.subject_alternative_name().expect("SAN parses")?;
    let names = ext.value.general_names.iter().map(|name| match name {
        GeneralName::DNSName(dns) => format!("DNS:{dns}"),
        GeneralName::URI(uri) => format!("URI:{uri}"),
        GeneralName::IPAddress(octets) => {
            let ip = match octets.len() {
                4 => std::net::IpAddr::from(<[u8; 4]>::try_from(*octets).unwrap()),
                16 => std::net::IpAddr::from(<[u8; 16]>::try_from(*octets).unwrap()),
                n => panic!("IP SAN with {n} octets"),
            };
            format!("IP:{ip}")
        }
        other => panic!("unexpected SAN {other:?}"),
    });
    Some(names.collect())
}

pub fn subject_key_id<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    cert.iter_extensions()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0),
            _ => None,
        })
}

pub fn authority_key_id<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    cert.iter_extensions()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                aki.key_identifier.as_ref().map(|id| id.0)
            }
            _ => None,
        })
}

/// `Some(ca)` from basicConstraints, also asserting it is critical and
/// carries no path length limit.
pub fn basic_constraints_ca(cert: &X509Certificate<'_>) -> Option<bool> {
    let bc = cert.basic_constraints().expect("basicConstraints parses")?;
    assert!(bc.critical, "basicConstraints must be critical");
    assert_eq!(bc.value.path_len_constraint, None);
    Some(bc.value.ca)
}
