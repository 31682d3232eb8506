//! Session resumption: on or off, the caches, TLS 1.3 ticket count, ticket
//! lifetime and keys, and the gateway's own session store.

use crate::abi::{
    siptls_result, siptls_result::*, siptls_session_store, UserData, SIPTLS_SESSION_VALUE_MAX,
};
use std::ffi::{c_char, c_void};
use std::sync::Arc;

use super::siptls_ctx;

use super::handles;
use crate::ffi;
use crate::resume::GatewayStore;

// SAFETY: repr(C): an integer, a pointer and two nullable function
// pointers, for which every bit pattern is valid (0 is None).
unsafe impl ffi::PlainData for siptls_session_store {}

struct CStore {
    userdata: UserData,
    put: unsafe extern "C" fn(*mut c_void, *const u8, usize, *const u8, usize) -> bool,
    get: unsafe extern "C" fn(*mut c_void, *const u8, usize, bool, *mut u8, usize) -> usize,
}

impl GatewayStore for CStore {
    fn put(&self, key: &[u8], value: &[u8]) -> bool {
        // SAFETY: as registered by the caller; both slices live for the call.
        unsafe {
            (self.put)(
                self.userdata.0,
                key.as_ptr(),
                key.len(),
                value.as_ptr(),
                value.len(),
            )
        }
    }

    fn get(&self, key: &[u8], take: bool) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; SIPTLS_SESSION_VALUE_MAX];
        // SAFETY: as registered; `buf` is writable for its length.
        let len = unsafe {
            (self.get)(
                self.userdata.0,
                key.as_ptr(),
                key.len(),
                take,
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        (1..=buf.len()).contains(&len).then(|| {
            buf.truncate(len);
            buf
        })
    }
}

/// Turns session resumption on (the default) or off, for either role.
/// Client: sessions are cached per peer name and offered again. Server:
/// tickets are issued and accepted. Either way a stored session resumes
/// only while its peer's chain passes every check again.
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_resumption(
    ctx: *mut siptls_ctx,
    enabled: bool,
) -> siptls_result {
    unsafe { handles::edit_ctx(ctx, |ctx| ctx.set_resumption(enabled)) }
}

/// Client: how many peer names the session cache holds (default
/// SIPTLS_DEFAULT_CLIENT_CACHE_SIZE; 0: no cache). Server: the size of an
/// in-memory session-ID cache (default 0: tickets only), replacing a
/// session store. At most SIPTLS_MAX_SESSION_CACHE_SIZE.
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_session_cache_size(
    ctx: *mut siptls_ctx,
    entries: u32,
) -> siptls_result {
    unsafe { handles::edit_ctx(ctx, |ctx| ctx.set_session_cache_size(entries)) }
}

/// Server contexts: keeps resumable sessions in the gateway's store (see
/// `siptls_session_store`; copied, so it may live on the stack); NULL
/// removes it. Replaces an in-memory session cache.
///
/// # Safety
/// `ctx` must be a live context; `store` NULL or readable for its
/// `struct_size`; the callbacks and user data must stay valid while any
/// session of the context may run.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_session_store(
    ctx: *mut siptls_ctx,
    store: *const siptls_session_store,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let store = if store.is_null() {
                None
            } else {
                let absent = siptls_session_store {
                    struct_size: 0,
                    userdata: std::ptr::null_mut(),
                    put: None,
                    get: None,
                };
                let store = ffi::read_sized(store, absent, "store")?;
                let (Some(put), Some(get)) = (store.put, store.get) else {
                    return Err(crate::error::Error::new(
                        SIPTLS_ERR_NULL_ARGUMENT,
                        "a session store needs both put and get",
                    ));
                };
                Some(Arc::new(CStore {
                    userdata: UserData(store.userdata),
                    put,
                    get,
                }) as Arc<dyn GatewayStore>)
            };
            ctx.set_session_store(store)
        })
    }
}

/// Server contexts: TLS 1.3 tickets sent after each handshake, 0 to
/// SIPTLS_MAX_TLS13_TICKETS (default SIPTLS_DEFAULT_TLS13_TICKETS; 0: none,
/// TLS 1.3 clients cannot resume).
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_tls13_tickets(
    ctx: *mut siptls_ctx,
    count: u32,
) -> siptls_result {
    unsafe { handles::edit_ctx(ctx, |ctx| ctx.set_tls13_tickets(count)) }
}

/// Server contexts: seconds a ticket or cached session resumes, by the
/// gateway's clock (SIPTLS_MIN_TICKET_LIFETIME to SIPTLS_MAX_TICKET_LIFETIME,
/// default SIPTLS_DEFAULT_TICKET_LIFETIME). Generated ticket keys seal for
/// one lifetime, open for one more, and are then erased.
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_ticket_lifetime(
    ctx: *mut siptls_ctx,
    seconds: u32,
) -> siptls_result {
    unsafe { handles::edit_ctx(ctx, |ctx| ctx.set_ticket_lifetime(seconds)) }
}

/// Server contexts: replaces the ticket keys with the gateway's, from
/// memory, in the key file format (one key per line, 64 hex digits, as
/// `openssl rand -hex 32` prints; `#` comments). The first key seals, every
/// key opens: give every server of a farm the same set. All or nothing;
/// SIPTLS_ERR_TICKET_KEY_MALFORMED names the bad line. The key count goes
/// to `count_out`.
///
/// # Safety
/// `ctx` must be a live context; `keys` readable for `len` bytes; `count_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_ticket_keys(
    ctx: *mut siptls_ctx,
    keys: *const u8,
    len: usize,
    count_out: *mut u32,
) -> siptls_result {
    ffi::call(|| {
        let count_out = unsafe { ffi::arg_out(count_out, "count_out", 0)? };
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                let keys = ffi::arg_bytes(keys, len, "keys")?;
                *count_out = ctx.set_ticket_keys(keys)? as u32;
                Ok(SIPTLS_OK)
            })
        }
    })
}

/// As `siptls_ctx_set_ticket_keys`, from a file; call again after the file
/// is rotated (sessions in progress are not disturbed).
///
/// # Safety
/// `ctx` must be a live context; `path` NUL-terminated; `count_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_load_ticket_key_file(
    ctx: *mut siptls_ctx,
    path: *const c_char,
    count_out: *mut u32,
) -> siptls_result {
    ffi::call(|| {
        let count_out = unsafe { ffi::arg_out(count_out, "count_out", 0)? };
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                let path = ffi::arg_path(path, "path")?;
                *count_out = ctx.load_ticket_key_file(path)? as u32;
                Ok(SIPTLS_OK)
            })
        }
    })
}
