//! Connection keys: the key a context gives a connection it would open, and
//! the key a session's connection has, for a pool of outbound connections.

use crate::abi::{siptls_connection_key, siptls_result, siptls_result::*, siptls_session_options};
use std::ffi::c_char;

use super::{siptls_ctx, siptls_session};

use super::handles;
use super::session::session_options;
use crate::ffi;
use crate::session::planned_connection_key;

// SAFETY: repr(C): a u32 then 32 bytes; 36 bytes, no padding.
unsafe impl ffi::NoPadding for siptls_connection_key {}

/// Writes `bytes` into the caller's key, which `ffi::whole_room` accepted.
///
/// # Safety
/// `key_out` writable for its `struct_size`.
unsafe fn write_key(
    key_out: *mut siptls_connection_key,
    bytes: [u8; 32],
) -> Result<(), crate::error::Error> {
    let key = siptls_connection_key {
        struct_size: std::mem::size_of::<siptls_connection_key>() as u32,
        bytes,
    };
    unsafe { ffi::write_sized(key_out, &key, "key_out") }
}

/// Client contexts: the key a session made now with `options` (as for
/// `siptls_session_new_with_options`) would have once connected to
/// `destination`, the address and port dialled ("192.0.2.7:5061",
/// "[2001:db8::7]:5061"). Look it up in the pool before opening a
/// connection; a pooled connection whose key is equal may carry the request.
/// A change of the context's client identity changes the key.
///
/// # Safety
/// `ctx` must be a live context; `options` readable for its `struct_size`,
/// its strings NULL or NUL-terminated; `destination` NUL-terminated;
/// `key_out` writable for its `struct_size`.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_get_connection_key(
    ctx: *const siptls_ctx,
    options: *const siptls_session_options,
    destination: *const c_char,
    key_out: *mut siptls_connection_key,
) -> siptls_result {
    ffi::call(|| {
        unsafe { ffi::clear_sized(key_out) };
        let ctx = unsafe { ffi::handle_ref(ctx, "ctx")? };
        ctx.recorded(|| {
            unsafe { ffi::whole_room(key_out, "key_out")? };
            let options = unsafe { session_options(options)? };
            let destination = unsafe { ffi::arg_str(destination, "destination")? };
            let key = planned_connection_key(ctx, &options, destination)?;
            unsafe { write_key(key_out, key)? };
            Ok(SIPTLS_OK)
        })
    })
}

/// Client sessions: the key of this session's connection to `destination`
/// (as dialled, see `siptls_ctx_get_connection_key`), once its handshake
/// completed with the server accepted (SIPTLS_ERR_WRONG_STATE before), so
/// that only verified connections enter a pool.
///
/// # Safety
/// `session` must be live; `destination` NUL-terminated; `key_out` writable
/// for its `struct_size`.
#[no_mangle]
pub unsafe extern "C" fn siptls_session_get_connection_key(
    session: *const siptls_session,
    destination: *const c_char,
    key_out: *mut siptls_connection_key,
) -> siptls_result {
    ffi::call(|| {
        unsafe { ffi::clear_sized(key_out) };
        unsafe {
            handles::with_session(session, |s| {
                ffi::whole_room(key_out, "key_out")?;
                let destination = ffi::arg_str(destination, "destination")?;
                let key = s.connection_key(destination)?;
                write_key(key_out, key)
            })
        }?;
        Ok(SIPTLS_OK)
    })
}
