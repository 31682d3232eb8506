//! A log callback that keeps every record, for tests to look at.

use std::ffi::{c_void, CStr};
use std::sync::Mutex;

use super::*;

#[derive(Debug, Clone)]
pub struct Seen {
    pub level: siptls_log_level,
    pub event: siptls_log_event,
    pub userdata: usize,
    pub message: String,
}

#[derive(Default)]
pub struct Log(Mutex<Vec<Seen>>);

pub unsafe extern "C" fn keep(userdata: *mut c_void, record: *const siptls_log_record) {
    let log = unsafe { &*(userdata as *const Log) };
    let r = unsafe { &*record };
    let message = unsafe { CStr::from_ptr(r.message) }
        .to_string_lossy()
        .into_owned();
    // siptls' own records are sentences; the TLS engine's are its own words.
    if r.event != siptls_log_event::SIPTLS_LOG_TLS_ENGINE {
        assert_sentence(&message);
    }
    log.0.lock().unwrap().push(Seen {
        level: r.level,
        event: r.event,
        userdata: r.session_userdata as usize,
        message,
    });
}

impl Log {
    pub fn attach(ctx: &Ctx, level: siptls_log_level) -> Box<Log> {
        let log = Box::<Log>::default();
        let code = unsafe {
            siptls_ctx_set_log_callback(
                ctx.0,
                Some(keep),
                level as u32,
                &*log as *const Log as *mut _,
            )
        };
        assert_eq!(code, SIPTLS_OK);
        log
    }

    pub fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    pub fn of(seen: &[Seen], event: siptls_log_event) -> Vec<Seen> {
        seen.iter().filter(|s| s.event == event).cloned().collect()
    }
}
