//! RFC 3263 resolution through the C ABI, against a real DNS server
//! (dnsmasq) started by each test: NAPTR, SRV only, A/AAAA only, weighted
//! SRV records (the distribution over many draws), a NAPTR for a non-TLS
//! service skipped for sips:, a CNAME, a name that does not exist, a
//! server that never answers; the gateway's own DNS through the callback;
//! and the name to verify: a certificate naming only the SRV target host
//! fails, one naming the SIP domain passes.

mod common;
use common::dnsmasq::{ask, Dnsmasq};
use common::*;

use std::ffi::{c_char, c_void, CStr};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

const ZONE: &[&str] = &[
    "--naptr-record=sip.example.test,10,10,s,SIP+D2U,,_sip._udp.sip.example.test",
    "--naptr-record=sip.example.test,20,10,s,SIPS+D2T,,_sips._tcp.sip.example.test",
    "--srv-host=_sip._udp.sip.example.test,udp.carrier.test,5060,10,0",
    "--srv-host=_sips._tcp.sip.example.test,edge.carrier.test,5071,10,0",
    "--host-record=edge.carrier.test,127.0.0.10",
    "--host-record=udp.carrier.test,127.0.0.11",
    "--srv-host=_sips._tcp.srv-only.test,edge.carrier.test,5072,10,0",
    "--host-record=a-only.test,127.0.0.12,::12",
    "--cname=alias.test,a-only.test",
    "--naptr-record=udp-only.test,10,10,s,SIP+D2U,,_sip._udp.udp-only.test",
    "--srv-host=_sip._udp.udp-only.test,udp.carrier.test,5060,10,0",
    "--srv-host=_sips._tcp.weights.test,w60.test,5061,10,60",
    "--srv-host=_sips._tcp.weights.test,w30.test,5061,10,30",
    "--srv-host=_sips._tcp.weights.test,w10.test,5061,10,10",
    "--host-record=w60.test,127.0.0.60",
    "--host-record=w30.test,127.0.0.30",
    "--host-record=w10.test,127.0.0.10",
    "--host-record=ready.test,127.0.0.1",
];

struct Found {
    code: siptls_result,
    /// What the call set `count_out` to: all the targets there are.
    count: usize,
    targets: Vec<siptls_target>,
}

fn empty_target() -> siptls_target {
    siptls_target {
        struct_size: std::mem::size_of::<siptls_target>() as u32,
        transport: 0,
        ttl: 0,
        address: [0; 16],
        host: [0; SIPTLS_TARGET_NAME_SIZE],
        verify_name: [0; SIPTLS_TARGET_NAME_SIZE],
        port: 0,
        family: 0,
    }
}

fn config(server: Option<&CStr>) -> siptls_resolver_config {
    siptls_resolver_config {
        struct_size: std::mem::size_of::<siptls_resolver_config>() as u32,
        timeout_ms: 2000,
        attempts: 2,
        nameserver: server.map_or(std::ptr::null(), CStr::as_ptr),
        query: None,
        random: None,
        userdata: std::ptr::null_mut(),
    }
}

fn resolve_with(uri: &str, config: &siptls_resolver_config, cap: usize) -> Found {
    let uri = cstring(uri);
    let mut targets = vec![empty_target(); cap.max(1)];
    let mut count = usize::MAX;
    let code = unsafe {
        siptls_get_uri_targets(uri.as_ptr(), config, targets.as_mut_ptr(), cap, &mut count)
    };
    targets.truncate(count.min(cap));
    Found {
        code,
        count,
        targets,
    }
}

fn text(chars: &[c_char]) -> String {
    unsafe { CStr::from_ptr(chars.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

fn address(t: &siptls_target) -> IpAddr {
    match t.family {
        4 => IpAddr::V4(Ipv4Addr::new(
            t.address[0],
            t.address[1],
            t.address[2],
            t.address[3],
        )),
        _ => IpAddr::V6(Ipv6Addr::from(t.address)),
    }
}

/// (transport, host, port, address, name to verify) of each target.
fn summary(found: &Found) -> Vec<(u32, String, u16, String, String)> {
    found
        .targets
        .iter()
        .map(|t| {
            (
                t.transport,
                text(&t.host),
                t.port,
                address(t).to_string(),
                text(&t.verify_name),
            )
        })
        .collect()
}

const TLS: u32 = siptls_transport::SIPTLS_TRANSPORT_TLS as u32;

#[test]
fn naptr_srv_and_address_records_from_a_real_dns_server() {
    let dns = Dnsmasq::start(ZONE);
    let server = cstring(&dns.server.to_string());
    let config = config(Some(&server));
    let go = |uri: &str| {
        let found = resolve_with(uri, &config, 8);
        // The resolver's output per domain, for the record (--nocapture).
        eprintln!("{uri}: {:?} {:?}", found.code, summary(&found));
        found
    };
    let edge = [(
        TLS,
        "edge.carrier.test".to_string(),
        5071,
        "127.0.0.10".to_string(),
        "sip.example.test".to_string(),
    )];
    // NAPTR: the UDP record comes first by order and is skipped for sips:.
    let naptr = go("sips:sip.example.test");
    assert_eq!(naptr.code, SIPTLS_OK, "{}", last_error());
    assert_eq!(summary(&naptr), edge);
    // transport=tcp with sips: means TLS; a transport skips NAPTR for SRV.
    assert_eq!(
        summary(&go("sips:alice@sip.example.test;transport=tcp")),
        edge
    );
    assert_eq!(naptr.targets[0].ttl, 60);
    // SRV only.
    let srv = go("sips:srv-only.test");
    assert_eq!(summary(&srv)[0].2, 5072);
    assert_eq!(summary(&srv)[0].4, "srv-only.test");
    // A and AAAA only: port 5061, IPv6 first.
    let plain = go("sips:a-only.test");
    let got: Vec<_> = summary(&plain).into_iter().map(|t| (t.3, t.2)).collect();
    assert_eq!(
        got,
        [("::12".to_string(), 5061), ("127.0.0.12".to_string(), 5061)]
    );
    // A CNAME: the name asked is the name to verify.
    let alias = go("sips:alias.test");
    assert_eq!(alias.targets.len(), 2);
    assert_eq!(text(&alias.targets[0].verify_name), "alias.test");
    // A sips: URI whose only NAPTR is UDP falls back to SRV, then A: none.
    let udp_only = go("sips:udp-only.test");
    assert_eq!(udp_only.code, SIPTLS_ERR_DNS_NOT_FOUND);
    assert!(last_error().contains("SIP+D2U"), "{}", last_error());
    // The same domain as sip: takes the UDP NAPTR.
    let sip = go("sip:udp-only.test");
    assert_eq!(
        sip.targets[0].transport,
        siptls_transport::SIPTLS_TRANSPORT_UDP as u32
    );
    // No such name.
    let absent = go("sips:absent.test");
    assert_eq!(absent.code, SIPTLS_ERR_DNS_NOT_FOUND);
    assert_sentence(&last_error());
    // More targets than room: the first ones, and how many there are.
    let short = resolve_with("sips:a-only.test", &config, 1);
    assert_eq!(short.code, SIPTLS_ERR_BUFFER_TOO_SMALL);
    assert_eq!(short.count, 2, "its AAAA and its A record");
    assert_eq!(text(&short.targets[0].host), "a-only.test");
}

unsafe extern "C" fn lcg(userdata: *mut c_void, bound: u32) -> u32 {
    let state = unsafe { &mut *(userdata as *mut u64) };
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*state >> 33) % (u64::from(bound) + 1)) as u32
}

#[test]
fn srv_weights_share_out_the_first_place_over_many_draws() {
    let dns = Dnsmasq::start(ZONE);
    let server = cstring(&dns.server.to_string());
    let mut state = 42u64;
    let mut config = config(Some(&server));
    config.random = Some(lcg);
    config.userdata = (&raw mut state).cast();
    let mut first = std::collections::BTreeMap::new();
    const DRAWS: u32 = 1000;
    for _ in 0..DRAWS {
        let found = resolve_with("sips:weights.test", &config, 8);
        assert_eq!(found.code, SIPTLS_OK, "{}", last_error());
        assert_eq!(found.targets.len(), 3);
        *first.entry(text(&found.targets[0].host)).or_insert(0u32) += 1;
    }
    let share = |host: &str| f64::from(first[host]) / f64::from(DRAWS);
    for (host, weight) in [("w60.test", 0.6), ("w30.test", 0.3), ("w10.test", 0.1)] {
        assert!((share(host) - weight).abs() < 0.05, "{first:?}");
    }
}

#[test]
fn a_server_that_never_answers_ends_in_a_timeout_within_its_bound() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = cstring(&silent.local_addr().unwrap().to_string());
    let mut config = config(Some(&server));
    config.timeout_ms = 200;
    config.attempts = 2;
    let started = Instant::now();
    let found = resolve_with("sips:example.test", &config, 8);
    assert_eq!(found.code, SIPTLS_ERR_DNS_TIMEOUT);
    assert!(
        last_error().contains("2 tries of 200 ms"),
        "{}",
        last_error()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// The gateway's own DNS: the callback asks dnsmasq itself.
unsafe extern "C" fn gateway_dns(
    userdata: *mut c_void,
    name: *const c_char,
    rrtype: u16,
    reply: *mut u8,
    cap: usize,
    len_out: *mut usize,
) -> u32 {
    let server = unsafe { *(userdata as *const SocketAddr) };
    let name = unsafe { CStr::from_ptr(name) }.to_str().unwrap();
    match ask(server, name, rrtype, Duration::from_secs(2)) {
        Some(answer) if answer.len() <= cap => {
            unsafe { std::ptr::copy_nonoverlapping(answer.as_ptr(), reply, answer.len()) };
            unsafe { *len_out = answer.len() };
            siptls_dns_status::SIPTLS_DNS_OK as u32
        }
        Some(_) => siptls_dns_status::SIPTLS_DNS_FAILED as u32,
        None => siptls_dns_status::SIPTLS_DNS_TIMEOUT as u32,
    }
}

#[test]
fn the_gateways_own_dns_answers_through_the_callback() {
    let dns = Dnsmasq::start(ZONE);
    let mut server = dns.server;
    let mut config = config(None);
    config.query = Some(gateway_dns);
    config.userdata = (&raw mut server).cast();
    let found = resolve_with("sips:sip.example.test", &config, 8);
    assert_eq!(found.code, SIPTLS_OK, "{}", last_error());
    assert_eq!(summary(&found)[0].1, "edge.carrier.test");
    assert_eq!(
        resolve_with("sips:absent.test", &config, 8).code,
        SIPTLS_ERR_DNS_NOT_FOUND
    );
    // A dead server behind the callback.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut server = silent.local_addr().unwrap();
    config.userdata = (&raw mut server).cast();
    assert_eq!(
        resolve_with("sips:sip.example.test", &config, 8).code,
        SIPTLS_ERR_DNS_TIMEOUT
    );
}

/// RFC 5922: the certificate must name the SIP domain of the URI; one that
/// names only the SRV target (the carrier's edge host) is refused.
#[test]
fn the_certificate_is_checked_against_the_sip_domain_not_the_srv_target() {
    let dns = Dnsmasq::start(ZONE);
    let server = cstring(&dns.server.to_string());
    let found = resolve_with("sips:sip.example.test", &config(Some(&server)), 8);
    let target = &found.targets[0];
    assert_eq!(text(&target.host), "edge.carrier.test");
    let verify_name = text(&target.verify_name);
    for (named, accepted) in [("sip.example.test", true), ("edge.carrier.test", false)] {
        let identity = pki().root.leaf(&LeafSpec::sip(named));
        let server = Ctx::new(siptls_role::SIPTLS_ROLE_SERVER);
        assert_eq!(
            server.set_identity(&identity.cert_pem, &identity.key_pem),
            SIPTLS_OK
        );
        let code = unsafe {
            siptls_ctx_set_client_auth(server.0, siptls_client_auth::SIPTLS_CLIENT_AUTH_OFF as u32)
        };
        assert_eq!(code, SIPTLS_OK);
        let client = Ctx::client();
        let c = Sess::new(&client, Some(&verify_name)).unwrap();
        let s = Sess::server(&server);
        let result = pump(&c, &s);
        assert_eq!(
            result.client == SIPTLS_OK,
            accepted,
            "{named}: {}",
            c.last_error()
        );
        if !accepted {
            assert_eq!(
                c.info().verify_status,
                SIPTLS_VERIFY_NAME_MISMATCH,
                "{}",
                c.last_error()
            );
        }
    }
}

/// 40 SRV records with long target names: more than a UDP answer holds
/// (dnsmasq sets TC, which the test checks by asking it directly), so the
/// resolver asks again over TCP and gets every record and every address.
#[test]
fn a_huge_answer_arrives_over_tcp_after_a_truncated_udp_one() {
    let names: Vec<String> = (0..40)
        .map(|i| format!("edge-{i:02}-of-a-carrier-with-long-host-names.big.test"))
        .collect();
    let mut records: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, name)| format!("--srv-host=_sips._tcp.big.test,{name},{},10,0", 6000 + i))
        .collect();
    records.extend(
        names
            .iter()
            .enumerate()
            .map(|(i, name)| format!("--host-record={name},127.0.1.{}", i + 1)),
    );
    records.push("--host-record=ready.test,127.0.0.1".into());
    let records: Vec<&str> = records.iter().map(String::as_str).collect();
    let dns = Dnsmasq::start(&records);

    let udp = ask(
        dns.server,
        "_sips._tcp.big.test",
        33,
        Duration::from_secs(2),
    )
    .expect("dnsmasq answers over UDP");
    assert_ne!(udp[2] & 0x02, 0, "the UDP answer is truncated (TC)");

    let server = cstring(&dns.server.to_string());
    let found = resolve_with("sips:big.test", &config(Some(&server)), 64);
    assert_eq!(found.code, SIPTLS_OK, "{}", last_error());
    let mut got: Vec<(String, u16, String)> = summary(&found)
        .into_iter()
        .map(|(transport, host, port, address, verify)| {
            assert_eq!((transport, verify.as_str()), (TLS, "big.test"));
            (host, port, address)
        })
        .collect();
    got.sort();
    let want: Vec<(String, u16, String)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), 6000 + i as u16, format!("127.0.1.{}", i + 1)))
        .collect();
    assert_eq!(got, want);
}
