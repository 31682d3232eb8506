//! The default `Lookup`: DNS over UDP to the servers of
//! `/etc/resolv.conf` (or one the caller names), TCP when an answer comes
//! back truncated; synchronous, each query bounded by its timeout and
//! attempts, no async runtime. Messages are built and parsed by
//! simple-dns; resolv.conf is read by resolv-conf.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use simple_dns::rdata::RData;
use simple_dns::{Name, Packet, PacketFlag, Question, CLASS, QCLASS, QTYPE, RCODE, TYPE};

use super::rfc3263::{Data, Lookup, LookupError, Record, RecordType};
use crate::abi::siptls_result::SIPTLS_ERR_INVALID_ARGUMENT;
use crate::error::{Error, Result};

pub struct SystemDns {
    servers: Vec<SocketAddr>,
    timeout: Duration,
    attempts: u32,
}

impl SystemDns {
    /// The servers, timeout and attempts of a resolv.conf file.
    pub fn from_resolv_conf(path: &Path) -> Result<SystemDns> {
        let text = crate::pem::read_file(path)?;
        let config = resolv_conf::Config::parse(&text).map_err(|e| {
            Error::new(
                SIPTLS_ERR_INVALID_ARGUMENT,
                format!("{} does not parse as resolv.conf: {e}", path.display()),
            )
        })?;
        let servers: Vec<SocketAddr> = config
            .nameservers
            .iter()
            .map(|s| SocketAddr::new(IpAddr::from(s.clone()), 53))
            .collect();
        if servers.is_empty() {
            return Err(Error::new(
                SIPTLS_ERR_INVALID_ARGUMENT,
                format!("{} names no nameserver", path.display()),
            ));
        }
        Ok(SystemDns {
            servers,
            timeout: Duration::from_secs(u64::from(config.timeout.max(1))),
            attempts: config.attempts.max(1),
        })
    }

    /// The caller's timeout and attempts over resolv.conf's.
    pub fn limited(mut self, timeout: Option<Duration>, attempts: Option<u32>) -> SystemDns {
        self.timeout = timeout.unwrap_or(self.timeout);
        self.attempts = attempts.unwrap_or(self.attempts).max(1);
        self
    }

    /// One server, e.g. 127.0.0.1:5353.
    pub fn with_server(server: SocketAddr, timeout: Duration, attempts: u32) -> SystemDns {
        SystemDns {
            servers: vec![server],
            timeout,
            attempts: attempts.max(1),
        }
    }

    fn query(&self, name: &str, kind: RecordType) -> std::result::Result<Vec<u8>, LookupError> {
        let qtype = match kind {
            RecordType::Naptr => TYPE::NAPTR,
            RecordType::Srv => TYPE::SRV,
            RecordType::A => TYPE::A,
            RecordType::Aaaa => TYPE::AAAA,
        };
        let mut id = [0u8; 2];
        aws_lc_rs::rand::fill(&mut id)
            .map_err(|_| LookupError::Failed("no random query ID".into()))?;
        let name = Name::new(name)
            .map_err(|e| LookupError::Failed(format!("{name} is no DNS name: {e}")))?;
        let mut packet = Packet::new_query(u16::from_be_bytes(id));
        packet.set_flags(PacketFlag::RECURSION_DESIRED);
        packet.questions.push(Question::new(
            name,
            QTYPE::TYPE(qtype),
            QCLASS::CLASS(CLASS::IN),
            false,
        ));
        let query = packet
            .build_bytes_vec()
            .map_err(|e| LookupError::Failed(format!("the query cannot be built: {e}")))?;
        let (mut failures, mut all_silent) = (Vec::new(), true);
        for _ in 0..self.attempts {
            for &server in &self.servers {
                match self.over_udp(server, &query) {
                    Ok(answer) => return Ok(answer),
                    Err(Exchange { silent, why }) => {
                        all_silent &= silent;
                        failures.push(format!("{server}: {why}"));
                    }
                }
            }
        }
        let tries = format!(
            "{} tries of {} ms each ({})",
            failures.len(),
            self.timeout.as_millis(),
            failures.join("; ")
        );
        // A refusal or a broken TCP answer is no timeout.
        Err(match all_silent {
            true => LookupError::Timeout(tries),
            false => LookupError::Failed(tries),
        })
    }

    /// One exchange: the reply with our ID from the server asked, or TCP
    /// when it is truncated.
    fn over_udp(&self, server: SocketAddr, query: &[u8]) -> std::result::Result<Vec<u8>, Exchange> {
        let local: SocketAddr = match server {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let socket = UdpSocket::bind(local).map_err(Exchange::io)?;
        socket.send_to(query, server).map_err(Exchange::io)?;
        let deadline = Instant::now() + self.timeout;
        let mut buf = vec![0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Exchange::silent());
            }
            socket.set_read_timeout(Some(left)).map_err(Exchange::io)?;
            let (len, from) = socket.recv_from(&mut buf).map_err(Exchange::io)?;
            // Only the server asked, answering our ID, counts.
            if from != server || len < 12 || buf[..2] != query[..2] {
                continue;
            }
            let reply = &buf[..len];
            let truncated = reply[2] & 0x02 != 0;
            return if truncated {
                self.over_tcp(server, query)
            } else {
                Ok(reply.to_vec())
            };
        }
    }

    fn over_tcp(&self, server: SocketAddr, query: &[u8]) -> std::result::Result<Vec<u8>, Exchange> {
        let mut stream = TcpStream::connect_timeout(&server, self.timeout).map_err(Exchange::io)?;
        stream
            .set_read_timeout(Some(self.timeout))
            .map_err(Exchange::io)?;
        stream
            .set_write_timeout(Some(self.timeout))
            .map_err(Exchange::io)?;
        let mut framed = (query.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(query);
        stream.write_all(&framed).map_err(Exchange::io)?;
        let mut length = [0u8; 2];
        stream.read_exact(&mut length).map_err(Exchange::io)?;
        let mut reply = vec![0u8; usize::from(u16::from_be_bytes(length))];
        stream.read_exact(&mut reply).map_err(Exchange::io)?;
        if reply.len() < 2 || reply[..2] != query[..2] {
            return Err(Exchange::failed("a TCP answer with another ID"));
        }
        Ok(reply)
    }
}

/// Why one exchange with one server gave no answer.
struct Exchange {
    /// Nothing came back in time (as opposed to a refusal or an error).
    silent: bool,
    why: String,
}

impl Exchange {
    fn silent() -> Self {
        Exchange {
            silent: true,
            why: "no answer".into(),
        }
    }

    /// A socket error: silence when it is the read timing out.
    fn io(e: std::io::Error) -> Self {
        use std::io::ErrorKind::{TimedOut, WouldBlock};
        match e.kind() {
            WouldBlock | TimedOut => Self::silent(),
            _ => Self::failed(e),
        }
    }

    fn failed(why: impl std::fmt::Display) -> Self {
        Exchange {
            silent: false,
            why: why.to_string(),
        }
    }
}

/// The answer section of a reply as records siptls reads.
pub fn records(reply: &[u8]) -> std::result::Result<Vec<Record>, LookupError> {
    let packet = Packet::parse(reply)
        .map_err(|e| LookupError::Failed(format!("the answer does not parse: {e}")))?;
    match packet.rcode() {
        RCODE::NoError => {}
        RCODE::NameError => return Err(LookupError::NoSuchName),
        other => {
            return Err(LookupError::Failed(format!(
                "the server answered {other:?}"
            )))
        }
    }
    let text = |s: &dyn std::fmt::Display| s.to_string();
    Ok(packet
        .answers
        .iter()
        .filter_map(|rr| {
            let data = match &rr.rdata {
                RData::NAPTR(n) => Data::Naptr {
                    order: n.order,
                    preference: n.preference,
                    flags: text(&n.flags),
                    services: text(&n.services),
                    regexp: text(&n.regexp),
                    replacement: text(&n.replacement),
                },
                RData::SRV(s) => Data::Srv {
                    priority: s.priority,
                    weight: s.weight,
                    port: s.port,
                    target: text(&s.target),
                },
                RData::A(a) => Data::Address(IpAddr::V4(Ipv4Addr::from(a.address))),
                RData::AAAA(a) => Data::Address(IpAddr::V6(Ipv6Addr::from(a.address))),
                RData::CNAME(c) => Data::Cname(text(&c.0)),
                _ => return None,
            };
            Some(Record {
                name: text(&rr.name),
                ttl: rr.ttl,
                data,
            })
        })
        .collect())
}

impl Lookup for SystemDns {
    fn lookup(
        &mut self,
        name: &str,
        kind: RecordType,
    ) -> std::result::Result<Vec<Record>, LookupError> {
        records(&self.query(name, kind)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::rfc3263::resolve;
    use crate::resolve::sip_uri::SipUri;

    #[test]
    fn a_server_that_never_answers_times_out_within_its_bound() {
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut dns =
            SystemDns::with_server(silent.local_addr().unwrap(), Duration::from_millis(300), 2);
        let started = Instant::now();
        let mut first = |_: u32| 0;
        let e = resolve(
            &SipUri::parse("sips:example.test").unwrap(),
            &mut dns,
            &mut first,
        )
        .unwrap_err();
        assert_eq!(e.code, crate::abi::siptls_result::SIPTLS_ERR_DNS_TIMEOUT);
        assert!(e.detail.contains("2 tries of 300 ms"), "{}", e.detail);
        // Two attempts of 300 ms, and no more: bounded, never a hang.
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_server_that_refuses_fails_and_is_not_called_a_timeout() {
        // It answers every query truncated, sending the resolver to TCP,
        // where nothing listens: the connection is refused at once.
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let server = udp.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok((len, from)) = udp.recv_from(&mut buf) {
                let mut reply = buf[..len.min(12)].to_vec();
                reply.resize(12, 0);
                reply[2] |= 0x82; // a response, truncated
                let _ = udp.send_to(&reply, from);
            }
        });
        let mut dns = SystemDns::with_server(server, Duration::from_millis(300), 2);
        let e = dns.lookup("example.test", RecordType::A).unwrap_err();
        let LookupError::Failed(why) = e else {
            panic!("a refusal is not a timeout: {e:?}");
        };
        assert!(why.contains("2 tries") && why.contains("refused"), "{why}");
    }

    #[test]
    fn resolv_conf_gives_servers_timeout_and_attempts() {
        let dir = std::env::temp_dir().join(format!("siptls-resolv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("resolv.conf");
        std::fs::write(
            &path,
            "nameserver 192.0.2.53\nnameserver 2001:db8::53\noptions timeout:3 attempts:4\n",
        )
        .unwrap();
        let dns = SystemDns::from_resolv_conf(&path).unwrap();
        assert_eq!(dns.servers.len(), 2);
        assert_eq!((dns.timeout, dns.attempts), (Duration::from_secs(3), 4));
        std::fs::write(&path, "# nothing\n").unwrap();
        let refused = SystemDns::from_resolv_conf(&path).err().unwrap();
        assert!(
            refused.detail.contains("no nameserver"),
            "{}",
            refused.detail
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
