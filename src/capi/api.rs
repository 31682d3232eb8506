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
    pub version: extern "C" fn() -> *const c_char,
    pub version_number: extern "C" fn() -> u32,
    pub last_error: unsafe extern "C" fn(*mut c_char, usize, *mut usize) -> siptls_result,
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
    pub ctx_generation: unsafe extern "C" fn(*const siptls_ctx, *mut u64) -> siptls_result,
    pub ctx_set_verify_callback:
        unsafe extern "C" fn(*mut siptls_ctx, siptls_verify_cb, *mut c_void) -> siptls_result,
    pub ctx_set_time_callback:
        unsafe extern "C" fn(*mut siptls_ctx, siptls_time_cb, *mut c_void) -> siptls_result,
    pub ctx_set_keylog_file: unsafe extern "C" fn(*mut siptls_ctx, *const c_char) -> siptls_result,
    pub ctx_last_error:
        unsafe extern "C" fn(*const siptls_ctx, *mut c_char, usize, *mut usize) -> siptls_result,
    pub ctx_trust_add:
        unsafe extern "C" fn(*mut siptls_ctx, u32, *const u8, usize) -> siptls_result,
    pub ctx_trust_load_ca_list:
        unsafe extern "C" fn(*mut siptls_ctx, *const u8, usize, u32, *mut usize) -> siptls_result,
    pub ctx_trust_load_ca_file:
        unsafe extern "C" fn(*mut siptls_ctx, *const c_char, u32, *mut usize) -> siptls_result,
    pub ctx_trust_replace_ca_list:
        unsafe extern "C" fn(*mut siptls_ctx, *const u8, usize, u32, *mut usize) -> siptls_result,
    pub ctx_trust_get:
        unsafe extern "C" fn(*const siptls_ctx, u32, *mut siptls_trust_entry_info) -> siptls_result,
    pub ctx_trust_remove: unsafe extern "C" fn(*mut siptls_ctx, u32) -> siptls_result,
    pub ctx_trust_list:
        unsafe extern "C" fn(*const siptls_ctx, *mut u32, usize, *mut usize) -> siptls_result,
    pub ctx_trust_set_sip_domain:
        unsafe extern "C" fn(*mut siptls_ctx, u32, *const c_char) -> siptls_result,
    pub ctx_add_crl:
        unsafe extern "C" fn(*mut siptls_ctx, *const u8, usize, *mut usize) -> siptls_result,
    pub ctx_add_crl_file:
        unsafe extern "C" fn(*mut siptls_ctx, *const c_char, *mut usize) -> siptls_result,
    pub ctx_crl_count: unsafe extern "C" fn(*const siptls_ctx, *mut usize) -> siptls_result,
    pub ctx_crl_get:
        unsafe extern "C" fn(*const siptls_ctx, usize, *mut siptls_crl_info) -> siptls_result,
    pub ctx_crl_remove: unsafe extern "C" fn(*mut siptls_ctx, *const c_char) -> siptls_result,
    pub ctx_crl_clear: unsafe extern "C" fn(*mut siptls_ctx) -> siptls_result,
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
    pub session_transport_closed: unsafe extern "C" fn(*mut siptls_session) -> siptls_result,
    pub session_get_info:
        unsafe extern "C" fn(*const siptls_session, *mut siptls_session_info) -> siptls_result,
    pub session_peer_cert: unsafe extern "C" fn(
        *const siptls_session,
        usize,
        *mut *const u8,
        *mut usize,
    ) -> siptls_result,
    pub session_last_error: unsafe extern "C" fn(
        *const siptls_session,
        *mut c_char,
        usize,
        *mut usize,
    ) -> siptls_result,
    pub cipher_suite_name: extern "C" fn(u16) -> *const c_char,
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
    pub ctx_counters_prometheus:
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
    pub session_new_with: unsafe extern "C" fn(
        *const siptls_ctx,
        *const siptls_session_options,
        *mut *mut siptls_session,
    ) -> siptls_result,
    pub session_sni: unsafe extern "C" fn(
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
    pub framer_next:
        unsafe extern "C" fn(*mut siptls_framer, *mut siptls_sip_event) -> siptls_result,
    pub framer_take_pongs: unsafe extern "C" fn(*mut siptls_framer, *mut usize) -> siptls_result,
    pub session_pump_fd:
        unsafe extern "C" fn(*mut siptls_session, c_int, *mut u32) -> siptls_result,
    pub session_pump_io:
        unsafe extern "C" fn(*mut siptls_session, *const siptls_io, *mut u32) -> siptls_result,
}

static API: siptls_api = siptls_api {
    struct_size: std::mem::size_of::<siptls_api>() as u32,
    abi_version: SIPTLS_ABI_VERSION,
    result_str: siptls_result_str,
    verify_status_str: siptls_verify_status_str,
    version: siptls_version,
    version_number: siptls_version_number,
    last_error: siptls_last_error,
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
    ctx_generation: siptls_ctx_generation,
    ctx_set_verify_callback: siptls_ctx_set_verify_callback,
    ctx_set_time_callback: siptls_ctx_set_time_callback,
    ctx_set_keylog_file: siptls_ctx_set_keylog_file,
    ctx_last_error: siptls_ctx_last_error,
    ctx_trust_add: siptls_ctx_trust_add,
    ctx_trust_load_ca_list: siptls_ctx_trust_load_ca_list,
    ctx_trust_load_ca_file: siptls_ctx_trust_load_ca_file,
    ctx_trust_replace_ca_list: siptls_ctx_trust_replace_ca_list,
    ctx_trust_get: siptls_ctx_trust_get,
    ctx_trust_remove: siptls_ctx_trust_remove,
    ctx_trust_list: siptls_ctx_trust_list,
    ctx_trust_set_sip_domain: siptls_ctx_trust_set_sip_domain,
    ctx_add_crl: siptls_ctx_add_crl,
    ctx_add_crl_file: siptls_ctx_add_crl_file,
    ctx_crl_count: siptls_ctx_crl_count,
    ctx_crl_get: siptls_ctx_crl_get,
    ctx_crl_remove: siptls_ctx_crl_remove,
    ctx_crl_clear: siptls_ctx_crl_clear,
    session_new: siptls_session_new,
    session_free: siptls_session_free,
    session_set_userdata: siptls_session_set_userdata,
    session_get_userdata: siptls_session_get_userdata,
    session_feed: siptls_session_feed,
    session_take: siptls_session_take,
    session_write: siptls_session_write,
    session_read: siptls_session_read,
    session_close: siptls_session_close,
    session_transport_closed: siptls_session_transport_closed,
    session_get_info: siptls_session_get_info,
    session_peer_cert: siptls_session_peer_cert,
    session_last_error: siptls_session_last_error,
    cipher_suite_name: siptls_cipher_suite_name,
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
    ctx_counters_prometheus: siptls_ctx_counters_prometheus,
    ctx_set_log_callback: siptls_ctx_set_log_callback,
    ctx_add_identity_pem: siptls_ctx_add_identity_pem,
    ctx_add_identity_files: siptls_ctx_add_identity_files,
    ctx_remove_identity: siptls_ctx_remove_identity,
    ctx_set_identity_names: siptls_ctx_set_identity_names,
    session_new_with: siptls_session_new_with,
    session_sni: siptls_session_sni,
    framer_new: siptls_framer_new,
    framer_free: siptls_framer_free,
    framer_push: siptls_framer_push,
    framer_next: siptls_framer_next,
    framer_take_pongs: siptls_framer_take_pongs,
    session_pump_fd: siptls_session_pump_fd,
    session_pump_io: siptls_session_pump_io,
};

/// The function table of ABI `abi_version` (pass SIPTLS_ABI_VERSION), valid
/// for as long as the library is loaded. A version this library does not
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
        if abi_version != SIPTLS_ABI_VERSION {
            return Err(Error::new(
                SIPTLS_ERR_ABI_VERSION,
                format!(
                    "ABI version {abi_version} asked for; this library ({}) provides ABI version {SIPTLS_ABI_VERSION}",
                    env!("CARGO_PKG_VERSION")
                ),
            ));
        }
        *api_out = &API;
        Ok(SIPTLS_OK)
    })
}
