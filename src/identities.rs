//! A context's own identities: certificate chains with their keys, each
//! under an identity ID. A server picks one by the name the client asks
//! for (SNI): an exact name configured for it, or a SIP domain or dNSName
//! of its certificate (a wildcard dNSName covers one label); without SNI,
//! or when nothing matches, the default identity (ID 0) serves, and with
//! no default the handshake is refused. A client session presents the
//! identity it names (the default unless told).

use crate::abi::{siptls_result::*, SIPTLS_IDENTITY_DEFAULT, SIPTLS_MAX_IDENTITIES};
use std::fmt;
use std::sync::Arc;

use rustls::client::ResolvesClientCert;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;

use crate::error::{Error, Result};
use crate::names;
use crate::ocsp::Staple;
use crate::resume::{own_digest, OwnDigest};
use crate::verify;

#[derive(Clone)]
pub struct Identity {
    pub id: u32,
    pub key: Arc<CertifiedKey>,
    /// What the certificate itself names: SIP domains and dNSNames, lower case.
    cert_names: Vec<String>,
    /// Extra exact names configured for it, lower case.
    pub names: Vec<String>,
    pub digest: OwnDigest,
    /// The certificate's subject, for operators.
    pub subject: String,
    /// Its certificate's notAfter, and the earliest of its chain's
    /// (seconds since 1970; 0 when unreadable).
    pub not_after: i64,
    pub earliest_not_after: i64,
    /// The OCSP response a server staples for it (in `key.ocsp` too).
    pub staple: Option<Staple>,
}

impl Identity {
    pub fn new(id: u32, key: Arc<CertifiedKey>) -> Self {
        let leaf = key.cert.first().map_or(&[][..], |c| c.as_ref());
        let ids = names::identities(leaf).map(|l| l.ids).unwrap_or_default();
        let cert_names = ids
            .sip_hosts
            .iter()
            .cloned()
            .chain(ids.dns_names.iter().map(|n| n.to_ascii_lowercase()))
            .collect();
        let validity = |der: &[u8]| {
            x509_parser::parse_x509_certificate(der).ok().map(|(_, c)| {
                (
                    crate::error::printable(&c.subject().to_string()),
                    c.validity().not_after.timestamp(),
                )
            })
        };
        let (subject, not_after) = validity(leaf).unwrap_or_default();
        let earliest_not_after = key
            .cert
            .iter()
            .filter_map(|c| validity(c.as_ref()).map(|(_, t)| t))
            .min()
            .unwrap_or(not_after);
        Self {
            id,
            digest: own_digest(leaf),
            key,
            cert_names,
            names: Vec::new(),
            subject,
            not_after,
            earliest_not_after,
            staple: None,
        }
    }

    /// Names it serves exactly: configured, or in its certificate.
    fn serves_exactly(&self, sni: &str) -> bool {
        self.names.iter().chain(&self.cert_names).any(|n| n == sni)
    }

    /// A wildcard dNSName of its certificate covering `sni` (one label).
    fn serves_by_wildcard(&self, sni: &str) -> bool {
        self.cert_names.iter().any(|name| {
            name.strip_prefix("*.").is_some_and(|base| {
                sni.split_once('.')
                    .is_some_and(|(label, rest)| !label.is_empty() && rest == base)
            })
        })
    }
}

#[derive(Clone, Default)]
pub struct IdentitySet {
    /// Sorted by ID.
    entries: Vec<Arc<Identity>>,
}

impl IdentitySet {
    pub fn get(&self, id: u32) -> Option<&Arc<Identity>> {
        self.entries.iter().find(|i| i.id == id)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The same IDs presenting the same chains under the same names. A
    /// certificate fixes its key pair, so the keys are the same too.
    pub fn same_content(&self, other: &IdentitySet) -> bool {
        self.entries.len() == other.entries.len()
            && self.entries.iter().zip(&other.entries).all(|(a, b)| {
                a.id == b.id
                    && a.key.cert == b.key.cert
                    && a.names == b.names
                    && a.staple == b.staple
            })
    }

    /// Staples `staple` (checked for it) to identity `id`, or none.
    pub fn set_staple(&mut self, id: u32, staple: Option<Staple>) -> Result<()> {
        let at = self
            .entries
            .iter()
            .position(|i| i.id == id)
            .ok_or_else(|| not_found(id))?;
        let mut identity = Identity::clone(&self.entries[at]);
        let mut key = CertifiedKey::clone(&identity.key);
        key.ocsp = staple.as_ref().map(|s| s.der.clone());
        identity.key = Arc::new(key);
        identity.staple = staple;
        self.entries[at] = Arc::new(identity);
        Ok(())
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Identity>> {
        self.entries.iter()
    }

    pub fn ids(&self) -> Vec<u32> {
        self.entries.iter().map(|i| i.id).collect()
    }

    /// Sets identity `id`; `replace` allows an identity that exists.
    pub fn put(&mut self, identity: Identity, replace: bool) -> Result<()> {
        let id = identity.id;
        match self.entries.iter().position(|i| i.id == id) {
            Some(at) if replace => {
                // Extra names stay with the ID across a certificate renewal.
                let mut identity = identity;
                identity.names = self.entries[at].names.clone();
                self.entries[at] = Arc::new(identity);
            }
            Some(_) => {
                return Err(Error::new(
                    SIPTLS_ERR_INVALID_ARGUMENT,
                    format!("identity ID {id} is in use; remove it first, or replace it"),
                ))
            }
            None if self.entries.len() == SIPTLS_MAX_IDENTITIES => {
                return Err(Error::new(
                    SIPTLS_ERR_INVALID_ARGUMENT,
                    format!("a context holds at most {SIPTLS_MAX_IDENTITIES} identities"),
                ))
            }
            None => {
                self.entries.push(Arc::new(identity));
                self.entries.sort_by_key(|i| i.id);
            }
        }
        Ok(())
    }

    pub fn remove(&mut self, id: u32) -> Result<()> {
        let before = self.entries.len();
        self.entries.retain(|i| i.id != id);
        if self.entries.len() == before {
            return Err(not_found(id));
        }
        Ok(())
    }

    /// Replaces the extra SNI names of identity `id` (each a valid DNS name).
    pub fn set_names(&mut self, id: u32, names: &[&str]) -> Result<()> {
        let mut checked = Vec::with_capacity(names.len());
        for &name in names {
            if pki_types::DnsName::try_from(name).is_err()
                || name.parse::<std::net::IpAddr>().is_ok()
            {
                return Err(Error::new(
                    SIPTLS_ERR_INVALID_ARGUMENT,
                    format!("'{name}' is not a valid DNS name for SNI"),
                ));
            }
            checked.push(name.to_ascii_lowercase());
        }
        let at = self
            .entries
            .iter()
            .position(|i| i.id == id)
            .ok_or_else(|| not_found(id))?;
        self.entries[at] = Arc::new(Identity {
            names: checked,
            ..Identity::clone(&self.entries[at])
        });
        Ok(())
    }

    /// The identity serving `sni` (or the default).
    pub fn for_sni(&self, sni: Option<&str>) -> Option<&Arc<Identity>> {
        let sni = sni.map(str::to_ascii_lowercase);
        // An exact name wins over a wildcard, whatever the identity IDs.
        sni.as_deref()
            .and_then(|name| {
                self.entries
                    .iter()
                    .find(|i| i.serves_exactly(name))
                    .or_else(|| self.entries.iter().find(|i| i.serves_by_wildcard(name)))
            })
            .or_else(|| self.get(SIPTLS_IDENTITY_DEFAULT))
    }
}

pub(crate) fn not_found(id: u32) -> Error {
    Error::new(
        SIPTLS_ERR_INVALID_ARGUMENT,
        format!("no identity has identity ID {id}"),
    )
}

/// The server side: picks by SNI, and tells the session step which served.
pub struct ServerIdentities(pub IdentitySet);

impl fmt::Debug for ServerIdentities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ServerIdentities")
            .field(&self.0.ids())
            .finish()
    }
}

impl ResolvesServerCert for ServerIdentities {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let sni = hello.server_name();
        let identity = self.0.for_sni(sni)?;
        verify::served(identity.id, identity.digest, sni.map(str::to_owned));
        Some(identity.key.clone())
    }
}

/// The client side: the identity the session asked for.
pub struct ClientIdentities(pub IdentitySet);

impl fmt::Debug for ClientIdentities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClientIdentities")
            .field(&self.0.ids())
            .finish()
    }
}

impl ResolvesClientCert for ClientIdentities {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        let identity = self.0.get(verify::step_identity())?;
        identity
            .key
            .key
            .choose_scheme(sigschemes)
            .map(|_| identity.key.clone())
    }

    fn has_certs(&self) -> bool {
        !self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_covers_one_label() {
        let serves =
            |id: &Identity, sni: &str| id.serves_exactly(sni) || id.serves_by_wildcard(sni);
        let id = Identity {
            id: 1,
            key: Arc::new(CertifiedKey::new(vec![], Arc::new(NoKey))),
            cert_names: vec!["*.example.test".into(), "sip.example.test".into()],
            names: vec!["virtual.example.org".into()],
            digest: [0; 32],
            subject: String::new(),
            not_after: 0,
            earliest_not_after: 0,
            staple: None,
        };
        assert!(serves(&id, "a.example.test"));
        assert!(!serves(&id, "a.b.example.test"));
        assert!(!serves(&id, "example.test"));
        assert!(serves(&id, "sip.example.test"));
        assert!(serves(&id, "virtual.example.org"));
        assert!(!serves(&id, "other.example.org"));
    }

    #[test]
    fn an_exact_name_wins_over_a_wildcard_of_a_lower_id() {
        let make = |id, cert_names: Vec<String>| Identity {
            id,
            key: Arc::new(CertifiedKey::new(vec![], Arc::new(NoKey))),
            cert_names,
            names: vec![],
            digest: [id as u8; 32],
            subject: String::new(),
            not_after: 0,
            earliest_not_after: 0,
            staple: None,
        };
        let set = IdentitySet {
            entries: vec![
                Arc::new(make(1, vec!["*.example.test".into()])),
                Arc::new(make(2, vec!["sip.example.test".into()])),
            ],
        };
        assert_eq!(set.for_sni(Some("sip.example.test")).unwrap().id, 2);
        assert_eq!(set.for_sni(Some("a.example.test")).unwrap().id, 1);
    }

    #[derive(Debug)]
    struct NoKey;

    impl rustls::sign::SigningKey for NoKey {
        fn choose_scheme(&self, _: &[SignatureScheme]) -> Option<Box<dyn rustls::sign::Signer>> {
            None
        }

        fn algorithm(&self) -> rustls::SignatureAlgorithm {
            rustls::SignatureAlgorithm::ECDSA
        }
    }
}
