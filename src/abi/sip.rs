//! SIP framing vocabulary: keep-alives, events, limits.

#[allow(unused_imports)]
use super::*;
use siptls_derive::CEnum;

/// A message's header block may be this long by default.
pub const SIPTLS_SIP_DEFAULT_HEADER_MAX: usize = 16 * 1024;

/// A message's body may be this long by default (its Content-Length).
pub const SIPTLS_SIP_DEFAULT_BODY_MAX: usize = 64 * 1024;

/// The framer holds at most this many bytes by default.
pub const SIPTLS_SIP_DEFAULT_BUFFERED_MAX: usize = 128 * 1024;

/// Which keep-alives a framer reads (RFC 5626 section 4.4.1).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_keepalive {
    /// Server side: a CRLF CRLF between messages is a ping, answered with a
    /// CRLF pong (`siptls_framer_take_pongs`). The default.
    SIPTLS_KEEPALIVE_ANSWER_PINGS = 0,
    /// Server side: pings are reported, no pong is queued.
    SIPTLS_KEEPALIVE_REPORT_PINGS = 1,
    /// Client side: each CRLF between messages is the pong to one of ours.
    SIPTLS_KEEPALIVE_CLIENT = 2,
}

/// What `siptls_framer_take_event` found.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
pub enum siptls_sip_event_kind {
    /// Nothing (what an event holds after a call that found none).
    SIPTLS_SIP_NONE = 0,
    /// A whole SIP message: header block and body.
    SIPTLS_SIP_MESSAGE = 1,
    /// A keep-alive ping (CRLF CRLF) from the peer.
    SIPTLS_SIP_PING = 2,
    /// The pong (CRLF) to one of our pings.
    SIPTLS_SIP_PONG = 3,
}

/// A framer's limits and keep-alive role (`siptls_framer_new`). Set
/// `struct_size`; a field past it, or 0, takes its default.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct siptls_framer_limits {
    /// Set by the caller to `sizeof` the struct; fields past it take their defaults.
    pub struct_size: u32,
    /// A `siptls_keepalive`.
    pub keepalive: u32,
    /// Start line and headers, blank line included (default SIPTLS_SIP_DEFAULT_HEADER_MAX).
    pub header_max: usize,
    /// Body bytes (default SIPTLS_SIP_DEFAULT_BODY_MAX).
    pub body_max: usize,
    /// Bytes held at once (default SIPTLS_SIP_DEFAULT_BUFFERED_MAX).
    pub buffered_max: usize,
}

/// One message or keep-alive. `message` points into the framer and stays
/// valid until the framer's next push, next or free.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct siptls_sip_event {
    /// Set by the caller; the library writes at most this many bytes.
    pub struct_size: u32,
    /// What arrived.
    pub kind: siptls_sip_event_kind,
    /// The whole message (headers, then body); NULL for keep-alives.
    pub message: *const u8,
    /// The message's length, header and body.
    pub message_len: usize,
    /// The start line and headers with the blank line; the body follows.
    pub header_len: usize,
    /// The body's length (its Content-Length).
    pub body_len: usize,
}
