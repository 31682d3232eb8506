//! Extended key usage: which purposes a certificate's EKU extension names,
//! and whether a peer's certificate fits its TLS role under the policy in
//! force (`siptls_eku_policy`).
//!
//! The default lets a TLS client present a serverAuth-only certificate:
//! since 2026 the public CAs issue serverAuth-only hierarchies, and SIP
//! proxies, trunks and SBCs are servers talking to servers that use one
//! certificate in both roles (RFC 5922 section 7). What the purpose check
//! still refuses under that default: a certificate whose EKU allows neither
//! TLS role (codeSigning, emailProtection, ...), and a TLS server without
//! serverAuth.

use crate::abi::siptls_purpose::{self, *};
use webpki::{KeyPurposeId, KeyPurposeIdIter, KeyUsage, RequiredEkuNotFoundContext};
use x509_parser::extensions::ExtendedKeyUsage;

/// The policy (`siptls_eku_policy` without its DEFAULT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum EkuPolicy {
    /// A TLS client needs clientAuth, a TLS server serverAuth (or
    /// id-kp-sipDomain for either).
    Strict,
    /// As strict, and a TLS client may also use serverAuth or
    /// anyExtendedKeyUsage.
    #[default]
    ServerToServer,
    /// Not checked.
    Any,
}

impl EkuPolicy {
    /// How a sentence names it, with the value that selects it.
    pub fn describe(self) -> &'static str {
        match self {
            EkuPolicy::Strict => "the strict EKU policy (SIPTLS_EKU_STRICT)",
            EkuPolicy::ServerToServer => {
                "the server-to-server EKU policy (SIPTLS_EKU_SERVER_TO_SERVER)"
            }
            EkuPolicy::Any => "the EKU policy that checks nothing (SIPTLS_EKU_ANY)",
        }
    }
}

/// The purposes an EKU extension names. A certificate without the
/// extension is `UNRESTRICTED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Purposes {
    /// The certificate has an EKU extension (it restricts the key).
    pub restricted: bool,
    pub server_auth: bool,
    pub client_auth: bool,
    /// id-kp-sipDomain, 1.3.6.1.5.5.7.3.20 (RFC 5924).
    pub sip_domain: bool,
    /// anyExtendedKeyUsage, 2.5.29.37.0.
    pub any: bool,
}

// The purposes' OIDs, DER content octets.
const SERVER_AUTH: &[u8] = &[0x2b, 6, 1, 5, 5, 7, 3, 1];
const CLIENT_AUTH: &[u8] = &[0x2b, 6, 1, 5, 5, 7, 3, 2];
const SIP_DOMAIN: &[u8] = &[0x2b, 6, 1, 5, 5, 7, 3, 20];
const ANY_EKU: &[u8] = &[0x55, 0x1d, 0x25, 0x00];

impl Purposes {
    pub(crate) const UNRESTRICTED: Self = Self {
        restricted: false,
        server_auth: false,
        client_auth: false,
        sip_domain: false,
        any: false,
    };

    /// An extension that names no purpose we know.
    const NOTHING: Self = Self {
        restricted: true,
        ..Self::UNRESTRICTED
    };

    /// From x509-parser's reading of the extension (`None`: no extension).
    pub fn from_extension(eku: Option<&ExtendedKeyUsage<'_>>) -> Self {
        let Some(eku) = eku else {
            return Self::UNRESTRICTED;
        };
        Self {
            restricted: true,
            server_auth: eku.server_auth,
            client_auth: eku.client_auth,
            sip_domain: eku.other.iter().any(|oid| oid.as_bytes() == SIP_DOMAIN),
            any: eku.any,
        }
    }

    /// Of a DER certificate; one that does not parse allows nothing.
    pub fn of_der(der: &[u8]) -> Self {
        match x509_parser::parse_x509_certificate(der) {
            Ok((_, cert)) => match cert.extended_key_usage() {
                Ok(eku) => Self::from_extension(eku.map(|e| e.value)),
                Err(_) => Self::NOTHING,
            },
            Err(_) => Self::NOTHING,
        }
    }

    /// From the purposes webpki reads out of an EKU extension.
    fn from_webpki(iter: KeyPurposeIdIter<'_, '_>) -> Result<Self, webpki::Error> {
        let is = |id: &KeyPurposeId<'_>, oid: &'static [u8]| *id == KeyPurposeId::new(oid);
        let mut purposes = Self::UNRESTRICTED;
        for id in iter {
            let id = id?;
            purposes.restricted = true;
            purposes.server_auth |= is(&id, SERVER_AUTH);
            purposes.client_auth |= is(&id, CLIENT_AUTH);
            purposes.sip_domain |= is(&id, SIP_DOMAIN);
            purposes.any |= is(&id, ANY_EKU);
        }
        Ok(purposes)
    }

    /// What the certificate is accepted for when it belongs to a TLS server
    /// (`peer_is_server`) or client under `policy`; `None`: refused.
    pub fn accepted_for(self, peer_is_server: bool, policy: EkuPolicy) -> Option<siptls_purpose> {
        if !self.restricted {
            return Some(SIPTLS_PURPOSE_UNRESTRICTED);
        }
        match (peer_is_server, self.server_auth, self.client_auth) {
            (true, true, _) => return Some(SIPTLS_PURPOSE_SERVER_AUTH),
            (false, _, true) => return Some(SIPTLS_PURPOSE_CLIENT_AUTH),
            _ => {}
        }
        if self.sip_domain {
            return Some(SIPTLS_PURPOSE_SIP_DOMAIN);
        }
        match policy {
            EkuPolicy::Strict => None,
            _ if !peer_is_server && self.server_auth => Some(SIPTLS_PURPOSE_SERVER_AUTH),
            _ if self.any => Some(SIPTLS_PURPOSE_ANY_EKU),
            EkuPolicy::Any if self.client_auth => Some(SIPTLS_PURPOSE_CLIENT_AUTH),
            EkuPolicy::Any => Some(SIPTLS_PURPOSE_NOT_CHECKED),
            EkuPolicy::ServerToServer => None,
        }
    }
}

/// How a sentence names what a certificate was accepted for.
pub fn purpose_words(purpose: siptls_purpose) -> &'static str {
    match purpose {
        SIPTLS_PURPOSE_NONE => "no purpose",
        SIPTLS_PURPOSE_UNRESTRICTED => "any purpose (it has no extended key usage)",
        SIPTLS_PURPOSE_CLIENT_AUTH => "clientAuth",
        SIPTLS_PURPOSE_SERVER_AUTH => "serverAuth",
        SIPTLS_PURPOSE_SIP_DOMAIN => "id-kp-sipDomain (RFC 5924)",
        SIPTLS_PURPOSE_ANY_EKU => "anyExtendedKeyUsage",
        SIPTLS_PURPOSE_NOT_CHECKED => "no TLS purpose (the EKU policy checks none)",
    }
}

/// What a peer in a role needs under a policy, as a sentence lists it.
pub fn needed(peer_is_server: bool, policy: EkuPolicy) -> &'static str {
    match (peer_is_server, policy) {
        (_, EkuPolicy::Any) => "nothing",
        (true, EkuPolicy::Strict) => "serverAuth or id-kp-sipDomain",
        (true, EkuPolicy::ServerToServer) => "serverAuth, anyExtendedKeyUsage or id-kp-sipDomain",
        (false, EkuPolicy::Strict) => "clientAuth or id-kp-sipDomain",
        (false, EkuPolicy::ServerToServer) => {
            "clientAuth, serverAuth, anyExtendedKeyUsage or id-kp-sipDomain"
        }
    }
}

/// The EKU check webpki runs on every certificate of a candidate path (the
/// end entity and each CA), under one policy.
pub struct PurposeCheck {
    pub peer_is_server: bool,
    pub policy: EkuPolicy,
}

impl webpki::ExtendedKeyUsageValidator for PurposeCheck {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        // Runs for every certificate of every path: nothing is allocated.
        // The refusal's sentence reads the certificates again (explain.rs).
        let purposes = Purposes::from_webpki(iter)?;
        match purposes.accepted_for(self.peer_is_server, self.policy) {
            Some(_) => Ok(()),
            None => Err(webpki::Error::RequiredEkuNotFoundContext(
                RequiredEkuNotFoundContext {
                    required: if self.peer_is_server {
                        KeyUsage::server_auth()
                    } else {
                        KeyUsage::client_auth()
                    },
                    present: Vec::new(),
                },
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eku(server: bool, client: bool, sip: bool, any: bool) -> Purposes {
        Purposes {
            restricted: true,
            server_auth: server,
            client_auth: client,
            sip_domain: sip,
            any,
        }
    }

    #[test]
    fn each_purpose_in_each_role_under_each_policy() {
        use EkuPolicy::*;
        let none = None;
        let unrestricted = Some(SIPTLS_PURPOSE_UNRESTRICTED);
        let (srv, cli) = (
            Some(SIPTLS_PURPOSE_SERVER_AUTH),
            Some(SIPTLS_PURPOSE_CLIENT_AUTH),
        );
        let (sip, any, unchecked) = (
            Some(SIPTLS_PURPOSE_SIP_DOMAIN),
            Some(SIPTLS_PURPOSE_ANY_EKU),
            Some(SIPTLS_PURPOSE_NOT_CHECKED),
        );
        // (certificate, as a TLS server: strict, s2s, any; as a TLS client: strict, s2s, any)
        let table = [
            (Purposes::UNRESTRICTED, [unrestricted; 3], [unrestricted; 3]),
            (
                eku(true, false, false, false),
                [srv, srv, srv],
                [none, srv, srv],
            ),
            (
                eku(false, true, false, false),
                [none, none, cli],
                [cli, cli, cli],
            ),
            (
                eku(true, true, false, false),
                [srv, srv, srv],
                [cli, cli, cli],
            ),
            (
                eku(false, false, true, false),
                [sip, sip, sip],
                [sip, sip, sip],
            ),
            (
                eku(false, false, false, true),
                [none, any, any],
                [none, any, any],
            ),
            // codeSigning only, and an extension naming nothing we know.
            (
                eku(false, false, false, false),
                [none, none, unchecked],
                [none, none, unchecked],
            ),
        ];
        for (purposes, as_server, as_client) in table {
            for (i, policy) in [Strict, ServerToServer, Any].into_iter().enumerate() {
                assert_eq!(
                    purposes.accepted_for(true, policy),
                    as_server[i],
                    "{purposes:?} as a server under {policy:?}"
                );
                assert_eq!(
                    purposes.accepted_for(false, policy),
                    as_client[i],
                    "{purposes:?} as a client under {policy:?}"
                );
            }
        }
    }

    #[test]
    fn the_policies_order_from_strict_to_unchecked() {
        assert!(EkuPolicy::Strict < EkuPolicy::ServerToServer);
        assert!(EkuPolicy::ServerToServer < EkuPolicy::Any);
        assert_eq!(EkuPolicy::default(), EkuPolicy::ServerToServer);
    }
}
