//! Peer identity checks: SIP domain matching per RFC 5922 section 7, and the
//! plain host-name mode (RFC 6125, wildcards allowed) for non-SIP peers.

use crate::purpose::Purposes;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use aws_lc_rs::digest::{digest, SHA256};
use parking_lot::Mutex;
use pki_types::ServerName;

use crate::error::printable;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// How a peer's certificate is matched against the name we expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameCheck {
    /// RFC 5922: `sip:` URI SANs first, then dNSName, CN only without SANs; exact, no wildcards.
    Sip,
    /// RFC 6125 as web clients do it: dNSName/iPAddress SANs, wildcards allowed.
    Hostname,
}

/// The identities a certificate carries, as the SIP rules see them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Identities {
    /// Hosts of `sip:` URI SANs without a user part (the SIP domain identities).
    pub sip_hosts: Vec<String>,
    pub dns_names: Vec<String>,
    pub ips: Vec<IpAddr>,
    pub common_names: Vec<String>,
    pub has_san_extension: bool,
    /// What its extended key usage allows.
    pub purposes: Purposes,
    /// Every name found, typed (`URI:`, `DNS:`, `IP:`, `CN:`), control
    /// characters escaped, for reports.
    pub listing: Vec<String>,
}

/// Host part of a `sip:` URI with no user part; `None` when the URI does not
/// count as a SIP domain identity (other scheme, user part present, no host).
fn sip_uri_host(uri: &str) -> Option<String> {
    // Bytes, not chars: a peer's URI may hold non-ASCII text, and slicing a
    // str inside a character would panic.
    let scheme = uri.as_bytes().get(..4)?;
    if !scheme.eq_ignore_ascii_case(b"sip:") {
        return None;
    }
    // The first four bytes are ASCII, so byte 4 is a character boundary.
    let rest = &uri[4..];
    let hostport = rest.split([';', '?']).next().unwrap_or_default();
    if hostport.contains('@') {
        return None;
    }
    let host = match hostport.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => hostport.split(':').next().unwrap_or_default(),
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => None,
    }
}

/// Certificates remembered at most, and the largest remembered: about 1 MB
/// of names when full of certificates that large; when full, the memory
/// starts over.
const REMEMBERED_MAX: usize = 1024;
const REMEMBERED_DER_MAX: usize = 4096;

/// The names of certificates accepted recently, by SHA-256 of their DER.
/// The same certificates come back again and again (a resumed session's
/// stored chain, checked and reported on both sides; the phones of a PBX),
/// and parsing one was a quarter of siptls' time in a resumed handshake.
/// Only accepted certificates are kept: what any peer sends is parsed, not
/// remembered. A B-tree, not a hash table: a hash table points into the
/// middle of its allocation, which valgrind reports at exit as "possibly
/// lost", and a correct program run under `valgrind --leak-check=full`
/// must come out clean.
static REMEMBERED: LazyLock<Mutex<BTreeMap<[u8; 32], Arc<Identities>>>> =
    LazyLock::new(|| Mutex::new(BTreeMap::new()));

fn der_key(der: &[u8]) -> [u8; 32] {
    let mut key = [0u8; 32];
    key.copy_from_slice(digest(&SHA256, der).as_ref());
    key
}

/// A certificate's names, and whether accepting it should remember them.
pub struct Looked {
    pub ids: Arc<Identities>,
    /// The key to remember them under: parsed now, and small enough.
    unremembered: Option<[u8; 32]>,
}

impl Looked {
    /// The certificate was just accepted: keep its names (once).
    pub fn accepted(&self) {
        let Some(key) = self.unremembered else {
            return;
        };
        let mut remembered = REMEMBERED.lock();
        if remembered.len() >= REMEMBERED_MAX {
            remembered.clear();
        }
        remembered.insert(key, self.ids.clone());
    }
}

/// Reads the names out of a DER certificate (or recalls them, if it was
/// accepted before); `None` if it does not parse. The DER is hashed once.
pub fn identities(der: &[u8]) -> Option<Looked> {
    let key = der_key(der);
    if let Some(ids) = REMEMBERED.lock().get(&key) {
        return Some(Looked {
            ids: ids.clone(),
            unremembered: None,
        });
    }
    Some(Looked {
        ids: Arc::new(parse_identities(der)?),
        unremembered: (der.len() <= REMEMBERED_DER_MAX).then_some(key),
    })
}

fn parse_identities(der: &[u8]) -> Option<Identities> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let mut ids = Identities {
        purposes: Purposes::from_extension(
            cert.extended_key_usage().ok().flatten().map(|e| e.value),
        ),
        ..Identities::default()
    };
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        ids.has_san_extension = true;
        for name in &san.value.general_names {
            match name {
                GeneralName::URI(uri) => {
                    ids.listing.push(printable(&format!("URI:{uri}")));
                    ids.sip_hosts.extend(sip_uri_host(uri));
                }
                GeneralName::DNSName(dns) => {
                    ids.listing.push(printable(&format!("DNS:{dns}")));
                    ids.dns_names.push(dns.to_ascii_lowercase());
                }
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        ids.listing.push(format!("IP:{ip}"));
                        ids.ips.push(ip);
                    }
                }
                _ => {}
            }
        }
    }
    for cn in cert.subject().iter_common_name() {
        if let Ok(cn) = cn.as_str() {
            ids.listing.push(printable(&format!("CN:{cn}")));
            ids.common_names.push(cn.to_ascii_lowercase());
        }
    }
    Some(ids)
}

impl Identities {
    /// RFC 5922 section 7.2 matching of a SIP domain (or an IP literal).
    pub fn matches_sip(&self, expected: &ServerName<'_>) -> bool {
        match expected {
            ServerName::IpAddress(ip) => self.ips.contains(&IpAddr::from(*ip)),
            ServerName::DnsName(name) => {
                let name = name.as_ref().trim_end_matches('.').to_ascii_lowercase();
                let candidates = if !self.sip_hosts.is_empty() {
                    &self.sip_hosts
                } else if self.has_san_extension {
                    &self.dns_names
                } else {
                    &self.common_names
                };
                candidates.contains(&name)
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_certificates_are_parsed_once_and_the_memory_is_bounded() {
        let root = siptls_certgen::Authority::root("names test root");
        let (a, b) = (
            root.sip_leaf("a.example.test"),
            root.sip_leaf("b.example.test"),
        );
        // Not accepted: parsed each time, never kept.
        let looked = identities(&a.cert_der).unwrap();
        let first = looked.ids.clone();
        assert!(!Arc::ptr_eq(&first, &identities(&a.cert_der).unwrap().ids));
        looked.accepted();
        let again = identities(&a.cert_der).unwrap();
        assert!(Arc::ptr_eq(&first, &again.ids), "parsed again");
        assert!(
            again.unremembered.is_none(),
            "recalled, not remembered again"
        );
        let other = identities(&b.cert_der).unwrap().ids;
        assert_eq!(other.sip_hosts, ["b.example.test"]);
        assert_eq!(first.sip_hosts, ["a.example.test"]);
        assert!(identities(b"not a certificate").is_none());
        // Too large to keep.
        let mut large = a.cert_der.clone();
        large.resize(REMEMBERED_DER_MAX + 1, 0);
        identities(&large).unwrap().accepted();
        assert!(!REMEMBERED.lock().contains_key(&der_key(&large)));
        // Filling the memory starts it over rather than growing it.
        for n in 0..REMEMBERED_MAX + 1 {
            let mut der = a.cert_der.clone();
            der.extend_from_slice(&n.to_be_bytes());
            identities(&der).unwrap().accepted();
        }
        assert!(REMEMBERED.lock().len() <= REMEMBERED_MAX);
    }

    #[test]
    fn non_ascii_uris_are_no_sip_identity_and_no_panic() {
        // Found by feed_ciphertext: a URI whose fourth byte is inside a character.
        for uri in ["sipƟ:x", "siƟp:host", "Ɵ", "sip:hôst.example", "sip"] {
            let got = sip_uri_host(uri);
            assert!(got.is_none() || uri.starts_with("sip:"), "{uri}: {got:?}");
        }
        assert_eq!(
            sip_uri_host("sip:hôst.example").as_deref(),
            Some("hôst.example")
        );
    }

    #[test]
    fn sip_uri_hosts() {
        assert_eq!(
            sip_uri_host("sip:Example.COM").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            sip_uri_host("SIP:example.com:5061;transport=tls").as_deref(),
            Some("example.com")
        );
        assert_eq!(sip_uri_host("sip:[::1]:5061").as_deref(), Some("::1"));
        assert_eq!(sip_uri_host("sip:alice@example.com"), None);
        assert_eq!(sip_uri_host("sips:example.com"), None);
        assert_eq!(sip_uri_host("https://example.com"), None);
        assert_eq!(sip_uri_host("sip:"), None);
    }

    fn name(s: &str) -> ServerName<'static> {
        ServerName::try_from(s.to_string()).unwrap()
    }

    #[test]
    fn sip_uri_beats_dns_and_cn_only_without_sans() {
        let ids = Identities {
            sip_hosts: vec!["a.example".into()],
            dns_names: vec!["b.example".into()],
            has_san_extension: true,
            ..Default::default()
        };
        assert!(ids.matches_sip(&name("A.EXAMPLE")));
        assert!(!ids.matches_sip(&name("b.example")));

        let cn_only_with_san = Identities {
            common_names: vec!["c.example".into()],
            has_san_extension: true,
            ..Default::default()
        };
        assert!(!cn_only_with_san.matches_sip(&name("c.example")));
        let cn_only = Identities {
            common_names: vec!["c.example".into()],
            ..Default::default()
        };
        assert!(cn_only.matches_sip(&name("c.example")));
    }

    #[test]
    fn wildcards_are_literal_for_sip() {
        let ids = Identities {
            dns_names: vec!["*.example.com".into()],
            has_san_extension: true,
            ..Default::default()
        };
        assert!(!ids.matches_sip(&name("gw.example.com")));
    }
}
