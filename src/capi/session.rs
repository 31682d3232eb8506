//! Sessions: creation, the sans-I/O byte pump, state queries.

use crate::abi::{
    siptls_result, siptls_result::*, siptls_session_info, siptls_session_options,
    siptls_verify_status, SIPTLS_TRUST_ID_NONE,
};
use std::ffi::{c_char, c_void, CString};
use std::sync::LazyLock;

use super::{siptls_ctx, siptls_session};

use super::handles;
use crate::error::Error;
use crate::ffi;
use crate::session::{Options, Session, Sink};

// SAFETY: repr(C); 4-byte members then 1-byte flags filling to 40, a u64,
// four 4-byte members, then a u64 at offset 64: no padding.
unsafe impl ffi::NoPadding for siptls_session_info {}

// SAFETY: repr(C): two u32, then two pointers; any bits are valid values.
unsafe impl ffi::PlainData for siptls_session_options {}
/// Creates a session from a context. Client contexts need `peer_name`: the
/// SIP domain, host name or IP literal to reach (SNI and certificate check).
/// Server contexts take NULL. The session keeps the context's configuration
/// as it is now; later context changes apply to later sessions.
///
/// # Safety
/// `ctx` must be a live context; `peer_name` NULL or NUL-terminated; `session_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_new(
    ctx: *const siptls_ctx,
    peer_name: *const c_char,
    session_out: *mut *mut siptls_session,
) -> siptls_result {
    ffi::call(|| {
        let session_out =
            unsafe { ffi::arg_out(session_out, "session_out", std::ptr::null_mut())? };
        let ctx = unsafe { ffi::handle_ref(ctx, "ctx")? };
        let peer_name = unsafe { ffi::arg_opt_str(peer_name, "peer_name")? };
        let session = ctx.record(Session::new(ctx, peer_name))?;
        *session_out = ffi::to_handle::<siptls_session>(session);
        Ok(SIPTLS_OK)
    })
}

/// Creates a session as `siptls_session_new` does, with options: the
/// identity a client presents and the SNI it sends.
///
/// # Safety
/// `ctx` must be a live context; `options` readable for its `struct_size`,
/// its strings NULL or NUL-terminated; `session_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_new_with_options(
    ctx: *const siptls_ctx,
    options: *const siptls_session_options,
    session_out: *mut *mut siptls_session,
) -> siptls_result {
    ffi::call(|| {
        let session_out =
            unsafe { ffi::arg_out(session_out, "session_out", std::ptr::null_mut())? };
        let ctx = unsafe { ffi::handle_ref(ctx, "ctx")? };
        ctx.recorded(|| {
            let options = unsafe { session_options(options)? };
            let session = Session::new_with(ctx, options)?;
            *session_out = ffi::to_handle::<siptls_session>(session);
            Ok(SIPTLS_OK)
        })
    })
}

/// The caller's session options, read up to their `struct_size`.
///
/// # Safety
/// `options` readable for its `struct_size`; its strings NULL or
/// NUL-terminated, and alive for `'a`.
pub(super) unsafe fn session_options<'a>(
    options: *const siptls_session_options,
) -> Result<Options<'a>, Error> {
    let absent = siptls_session_options {
        struct_size: 0,
        identity_id: 0,
        peer_name: std::ptr::null(),
        sni: std::ptr::null(),
    };
    let o = unsafe { ffi::read_sized(options, absent, "options")? };
    Ok(Options {
        peer_name: unsafe { ffi::arg_opt_str(o.peer_name, "options->peer_name")? },
        sni: unsafe { ffi::arg_opt_str(o.sni, "options->sni")? },
        identity: o.identity_id,
    })
}

/// Frees a session (without sending anything: close first for a clean end).
/// NULL is a no-op. Freeing while a call is inside the session (from its own
/// verify callback, or on another thread while that call runs) is deferred
/// until the call returns. No call on the session may start after this one.
///
/// # Safety
/// `session` must be NULL or from `siptls_session_new`, and not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_free(session: *mut siptls_session) {
    ffi::call_value((), || unsafe { handles::free_session(session) })
}

/// Attaches the gateway's own pointer to the session (a call record, a
/// connection object). It is handed back in every verification report of
/// this session (`session_userdata`). siptls never dereferences it.
///
/// # Safety
/// `session` must be live.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_set_userdata(
    session: *mut siptls_session,
    userdata: *mut c_void,
) -> siptls_result {
    ffi::call(|| {
        unsafe {
            handles::with_session(session, |s| {
                s.set_userdata(crate::abi::UserData(userdata));
                Ok(())
            })
        }?;
        Ok(SIPTLS_OK)
    })
}

/// The pointer set with `siptls_session_set_userdata` (NULL when none).
///
/// # Safety
/// `session` must be live; `userdata_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_get_userdata(
    session: *const siptls_session,
    userdata_out: *mut *mut c_void,
) -> siptls_result {
    ffi::call(|| {
        let userdata_out =
            unsafe { ffi::arg_out(userdata_out, "userdata_out", std::ptr::null_mut())? };
        *userdata_out = unsafe { handles::with_session(session, |s| Ok(s.userdata())) }?.0;
        Ok(SIPTLS_OK)
    })
}

/// Feeds `len` bytes of ciphertext received from the peer. `consumed_out`
/// says how many were taken: all, except when undelivered plaintext fills the
/// receive buffer (read it, then feed the rest; SIPTLS_BUFFER_FULL when none
/// could be taken), or when the peer's close_notify ended the stream (then
/// SIPTLS_PEER_CLOSED). On a TLS or verification failure the session fails and
/// usually holds an alert for the peer: take it, send it, close the socket.
///
/// # Safety
/// `session` must be live; `data` readable for `len` bytes; `consumed_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_feed(
    session: *mut siptls_session,
    data: *const u8,
    len: usize,
    consumed_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let consumed_out = unsafe { ffi::arg_out(consumed_out, "consumed_out", 0)? };
        let (code, consumed) = unsafe {
            handles::with_session(session, |s| {
                // Checked inside, so a bad buffer is also this session's last error.
                let data = ffi::arg_bytes(data, len, "data")?;
                s.feed(data)
            })
        }?;
        *consumed_out = consumed;
        Ok(code)
    })
}

/// Takes ciphertext to send into `buf` (room for `cap` bytes); how much goes
/// to `written_out`. SIPTLS_AGAIN when there is nothing to send.
///
/// # Safety
/// `session` must be live; `buf` writable for `cap` bytes; `written_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_take(
    session: *mut siptls_session,
    buf: *mut u8,
    cap: usize,
    written_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let written_out = unsafe { ffi::arg_out(written_out, "written_out", 0)? };
        let (code, written) = unsafe {
            handles::with_session(session, |s| {
                // Checked inside, so a bad buffer is also this session's last error.
                let mut buf = ffi::CallerBuf::new(buf, cap, "buf")?;
                s.take(&mut buf)
            })
        }?;
        *written_out = written;
        Ok(code)
    })
}

/// Queues plaintext (a SIP message) for sending, once the handshake is
/// done. `accepted_out` may be less than `len` when the send buffer is full:
/// take and send ciphertext, then write the rest.
///
/// # Safety
/// `session` must be live; `data` readable for `len` bytes; `accepted_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_write(
    session: *mut siptls_session,
    data: *const u8,
    len: usize,
    accepted_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let accepted_out = unsafe { ffi::arg_out(accepted_out, "accepted_out", 0)? };
        let (code, accepted) = unsafe {
            handles::with_session(session, |s| {
                // Checked inside, so a bad buffer is also this session's last error.
                let data = ffi::arg_bytes(data, len, "data")?;
                s.write(data)
            })
        }?;
        *accepted_out = accepted;
        Ok(code)
    })
}

/// Reads received plaintext into `buf`; how much goes to `read_out`.
/// SIPTLS_AGAIN: none yet. SIPTLS_PEER_CLOSED: the peer sent close_notify and
/// everything has been read. SIPTLS_ERR_TRUNCATED: the transport ended without it.
///
/// # Safety
/// `session` must be live; `buf` writable for `cap` bytes; `read_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_read(
    session: *mut siptls_session,
    buf: *mut u8,
    cap: usize,
    read_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let read_out = unsafe { ffi::arg_out(read_out, "read_out", 0)? };
        let (code, read) = unsafe {
            handles::with_session(session, |s| {
                // Checked inside, so a bad buffer is also this session's last error.
                let mut buf = ffi::CallerBuf::new(buf, cap, "buf")?;
                s.read(&mut buf)
            })
        }?;
        *read_out = read;
        Ok(code)
    })
}

/// Queues close_notify. Take and send it; the peer's own close_notify then
/// shows as SIPTLS_PEER_CLOSED from `siptls_session_read`.
///
/// # Safety
/// `session` must be live.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_close(session: *mut siptls_session) -> siptls_result {
    ffi::call(|| {
        unsafe { handles::with_session(session, |s| s.close()) }?;
        Ok(SIPTLS_OK)
    })
}

/// Tells the session the transport ended (recv returned 0). Without a prior
/// close_notify the session reports truncation. Ciphertext received before
/// the end and not yet fed (held back by SIPTLS_BUFFER_FULL) may still be
/// fed afterwards (all of it, before reading on); the end takes effect once
/// everything has been read, and feeding is refused from then on.
///
/// # Safety
/// `session` must be live.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_feed_eof(session: *mut siptls_session) -> siptls_result {
    ffi::call(|| {
        unsafe { handles::with_session(session, |s| s.transport_closed()) }?;
        Ok(SIPTLS_OK)
    })
}

/// For the sans-I/O calls, what to do next, in the flags the socket helper
/// stores (`siptls_session_pump_fd`): SIPTLS_WANT_READ (the session takes
/// ciphertext: feed what arrives), SIPTLS_WANT_WRITE (ciphertext waits:
/// take it and send it), SIPTLS_EVENT_HANDSHAKE_DONE (the peer was
/// accepted; reported once, by whichever of these calls comes first),
/// SIPTLS_EVENT_PLAINTEXT (read it) and SIPTLS_EVENT_ENDED (nothing more
/// will arrive, or the session failed). Call it after feeding, taking,
/// writing or reading, instead of reading `siptls_session_get_info`.
///
/// # Safety
/// `session` must be live; `events_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_get_events(
    session: *mut siptls_session,
    events_out: *mut u32,
) -> siptls_result {
    ffi::call(|| {
        let events_out = unsafe { ffi::arg_out(events_out, "events_out", 0)? };
        *events_out = unsafe { handles::with_session(session, |s| Ok(s.wants_and_events())) }?;
        Ok(SIPTLS_OK)
    })
}

/// Fills `info_out` with the session's state (up to its `struct_size`).
///
/// # Safety
/// `session` must be live; `info_out` writable for its `struct_size`.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_get_info(
    session: *const siptls_session,
    info_out: *mut siptls_session_info,
) -> siptls_result {
    ffi::call(|| {
        unsafe { ffi::clear_sized(info_out) };
        unsafe {
            handles::with_session(session, |s| {
                let info = s.info();
                let verify = info.verify.as_ref();
                let filled = siptls_session_info {
                    struct_size: std::mem::size_of::<siptls_session_info>() as u32,
                    role: s.role(),
                    protocol_version: info.protocol_version,
                    cipher_suite: info.cipher_suite,
                    close_state: info.close_state,
                    verify_status: verify
                        .map_or(siptls_verify_status::SIPTLS_VERIFY_OK, |v| v.status),
                    verify_checked: verify
                        .map_or(siptls_verify_status::SIPTLS_VERIFY_OK, |v| v.checked),
                    trust_id: verify.map_or(SIPTLS_TRUST_ID_NONE, |v| v.trust_id),
                    depth: verify.map_or(0, |v| v.depth),
                    alert_received: info.alert_received.map_or(-1, i32::from),
                    handshaking: info.handshaking,
                    wants_send: info.wants_send,
                    verified: verify.is_some(),
                    failed: info.failed,
                    generation: info.generation,
                    handshake_kind: info.handshake_kind,
                    key_exchange_group: u32::from(info.key_exchange_group),
                    identity_id: info.identity,
                    sni_len: info.sni_len as u32,
                    hello_generation: info.hello_generation,
                };
                // Inside: a bad struct_size is also this session's last error.
                ffi::write_sized(info_out, &filled, "info_out")
            })
        }?;
        Ok(SIPTLS_OK)
    })
}

/// A server session: the SNI the client sent ("" when none), NUL-terminated;
/// text conventions as `siptls_get_last_error`.
///
/// # Safety
/// `session` must be live; `buf` writable for `cap` bytes; `len_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_get_sni(
    session: *const siptls_session,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        unsafe { ffi::clear_text(buf, cap, len_out) };
        unsafe {
            handles::with_session(session, |s| {
                let sni = s.sni().unwrap_or_default().to_string();
                ffi::copy_text(&sni, buf, cap, len_out)
            })
        }
    })
}

/// The peer's certificate number `index` (0: its own, then its chain), DER.
/// The pointer stays valid until the session is freed. SIPTLS_ERR_INVALID_ARGUMENT
/// past the end of the chain (or before the peer sent one).
///
/// # Safety
/// `session` must be live; `der_out` and `len_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_get_peer_cert(
    session: *const siptls_session,
    index: usize,
    der_out: *mut *const u8,
    len_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        unsafe { ffi::clear_out(der_out, std::ptr::null()) };
        unsafe { ffi::clear_out(len_out, 0) };
        let der_out = unsafe { ffi::arg_out(der_out, "der_out", std::ptr::null())? };
        let len_out = unsafe { ffi::arg_out(len_out, "len_out", 0)? };
        let (ptr, len) = unsafe {
            handles::with_session(session, |s| {
                let chain = s.peer_certificates();
                chain
                    .get(index)
                    .map(|cert| (cert.as_ref().as_ptr(), cert.as_ref().len()))
                    .ok_or_else(|| {
                        crate::error::Error::new(
                            SIPTLS_ERR_INVALID_ARGUMENT,
                            format!(
                                "index {index}: the peer's chain holds {} certificates",
                                chain.len()
                            ),
                        )
                    })
            })
        }?;
        *der_out = ptr;
        *len_out = len;
        Ok(SIPTLS_OK)
    })
}

/// Copies the detail text of the session's most recent failure (for a
/// verification failure: the reason, trust ID and names involved).
///
/// # Safety
/// `session` must be live; `buf` writable for `cap` bytes; `len_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_get_last_error(
    session: *const siptls_session,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        unsafe { ffi::clear_text(buf, cap, len_out) };
        let detail = unsafe { handles::with_session(session, |s| Ok(s.detail().to_string())) }?;
        unsafe { ffi::copy_text(&detail, buf, cap, len_out) }
    })
}

/// Names of the suites we can negotiate, NUL-terminated, made once.
static SUITE_NAMES: LazyLock<Vec<(u16, CString)>> = LazyLock::new(|| {
    rustls::crypto::aws_lc_rs::default_provider()
        .cipher_suites
        .iter()
        .map(|s| {
            let suite = s.suite();
            let name = suite.as_str().unwrap_or("unnamed suite");
            (u16::from(suite), CString::new(name).unwrap_or_default())
        })
        .collect()
});

/// The static name of a cipher suite number, e.g. "TLS13_AES_256_GCM_SHA384";
/// "unknown" for suites siptls does not offer.
#[no_mangle]
pub extern "C" fn siptls_cipher_suite_str(suite: u16) -> *const c_char {
    ffi::call_value(c"unknown".as_ptr(), || {
        SUITE_NAMES
            .iter()
            .find(|(id, _)| *id == suite)
            .map_or(c"unknown".as_ptr(), |(_, name)| name.as_ptr())
    })
}

/// Received plaintext and ciphertext go straight into the caller's buffer.
impl Sink for ffi::CallerBuf {
    fn room(&self) -> usize {
        ffi::CallerBuf::room(self)
    }

    fn put(&mut self, bytes: &[u8]) -> usize {
        ffi::CallerBuf::put(self, bytes)
    }
}
