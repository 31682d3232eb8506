//! Test and demo PKI material for siptls, so nobody needs OpenSSL commands.
//!
//! An [`Authority`] is a CA that can sign intermediates, end-entity
//! certificates ([`Authority::leaf`]) and CRLs; [`self_signed`] makes a
//! stand-alone end-entity certificate. Everything is returned as both PEM
//! and DER, with private keys in PKCS#8 and, on request, the legacy PKCS#1
//! or SEC1 forms.
//!
//! The material is meant for tests and demos: generation failures (which
//! only happen on invalid input, namely non-ASCII subjectAltNames) panic
//! instead of being returned.
//!
//! ```
//! use siptls_certgen::{chain_pem, Authority, LeafSpec, Usage};
//!
//! let root = Authority::root("Example Root");
//! let issuing = root.intermediate("Example Issuing CA");
//! let mut spec = LeafSpec::new("proxy.example.test");
//! spec.uris.push("sip:proxy.example.test".into());
//! spec.usage = Usage::Server;
//! let leaf = issuing.leaf(&spec);
//! let chain = chain_pem(&[&leaf, issuing.issued()]);
//! assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod keyform;

use std::net::{IpAddr, Ipv4Addr};

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, CertificateRevocationListParams,
    CrlDistributionPoint, CrlIssuingDistributionPoint, CrlScope, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    NameConstraints, RevokedCertParams, RsaKeySize, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};

/// Key algorithm of a generated certificate's subject key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KeyAlg {
    /// ECDSA on P-256, signing with SHA-256.
    #[default]
    EcdsaP256,
    /// ECDSA on P-384, signing with SHA-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// 2048-bit RSA, signing with PKCS#1 v1.5 and SHA-256.
    Rsa2048,
}

impl KeyAlg {
    fn generate(self) -> KeyPair {
        let key = match self {
            Self::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
            Self::EcdsaP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
            Self::Ed25519 => KeyPair::generate_for(&rcgen::PKCS_ED25519),
            // Explicit size: generate_for's RSA default is rcgen's choice, not ours.
            Self::Rsa2048 => KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048),
        };
        must(&format!("generating {self:?} key"), key)
    }
}

/// Extended key usage of an end-entity certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Usage {
    /// id-kp-serverAuth only.
    Server,
    /// id-kp-clientAuth only.
    Client,
    /// Both id-kp-serverAuth and id-kp-clientAuth, as a SIP peer that both
    /// accepts and opens TLS connections needs.
    #[default]
    Both,
    /// No extended key usage extension at all, which verifiers treat as
    /// "any purpose".
    None,
    /// id-kp-codeSigning only: a certificate that is valid but fit for
    /// neither end of a TLS connection.
    CodeSigning,
}

impl Usage {
    fn purposes(self) -> Vec<ExtendedKeyUsagePurpose> {
        use ExtendedKeyUsagePurpose::{ClientAuth, CodeSigning, ServerAuth};
        match self {
            Self::Server => vec![ServerAuth],
            Self::Client => vec![ClientAuth],
            Self::Both => vec![ServerAuth, ClientAuth],
            Self::None => Vec::new(),
            Self::CodeSigning => vec![CodeSigning],
        }
    }
}

/// What to put in an end-entity certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafSpec {
    /// Subject common name.
    pub common_name: String,
    /// dNSName subject alternative names.
    pub dns_names: Vec<String>,
    /// uniformResourceIdentifier subject alternative names, such as
    /// `sip:example.test` or `sip:alice@example.test`.
    pub uris: Vec<String>,
    /// iPAddress subject alternative names.
    pub ips: Vec<IpAddr>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Subject key algorithm.
    pub key_alg: KeyAlg,
    /// Extended key usage.
    pub usage: Usage,
    /// Serial number; random when `None`.
    pub serial: Option<u64>,
    /// Leave out the subjectAltName extension entirely, so the identity is
    /// only in the common name. Overrides `dns_names`, `uris` and `ips`.
    pub omit_san: bool,
}

impl LeafSpec {
    /// A spec for `common_name` with that name as its only dNSName, valid
    /// from a day ago (tolerating clock skew) for 365 days, usable by both
    /// TLS clients and servers, with a P-256 key and a random serial.
    ///
    /// Clear `dns_names` for a certificate that names its subject only by
    /// URI or IP address.
    pub fn new(common_name: &str) -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            common_name: common_name.to_owned(),
            dns_names: vec![common_name.to_owned()],
            uris: Vec::new(),
            ips: Vec::new(),
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(365),
            key_alg: KeyAlg::default(),
            usage: Usage::Both,
            serial: None,
            omit_san: false,
        }
    }

    /// A spec for a SIP element named `name`, identified the way RFC 5922
    /// reads a certificate: a `sip:` URI (which takes precedence) and the
    /// dNSName.
    pub fn sip(name: &str) -> Self {
        Self {
            uris: vec![format!("sip:{name}")],
            ..Self::new(name)
        }
    }

    fn params(&self) -> CertificateParams {
        let mut params = CertificateParams::default();
        params.distinguished_name = subject(&self.common_name);
        params.not_before = self.not_before;
        params.not_after = self.not_after;
        params.serial_number = Some(self.serial.map_or_else(random_serial, SerialNumber::from));
        if !self.omit_san {
            params.subject_alt_names = self.subject_alt_names();
        }
        // Explicit CA:FALSE, which also makes rcgen emit a subject key identifier.
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = match self.key_alg {
            // RSA key exchange in TLS 1.2 encrypts the premaster secret to the key.
            KeyAlg::Rsa2048 => vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ],
            _ => vec![KeyUsagePurpose::DigitalSignature],
        };
        params.extended_key_usages = self.usage.purposes();
        params
    }

    fn subject_alt_names(&self) -> Vec<SanType> {
        let ia5 = |name: &String| {
            must(
                &format!("subjectAltName {name:?} for {:?}", self.common_name),
                name.as_str().try_into(),
            )
        };
        let dns = self.dns_names.iter().map(|n| SanType::DnsName(ia5(n)));
        let uris = self.uris.iter().map(|u| SanType::URI(ia5(u)));
        let ips = self.ips.iter().map(|&ip| SanType::IpAddress(ip));
        dns.chain(uris).chain(ips).collect()
    }
}

/// A generated certificate and its private key.
#[derive(Clone, PartialEq, Eq)]
pub struct Issued {
    /// The certificate as a `CERTIFICATE` PEM block.
    pub cert_pem: String,
    /// The certificate as DER.
    pub cert_der: Vec<u8>,
    /// The private key as a PKCS#8 `PRIVATE KEY` PEM block.
    pub key_pem: String,
    /// The private key as PKCS#8 DER.
    pub key_der: Vec<u8>,
}

impl Issued {
    fn new(cert: &Certificate, key: &KeyPair) -> Self {
        Self {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
        }
    }

    /// The private key as a PKCS#1 `RSA PRIVATE KEY` PEM block, or `None`
    /// if it is not an RSA key.
    pub fn key_pkcs1_pem(&self) -> Option<String> {
        keyform::pkcs1_from_pkcs8(&self.key_der).map(|der| pem_encode("RSA PRIVATE KEY", der))
    }

    /// The private key as a SEC1 `EC PRIVATE KEY` PEM block naming its
    /// curve, or `None` if it is not an ECDSA key.
    pub fn key_sec1_pem(&self) -> Option<String> {
        keyform::sec1_from_pkcs8(&self.key_der).map(|der| pem_encode("EC PRIVATE KEY", der))
    }
}

/// A certificate authority able to sign intermediates, end-entity
/// certificates and CRLs.
pub struct Authority {
    issuer: Issuer<'static, KeyPair>,
    /// What this CA's own certificate was made from, for cross-signing.
    params: CertificateParams,
    issued: Issued,
    key_alg: KeyAlg,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

impl Authority {
    /// A self-signed root CA with a P-256 key, valid from a day ago for ten
    /// years.
    pub fn root(common_name: &str) -> Authority {
        let now = OffsetDateTime::now_utc();
        Self::root_with(
            common_name,
            KeyAlg::EcdsaP256,
            now - Duration::days(1),
            now + Duration::days(3650),
        )
    }

    /// A self-signed root CA with the given key algorithm and validity.
    pub fn root_with(
        common_name: &str,
        key_alg: KeyAlg,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Authority {
        let params = ca_params(common_name, not_before, not_after);
        let key = key_alg.generate();
        let cert = must(
            &format!("self-signing root {common_name:?}"),
            params.self_signed(&key),
        );
        Self::new(params, key, &cert, key_alg)
    }

    /// An intermediate CA signed by this one, with the same key algorithm
    /// and validity period.
    pub fn intermediate(&self, common_name: &str) -> Authority {
        let mut params = ca_params(common_name, self.not_before, self.not_after);
        params.use_authority_key_identifier_extension = true;
        let key = self.key_alg.generate();
        let cert = must(
            &format!("signing intermediate {common_name:?}"),
            params.signed_by(&key, &self.issuer),
        );
        Self::new(params, key, &cert, self.key_alg)
    }

    /// An intermediate CA signed by this one whose certificates may only
    /// name DNS names within `permitted_dns` (RFC 5280 name constraints).
    pub fn constrained_intermediate(&self, common_name: &str, permitted_dns: &[&str]) -> Authority {
        let mut params = ca_params(common_name, self.not_before, self.not_after);
        params.use_authority_key_identifier_extension = true;
        params.name_constraints = Some(NameConstraints {
            permitted_subtrees: permitted_dns
                .iter()
                .map(|name| GeneralSubtree::DnsName(name.to_string()))
                .collect(),
            excluded_subtrees: Vec::new(),
        });
        let key = self.key_alg.generate();
        let cert = must(
            &format!("signing constrained intermediate {common_name:?}"),
            params.signed_by(&key, &self.issuer),
        );
        Self::new(params, key, &cert, self.key_alg)
    }

    /// This CA's name and key certified by `other` as well: a cross-signed
    /// certificate, so chains through this CA have a second path.
    pub fn cross_signed_by(&self, other: &Authority) -> Issued {
        let mut params = self.params.clone();
        params.serial_number = Some(random_serial());
        params.use_authority_key_identifier_extension = true;
        let cert = must(
            "cross-signing",
            params.signed_by(self.issuer.key(), &other.issuer),
        );
        Issued::new(&cert, self.issuer.key())
    }

    /// An end-entity certificate (basicConstraints CA:FALSE) signed by this
    /// CA, returned as an authority whose key still signs: to show that
    /// certificates "issued" by an end entity are not trusted.
    pub fn rogue_leaf(&self, spec: &LeafSpec) -> Authority {
        let (params, key, cert) = self.sign_leaf(spec);
        Self::new(params, key, &cert, spec.key_alg)
    }

    fn sign_leaf(&self, spec: &LeafSpec) -> (CertificateParams, KeyPair, Certificate) {
        let mut params = spec.params();
        params.use_authority_key_identifier_extension = true;
        let key = spec.key_alg.generate();
        let cert = must(
            &format!("signing leaf {:?}", spec.common_name),
            params.signed_by(&key, &self.issuer),
        );
        (params, key, cert)
    }

    fn new(params: CertificateParams, key: KeyPair, cert: &Certificate, key_alg: KeyAlg) -> Self {
        Self {
            issued: Issued::new(cert, &key),
            key_alg,
            not_before: params.not_before,
            not_after: params.not_after,
            params: params.clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// An end-entity certificate signed by this CA.
    pub fn leaf(&self, spec: &LeafSpec) -> Issued {
        let (_, key, cert) = self.sign_leaf(spec);
        Issued::new(&cert, &key)
    }

    /// An end-entity certificate signed by this CA for an existing key
    /// (`key_pem`, PKCS#8; its algorithm wins over `spec.key_alg`), as a
    /// renewal that keeps its key is: a new certificate, the same key.
    pub fn leaf_for_key(&self, spec: &LeafSpec, key_pem: &str) -> Issued {
        let mut params = spec.params();
        params.use_authority_key_identifier_extension = true;
        let key = must("reading the leaf's key", KeyPair::from_pem(key_pem));
        let cert = must(
            &format!("signing leaf {:?}", spec.common_name),
            params.signed_by(&key, &self.issuer),
        );
        Issued::new(&cert, &key)
    }

    /// An end-entity certificate for a SIP element ([`LeafSpec::sip`]) that
    /// also answers at 127.0.0.1, as peers on loopback are reached by address.
    pub fn sip_leaf(&self, name: &str) -> Issued {
        self.leaf(&LeafSpec {
            ips: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            ..LeafSpec::sip(name)
        })
    }

    /// This CA's own certificate and private key.
    pub fn issued(&self) -> &Issued {
        &self.issued
    }

    /// A CRL signed by this CA revoking `revoked_serials`, issued an hour
    /// ago (tolerating clock skew) and due for renewal in seven days.
    pub fn crl(&self, revoked_serials: &[u64], crl_number: u64) -> Crl {
        self.crl_of(
            revoked_serials.iter().map(|&s| SerialNumber::from(s)),
            crl_number,
        )
    }

    /// A CRL signed by this CA revoking the certificates of CAs it issued.
    pub fn crl_revoking(&self, cas: &[&Authority], crl_number: u64) -> Crl {
        self.crl_of(
            cas.iter().map(|ca| {
                ca.params
                    .serial_number
                    .clone()
                    .expect("every generated CA has a serial")
            }),
            crl_number,
        )
    }

    /// A CRL of one partition (issuing distribution point) of this CA's
    /// certificates: its CA certificates or its end-entity ones.
    pub fn partitioned_crl(&self, revoked_serials: &[u64], crl_number: u64, ca_certs: bool) -> Crl {
        let scope = CrlIssuingDistributionPoint {
            distribution_point: CrlDistributionPoint {
                uris: vec![format!(
                    "http://crl.example.test/{}.crl",
                    if ca_certs { "cas" } else { "users" }
                )],
            },
            scope: Some(if ca_certs {
                CrlScope::CaCertsOnly
            } else {
                CrlScope::UserCertsOnly
            }),
        };
        self.crl_in(
            revoked_serials.iter().map(|&s| SerialNumber::from(s)),
            crl_number,
            Some(scope),
        )
    }

    fn crl_of(&self, serials: impl Iterator<Item = SerialNumber>, crl_number: u64) -> Crl {
        self.crl_in(serials, crl_number, None)
    }

    fn crl_in(
        &self,
        serials: impl Iterator<Item = SerialNumber>,
        crl_number: u64,
        issuing_distribution_point: Option<CrlIssuingDistributionPoint>,
    ) -> Crl {
        let now = OffsetDateTime::now_utc();
        let this_update = now - Duration::hours(1);
        let revoked_certs = serials
            .map(|serial_number| RevokedCertParams {
                serial_number,
                revocation_time: this_update,
                // RFC 5280 5.3.1: omit the reason rather than say "unspecified".
                reason_code: None,
                invalidity_date: None,
            })
            .collect();
        let params = CertificateRevocationListParams {
            this_update,
            next_update: now + Duration::days(7),
            crl_number: SerialNumber::from(crl_number),
            issuing_distribution_point,
            revoked_certs,
            // Must match the method behind the CA's subject key identifier
            // (rcgen's default), or the CRL's authority key identifier will
            // not point at the CA.
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = must("signing CRL", params.signed_by(&self.issuer));
        Crl {
            pem: must("encoding CRL", crl.pem()),
            der: crl.der().to_vec(),
        }
    }
}

/// A certificate revocation list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crl {
    /// The CRL as an `X509 CRL` PEM block.
    pub pem: String,
    /// The CRL as DER.
    pub der: Vec<u8>,
}

/// A self-signed end-entity certificate (basicConstraints CA:FALSE), as a
/// peer would use when it is pinned rather than chained to a CA.
pub fn self_signed(spec: &LeafSpec) -> Issued {
    let key = spec.key_alg.generate();
    let cert = must(
        &format!("self-signing {:?}", spec.common_name),
        spec.params().self_signed(&key),
    );
    Issued::new(&cert, &key)
}

/// The certificates' PEM blocks concatenated in the order given, which by
/// TLS convention is leaf first, each issuer after what it signed.
pub fn chain_pem(certs: &[&Issued]) -> String {
    certs
        .iter()
        .map(|issued| issued.cert_pem.as_str())
        .collect()
}

fn ca_params(
    common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = subject(common_name);
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(random_serial());
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn subject(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

/// A random 126-bit serial. rcgen's own default hashes the public key,
/// which repeats whenever a key is certified twice.
fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("system random number generator failed");
    // Clear the sign bit so the INTEGER stays positive without a pad byte,
    // and set the next one so the serial is never zero or shortened.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

fn must<T>(what: &str, result: Result<T, rcgen::Error>) -> T {
    result.unwrap_or_else(|err| panic!("{what}: {err}"))
}

fn pem_encode(label: &str, der: Vec<u8>) -> String {
    // LF endings, matching the PEM rcgen produces on Unix.
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(label, der), config)
}
