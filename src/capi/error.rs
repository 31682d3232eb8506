//! Result codes, status names, versions and the per-thread error detail.

use crate::abi::{siptls_fips_mode, siptls_result, siptls_verify_status};
use std::ffi::c_char;

use crate::ffi;

/// The static, NUL-terminated description of a result code (never NULL;
/// unknown numbers get "unknown result code").
#[no_mangle]
pub extern "C" fn siptls_result_str(result: u32) -> *const c_char {
    ffi::call_value(c"internal error".as_ptr(), || {
        siptls_result::from_u32(result)
            .map_or(c"unknown result code", siptls_result::description)
            .as_ptr()
    })
}

/// The static name of a verification status, e.g. "UNKNOWN_CA" (never NULL).
#[no_mangle]
pub extern "C" fn siptls_verify_status_str(status: u32) -> *const c_char {
    ffi::call_value(c"internal error".as_ptr(), || {
        siptls_verify_status::from_u32(status)
            .map_or(c"UNKNOWN_STATUS", siptls_verify_status::name)
            .as_ptr()
    })
}

/// The library version, e.g. "0.1.0" (static).
#[no_mangle]
pub extern "C" fn siptls_get_version() -> *const c_char {
    ffi::call_value(c"".as_ptr(), || {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}

/// The library version as one number, `(major << 16) | (minor << 8) | patch`,
/// to compare with the header's SIPTLS_VERSION_NUMBER at run time.
#[no_mangle]
pub extern "C" fn siptls_get_version_number() -> u32 {
    ffi::call_value(0, || {
        let part = |text: &str| text.parse::<u32>().unwrap_or(0);
        (part(env!("CARGO_PKG_VERSION_MAJOR")) << 16)
            | (part(env!("CARGO_PKG_VERSION_MINOR")) << 8)
            | part(env!("CARGO_PKG_VERSION_PATCH"))
    })
}

/// Whether the cryptography is a FIPS 140-3 module in approved mode: a
/// `siptls_fips_mode` (SIPTLS_FIPS_NOT_BUILT in a build without the cargo
/// feature `fips`). docs/fips.md says what a FIPS build negotiates.
#[no_mangle]
pub extern "C" fn siptls_get_fips_mode() -> u32 {
    ffi::call_value(siptls_fips_mode::SIPTLS_FIPS_NOT_APPROVED as u32, || {
        crate::suites::fips_mode() as u32
    })
}

/// Copies the detail text of the last failed siptls call on this thread.
///
/// # Safety
/// `buf` must be writable for `cap` bytes; `len_out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_get_last_error(
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        let detail = ffi::last_error();
        unsafe { ffi::copy_text(&detail, buf, cap, len_out) }
    })
}
