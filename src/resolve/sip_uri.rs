//! The parts of a SIP or SIPS URI that RFC 3263 resolution reads: the
//! scheme, the host (a domain, an IPv4 address or a bracketed IPv6
//! literal), the port and the `transport` parameter. The user part and the
//! other parameters and headers are accepted and play no part.

use crate::abi::siptls_result::SIPTLS_ERR_INVALID_ARGUMENT;
use std::net::IpAddr;

use crate::error::{Error, Result};

/// A transport RFC 3263 can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    /// The NAPTR service field (RFC 3263 section 4.1) naming it.
    pub fn naptr_service(self) -> &'static str {
        match self {
            Transport::Udp => "SIP+D2U",
            Transport::Tcp => "SIP+D2T",
            Transport::Tls => "SIPS+D2T",
        }
    }

    /// The SRV prefix (RFC 3263 section 4.1).
    pub fn srv_prefix(self) -> &'static str {
        match self {
            Transport::Udp => "_sip._udp.",
            Transport::Tcp => "_sip._tcp.",
            Transport::Tls => "_sips._tcp.",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Transport::Tls => 5061,
            _ => 5060,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Domain(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    /// `sips:`: every target must be TLS.
    pub secure: bool,
    pub host: Host,
    pub port: Option<u16>,
    pub transport: Option<Transport>,
}

fn refuse(uri: &str, why: impl std::fmt::Display) -> Error {
    Error::new(
        SIPTLS_ERR_INVALID_ARGUMENT,
        format!("The SIP URI '{uri}' cannot be resolved: {why}"),
    )
}

impl SipUri {
    pub fn parse(uri: &str) -> Result<SipUri> {
        let (scheme, rest) = uri
            .split_once(':')
            .ok_or_else(|| refuse(uri, "it has no scheme; write sips:domain or sip:domain"))?;
        let secure = match scheme.to_ascii_lowercase().as_str() {
            "sips" => true,
            "sip" => false,
            other => {
                return Err(refuse(
                    uri,
                    format!("its scheme is {other}, not sip or sips"),
                ))
            }
        };
        // Headers after '?' play no part in resolution.
        let rest = rest.split('?').next().unwrap_or_default();
        let mut parts = rest.split(';');
        let hostport = parts.next().unwrap_or_default();
        // The user part ends at the last '@' before the host.
        let hostport = hostport.rsplit_once('@').map_or(hostport, |(_, h)| h);
        let (host, port) = split_host_port(hostport).ok_or_else(|| {
            refuse(uri, "its host and port do not parse (an IPv6 address goes in brackets: [2001:db8::1]:5061)")
        })?;
        let mut transport = None;
        for parameter in parts {
            let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
            if !name.eq_ignore_ascii_case("transport") {
                continue;
            }
            if transport.is_some() {
                return Err(refuse(uri, "it gives the transport parameter twice"));
            }
            transport = Some(match value.to_ascii_lowercase().as_str() {
                "tls" => Transport::Tls,
                "tcp" => Transport::Tcp,
                "udp" => Transport::Udp,
                other => {
                    return Err(refuse(
                        uri,
                        format!("its transport={other} is none siptls resolves (udp, tcp, tls)"),
                    ))
                }
            });
        }
        if secure && transport == Some(Transport::Udp) {
            return Err(refuse(
                uri,
                "a sips: URI asks for TLS on every hop, and transport=udp has none (RFC 3261 section 26.2.2)",
            ));
        }
        // sips: with transport=tcp is TLS over TCP (RFC 3261 section 19.1.2).
        if secure && transport == Some(Transport::Tcp) {
            transport = Some(Transport::Tls);
        }
        Ok(SipUri {
            secure,
            host,
            port,
            transport,
        })
    }
}

fn split_host_port(text: &str) -> Option<(Host, Option<u16>)> {
    let port = |p: &str| -> Option<Option<u16>> {
        match p {
            "" => None,
            p if p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse().ok().filter(|&n| n > 0).map(Some)
            }
            _ => None,
        }
    };
    if let Some(rest) = text.strip_prefix('[') {
        let (address, after) = rest.split_once(']')?;
        let address: std::net::Ipv6Addr = address.parse().ok()?;
        let port = match after {
            "" => None,
            after => port(after.strip_prefix(':')?)?,
        };
        return Some((Host::Address(IpAddr::V6(address)), port));
    }
    let (host, port) = match text.split_once(':') {
        Some((host, p)) => (host, port(p)?),
        None => (text, None),
    };
    if host.is_empty() {
        return None;
    }
    if let Ok(v4) = host.parse::<std::net::Ipv4Addr>() {
        return Some((Host::Address(IpAddr::V4(v4)), port));
    }
    let valid = host.len() <= 253
        && host.trim_end_matches('.').split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    valid.then(|| {
        (
            Host::Domain(host.trim_end_matches('.').to_ascii_lowercase()),
            port,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_ports_and_transports_are_read_and_the_rest_ignored() {
        let uri = SipUri::parse("sips:alice@Example.COM;transport=tcp;lr?subject=x").unwrap();
        assert_eq!(
            uri,
            SipUri {
                secure: true,
                host: Host::Domain("example.com".into()),
                port: None,
                transport: Some(Transport::Tls)
            }
        );
        let uri = SipUri::parse("sip:[2001:db8::1]:5070;transport=udp").unwrap();
        assert_eq!(uri.host, Host::Address("2001:db8::1".parse().unwrap()));
        assert_eq!(
            (uri.port, uri.transport),
            (Some(5070), Some(Transport::Udp))
        );
        let uri = SipUri::parse("sips:192.0.2.7").unwrap();
        assert_eq!(uri.host, Host::Address("192.0.2.7".parse().unwrap()));
        assert_eq!(
            SipUri::parse("sip:u:pw@h.test:5080").unwrap().port,
            Some(5080)
        );
    }

    #[test]
    fn what_cannot_be_resolved_is_refused() {
        for bad in [
            "example.com",
            "tel:+15551234",
            "sips:example.com;transport=udp",
            "sips:example.com;transport=sctp",
            "sip:example.com;transport=tcp;transport=udp",
            "sips:[2001:db8::1",
            "sips:2001:db8::1",
            "sips:example.com:0",
            "sips:example.com:99999",
            "sips:example.com:50x",
            "sips:",
            "sips:exa_mple.com",
            "sips:-bad.example.com",
        ] {
            let e = SipUri::parse(bad).unwrap_err();
            assert_eq!(e.code, SIPTLS_ERR_INVALID_ARGUMENT, "{bad}");
            assert!(e.detail.contains(bad), "{bad}: {}", e.detail);
        }
    }
}
