//! The log callback.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use super::siptls_ctx;
use crate::error::siptls_result;
use crate::ffi::{self, UserData};
use crate::logging::{siptls_log_event, siptls_log_level, LogSink, Record};

/// One log record, valid only during the callback.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct siptls_log_record {
    /// sizeof the record as this library fills it: read a field only when
    /// its offset is below this (fields are only ever added at the end).
    pub struct_size: u32,
    pub level: siptls_log_level,
    pub event: siptls_log_event,
    /// Always 0.
    pub reserved: u32,
    /// The session's pointer from `siptls_session_set_userdata`; NULL for
    /// context events (configuration changes) and before it is set.
    pub session_userdata: *mut c_void,
    /// The message, NUL-terminated, control characters escaped.
    pub message: *const c_char,
}

/// Called for each record at or above the chosen level, on the thread
/// driving the session (or changing the configuration). A session's
/// records come while the session is in use: calling into that session
/// from the callback gets SIPTLS_ERR_BUSY; other sessions and the context
/// may be used.
#[allow(non_camel_case_types)]
pub type siptls_log_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, record: *const siptls_log_record)>;

/// Sets the context's log callback: records at `level` (a
/// `siptls_log_level`: ERROR 1 to TRACE 5) and more severe, siptls' events
/// and the TLS engine's; NULL turns logging off (the default, at no cost).
/// Sessions created afterwards log to it.
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
        ffi::edit_ctx(ctx, |ctx| {
            use siptls_log_level::*;
            let sink = match callback {
                None => None,
                Some(cb) => {
                    let level = ffi::arg_enum(level, "level", |l| match l {
                        1 => Some(SIPTLS_LOG_ERROR),
                        2 => Some(SIPTLS_LOG_WARN),
                        3 => Some(SIPTLS_LOG_INFO),
                        4 => Some(SIPTLS_LOG_DEBUG),
                        5 => Some(SIPTLS_LOG_TRACE),
                        _ => None,
                    })?;
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
