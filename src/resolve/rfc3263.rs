//! RFC 3263 section 4, client side: from a SIP or SIPS URI and DNS answers
//! to the ordered list of targets (transport, host, port, address), each
//! with the name its certificate must carry. That name is the URI's domain
//! (RFC 5922 section 4.1), never the SRV target's host: a carrier's SRV
//! record may point anywhere, and only the domain the user asked for is
//! what the certificate proves. DNS comes from a `Lookup` the caller
//! supplies, and the SRV choice from its random numbers, so the order is
//! testable.

use crate::abi::siptls_result::{
    SIPTLS_ERR_DNS_FAILED, SIPTLS_ERR_DNS_NOT_FOUND, SIPTLS_ERR_DNS_TIMEOUT,
};
use std::net::IpAddr;

use super::sip_uri::{Host, SipUri, Transport};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    Naptr,
    Srv,
    A,
    Aaaa,
}

impl RecordType {
    pub fn name(self) -> &'static str {
        match self {
            RecordType::Naptr => "NAPTR",
            RecordType::Srv => "SRV",
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    Naptr {
        order: u16,
        preference: u16,
        flags: String,
        services: String,
        regexp: String,
        replacement: String,
    },
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    Address(IpAddr),
    Cname(String),
}

/// One record of an answer: its owner name, data and TTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub ttl: u32,
    pub data: Data,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// The server answered that the name does not exist (NXDOMAIN).
    NoSuchName,
    /// No server answered in time.
    Timeout(String),
    /// A server failure, a refusal, or an answer that does not parse.
    Failed(String),
}

/// Where DNS answers come from: the system's resolver, a server named by
/// the caller, or the gateway's own (through its callback).
pub trait Lookup {
    /// The answer section for `name` and `kind` (CNAME records included).
    fn lookup(
        &mut self,
        name: &str,
        kind: RecordType,
    ) -> std::result::Result<Vec<Record>, LookupError>;
}

/// One place to try, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub transport: Transport,
    /// The host the address came from (the SRV target, or the URI's host).
    pub host: String,
    pub port: u16,
    pub address: IpAddr,
    /// The name the certificate must carry: the URI's domain, or for a
    /// numeric host its address (RFC 5922).
    pub verify_name: String,
    /// Seconds this target may be cached: the smallest TTL on its path.
    pub ttl: u32,
}

/// CNAMEs followed for one name before the chain counts as a loop.
const CNAME_LIMIT: usize = 8;
/// Targets produced at most: a gateway tries a handful.
const TARGET_LIMIT: usize = 64;
/// The TTL of what did not come from DNS (a numeric host).
const NO_DNS_TTL: u32 = u32::MAX;

fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

struct Resolution<'a> {
    dns: &'a mut dyn Lookup,
    random: &'a mut dyn FnMut(u32) -> u32,
    /// Why a step found nothing, for the detail when nothing is found at all.
    notes: Vec<String>,
    /// The first lookup that failed (timeout, server failure): the answer
    /// when no target is found at all. A failure of one lookup does not
    /// cost the targets the others found.
    failure: Option<Error>,
}

impl Resolution<'_> {
    /// The records `records` finds, or none when the lookup failed: the
    /// failure is kept (see `failure`) and noted.
    fn records_or_note(&mut self, name: &str, kind: RecordType) -> (Vec<Data>, u32) {
        self.records(name, kind).unwrap_or_else(|e| {
            self.notes.push(e.detail.clone());
            self.failure.get_or_insert(e);
            (Vec::new(), u32::MAX)
        })
    }

    /// Records of `kind` for `name`, CNAMEs followed (in the answer, or
    /// by asking again for the chain's end); the smallest TTL seen.
    fn records(&mut self, name: &str, kind: RecordType) -> Result<(Vec<Data>, u32)> {
        let mut current = name.trim_end_matches('.').to_ascii_lowercase();
        let mut seen = vec![current.clone()];
        let mut ttl = u32::MAX;
        let mut answer = self.ask(&current, kind)?;
        for _ in 0..=CNAME_LIMIT {
            let wanted: Vec<&Record> = answer
                .iter()
                .filter(|r| same_name(&r.name, &current))
                .filter(|r| {
                    matches!(
                        (&r.data, kind),
                        (Data::Naptr { .. }, RecordType::Naptr)
                            | (Data::Srv { .. }, RecordType::Srv)
                            | (Data::Address(IpAddr::V4(_)), RecordType::A)
                            | (Data::Address(IpAddr::V6(_)), RecordType::Aaaa)
                    )
                })
                .collect();
            if !wanted.is_empty() {
                ttl = wanted.iter().map(|r| r.ttl).fold(ttl, u32::min);
                return Ok((wanted.into_iter().map(|r| r.data.clone()).collect(), ttl));
            }
            let alias = answer.iter().find_map(|r| match &r.data {
                Data::Cname(target) if same_name(&r.name, &current) => {
                    Some((target.clone(), r.ttl))
                }
                _ => None,
            });
            let Some((target, alias_ttl)) = alias else {
                return Ok((Vec::new(), ttl));
            };
            let target = target.trim_end_matches('.').to_ascii_lowercase();
            if seen.contains(&target) {
                self.notes
                    .push(format!("the CNAME chain of {name} loops at {target}"));
                return Ok((Vec::new(), ttl));
            }
            seen.push(target.clone());
            ttl = ttl.min(alias_ttl);
            current = target;
            // The server may have put the rest of the chain in this answer.
            if !answer.iter().any(|r| same_name(&r.name, &current)) {
                answer = self.ask(&current, kind)?;
            }
        }
        self.notes.push(format!(
            "the CNAME chain of {name} is longer than {CNAME_LIMIT}"
        ));
        Ok((Vec::new(), ttl))
    }

    fn ask(&mut self, name: &str, kind: RecordType) -> Result<Vec<Record>> {
        match self.dns.lookup(name, kind) {
            Ok(answer) => Ok(answer),
            Err(LookupError::NoSuchName) => {
                self.notes
                    .push(format!("{name} does not exist ({} query)", kind.name()));
                Ok(Vec::new())
            }
            Err(LookupError::Timeout(why)) => Err(Error::new(
                SIPTLS_ERR_DNS_TIMEOUT,
                format!(
                    "No DNS server answered the {} query for {name} in time: {why}",
                    kind.name()
                ),
            )),
            Err(LookupError::Failed(why)) => Err(Error::new(
                SIPTLS_ERR_DNS_FAILED,
                format!("The DNS {} query for {name} failed: {why}", kind.name()),
            )),
        }
    }

    /// AAAA then A records of `host`, as targets.
    fn addresses(
        &mut self,
        host: &str,
        transport: Transport,
        port: u16,
        verify_name: &str,
        ttl: u32,
        out: &mut Vec<Target>,
    ) {
        for kind in [RecordType::Aaaa, RecordType::A] {
            if out.len() == TARGET_LIMIT {
                return;
            }
            let (found, found_ttl) = self.records_or_note(host, kind);
            for data in found {
                if let (Data::Address(address), true) = (data, out.len() < TARGET_LIMIT) {
                    out.push(Target {
                        transport,
                        host: host.to_owned(),
                        port,
                        address,
                        verify_name: verify_name.to_owned(),
                        ttl: ttl.min(found_ttl),
                    });
                }
            }
        }
    }

    /// The SRV records of `name` in RFC 2782 order, their hosts resolved.
    fn srv(
        &mut self,
        name: &str,
        transport: Transport,
        verify_name: &str,
        ttl: u32,
        out: &mut Vec<Target>,
    ) -> bool {
        let (found, srv_ttl) = self.records_or_note(name, RecordType::Srv);
        let mut records: Vec<(u16, u16, u16, String)> = found
            .into_iter()
            .filter_map(|d| match d {
                Data::Srv {
                    priority,
                    weight,
                    port,
                    target,
                } => Some((priority, weight, port, target)),
                _ => None,
            })
            .collect();
        if records.is_empty() {
            return false;
        }
        // RFC 2782: a single record with the target "." says the service
        // is decidedly not available at this domain.
        if records.iter().all(|r| r.3.trim_end_matches('.').is_empty()) {
            self.notes.push(format!(
                "{name} says the service is not available (SRV target \".\")"
            ));
            return true;
        }
        records.retain(|r| !r.3.trim_end_matches('.').is_empty());
        records.sort_by_key(|r| r.0);
        let ttl = ttl.min(srv_ttl);
        for ordered in order_by_weight(records, self.random) {
            self.addresses(&ordered.3, transport, ordered.2, verify_name, ttl, out);
        }
        true
    }
}

/// RFC 2782's selection within each priority: zero weights first, then a
/// running sum against a random number in 0..=sum picks the next record.
fn order_by_weight(
    records: Vec<(u16, u16, u16, String)>,
    random: &mut dyn FnMut(u32) -> u32,
) -> Vec<(u16, u16, u16, String)> {
    let mut ordered = Vec::with_capacity(records.len());
    let mut rest = records.into_iter().peekable();
    while let Some(first) = rest.next() {
        let priority = first.0;
        let mut group = vec![first];
        while let Some(next) = rest.next_if(|r| r.0 == priority) {
            group.push(next);
        }
        group.sort_by_key(|r| r.1 != 0);
        while !group.is_empty() {
            let sum: u32 = group.iter().map(|r| u32::from(r.1)).sum();
            let pick = random(sum).min(sum);
            let mut running = 0;
            let index = group
                .iter()
                .position(|r| {
                    running += u32::from(r.1);
                    running >= pick
                })
                .unwrap_or(0);
            ordered.push(group.remove(index));
        }
    }
    ordered
}

/// The transports a URI may use, in the order siptls prefers: TLS first.
/// The last is the one RFC 3263 falls back to without NAPTR or SRV (and
/// for a numeric host): the only one when the URI names one, TLS for
/// sips:, UDP for sip:.
fn transports(uri: &SipUri) -> Vec<Transport> {
    match (uri.transport, uri.secure) {
        (Some(t), _) => vec![t],
        (None, true) => vec![Transport::Tls],
        (None, false) => vec![Transport::Tls, Transport::Tcp, Transport::Udp],
    }
}

/// The targets for `uri`, in the order to try them.
pub fn resolve(
    uri: &SipUri,
    dns: &mut dyn Lookup,
    random: &mut dyn FnMut(u32) -> u32,
) -> Result<Vec<Target>> {
    let allowed = transports(uri);
    let fallback = *allowed.last().expect("a URI allows a transport");
    let domain = match &uri.host {
        // A numeric host: no DNS at all (RFC 3263 sections 4.1 and 4.2).
        Host::Address(address) => {
            return Ok(vec![Target {
                transport: fallback,
                host: address.to_string(),
                port: uri.port.unwrap_or(fallback.default_port()),
                address: *address,
                verify_name: address.to_string(),
                ttl: NO_DNS_TTL,
            }]);
        }
        Host::Domain(domain) => domain.clone(),
    };
    let mut run = Resolution {
        dns,
        random,
        notes: Vec::new(),
        failure: None,
    };
    let mut out = Vec::new();
    if let Some(port) = uri.port {
        // A port given: A/AAAA only.
        run.addresses(&domain, fallback, port, &domain, u32::MAX, &mut out);
    } else {
        let mut via_naptr = false;
        if uri.transport.is_none() {
            let (found, naptr_ttl) = run.records(&domain, RecordType::Naptr)?;
            let mut usable: Vec<(u16, u16, Transport, String)> = Vec::new();
            for data in found {
                let Data::Naptr {
                    order,
                    preference,
                    flags,
                    services,
                    regexp,
                    replacement,
                } = data
                else {
                    continue;
                };
                let transport = allowed
                    .iter()
                    .copied()
                    .find(|t| services.eq_ignore_ascii_case(t.naptr_service()));
                let replacement = replacement.trim_end_matches('.').to_owned();
                match transport {
                    None => run.notes.push(format!(
                        "a NAPTR record of {domain} offers {services}, which a {} URI does not use",
                        if uri.secure { "sips:" } else { "sip:" }
                    )),
                    Some(_) if !flags.eq_ignore_ascii_case("s") || !regexp.is_empty() || replacement.is_empty() => {
                        run.notes.push(format!(
                            "a NAPTR record of {domain} for {services} is not the SRV pointer RFC 3263 uses (flags \"{flags}\", regexp \"{regexp}\", replacement \"{replacement}\")"
                        ))
                    }
                    Some(transport) => usable.push((order, preference, transport, replacement)),
                }
            }
            usable.sort_by_key(|n| (n.0, n.1));
            for (_, _, transport, srv_name) in usable {
                via_naptr = true;
                run.srv(&srv_name, transport, &domain, naptr_ttl, &mut out);
            }
        }
        if !via_naptr {
            let mut any_srv = false;
            for transport in &allowed {
                let name = format!("{}{domain}", transport.srv_prefix());
                any_srv |= run.srv(&name, *transport, &domain, u32::MAX, &mut out);
            }
            if !any_srv {
                run.addresses(
                    &domain,
                    fallback,
                    fallback.default_port(),
                    &domain,
                    u32::MAX,
                    &mut out,
                );
            }
        }
    }
    if let (true, Some(failure)) = (out.is_empty(), run.failure) {
        return Err(failure);
    }
    if out.is_empty() {
        let why = if run.notes.is_empty() {
            "no NAPTR, SRV, A or AAAA record gives an address".to_owned()
        } else {
            run.notes.join("; ")
        };
        return Err(Error::new(
            SIPTLS_ERR_DNS_NOT_FOUND,
            format!("No target for {domain}: {why}"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A zone in memory: answers by (name, type).
    #[derive(Default)]
    struct Zone(BTreeMap<(String, &'static str), Vec<Record>>, Vec<String>);

    impl Zone {
        fn add(&mut self, name: &str, kind: RecordType, data: Data) -> &mut Self {
            self.0
                .entry((name.into(), kind.name()))
                .or_default()
                .push(Record {
                    name: name.into(),
                    ttl: 300,
                    data,
                });
            self
        }
    }

    impl Lookup for Zone {
        fn lookup(
            &mut self,
            name: &str,
            kind: RecordType,
        ) -> std::result::Result<Vec<Record>, LookupError> {
            self.1.push(format!("{} {name}", kind.name()));
            if name == "timeout.test" {
                return Err(LookupError::Timeout("3 tries of 1 s".into()));
            }
            let direct = self.0.get(&(name.to_owned(), kind.name())).cloned();
            let alias = self
                .0
                .iter()
                .find(|((n, _), r)| n == name && matches!(r[0].data, Data::Cname(_)))
                .map(|(_, r)| r.clone());
            Ok(direct.or(alias).unwrap_or_default())
        }
    }

    fn a(ip: &str) -> Data {
        Data::Address(ip.parse().unwrap())
    }
    fn srv(priority: u16, weight: u16, port: u16, target: &str) -> Data {
        Data::Srv {
            priority,
            weight,
            port,
            target: target.into(),
        }
    }
    fn naptr(order: u16, services: &str, replacement: &str) -> Data {
        Data::Naptr {
            order,
            preference: 10,
            flags: "s".into(),
            services: services.into(),
            regexp: String::new(),
            replacement: replacement.into(),
        }
    }

    fn run(zone: &mut Zone, uri: &str) -> Result<Vec<Target>> {
        let mut first = |_: u32| 0;
        resolve(&SipUri::parse(uri).unwrap(), zone, &mut first)
    }

    #[test]
    fn naptr_then_srv_then_addresses_with_the_uri_domain_to_verify() {
        let mut zone = Zone::default();
        zone.add(
            "example.test",
            RecordType::Naptr,
            naptr(20, "SIPS+D2T", "_sips._tcp.example.test"),
        )
        .add(
            "example.test",
            RecordType::Naptr,
            naptr(10, "SIP+D2U", "_sip._udp.example.test"),
        )
        .add(
            "_sips._tcp.example.test",
            RecordType::Srv,
            srv(10, 0, 5071, "edge.carrier.test"),
        )
        .add("edge.carrier.test", RecordType::A, a("192.0.2.10"));
        let targets = run(&mut zone, "sips:alice@example.test").unwrap();
        assert_eq!(
            targets,
            vec![Target {
                transport: Transport::Tls,
                host: "edge.carrier.test".into(),
                port: 5071,
                address: "192.0.2.10".parse().unwrap(),
                verify_name: "example.test".into(),
                ttl: 300,
            }]
        );
        // The UDP NAPTR was not followed for a sips: URI.
        assert!(
            !zone.1.iter().any(|q| q.contains("_sip._udp")),
            "{:?}",
            zone.1
        );
    }

    #[test]
    fn without_naptr_srv_and_without_srv_the_domain_on_5061() {
        let mut zone = Zone::default();
        zone.add("srv.test", RecordType::Srv, srv(0, 0, 0, "unused"))
            .add(
                "_sips._tcp.srv.test",
                RecordType::Srv,
                srv(1, 0, 5062, "host.srv.test"),
            )
            .add("host.srv.test", RecordType::Aaaa, a("2001:db8::5"))
            .add("host.srv.test", RecordType::A, a("192.0.2.5"))
            .add("plain.test", RecordType::A, a("192.0.2.6"));
        let targets = run(&mut zone, "sips:srv.test").unwrap();
        let got: Vec<_> = targets
            .iter()
            .map(|t| (t.address.to_string(), t.port))
            .collect();
        assert_eq!(
            got,
            [
                ("2001:db8::5".to_string(), 5062),
                ("192.0.2.5".to_string(), 5062)
            ]
        );
        let targets = run(&mut zone, "sips:plain.test").unwrap();
        assert_eq!(
            (targets[0].port, targets[0].transport),
            (5061, Transport::Tls)
        );
        // A port in the URI: straight to A/AAAA.
        let targets = run(&mut zone, "sips:plain.test:5099").unwrap();
        assert_eq!(targets[0].port, 5099);
        // A numeric host: no DNS, the address to verify.
        let targets = run(&mut zone, "sips:[2001:db8::9]").unwrap();
        assert_eq!(
            (targets[0].verify_name.as_str(), targets[0].port),
            ("2001:db8::9", 5061)
        );
    }

    #[test]
    fn weights_share_out_the_first_place_in_proportion() {
        let mut zone = Zone::default();
        zone.add(
            "_sips._tcp.w.test",
            RecordType::Srv,
            srv(10, 60, 5061, "a.w.test"),
        )
        .add(
            "_sips._tcp.w.test",
            RecordType::Srv,
            srv(10, 30, 5061, "b.w.test"),
        )
        .add(
            "_sips._tcp.w.test",
            RecordType::Srv,
            srv(10, 10, 5061, "c.w.test"),
        )
        .add(
            "_sips._tcp.w.test",
            RecordType::Srv,
            srv(20, 100, 5061, "d.w.test"),
        );
        for (host, ip) in [
            ("a", "192.0.2.1"),
            ("b", "192.0.2.2"),
            ("c", "192.0.2.3"),
            ("d", "192.0.2.4"),
        ] {
            zone.add(&format!("{host}.w.test"), RecordType::A, a(ip));
        }
        let mut counts = BTreeMap::new();
        let mut state = 12345u64;
        let mut random = |n: u32| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) % (u64::from(n) + 1)) as u32
        };
        let uri = SipUri::parse("sips:w.test").unwrap();
        for _ in 0..10_000 {
            let targets = resolve(&uri, &mut zone, &mut random).unwrap();
            assert_eq!(targets.len(), 4);
            assert_eq!(targets[3].host, "d.w.test", "the lower priority comes last");
            *counts.entry(targets[0].host.clone()).or_insert(0) += 1;
        }
        let share = |h: &str| f64::from(counts[h]) / 10_000.0;
        assert!((share("a.w.test") - 0.6).abs() < 0.03, "{counts:?}");
        assert!((share("b.w.test") - 0.3).abs() < 0.03, "{counts:?}");
        assert!((share("c.w.test") - 0.1).abs() < 0.03, "{counts:?}");
    }

    #[test]
    fn cnames_are_followed_and_loops_end() {
        let mut zone = Zone::default();
        zone.add("alias.test", RecordType::A, Data::Cname("real.test".into()))
            .add("real.test", RecordType::A, a("192.0.2.8"))
            .add(
                "loop1.test",
                RecordType::A,
                Data::Cname("loop2.test".into()),
            )
            .add(
                "loop2.test",
                RecordType::A,
                Data::Cname("loop1.test".into()),
            );
        let targets = run(&mut zone, "sips:alias.test").unwrap();
        assert_eq!(targets[0].address.to_string(), "192.0.2.8");
        assert_eq!(targets[0].verify_name, "alias.test");
        let e = run(&mut zone, "sips:loop1.test").unwrap_err();
        assert_eq!(e.code, SIPTLS_ERR_DNS_NOT_FOUND);
        assert!(e.detail.contains("loops"), "{}", e.detail);
    }

    #[test]
    fn unusable_records_are_skipped_with_reasons() {
        let mut zone = Zone::default();
        zone.add(
            "udp-only.test",
            RecordType::Naptr,
            naptr(10, "SIP+D2U", "_sip._udp.udp-only.test"),
        )
        .add(
            "_sip._udp.udp-only.test",
            RecordType::Srv,
            srv(1, 0, 5060, "h.test"),
        )
        .add("h.test", RecordType::A, a("192.0.2.9"))
        .add("_sips._tcp.closed.test", RecordType::Srv, srv(0, 0, 0, "."))
        .add("closed.test", RecordType::A, a("192.0.2.11"));
        let e = run(&mut zone, "sips:udp-only.test").unwrap_err();
        assert_eq!(e.code, SIPTLS_ERR_DNS_NOT_FOUND);
        assert!(e.detail.contains("SIP+D2U"), "{}", e.detail);
        // "." says not available: no fallback to the domain's A record.
        let e = run(&mut zone, "sips:closed.test").unwrap_err();
        assert!(e.detail.contains("not available"), "{}", e.detail);
        let e = run(&mut zone, "sips:timeout.test").unwrap_err();
        assert_eq!(e.code, SIPTLS_ERR_DNS_TIMEOUT);
        let e = run(&mut zone, "sips:absent.test").unwrap_err();
        assert_eq!(e.code, SIPTLS_ERR_DNS_NOT_FOUND);
    }

    #[test]
    fn a_failed_lookup_costs_only_its_own_targets() {
        let mut zone = Zone::default();
        zone.add(
            "_sips._tcp.mixed.test",
            RecordType::Srv,
            srv(10, 0, 5061, "timeout.test"),
        )
        .add(
            "_sips._tcp.mixed.test",
            RecordType::Srv,
            srv(20, 0, 5062, "b.test"),
        )
        .add("b.test", RecordType::A, a("192.0.2.20"))
        .add(
            "_sips._tcp.dead.test",
            RecordType::Srv,
            srv(10, 0, 5061, "timeout.test"),
        );
        let found = run(&mut zone, "sips:mixed.test").unwrap();
        let found: Vec<_> = found.iter().map(|t| (t.host.as_str(), t.port)).collect();
        assert_eq!(found, [("b.test", 5062)]);
        // Nothing found at all: the failure, not "no record", is the answer.
        let e = run(&mut zone, "sips:dead.test").unwrap_err();
        assert_eq!(e.code, SIPTLS_ERR_DNS_TIMEOUT);
        assert!(e.detail.contains("timeout.test"), "{}", e.detail);
    }
}
