//! The certificates every stack loads: one root, a server and a client
//! leaf, all with the same key algorithm.

use siptls_certgen::{Authority, Issued, KeyAlg, LeafSpec};
use std::net::{IpAddr, Ipv4Addr};

pub const SERVER_NAME: &str = "gw-b.example.test";
const CLIENT_NAME: &str = "gw-a.example.test";

/// The key algorithm of a case's certificates.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Key {
    EcdsaP256,
    Rsa2048,
}

impl Key {
    pub fn name(self) -> &'static str {
        match self {
            Key::EcdsaP256 => "ECDSA P-256",
            Key::Rsa2048 => "RSA-2048",
        }
    }
}

pub struct Pki {
    pub root: Authority,
    pub server: Issued,
    pub client: Issued,
}

impl Pki {
    pub fn new(key: Key) -> Pki {
        let alg = match key {
            Key::EcdsaP256 => KeyAlg::EcdsaP256,
            Key::Rsa2048 => KeyAlg::Rsa2048,
        };
        let now = time::OffsetDateTime::now_utc();
        let root = Authority::root_with(
            "bench root",
            alg,
            now - time::Duration::days(1),
            now + time::Duration::days(3650),
        );
        let leaf = |name: &str| {
            root.leaf(&LeafSpec {
                key_alg: alg,
                ips: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
                ..LeafSpec::sip(name)
            })
        };
        let (server, client) = (leaf(SERVER_NAME), leaf(CLIENT_NAME));
        Pki {
            root,
            server,
            client,
        }
    }

    /// `n` client certificates never issued before, for first contact:
    /// the client's key, each certificate new (its own serial, so its own
    /// signature), as a gateway sees when 10,000 phones connect.
    pub fn fresh_clients(&self, n: usize) -> Vec<Issued> {
        let spec = LeafSpec {
            ips: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            ..LeafSpec::sip(CLIENT_NAME)
        };
        (0..n)
            .map(|_| self.root.leaf_for_key(&spec, &self.client.key_pem))
            .collect()
    }

    /// The root certificate, PEM.
    pub fn root_pem(&self) -> &str {
        &self.root.issued().cert_pem
    }
}
