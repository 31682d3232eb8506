//! RFC 3263: the targets of a SIP or SIPS URI, each with the name its
//! certificate must carry.

use crate::abi::{
    siptls_dns_status, siptls_resolver_config, siptls_result, siptls_target, siptls_transport,
    UserData, SIPTLS_TARGET_NAME_SIZE,
};
use std::ffi::{c_char, c_void, CString};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::error::Error;
use crate::ffi;
use crate::resolve::rfc3263::{LookupError, Record, RecordType};
use crate::resolve::{self, Lookup, Target, Transport};

// SAFETY: repr(C); integers, pointers and nullable function pointers: any
// bytes are a value.
unsafe impl ffi::PlainData for siptls_resolver_config {}
// SAFETY: repr(C); three u32, 16 + 2 * 256 bytes, two u16: 544 bytes, no padding.
unsafe impl ffi::NoPadding for siptls_target {}

/// The largest DNS message read from the gateway's callback.
const REPLY_ROOM: usize = 65_535;

type QueryFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, u16, *mut u8, usize, *mut usize) -> u32;

/// The gateway's DNS, through its callback.
struct GatewayDns {
    query: QueryFn,
    userdata: UserData,
}

impl Lookup for GatewayDns {
    fn lookup(&mut self, name: &str, kind: RecordType) -> Result<Vec<Record>, LookupError> {
        let rrtype: u16 = match kind {
            RecordType::Naptr => 35,
            RecordType::Srv => 33,
            RecordType::A => 1,
            RecordType::Aaaa => 28,
        };
        let name =
            CString::new(name).map_err(|_| LookupError::Failed("a name with a NUL byte".into()))?;
        let mut reply = vec![0u8; REPLY_ROOM];
        let mut len = 0usize;
        // SAFETY: the caller gave `query` with `userdata` for this call;
        // the name and the buffer are ours, of these sizes.
        let status = unsafe {
            (self.query)(
                self.userdata.0,
                name.as_ptr(),
                rrtype,
                reply.as_mut_ptr(),
                reply.len(),
                &mut len,
            )
        };
        match status {
            s if s == siptls_dns_status::SIPTLS_DNS_OK as u32 && len <= reply.len() => resolve::dns::records(&reply[..len]),
            s if s == siptls_dns_status::SIPTLS_DNS_OK as u32 => Err(LookupError::Failed(format!(
                "the gateway's DNS callback reported a {len}-byte reply in a {REPLY_ROOM}-byte buffer"
            ))),
            s if s == siptls_dns_status::SIPTLS_DNS_TIMEOUT as u32 => {
                Err(LookupError::Timeout("the gateway's DNS callback answered SIPTLS_DNS_TIMEOUT".into()))
            }
            s => Err(LookupError::Failed(format!("the gateway's DNS callback answered {s}, not SIPTLS_DNS_OK"))),
        }
    }
}

fn c_target(target: &Target) -> siptls_target {
    let (family, address) = match target.address {
        IpAddr::V4(v4) => {
            let mut bytes = [0u8; 16];
            bytes[..4].copy_from_slice(&v4.octets());
            (4, bytes)
        }
        IpAddr::V6(v6) => (6, v6.octets()),
    };
    siptls_target {
        struct_size: std::mem::size_of::<siptls_target>() as u32,
        transport: match target.transport {
            Transport::Udp => siptls_transport::SIPTLS_TRANSPORT_UDP,
            Transport::Tcp => siptls_transport::SIPTLS_TRANSPORT_TCP,
            Transport::Tls => siptls_transport::SIPTLS_TRANSPORT_TLS,
        } as u32,
        ttl: target.ttl,
        address,
        host: ffi::fixed_text::<SIPTLS_TARGET_NAME_SIZE>(&target.host),
        verify_name: ffi::fixed_text::<SIPTLS_TARGET_NAME_SIZE>(&target.verify_name),
        port: target.port,
        family,
    }
}

/// Resolves a SIP or SIPS URI as RFC 3263 says: NAPTR (only SIPS+D2T for
/// `sips:`), SRV in priority and RFC 2782 weighted order, A/AAAA, port 5061
/// for TLS; never a non-TLS transport for `sips:` (`transport=udp` is
/// refused). Each target carries the name the certificate must carry: the
/// URI's domain (RFC 5922), never the SRV target. Writes the first `cap`
/// targets into `targets` (element 0's `struct_size` is every element's
/// size) and their number into `*count_out`; more than `cap` targets:
/// SIPTLS_ERR_BUFFER_TOO_SMALL with `*count_out` the number found, the
/// first `cap` written. Fails with SIPTLS_ERR_DNS_NOT_FOUND,
/// _DNS_TIMEOUT, _DNS_FAILED or SIPTLS_ERR_INVALID_ARGUMENT (the URI).
/// Blocks for DNS (each try bounded by the timeout); `config` NULL: the
/// servers of /etc/resolv.conf.
///
/// # Safety
/// `uri` NUL-terminated; `config` NULL or readable for its `struct_size`,
/// its callbacks callable with its user data during this call; `targets`
/// writable for `cap` elements; `count_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_get_uri_targets(
    uri: *const c_char,
    config: *const siptls_resolver_config,
    targets: *mut siptls_target,
    cap: usize,
    count_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let count = unsafe { ffi::arg_out(count_out, "count_out", 0)? };
        let uri = unsafe { ffi::arg_str(uri, "uri")? };
        let absent = siptls_resolver_config {
            struct_size: 0,
            timeout_ms: 0,
            attempts: 0,
            nameserver: std::ptr::null(),
            query: None,
            random: None,
            userdata: std::ptr::null_mut(),
        };
        let config = if config.is_null() {
            absent
        } else {
            unsafe { ffi::read_sized(config, absent, "config")? }
        };
        // The array is checked before any query goes out: a bad one is
        // refused without network traffic.
        if cap > 0 {
            unsafe { ffi::sized_room(targets, "targets")? };
        }
        let userdata = UserData(config.userdata);
        let mut random = |bound: u32| match config.random {
            // SAFETY: the caller gave `random` with `userdata` for this call.
            Some(random) => unsafe { random(userdata.0, bound) }.min(bound),
            None => resolve::system_random(bound),
        };
        let found = match config.query {
            Some(query) => {
                resolve::resolve_uri(uri, &mut GatewayDns { query, userdata }, &mut random)?
            }
            None => {
                let server = unsafe { ffi::arg_opt_str(config.nameserver, "config->nameserver")? }
                    .map(|text| {
                        text.parse::<SocketAddr>().map_err(|_| {
                            Error::new(
                                siptls_result::SIPTLS_ERR_INVALID_ARGUMENT,
                                format!("config->nameserver '{text}' is not an address and port such as 192.0.2.53:53 or [2001:db8::53]:53"),
                            )
                        })
                    })
                    .transpose()?;
                let timeout = (config.timeout_ms > 0)
                    .then(|| Duration::from_millis(u64::from(config.timeout_ms)));
                let attempts = (config.attempts > 0).then_some(config.attempts);
                let mut dns = resolve::system_dns(server, timeout, attempts)?;
                resolve::resolve_uri(uri, &mut dns, &mut random)?
            }
        };
        let written: Vec<siptls_target> = found.iter().map(c_target).collect();
        unsafe { ffi::write_sized_array(targets, cap, &written, "targets")? };
        *count = found.len();
        if found.len() > cap {
            return Err(Error::new(
                siptls_result::SIPTLS_ERR_BUFFER_TOO_SMALL,
                format!(
                    "{} targets found and room for {cap}; the first {cap} are written",
                    found.len()
                ),
            ));
        }
        Ok(siptls_result::SIPTLS_OK)
    })
}
