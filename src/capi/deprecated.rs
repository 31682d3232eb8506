//! The names 0.3 used, kept for one release: each is the export it was
//! renamed to, under its old name, marked deprecated so a C compiler warns
//! at every use (docs/abi-and-packaging.md lists the renames). A program
//! built against 0.3 must be rebuilt for 0.4 anyway (the soname changed);
//! these let it be rebuilt before its sources are edited.

use crate::abi::siptls_result;
use std::ffi::c_char;

use super::*;

/// Renamed `siptls_cipher_suite_str` in 0.4; this name goes in 0.5.
#[deprecated(note = "renamed siptls_cipher_suite_str in siptls 0.4")]
#[no_mangle]
pub extern "C" fn siptls_cipher_suite_name(suite: u16) -> *const c_char {
    siptls_cipher_suite_str(suite)
}

/// Renamed `siptls_ctx_get_counters_prometheus` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_ctx_get_counters_prometheus`.
#[deprecated(note = "renamed siptls_ctx_get_counters_prometheus in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_counters_prometheus(
    ctx: *const siptls_ctx,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> siptls_result {
    unsafe { siptls_ctx_get_counters_prometheus(ctx, buf, cap, len_out) }
}

/// Renamed `siptls_ctx_clear_crls` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_ctx_clear_crls`.
#[deprecated(note = "renamed siptls_ctx_clear_crls in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_crl_clear(ctx: *mut siptls_ctx) -> siptls_result {
    unsafe { siptls_ctx_clear_crls(ctx) }
}

/// Renamed `siptls_ctx_count_crls` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_ctx_count_crls`.
#[deprecated(note = "renamed siptls_ctx_count_crls in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_crl_count(
    ctx: *const siptls_ctx,
    count_out: *mut usize,
) -> siptls_result {
    unsafe { siptls_ctx_count_crls(ctx, count_out) }
}

/// Renamed `siptls_ctx_get_crl` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_ctx_get_crl`.
#[deprecated(note = "renamed siptls_ctx_get_crl in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_crl_get(
    ctx: *const siptls_ctx,
    index: usize,
    info_out: *mut siptls_crl_info,
) -> siptls_result {
    unsafe { siptls_ctx_get_crl(ctx, index, info_out) }
}

/// Renamed `siptls_ctx_remove_crl` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_ctx_remove_crl`.
#[deprecated(note = "renamed siptls_ctx_remove_crl in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_crl_remove(
    ctx: *mut siptls_ctx,
    issuer: *const c_char,
) -> siptls_result {
    unsafe { siptls_ctx_remove_crl(ctx, issuer) }
}

/// Renamed `siptls_ctx_get_generation` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_ctx_get_generation`.
#[deprecated(note = "renamed siptls_ctx_get_generation in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_generation(
    ctx: *const siptls_ctx,
    generation_out: *mut u64,
) -> siptls_result {
    unsafe { siptls_ctx_get_generation(ctx, generation_out) }
}

/// Renamed `siptls_ctx_get_last_error` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_ctx_get_last_error`.
#[deprecated(note = "renamed siptls_ctx_get_last_error in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_last_error(
    ctx: *const siptls_ctx,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> siptls_result {
    unsafe { siptls_ctx_get_last_error(ctx, buf, cap, len_out) }
}

/// Renamed `siptls_ctx_add_trust` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_ctx_add_trust`.
#[deprecated(note = "renamed siptls_ctx_add_trust in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_trust_add(
    ctx: *mut siptls_ctx,
    trust_id: u32,
    cert: *const u8,
    cert_len: usize,
) -> siptls_result {
    unsafe { siptls_ctx_add_trust(ctx, trust_id, cert, cert_len) }
}

/// Renamed `siptls_ctx_get_trust` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_ctx_get_trust`.
#[deprecated(note = "renamed siptls_ctx_get_trust in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_trust_get(
    ctx: *const siptls_ctx,
    trust_id: u32,
    info_out: *mut siptls_trust_entry_info,
) -> siptls_result {
    unsafe { siptls_ctx_get_trust(ctx, trust_id, info_out) }
}

/// Renamed `siptls_ctx_list_trust` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_ctx_list_trust`.
#[deprecated(note = "renamed siptls_ctx_list_trust in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_trust_list(
    ctx: *const siptls_ctx,
    ids: *mut u32,
    cap: usize,
    count_out: *mut usize,
) -> siptls_result {
    unsafe { siptls_ctx_list_trust(ctx, ids, cap, count_out) }
}

/// Renamed `siptls_ctx_add_trust_list` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_ctx_add_trust_list`.
#[deprecated(note = "renamed siptls_ctx_add_trust_list in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_trust_load_ca_list(
    ctx: *mut siptls_ctx,
    pem: *const u8,
    pem_len: usize,
    first_trust_id: u32,
    added_out: *mut usize,
) -> siptls_result {
    unsafe { siptls_ctx_add_trust_list(ctx, pem, pem_len, first_trust_id, added_out) }
}

/// Renamed `siptls_ctx_add_trust_file` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_ctx_add_trust_file`.
#[deprecated(note = "renamed siptls_ctx_add_trust_file in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_trust_load_ca_file(
    ctx: *mut siptls_ctx,
    path: *const c_char,
    first_trust_id: u32,
    added_out: *mut usize,
) -> siptls_result {
    unsafe { siptls_ctx_add_trust_file(ctx, path, first_trust_id, added_out) }
}

/// Renamed `siptls_ctx_replace_trust_list` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_ctx_replace_trust_list`.
#[deprecated(note = "renamed siptls_ctx_replace_trust_list in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_trust_replace_ca_list(
    ctx: *mut siptls_ctx,
    pem: *const u8,
    pem_len: usize,
    first_trust_id: u32,
    count_out: *mut usize,
) -> siptls_result {
    unsafe { siptls_ctx_replace_trust_list(ctx, pem, pem_len, first_trust_id, count_out) }
}

/// Renamed `siptls_ctx_remove_trust` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_ctx_remove_trust`.
#[deprecated(note = "renamed siptls_ctx_remove_trust in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_trust_remove(
    ctx: *mut siptls_ctx,
    trust_id: u32,
) -> siptls_result {
    unsafe { siptls_ctx_remove_trust(ctx, trust_id) }
}

/// Renamed `siptls_ctx_set_trust_sip_domain` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_ctx_set_trust_sip_domain`.
#[deprecated(note = "renamed siptls_ctx_set_trust_sip_domain in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_trust_set_sip_domain(
    ctx: *mut siptls_ctx,
    trust_id: u32,
    domain: *const c_char,
) -> siptls_result {
    unsafe { siptls_ctx_set_trust_sip_domain(ctx, trust_id, domain) }
}

/// Renamed `siptls_session_get_last_error` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_session_get_last_error`.
#[deprecated(note = "renamed siptls_session_get_last_error in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_session_last_error(
    session: *const siptls_session,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> siptls_result {
    unsafe { siptls_session_get_last_error(session, buf, cap, len_out) }
}

/// Renamed `siptls_session_get_peer_cert` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_session_get_peer_cert`.
#[deprecated(note = "renamed siptls_session_get_peer_cert in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_session_peer_cert(
    session: *const siptls_session,
    index: usize,
    der_out: *mut *const u8,
    len_out: *mut usize,
) -> siptls_result {
    unsafe { siptls_session_get_peer_cert(session, index, der_out, len_out) }
}

/// Renamed `siptls_session_get_sni` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_session_get_sni`.
#[deprecated(note = "renamed siptls_session_get_sni in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_session_sni(
    session: *const siptls_session,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> siptls_result {
    unsafe { siptls_session_get_sni(session, buf, cap, len_out) }
}

/// Renamed `siptls_session_feed_eof` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_session_feed_eof`.
#[deprecated(note = "renamed siptls_session_feed_eof in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_session_transport_closed(
    session: *mut siptls_session,
) -> siptls_result {
    unsafe { siptls_session_feed_eof(session) }
}

/// Renamed `siptls_session_new_with_options` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_session_new_with_options`.
#[deprecated(note = "renamed siptls_session_new_with_options in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_session_new_with(
    ctx: *const siptls_ctx,
    options: *const siptls_session_options,
    session_out: *mut *mut siptls_session,
) -> siptls_result {
    unsafe { siptls_session_new_with_options(ctx, options, session_out) }
}

/// Renamed `siptls_framer_take_event` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_framer_take_event`.
#[deprecated(note = "renamed siptls_framer_take_event in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_framer_next(
    framer: *mut siptls_framer,
    event_out: *mut siptls_sip_event,
) -> siptls_result {
    unsafe { siptls_framer_take_event(framer, event_out) }
}

/// Renamed `siptls_get_last_error` in 0.4; this name goes in 0.5.
///
/// # Safety
/// As `siptls_get_last_error`.
#[deprecated(note = "renamed siptls_get_last_error in siptls 0.4")]
#[no_mangle]
pub unsafe extern "C" fn siptls_last_error(
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> siptls_result {
    unsafe { siptls_get_last_error(buf, cap, len_out) }
}

/// Renamed `siptls_get_version` in 0.4; this name goes in 0.5.
#[deprecated(note = "renamed siptls_get_version in siptls 0.4")]
#[no_mangle]
pub extern "C" fn siptls_version() -> *const c_char {
    siptls_get_version()
}

/// Renamed `siptls_get_version_number` in 0.4; this name goes in 0.5.
#[deprecated(note = "renamed siptls_get_version_number in siptls 0.4")]
#[no_mangle]
pub extern "C" fn siptls_version_number() -> u32 {
    siptls_get_version_number()
}
