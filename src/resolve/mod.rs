//! Finding the server of a `sips:` or `sip:` URI (RFC 3263) and the name
//! its certificate must carry (RFC 5922).

pub mod dns;
pub mod rfc3263;
pub mod sip_uri;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use crate::error::Result;
pub use rfc3263::{Lookup, Target};
pub use sip_uri::Transport;

/// Where resolv.conf is.
const RESOLV_CONF: &str = "/etc/resolv.conf";
/// Defaults where neither the caller nor resolv.conf says.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_ATTEMPTS: u32 = 2;

/// siptls' own DNS client: `server`, or resolv.conf's servers; the
/// caller's timeout and attempts where given.
pub fn system_dns(
    server: Option<SocketAddr>,
    timeout: Option<Duration>,
    attempts: Option<u32>,
) -> Result<dns::SystemDns> {
    match server {
        Some(server) => Ok(dns::SystemDns::with_server(
            server,
            timeout.unwrap_or(DEFAULT_TIMEOUT),
            attempts.unwrap_or(DEFAULT_ATTEMPTS),
        )),
        None => Ok(
            dns::SystemDns::from_resolv_conf(Path::new(RESOLV_CONF))?.limited(timeout, attempts)
        ),
    }
}

/// A random number in 0..=bound from the system's source.
pub fn system_random(bound: u32) -> u32 {
    let mut bytes = [0u8; 4];
    // A failed fill leaves zeros: the first record of each weight group,
    // still a valid RFC 2782 order.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    (u64::from(u32::from_le_bytes(bytes)) % (u64::from(bound) + 1)) as u32
}

/// The targets of `uri`, in the order to try them.
pub fn resolve_uri(
    uri: &str,
    dns: &mut dyn Lookup,
    random: &mut dyn FnMut(u32) -> u32,
) -> Result<Vec<Target>> {
    rfc3263::resolve(&sip_uri::SipUri::parse(uri)?, dns, random)
}
