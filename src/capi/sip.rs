//! The SIP framer: a byte stream in, whole messages and keep-alives out.

use crate::abi::{
    siptls_framer, siptls_framer_limits, siptls_keepalive, siptls_result, siptls_result::*,
    siptls_sip_event, siptls_sip_event_kind,
};
use parking_lot::Mutex;

use crate::error::Error;
use crate::ffi;
use crate::sip::{Event, Framer, KeepAlive, Limits};

// SAFETY: repr(C) integers only.
unsafe impl ffi::PlainData for siptls_framer_limits {}

// SAFETY: repr(C): two 4-byte members, a pointer, three usize: no padding.
unsafe impl ffi::NoPadding for siptls_sip_event {}

impl From<siptls_keepalive> for KeepAlive {
    fn from(role: siptls_keepalive) -> Self {
        match role {
            siptls_keepalive::SIPTLS_KEEPALIVE_ANSWER_PINGS => KeepAlive::Server { pong: true },
            siptls_keepalive::SIPTLS_KEEPALIVE_REPORT_PINGS => KeepAlive::Server { pong: false },
            siptls_keepalive::SIPTLS_KEEPALIVE_CLIENT => KeepAlive::Client,
        }
    }
}

/// Creates a framer (`limits` NULL: every default).
///
/// # Safety
/// `limits` NULL or readable for its `struct_size`; `framer_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_framer_new(
    limits: *const siptls_framer_limits,
    framer_out: *mut *mut siptls_framer,
) -> siptls_result {
    ffi::call(|| {
        let framer_out = unsafe { ffi::arg_out(framer_out, "framer_out", std::ptr::null_mut())? };
        let defaults = Limits::default();
        let given = if limits.is_null() {
            None
        } else {
            let absent = siptls_framer_limits {
                struct_size: 0,
                keepalive: 0,
                header_max: 0,
                body_max: 0,
                buffered_max: 0,
            };
            Some(unsafe { ffi::read_sized(limits, absent, "limits")? })
        };
        let pick = |value: usize, default: usize| if value == 0 { default } else { value };
        let (keepalive, limits) = match given {
            None => (0, defaults),
            Some(l) => (
                l.keepalive,
                Limits {
                    header_max: pick(l.header_max, defaults.header_max),
                    body_max: pick(l.body_max, defaults.body_max),
                    buffered_max: pick(l.buffered_max, defaults.buffered_max),
                },
            ),
        };
        let keepalive = ffi::arg_enum::<siptls_keepalive>(keepalive, "limits->keepalive")?;
        let framer = Framer::new(limits, keepalive.into())?;
        *framer_out = ffi::to_handle::<siptls_framer>(Mutex::new(framer));
        Ok(SIPTLS_OK)
    })
}

/// Frees a framer; NULL is a no-op.
///
/// # Safety
/// `framer` NULL or from `siptls_framer_new`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn siptls_framer_free(framer: *mut siptls_framer) {
    ffi::call_value((), || unsafe { ffi::free_handle(framer) })
}

/// Runs `f` on the framer, or BUSY when another thread is in it.
unsafe fn with_framer<T>(
    framer: *mut siptls_framer,
    f: impl FnOnce(&mut Framer) -> Result<T, Error>,
) -> Result<T, Error> {
    let framer = unsafe { ffi::handle_ref(framer, "framer")? };
    let mut guard = framer
        .try_lock()
        .ok_or_else(|| Error::new(SIPTLS_ERR_BUSY, "the framer is in use by another thread"))?;
    f(&mut guard)
}

/// Hands the framer stream bytes (decrypted plaintext, or plain TCP).
/// `consumed_out` says how many it took: less than `len` (and
/// SIPTLS_BUFFER_FULL when none) once it holds its `buffered_max`: take
/// messages out with `siptls_framer_take_event`, then push the rest.
///
/// `data` must not overlap the framer's own buffer, where the `message` of
/// its events points: a push moves that buffer while reading `data`. To
/// push a message back (to frame it again), copy it into memory of your
/// own first. Overlapping `data` is refused with
/// SIPTLS_ERR_INVALID_ARGUMENT, and nothing is taken.
///
/// # Safety
/// `framer` live; `data` readable for `len` bytes; `consumed_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_framer_push(
    framer: *mut siptls_framer,
    data: *const u8,
    len: usize,
    consumed_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let consumed_out = unsafe { ffi::arg_out(consumed_out, "consumed_out", 0)? };
        let data = unsafe { ffi::arg_bytes(data, len, "data")? };
        let n = unsafe {
            with_framer(framer, |f| {
                ffi::arg_apart(
                    data,
                    "data",
                    f.memory(),
                    "the framer's own buffer (where its events' messages point)",
                )?;
                f.push(data)
            })?
        };
        *consumed_out = n;
        Ok(if n == 0 && !data.is_empty() {
            SIPTLS_BUFFER_FULL
        } else {
            SIPTLS_OK
        })
    })
}

/// The next whole message or keep-alive into `event_out` (set its
/// `struct_size` first): SIPTLS_OK, or SIPTLS_AGAIN until one is complete.
/// A framing error (SIPTLS_ERR_SIP_*) is final: close the connection.
///
/// # Safety
/// `framer` live; `event_out` writable for its `struct_size`.
#[no_mangle]
pub unsafe extern "C" fn siptls_framer_take_event(
    framer: *mut siptls_framer,
    event_out: *mut siptls_sip_event,
) -> siptls_result {
    ffi::call(|| {
        unsafe { ffi::clear_sized(event_out) };
        // Before an event is taken out: an unwritable event_out must not
        // lose it.
        unsafe { ffi::sized_room(event_out, "event_out")? };
        unsafe {
            with_framer(framer, |f| {
                let Some(event) = f.next()? else {
                    return Ok(SIPTLS_AGAIN);
                };
                let (kind, message, message_len, header_len, body_len) = match event {
                    Event::Message {
                        offset,
                        header_len,
                        body_len,
                    } => {
                        let bytes = f.bytes(offset, header_len + body_len);
                        let kind = siptls_sip_event_kind::SIPTLS_SIP_MESSAGE;
                        (kind, bytes.as_ptr(), bytes.len(), header_len, body_len)
                    }
                    Event::Ping => (
                        siptls_sip_event_kind::SIPTLS_SIP_PING,
                        std::ptr::null(),
                        0,
                        0,
                        0,
                    ),
                    Event::Pong => (
                        siptls_sip_event_kind::SIPTLS_SIP_PONG,
                        std::ptr::null(),
                        0,
                        0,
                        0,
                    ),
                };
                let filled = siptls_sip_event {
                    struct_size: std::mem::size_of::<siptls_sip_event>() as u32,
                    kind,
                    message,
                    message_len,
                    header_len,
                    body_len,
                };
                ffi::write_sized(event_out, &filled, "event_out")?;
                Ok(SIPTLS_OK)
            })
        }
    })
}

/// How many pongs (one CRLF each) to send for the pings found so far;
/// the count restarts at 0. Write "\r\n" that many times.
///
/// # Safety
/// `framer` live; `count_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_framer_take_pongs(
    framer: *mut siptls_framer,
    count_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let count_out = unsafe { ffi::arg_out(count_out, "count_out", 0)? };
        *count_out = unsafe { with_framer(framer, |f| Ok(f.take_pongs()))? };
        Ok(SIPTLS_OK)
    })
}
