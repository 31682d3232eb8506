//! The socket helper: one call per readiness event moves a session's
//! ciphertext over a non-blocking socket, or over the gateway's own I/O.

use crate::abi::{siptls_io, siptls_result, siptls_result::*, UserData};
use std::ffi::c_int;

use super::handles;
use super::siptls_session;
use crate::error::Error;
use crate::ffi;
use crate::pump;
use crate::pump::{Moved, Transport};

// SAFETY: repr(C): an integer, a pointer, two nullable function pointers.
unsafe impl ffi::PlainData for siptls_io {}

/// For a session on a non-blocking socket, after poll/epoll said it is
/// readable or writable (or after writing plaintext): receives and feeds
/// what is there, sends what is pending (partial sends and EAGAIN are kept
/// for the next call, EINTR is retried, SIGPIPE is not raised), reports the
/// peer's end of the stream as `siptls_session_feed_eof`, and stores flags
/// in `events_out`:
/// - SIPTLS_WANT_READ, SIPTLS_WANT_WRITE: the poll events to wait for
///   before calling again (neither: call again after writing plaintext);
/// - SIPTLS_EVENT_HANDSHAKE_DONE: the peer was accepted just now (once);
/// - SIPTLS_EVENT_PLAINTEXT: read with `siptls_session_read` until
///   SIPTLS_AGAIN, then call again;
/// - SIPTLS_EVENT_ENDED: nothing more will arrive; free the session.
///
/// A session failure is returned (after its alert was sent, as far as the
/// socket took it) with `events_out` 0: the session is over. A socket
/// error is SIPTLS_ERR_IO.
///
/// # Safety
/// `session` must be live; `fd` a socket this thread may use; `events_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_pump_fd(
    session: *mut siptls_session,
    fd: c_int,
    events_out: *mut u32,
) -> siptls_result {
    ffi::call(|| {
        let events_out = unsafe { ffi::arg_out(events_out, "events_out", 0)? };
        if fd < 0 {
            return Err(Error::new(
                SIPTLS_ERR_INVALID_ARGUMENT,
                format!("fd {fd} is not a descriptor"),
            ));
        }
        *events_out =
            unsafe { handles::with_session(session, |s| pump::pump(s, &mut FdTransport(fd))) }?;
        Ok(SIPTLS_OK)
    })
}

/// As `siptls_session_pump_fd`, through the gateway's callbacks.
///
/// # Safety
/// `session` must be live; `io` readable for its `struct_size`; `events_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_pump_io(
    session: *mut siptls_session,
    io: *const siptls_io,
    events_out: *mut u32,
) -> siptls_result {
    ffi::call(|| {
        let events_out = unsafe { ffi::arg_out(events_out, "events_out", 0)? };
        let absent = siptls_io {
            struct_size: 0,
            userdata: std::ptr::null_mut(),
            recv: None,
            send: None,
        };
        let io = unsafe { ffi::read_sized(io, absent, "io")? };
        let (Some(recv), Some(send)) = (io.recv, io.send) else {
            return Err(Error::new(
                SIPTLS_ERR_NULL_ARGUMENT,
                "io needs both recv and send",
            ));
        };
        let mut transport = CallbackTransport {
            userdata: UserData(io.userdata),
            recv,
            send,
        };
        *events_out = unsafe { handles::with_session(session, |s| pump::pump(s, &mut transport)) }?;
        Ok(SIPTLS_OK)
    })
}

/// A caller's non-blocking socket, for the socket helper: recv and send
/// with MSG_DONTWAIT (a blocking descriptor does not block either) and
/// MSG_NOSIGNAL (a closed peer is an error, not SIGPIPE); EINTR is retried.
struct FdTransport(c_int);

fn moved(n: isize) -> std::io::Result<Moved> {
    if n > 0 {
        return Ok(Moved::Bytes(n as usize));
    }
    if n == 0 {
        return Ok(Moved::Ended);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EAGAIN) => Ok(Moved::Blocked),
        Some(libc::ECONNRESET | libc::EPIPE) => Ok(Moved::Ended),
        _ => Err(e),
    }
}

impl Transport for FdTransport {
    fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<Moved> {
        loop {
            // SAFETY: `buf` is writable for its length; the descriptor is the caller's.
            let n = unsafe {
                libc::recv(
                    self.0,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return moved(n);
        }
    }

    fn send(&mut self, buf: &[u8]) -> std::io::Result<Moved> {
        loop {
            // SAFETY: `buf` is readable for its length.
            let n = unsafe {
                libc::send(
                    self.0,
                    buf.as_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                )
            };
            if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            if n == 0 {
                return Ok(Moved::Blocked);
            }
            return moved(n);
        }
    }
}

/// The gateway's own I/O layer, for the socket helper: its two callbacks.
struct CallbackTransport {
    userdata: UserData,
    recv: unsafe extern "C" fn(*mut std::ffi::c_void, *mut u8, usize) -> i64,
    send: unsafe extern "C" fn(*mut std::ffi::c_void, *const u8, usize) -> i64,
}

/// What a transport callback's return value means (`siptls_io`).
fn callback_moved(n: i64, len: usize) -> std::io::Result<Moved> {
    match n {
        n if n > 0 && n as u64 <= len as u64 => Ok(Moved::Bytes(n as usize)),
        0 => Ok(Moved::Ended),
        -1 => Ok(Moved::Blocked),
        n => Err(std::io::Error::other(format!(
            "the transport callback returned {n} for {len} bytes"
        ))),
    }
}

impl Transport for CallbackTransport {
    fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<Moved> {
        // SAFETY: as registered by the caller; `buf` is writable for its length.
        let n = unsafe { (self.recv)(self.userdata.0, buf.as_mut_ptr(), buf.len()) };
        callback_moved(n, buf.len())
    }

    fn send(&mut self, buf: &[u8]) -> std::io::Result<Moved> {
        // SAFETY: as registered by the caller; `buf` is readable for its length.
        let n = unsafe { (self.send)(self.userdata.0, buf.as_ptr(), buf.len()) };
        callback_moved(n, buf.len())
    }
}
