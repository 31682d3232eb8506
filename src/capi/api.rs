//! One-symbol loading: `siptls_get_api` hands out a table of every export,
//! so a program that loads the library with `dlopen` looks up one name and
//! gets the functions of exactly the ABI version it was built for.

use crate::abi::{siptls_result, siptls_result::*};
use std::ffi::{c_char, c_int, c_void};

use super::*;
use crate::error::Error;
use crate::ffi;

/// The ABI this library provides: the header's SIPTLS_ABI_VERSION, both
/// from build.rs. It changes with the soname (the ABI policy in docs/abi-and-packaging.md).
const SIPTLS_ABI_VERSION: u32 = parse(env!("SIPTLS_ABI_VERSION"));

const fn parse(digits: &str) -> u32 {
    let bytes = digits.as_bytes();
    let mut value = 0;
    let mut i = 0;
    while i < bytes.len() {
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

/// Every function of the C API, for `siptls_get_api`. Members are named as
/// the functions without their `siptls_` prefix (`api->ctx_new`); later ABI
/// versions may only add members at the end, so `struct_size` tells what a
/// table holds.
// Each member is the export of the same name, documented there.
#[allow(non_camel_case_types, missing_docs)]
#[repr(C)]
pub struct siptls_api {
    /// sizeof the table as this library fills it.
    pub struct_size: u32,
    /// SIPTLS_ABI_VERSION of the library.
    pub abi_version: u32,
    pub result_str: extern "C" fn(u32) -> *const c_char,
    pub verify_status_str: extern "C" fn(u32) -> *const c_char,
    pub get_version: extern "C" fn() -> *const c_char,
    pub get_version_number: extern "C" fn() -> u32,
    pub get_last_error: unsafe extern "C" fn(*mut c_char, usize, *mut usize) -> siptls_result,
    pub ctx_new: unsafe extern "C" fn(u32, *mut *mut siptls_ctx) -> siptls_result,
    pub ctx_free: unsafe extern "C" fn(*mut siptls_ctx),
    pub ctx_set_identity_pem:
        unsafe extern "C" fn(*mut siptls_ctx, *const u8, usize, *const u8, usize) -> siptls_result,
    pub ctx_load_identity_files:
        unsafe extern "C" fn(*mut siptls_ctx, *const c_char, *const c_char) -> siptls_result,
    pub ctx_load_pem_dir: unsafe extern "C" fn(
        *mut siptls_ctx,
        *const c_char,
        *const siptls_pem_names,
        u32,
        *mut usize,
    ) -> siptls_result,
    pub ctx_set_client_auth: unsafe extern "C" fn(*mut siptls_ctx, u32) -> siptls_result,
    pub ctx_set_max_ca_depth: unsafe extern "C" fn(*mut siptls_ctx, u32) -> siptls_result,
    pub ctx_set_versions: unsafe extern "C" fn(*mut siptls_ctx, u16, u16) -> siptls_result,
    pub ctx_set_name_check: unsafe extern "C" fn(*mut siptls_ctx, u32) -> siptls_result,
    pub ctx_set_allow_override: unsafe extern "C" fn(*mut siptls_ctx, bool) -> siptls_result,
    pub ctx_set_missing_crl_policy: unsafe extern "C" fn(*mut siptls_ctx, u32) -> siptls_result,
    pub ctx_set_expired_crl_policy: unsafe extern "C" fn(*mut siptls_ctx, u32) -> siptls_result,
    pub ctx_get_generation: unsafe extern "C" fn(*const siptls_ctx, *mut u64) -> siptls_result,
    pub ctx_set_verify_callback:
        unsafe extern "C" fn(*mut siptls_ctx, siptls_verify_cb, *mut c_void) -> siptls_result,
    pub ctx_set_time_callback:
        unsafe extern "C" fn(*mut siptls_ctx, siptls_time_cb, *mut c_void) -> siptls_result,
    pub ctx_set_keylog_file: unsafe extern "C" fn(*mut siptls_ctx, *const c_char) -> siptls_result,
    pub ctx_get_last_error:
        unsafe extern "C" fn(*const siptls_ctx, *mut c_char, usize, *mut usize) -> siptls_result,
    pub ctx_add_trust:
        unsafe extern "C" fn(*mut siptls_ctx, u32, *const u8, usize) -> siptls_result,
    pub ctx_add_trust_list:
        unsafe extern "C" fn(*mut siptls_ctx, *const u8, usize, u32, *mut usize) -> siptls_result,
    pub ctx_add_trust_file:
        unsafe extern "C" fn(*mut siptls_ctx, *const c_char, u32, *mut usize) -> siptls_result,
    pub ctx_replace_trust_list:
        unsafe extern "C" fn(*mut siptls_ctx, *const u8, usize, u32, *mut usize) -> siptls_result,
    pub ctx_get_trust:
        unsafe extern "C" fn(*const siptls_ctx, u32, *mut siptls_trust_entry_info) -> siptls_result,
    pub ctx_remove_trust: unsafe extern "C" fn(*mut siptls_ctx, u32) -> siptls_result,
    pub ctx_list_trust:
        unsafe extern "C" fn(*const siptls_ctx, *mut u32, usize, *mut usize) -> siptls_result,
    pub ctx_set_trust_sip_domain:
        unsafe extern "C" fn(*mut siptls_ctx, u32, *const c_char) -> siptls_result,
    pub ctx_add_crl:
        unsafe extern "C" fn(*mut siptls_ctx, *const u8, usize, *mut usize) -> siptls_result,
    pub ctx_add_crl_file:
        unsafe extern "C" fn(*mut siptls_ctx, *const c_char, *mut usize) -> siptls_result,
    pub ctx_count_crls: unsafe extern "C" fn(*const siptls_ctx, *mut usize) -> siptls_result,
    pub ctx_get_crl:
        unsafe extern "C" fn(*const siptls_ctx, usize, *mut siptls_crl_info) -> siptls_result,
    pub ctx_remove_crl: unsafe extern "C" fn(*mut siptls_ctx, *const c_char) -> siptls_result,
    pub ctx_clear_crls: unsafe extern "C" fn(*mut siptls_ctx) -> siptls_result,
    pub session_new: unsafe extern "C" fn(
        *const siptls_ctx,
        *const c_char,
        *mut *mut siptls_session,
    ) -> siptls_result,
    pub session_free: unsafe extern "C" fn(*mut siptls_session),
    pub session_set_userdata:
        unsafe extern "C" fn(*mut siptls_session, *mut c_void) -> siptls_result,
    pub session_get_userdata:
        unsafe extern "C" fn(*const siptls_session, *mut *mut c_void) -> siptls_result,
    pub session_feed:
        unsafe extern "C" fn(*mut siptls_session, *const u8, usize, *mut usize) -> siptls_result,
    pub session_take:
        unsafe extern "C" fn(*mut siptls_session, *mut u8, usize, *mut usize) -> siptls_result,
    pub session_write:
        unsafe extern "C" fn(*mut siptls_session, *const u8, usize, *mut usize) -> siptls_result,
    pub session_read:
        unsafe extern "C" fn(*mut siptls_session, *mut u8, usize, *mut usize) -> siptls_result,
    pub session_close: unsafe extern "C" fn(*mut siptls_session) -> siptls_result,
    pub session_feed_eof: unsafe extern "C" fn(*mut siptls_session) -> siptls_result,
    pub session_get_info:
        unsafe extern "C" fn(*const siptls_session, *mut siptls_session_info) -> siptls_result,
    pub session_get_peer_cert: unsafe extern "C" fn(
        *const siptls_session,
        usize,
        *mut *const u8,
        *mut usize,
    ) -> siptls_result,
    pub session_get_last_error: unsafe extern "C" fn(
        *const siptls_session,
        *mut c_char,
        usize,
        *mut usize,
    ) -> siptls_result,
    pub cipher_suite_str: extern "C" fn(u16) -> *const c_char,
    pub ctx_set_keylog_callback:
        unsafe extern "C" fn(*mut siptls_ctx, siptls_keylog_cb, *mut c_void) -> siptls_result,
    pub ctx_use_sslkeylogfile: unsafe extern "C" fn(*mut siptls_ctx, *mut bool) -> siptls_result,
    pub ctx_set_resumption: unsafe extern "C" fn(*mut siptls_ctx, bool) -> siptls_result,
    pub ctx_set_session_cache_size: unsafe extern "C" fn(*mut siptls_ctx, u32) -> siptls_result,
    pub ctx_set_session_store:
        unsafe extern "C" fn(*mut siptls_ctx, *const siptls_session_store) -> siptls_result,
    pub ctx_set_tls13_tickets: unsafe extern "C" fn(*mut siptls_ctx, u32) -> siptls_result,
    pub ctx_set_ticket_lifetime: unsafe extern "C" fn(*mut siptls_ctx, u32) -> siptls_result,
    pub ctx_set_ticket_keys:
        unsafe extern "C" fn(*mut siptls_ctx, *const u8, usize, *mut u32) -> siptls_result,
    pub ctx_load_ticket_key_file:
        unsafe extern "C" fn(*mut siptls_ctx, *const c_char, *mut u32) -> siptls_result,
    pub ctx_set_profile: unsafe extern "C" fn(*mut siptls_ctx, u32) -> siptls_result,
    pub ctx_set_cipher_suites:
        unsafe extern "C" fn(*mut siptls_ctx, *const u16, usize) -> siptls_result,
    pub ctx_set_kx_groups:
        unsafe extern "C" fn(*mut siptls_ctx, *const u16, usize) -> siptls_result,
    pub ctx_get_counters:
        unsafe extern "C" fn(*const siptls_ctx, *mut siptls_counters) -> siptls_result,
    pub ctx_reset_counters: unsafe extern "C" fn(*mut siptls_ctx) -> siptls_result,
    pub ctx_get_counters_prometheus:
        unsafe extern "C" fn(*const siptls_ctx, *mut c_char, usize, *mut usize) -> siptls_result,
    pub ctx_set_log_callback:
        unsafe extern "C" fn(*mut siptls_ctx, siptls_log_cb, u32, *mut c_void) -> siptls_result,
    pub ctx_add_identity_pem: unsafe extern "C" fn(
        *mut siptls_ctx,
        u32,
        *const u8,
        usize,
        *const u8,
        usize,
    ) -> siptls_result,
    pub ctx_add_identity_files:
        unsafe extern "C" fn(*mut siptls_ctx, u32, *const c_char, *const c_char) -> siptls_result,
    pub ctx_remove_identity: unsafe extern "C" fn(*mut siptls_ctx, u32) -> siptls_result,
    pub ctx_set_identity_names:
        unsafe extern "C" fn(*mut siptls_ctx, u32, *const *const c_char, usize) -> siptls_result,
    pub session_new_with_options: unsafe extern "C" fn(
        *const siptls_ctx,
        *const siptls_session_options,
        *mut *mut siptls_session,
    ) -> siptls_result,
    pub session_get_sni: unsafe extern "C" fn(
        *const siptls_session,
        *mut c_char,
        usize,
        *mut usize,
    ) -> siptls_result,
    pub framer_new:
        unsafe extern "C" fn(*const siptls_framer_limits, *mut *mut siptls_framer) -> siptls_result,
    pub framer_free: unsafe extern "C" fn(*mut siptls_framer),
    pub framer_push:
        unsafe extern "C" fn(*mut siptls_framer, *const u8, usize, *mut usize) -> siptls_result,
    pub framer_take_event:
        unsafe extern "C" fn(*mut siptls_framer, *mut siptls_sip_event) -> siptls_result,
    pub framer_take_pongs: unsafe extern "C" fn(*mut siptls_framer, *mut usize) -> siptls_result,
    pub session_pump_fd:
        unsafe extern "C" fn(*mut siptls_session, c_int, *mut u32) -> siptls_result,
    pub session_pump_io:
        unsafe extern "C" fn(*mut siptls_session, *const siptls_io, *mut u32) -> siptls_result,
    // ABI 4 appends from here.
    pub session_get_events: unsafe extern "C" fn(*mut siptls_session, *mut u32) -> siptls_result,
    pub ctx_set_eku_policy: unsafe extern "C" fn(*mut siptls_ctx, u32) -> siptls_result,
    pub ctx_set_trust_eku_policy: unsafe extern "C" fn(*mut siptls_ctx, u32, u32) -> siptls_result,
    pub ctx_set_expiry_warning: unsafe extern "C" fn(*mut siptls_ctx, u32, u32) -> siptls_result,
    pub ctx_count_expiries: unsafe extern "C" fn(*const siptls_ctx, *mut usize) -> siptls_result,
    pub ctx_get_expiry:
        unsafe extern "C" fn(*const siptls_ctx, usize, *mut siptls_expiry_info) -> siptls_result,
    pub ctx_reload_if_changed: unsafe extern "C" fn(*mut siptls_ctx, *mut u32) -> siptls_result,
    pub ctx_set_ocsp_response:
        unsafe extern "C" fn(*mut siptls_ctx, u32, *const u8, usize) -> siptls_result,
    pub ctx_load_ocsp_file:
        unsafe extern "C" fn(*mut siptls_ctx, u32, *const c_char) -> siptls_result,
    pub ctx_add_identity_signer: unsafe extern "C" fn(
        *mut siptls_ctx,
        u32,
        *const u8,
        usize,
        *const siptls_signer,
    ) -> siptls_result,
    pub get_fips_mode: extern "C" fn() -> u32,
    pub get_uri_targets: unsafe extern "C" fn(
        *const c_char,
        *const siptls_resolver_config,
        *mut siptls_target,
        usize,
        *mut usize,
    ) -> siptls_result,
    pub ctx_get_connection_key: unsafe extern "C" fn(
        *const siptls_ctx,
        *const siptls_session_options,
        *const c_char,
        *mut siptls_connection_key,
    ) -> siptls_result,
    pub session_get_connection_key: unsafe extern "C" fn(
        *const siptls_session,
        *const c_char,
        *mut siptls_connection_key,
    ) -> siptls_result,
}

const API: siptls_api = siptls_api {
    struct_size: std::mem::size_of::<siptls_api>() as u32,
    abi_version: SIPTLS_ABI_VERSION,
    result_str: siptls_result_str,
    verify_status_str: siptls_verify_status_str,
    get_version: siptls_get_version,
    get_version_number: siptls_get_version_number,
    get_last_error: siptls_get_last_error,
    ctx_new: siptls_ctx_new,
    ctx_free: siptls_ctx_free,
    ctx_set_identity_pem: siptls_ctx_set_identity_pem,
    ctx_load_identity_files: siptls_ctx_load_identity_files,
    ctx_load_pem_dir: siptls_ctx_load_pem_dir,
    ctx_set_client_auth: siptls_ctx_set_client_auth,
    ctx_set_max_ca_depth: siptls_ctx_set_max_ca_depth,
    ctx_set_versions: siptls_ctx_set_versions,
    ctx_set_name_check: siptls_ctx_set_name_check,
    ctx_set_allow_override: siptls_ctx_set_allow_override,
    ctx_set_missing_crl_policy: siptls_ctx_set_missing_crl_policy,
    ctx_set_expired_crl_policy: siptls_ctx_set_expired_crl_policy,
    ctx_get_generation: siptls_ctx_get_generation,
    ctx_set_verify_callback: siptls_ctx_set_verify_callback,
    ctx_set_time_callback: siptls_ctx_set_time_callback,
    ctx_set_keylog_file: siptls_ctx_set_keylog_file,
    ctx_get_last_error: siptls_ctx_get_last_error,
    ctx_add_trust: siptls_ctx_add_trust,
    ctx_add_trust_list: siptls_ctx_add_trust_list,
    ctx_add_trust_file: siptls_ctx_add_trust_file,
    ctx_replace_trust_list: siptls_ctx_replace_trust_list,
    ctx_get_trust: siptls_ctx_get_trust,
    ctx_remove_trust: siptls_ctx_remove_trust,
    ctx_list_trust: siptls_ctx_list_trust,
    ctx_set_trust_sip_domain: siptls_ctx_set_trust_sip_domain,
    ctx_add_crl: siptls_ctx_add_crl,
    ctx_add_crl_file: siptls_ctx_add_crl_file,
    ctx_count_crls: siptls_ctx_count_crls,
    ctx_get_crl: siptls_ctx_get_crl,
    ctx_remove_crl: siptls_ctx_remove_crl,
    ctx_clear_crls: siptls_ctx_clear_crls,
    session_new: siptls_session_new,
    session_free: siptls_session_free,
    session_set_userdata: siptls_session_set_userdata,
    session_get_userdata: siptls_session_get_userdata,
    session_feed: siptls_session_feed,
    session_take: siptls_session_take,
    session_write: siptls_session_write,
    session_read: siptls_session_read,
    session_close: siptls_session_close,
    session_feed_eof: siptls_session_feed_eof,
    session_get_info: siptls_session_get_info,
    session_get_peer_cert: siptls_session_get_peer_cert,
    session_get_last_error: siptls_session_get_last_error,
    cipher_suite_str: siptls_cipher_suite_str,
    ctx_set_keylog_callback: siptls_ctx_set_keylog_callback,
    ctx_use_sslkeylogfile: siptls_ctx_use_sslkeylogfile,
    ctx_set_resumption: siptls_ctx_set_resumption,
    ctx_set_session_cache_size: siptls_ctx_set_session_cache_size,
    ctx_set_session_store: siptls_ctx_set_session_store,
    ctx_set_tls13_tickets: siptls_ctx_set_tls13_tickets,
    ctx_set_ticket_lifetime: siptls_ctx_set_ticket_lifetime,
    ctx_set_ticket_keys: siptls_ctx_set_ticket_keys,
    ctx_load_ticket_key_file: siptls_ctx_load_ticket_key_file,
    ctx_set_profile: siptls_ctx_set_profile,
    ctx_set_cipher_suites: siptls_ctx_set_cipher_suites,
    ctx_set_kx_groups: siptls_ctx_set_kx_groups,
    ctx_get_counters: siptls_ctx_get_counters,
    ctx_reset_counters: siptls_ctx_reset_counters,
    ctx_get_counters_prometheus: siptls_ctx_get_counters_prometheus,
    ctx_set_log_callback: siptls_ctx_set_log_callback,
    ctx_add_identity_pem: siptls_ctx_add_identity_pem,
    ctx_add_identity_files: siptls_ctx_add_identity_files,
    ctx_remove_identity: siptls_ctx_remove_identity,
    ctx_set_identity_names: siptls_ctx_set_identity_names,
    session_new_with_options: siptls_session_new_with_options,
    session_get_sni: siptls_session_get_sni,
    framer_new: siptls_framer_new,
    framer_free: siptls_framer_free,
    framer_push: siptls_framer_push,
    framer_take_event: siptls_framer_take_event,
    framer_take_pongs: siptls_framer_take_pongs,
    session_pump_fd: siptls_session_pump_fd,
    session_pump_io: siptls_session_pump_io,
    session_get_events: siptls_session_get_events,
    ctx_set_eku_policy: siptls_ctx_set_eku_policy,
    ctx_set_trust_eku_policy: siptls_ctx_set_trust_eku_policy,
    ctx_set_expiry_warning: siptls_ctx_set_expiry_warning,
    ctx_count_expiries: siptls_ctx_count_expiries,
    ctx_get_expiry: siptls_ctx_get_expiry,
    ctx_reload_if_changed: siptls_ctx_reload_if_changed,
    ctx_set_ocsp_response: siptls_ctx_set_ocsp_response,
    ctx_load_ocsp_file: siptls_ctx_load_ocsp_file,
    ctx_add_identity_signer: siptls_ctx_add_identity_signer,
    get_fips_mode: siptls_get_fips_mode,
    get_uri_targets: siptls_get_uri_targets,
    ctx_get_connection_key: siptls_ctx_get_connection_key,
    session_get_connection_key: siptls_session_get_connection_key,
};

/// The table handed out for this ABI.
static TABLE: siptls_api = API;

/// The table of ABI 3 (siptls 0.3), for a program built against it that
/// loads this library with `dlopen`: the same functions in the same places
/// (0.4 renamed them in the header only), its size ending before the
/// members 0.4 appended, and the socket helper storing only the WANT flags
/// a 0.3 caller knows (it read 0 as "nothing to wait for").
static TABLE_V3: siptls_api = siptls_api {
    struct_size: std::mem::offset_of!(siptls_api, session_get_events) as u32,
    abi_version: 3,
    session_pump_fd: pump_fd_v3,
    session_pump_io: pump_io_v3,
    ..API
};

const WANTS: u32 = SIPTLS_WANT_READ | SIPTLS_WANT_WRITE;

/// `siptls_session_pump_fd` as ABI 3 defined it.
unsafe extern "C" fn pump_fd_v3(
    session: *mut siptls_session,
    fd: c_int,
    wants_out: *mut u32,
) -> siptls_result {
    unsafe {
        wants_only(wants_out, |flags| {
            siptls_session_pump_fd(session, fd, flags)
        })
    }
}

/// `siptls_session_pump_io` as ABI 3 defined it.
unsafe extern "C" fn pump_io_v3(
    session: *mut siptls_session,
    io: *const siptls_io,
    wants_out: *mut u32,
) -> siptls_result {
    unsafe {
        wants_only(wants_out, |flags| {
            siptls_session_pump_io(session, io, flags)
        })
    }
}

/// Runs a pump call and stores only the WANT flags of what it reports.
///
/// # Safety
/// `wants_out` is NULL or writable; `pump` is sound to call.
unsafe fn wants_only(
    wants_out: *mut u32,
    pump: impl FnOnce(&mut u32) -> siptls_result,
) -> siptls_result {
    ffi::call(|| {
        let wants_out = unsafe { ffi::arg_out(wants_out, "wants_out", 0)? };
        let mut flags = 0;
        let result = pump(&mut flags);
        *wants_out = flags & WANTS;
        Ok(result)
    })
}

/// The function table of ABI `abi_version` (pass SIPTLS_ABI_VERSION), valid
/// for as long as the library is loaded. This library serves ABI 4 and,
/// for programs built against siptls 0.3, ABI 3. A version it does not
/// provide is refused with SIPTLS_ERR_ABI_VERSION and `*api_out` set to NULL.
///
/// # Safety
/// `api_out` must be writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_get_api(
    abi_version: u32,
    api_out: *mut *const siptls_api,
) -> siptls_result {
    ffi::call(|| {
        unsafe { ffi::clear_out(api_out, std::ptr::null()) };
        let api_out = unsafe { ffi::arg_out(api_out, "api_out", std::ptr::null())? };
        let table = match abi_version {
            SIPTLS_ABI_VERSION => &TABLE,
            3 => &TABLE_V3,
            _ => {
                return Err(Error::new(
                    SIPTLS_ERR_ABI_VERSION,
                    format!(
                        "ABI version {abi_version} was asked for; this library ({}) provides \
                         ABI versions {SIPTLS_ABI_VERSION} and 3: rebuild the program against \
                         its siptls.h",
                        env!("CARGO_PKG_VERSION")
                    ),
                ))
            }
        };
        *api_out = table;
        Ok(SIPTLS_OK)
    })
}
