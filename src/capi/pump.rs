//! The socket helper: one call per readiness event moves a session's
//! ciphertext over a non-blocking socket, or over the gateway's own I/O.

use crate::abi::{siptls_io, siptls_result, siptls_result::*, UserData};
use std::ffi::c_int;

use super::siptls_session;
use crate::error::Error;
use crate::ffi::{self, CallbackTransport, FdTransport};
use crate::pump;

// SAFETY: repr(C): an integer, a pointer, two nullable function pointers.
unsafe impl ffi::PlainData for siptls_io {}

/// For a session on a non-blocking socket, after poll/epoll said it is
/// readable or writable (or after writing plaintext): receives and feeds
/// what is there, sends what is pending (partial sends and EAGAIN are kept
/// for the next call, EINTR is retried, SIGPIPE is not raised), reports the
/// peer's end of the stream as `siptls_session_transport_closed`, and
/// stores in `wants_out` the events to wait for (SIPTLS_WANT_READ,
/// SIPTLS_WANT_WRITE; 0: nothing until the application reads plaintext or
/// writes, or the session has ended). Read plaintext with
/// `siptls_session_read` afterwards, then call again. A session failure is
/// returned after its alert was sent; a socket error is SIPTLS_ERR_IO.
///
/// # Safety
/// `session` must be live; `fd` a socket this thread may use; `wants_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_pump_fd(
    session: *mut siptls_session,
    fd: c_int,
    wants_out: *mut u32,
) -> siptls_result {
    ffi::call(|| {
        let wants_out = unsafe { ffi::arg_out(wants_out, "wants_out", 0)? };
        if fd < 0 {
            return Err(Error::new(
                SIPTLS_ERR_INVALID_ARGUMENT,
                format!("fd {fd} is not a descriptor"),
            ));
        }
        *wants_out =
            unsafe { ffi::with_session(session, |s| pump::pump(s, &mut FdTransport(fd))) }?;
        Ok(SIPTLS_OK)
    })
}

/// As `siptls_session_pump_fd`, through the gateway's callbacks.
///
/// # Safety
/// `session` must be live; `io` readable for its `struct_size`; `wants_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_pump_io(
    session: *mut siptls_session,
    io: *const siptls_io,
    wants_out: *mut u32,
) -> siptls_result {
    ffi::call(|| {
        let wants_out = unsafe { ffi::arg_out(wants_out, "wants_out", 0)? };
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
        *wants_out = unsafe { ffi::with_session(session, |s| pump::pump(s, &mut transport)) }?;
        Ok(SIPTLS_OK)
    })
}
