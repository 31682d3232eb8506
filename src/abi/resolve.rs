//! RFC 3263 resolution of SIP and SIPS URIs: the transports, the gateway's
//! DNS callback, its configuration, and the targets written out.

use siptls_derive::CEnum;
use std::ffi::{c_char, c_void};

#[allow(unused_imports)]
use super::*;

/// The transport of a target (`siptls_target.transport`).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_transport {
    /// SIP over UDP (only for a `sip:` URI).
    SIPTLS_TRANSPORT_UDP = 1,
    /// SIP over TCP (only for a `sip:` URI).
    SIPTLS_TRANSPORT_TCP = 2,
    /// SIP over TLS over TCP: every target of a `sips:` URI.
    SIPTLS_TRANSPORT_TLS = 3,
}

/// What a DNS query callback answers. Failing is 0, so a zeroed value
/// fails closed.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_dns_status {
    /// No answer: the server failed or refused; resolution fails with SIPTLS_ERR_DNS_FAILED.
    SIPTLS_DNS_FAILED = 0,
    /// The reply buffer holds the DNS response message (NXDOMAIN included), as `res_query` writes it.
    SIPTLS_DNS_OK = 1,
    /// No server answered in time; resolution fails with SIPTLS_ERR_DNS_TIMEOUT.
    SIPTLS_DNS_TIMEOUT = 2,
}

/// The gateway's DNS: asked for `name` and record type `rrtype` (35 NAPTR,
/// 33 SRV, 1 A, 28 AAAA, class IN), it writes the whole DNS response
/// message into `reply` (at most `reply_cap` bytes, its length in
/// `*reply_len_out`), as `res_query` or c-ares return it, and answers a
/// `siptls_dns_status`. Called on the thread calling
/// `siptls_get_uri_targets`, once per query, during that call only.
#[allow(non_camel_case_types)]
pub type siptls_dns_query_cb = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        name: *const c_char,
        rrtype: u16,
        reply: *mut u8,
        reply_cap: usize,
        reply_len_out: *mut usize,
    ) -> u32,
>;

/// A random number from 0 to `bound` inclusive, for the RFC 2782 weighted
/// order of SRV records (a test gives a fixed sequence).
#[allow(non_camel_case_types)]
pub type siptls_random_cb = Option<unsafe extern "C" fn(userdata: *mut c_void, bound: u32) -> u32>;

/// How `siptls_get_uri_targets` asks DNS. Size-prefixed; NULL for all defaults.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct siptls_resolver_config {
    /// `sizeof(siptls_resolver_config)`.
    pub struct_size: u32,
    /// Milliseconds each try waits for an answer (0: resolv.conf's, else 5000).
    pub timeout_ms: u32,
    /// Tries per query and server (0: resolv.conf's, else 2).
    pub attempts: u32,
    /// One DNS server to ask, "192.0.2.53:53" or "[2001:db8::53]:53"
    /// (NULL: the servers of /etc/resolv.conf). Unused with `query`.
    pub nameserver: *const c_char,
    /// The gateway's own DNS (NULL: siptls asks the servers itself).
    pub query: siptls_dns_query_cb,
    /// The SRV weights' random numbers (NULL: a system random source).
    pub random: siptls_random_cb,
    /// Handed to `query` and `random`.
    pub userdata: *mut c_void,
}

/// Room for a DNS name in `siptls_target`, its NUL included.
pub const SIPTLS_TARGET_NAME_SIZE: usize = 256;

/// One place to try, in order (`siptls_get_uri_targets`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct siptls_target {
    /// `sizeof(siptls_target)`, set by the caller in each element.
    pub struct_size: u32,
    /// A `siptls_transport`.
    pub transport: u32,
    /// Seconds the target may be cached: the smallest TTL on its path
    /// (0xffffffff for a numeric host, which came from no DNS).
    pub ttl: u32,
    /// The address in network byte order: 4 bytes for family 4, 16 for 6.
    pub address: [u8; 16],
    /// The host the address belongs to (the SRV target, or the URI's host).
    pub host: [c_char; SIPTLS_TARGET_NAME_SIZE],
    /// The name the peer's certificate must carry (RFC 5922): the URI's
    /// domain, never the SRV target; for a numeric host, the address. Give
    /// it as SNI and peer name to `siptls_session_new`.
    pub verify_name: [c_char; SIPTLS_TARGET_NAME_SIZE],
    /// The port to connect to.
    pub port: u16,
    /// 4 or 6.
    pub family: u16,
}
