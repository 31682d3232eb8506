//! The log callback.

use crate::abi::{siptls_log_cb, siptls_log_level, siptls_log_record, siptls_result, UserData};
use std::ffi::{c_void, CString};
use std::sync::Arc;

use super::siptls_ctx;

use super::handles;
use crate::ffi;
use crate::logging::{LogSink, Record};

/// Sets the context's log callback: records at `level` (a
/// `siptls_log_level`: ERROR 1 to TRACE 5) and more severe, siptls' events
/// and the TLS engine's; NULL turns logging off (the default, at no cost).
/// A session logs to the callback its configuration bound (a client at its
/// creation, a server at the ClientHello).
///
/// # Safety
/// `ctx` must be a live context; `callback` and `userdata` must stay valid
/// while any session of the context may run.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_log_callback(
    ctx: *mut siptls_ctx,
    callback: siptls_log_cb,
    level: u32,
    userdata: *mut c_void,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let sink = match callback {
                None => None,
                Some(cb) => {
                    let level = ffi::arg_enum::<siptls_log_level>(level, "level")?;
                    Some(LogSink::new(log_callback(cb, UserData(userdata)), level))
                }
            };
            ctx.set_log_callback(sink, callback.map(|cb| (cb as usize, userdata as usize)))
        })
    }
}

fn log_callback(
    cb: unsafe extern "C" fn(*mut c_void, *const siptls_log_record),
    userdata: UserData,
) -> crate::logging::LogCallback {
    Arc::new(move |record: &Record<'_>| {
        let userdata = userdata;
        let message = CString::new(record.message.replace('\0', "")).unwrap_or_default();
        let c_record = siptls_log_record {
            struct_size: std::mem::size_of::<siptls_log_record>() as u32,
            level: record.level,
            event: record.event,
            reserved: 0,
            session_userdata: record.session_userdata.0,
            message: message.as_ptr(),
        };
        // SAFETY: the caller registered `cb` with `userdata` for this use.
        unsafe { cb(userdata.0, &c_record) }
    })
}
