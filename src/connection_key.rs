//! The key under which a gateway pools outbound connections (RFC 5923
//! reuse done right): one connection serves another request only when that
//! request would open the same connection: the same destination address and
//! port, the same SNI sent, the same name the server's certificate was
//! checked against, and the same client certificate presented.
//!
//! The key is a SHA-256 digest over those four, so a gateway stores 32
//! bytes, not strings, and two keys compare with memcmp. A context computes
//! the key a new session would have; a session the key it has. A
//! connection is reused only when they are equal, so a reloaded client
//! identity or a different SNI never rides on an old connection.

use std::net::SocketAddr;

use crate::abi::siptls_result::*;
use crate::error::{Error, Result};
use crate::resume::OwnDigest;

pub(crate) const CONNECTION_KEY_LEN: usize = 32;

/// What a client session is, as far as reusing it goes: fixed at its
/// creation (its ClientHello).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    /// The server_name extension as sent: None for an IP literal.
    pub sni: Option<String>,
    /// The name the server's certificate must carry, lower case.
    pub peer_name: String,
    /// The digest of the certificate the session presents when asked; None
    /// when the context has no client identity.
    pub identity: Option<OwnDigest>,
}

impl Outbound {
    /// `peer_name` and `sni` as a session takes them (the SNI defaulting
    /// to the peer name; IP literals send none).
    pub fn new(peer_name: &str, sni: Option<&str>, identity: Option<OwnDigest>) -> Self {
        let sent = sni.unwrap_or(peer_name);
        Self {
            sni: sent
                .parse::<std::net::IpAddr>()
                .is_err()
                .then(|| sent.to_ascii_lowercase()),
            peer_name: peer_name.to_ascii_lowercase(),
            identity,
        }
    }

    /// The key of this connection to `destination`.
    pub fn key(&self, destination: &SocketAddr) -> [u8; CONNECTION_KEY_LEN] {
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        // Each field length-prefixed, so no two inputs encode alike.
        let mut field = |bytes: &[u8]| {
            ctx.update(&(bytes.len() as u32).to_be_bytes());
            ctx.update(bytes);
        };
        field(b"siptls connection key 1");
        field(canonical(destination).to_string().as_bytes());
        field(self.sni.as_deref().unwrap_or("").as_bytes());
        field(&[u8::from(self.sni.is_some())]);
        field(self.peer_name.as_bytes());
        field(self.identity.as_ref().map_or(&[][..], |d| &d[..]));
        let mut key = [0u8; CONNECTION_KEY_LEN];
        key.copy_from_slice(ctx.finish().as_ref());
        key
    }
}

/// An IPv4 address written as IPv4-mapped IPv6 is the same destination.
fn canonical(destination: &SocketAddr) -> SocketAddr {
    SocketAddr::new(destination.ip().to_canonical(), destination.port())
}

/// The destination as the gateway dialled it: "192.0.2.7:5061" or
/// "[2001:db8::7]:5061". A host name is refused: two names can lead to one
/// address and one name to two, so only the address says where a
/// connection goes.
pub fn parse_destination(text: &str) -> Result<SocketAddr> {
    text.parse::<SocketAddr>().map_err(|_| {
        Error::new(
            SIPTLS_ERR_INVALID_ARGUMENT,
            format!(
                "The destination '{}' is not an address and port: give the address the connection goes to, such as 192.0.2.7:5061 or [2001:db8::7]:5061, not a host name",
                crate::error::printable(text)
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(dest: &str, out: &Outbound) -> [u8; 32] {
        out.key(&parse_destination(dest).unwrap())
    }

    #[test]
    fn each_part_changes_the_key_and_nothing_else_does() {
        let base = Outbound::new("gw-b.example.test", None, Some([1; 32]));
        let k = key("192.0.2.7:5061", &base);
        // Case and the IPv4-mapped spelling are the same connection.
        assert_eq!(
            k,
            key(
                "192.0.2.7:5061",
                &Outbound::new("GW-B.Example.TEST", None, Some([1; 32]))
            )
        );
        assert_eq!(k, key("[::ffff:192.0.2.7]:5061", &base));
        for other in [
            key("192.0.2.8:5061", &base),
            key("192.0.2.7:5062", &base),
            key(
                "192.0.2.7:5061",
                &Outbound::new("gw-c.example.test", None, Some([1; 32])),
            ),
            key(
                "192.0.2.7:5061",
                &Outbound::new(
                    "gw-b.example.test",
                    Some("edge.example.test"),
                    Some([1; 32]),
                ),
            ),
            key(
                "192.0.2.7:5061",
                &Outbound::new("gw-b.example.test", None, Some([2; 32])),
            ),
            key(
                "192.0.2.7:5061",
                &Outbound::new("gw-b.example.test", None, None),
            ),
        ] {
            assert_ne!(k, other);
        }
    }

    #[test]
    fn an_ip_literal_sends_no_sni_and_fields_cannot_run_together() {
        let by_ip = Outbound::new("192.0.2.7", None, None);
        assert_eq!(by_ip.sni, None);
        assert_eq!(Outbound::new("a.test", Some("192.0.2.7"), None).sni, None);
        // "ab" + "c" and "a" + "bc" differ once length-prefixed.
        let a = Outbound {
            sni: Some("ab".into()),
            peer_name: "c".into(),
            identity: None,
        };
        let b = Outbound {
            sni: Some("a".into()),
            peer_name: "bc".into(),
            identity: None,
        };
        assert_ne!(key("192.0.2.7:5061", &a), key("192.0.2.7:5061", &b));
        // No SNI and an empty one are not the same either.
        let empty = Outbound {
            sni: Some(String::new()),
            ..by_ip.clone()
        };
        assert_ne!(key("192.0.2.7:5061", &by_ip), key("192.0.2.7:5061", &empty));
    }

    #[test]
    fn only_an_address_and_port_is_a_destination() {
        for good in ["192.0.2.7:5061", "[2001:db8::7]:5061", "[::1]:1"] {
            assert!(parse_destination(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "192.0.2.7",
            "gw-b.example.test:5061",
            "2001:db8::7:5061",
            "192.0.2.7:70000",
            "[2001:db8::7]",
        ] {
            let e = parse_destination(bad).unwrap_err();
            assert_eq!(e.code, SIPTLS_ERR_INVALID_ARGUMENT, "{bad}");
        }
    }
}
