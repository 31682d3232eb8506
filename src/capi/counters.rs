//! The context's counters: one call into a size-prefixed struct, a reset,
//! and the Prometheus text format.

use crate::abi::{siptls_counters, siptls_result, siptls_result::*};
use std::ffi::c_char;

use super::siptls_ctx;

use super::handles;
use crate::ffi;

// SAFETY: repr(C); two u32 then u64 and u64 arrays only: no padding.
unsafe impl ffi::NoPadding for siptls_counters {}

/// Fills `counters_out` (set its `struct_size` first).
///
/// # Safety
/// `ctx` must be a live context; `counters_out` writable for its `struct_size`.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_get_counters(
    ctx: *const siptls_ctx,
    counters_out: *mut siptls_counters,
) -> siptls_result {
    ffi::call(|| {
        unsafe { ffi::clear_sized(counters_out) };
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                // Looking at the expiries counts crossings: before the snapshot.
                let (items, now) = ctx.expiry();
                let earliest = crate::expiry::earliest(&items, now);
                let c = ctx.counters().snapshot();
                let filled = siptls_counters {
                    struct_size: std::mem::size_of::<siptls_counters>() as u32,
                    reserved: 0,
                    sessions_created: c.sessions_created,
                    sessions_freed: c.sessions_freed,
                    sessions_live: c.sessions_live,
                    handshakes_full: c.handshakes_full,
                    handshakes_resumed: c.handshakes_resumed,
                    handshakes_failed: c.handshakes_failed,
                    verify_failed: c.verify_failed,
                    failed_by_result: c.failed_by_result,
                    alerts_sent: c.alerts_sent,
                    alerts_received: c.alerts_received,
                    ciphertext_in: c.ciphertext_in,
                    ciphertext_out: c.ciphertext_out,
                    plaintext_in: c.plaintext_in,
                    plaintext_out: c.plaintext_out,
                    config_applied: c.config_applied,
                    config_refused: c.config_refused,
                    resumption_refused: c.resumption_refused,
                    stored_sessions_dropped: c.stored_sessions_dropped,
                    identity_expiry_seconds: earliest.identity,
                    trust_expiry_seconds: earliest.trust_entry,
                    crl_expiry_seconds: earliest.crl,
                    expiry_warnings: c.expiry_warnings,
                    reloads_unchanged: c.reloads_unchanged,
                    reloads_applied: c.reloads_applied,
                    reloads_refused: c.reloads_refused,
                };
                ffi::write_sized(counters_out, &filled, "counters_out")
            })
        }?;
        Ok(SIPTLS_OK)
    })
}

/// Zeroes the counters (`sessions_live` stays: it is a level).
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_reset_counters(ctx: *mut siptls_ctx) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            ctx.counters().reset();
            Ok(())
        })
    }
}

/// The counters in the Prometheus text exposition format (`siptls_*`
/// families; `result`, `status` and `alert` labels) and the expiry gauges
/// (`siptls_identity_expiry_seconds`, `siptls_trust_entry_expiry_seconds`,
/// `siptls_crl_next_update_seconds`, one series each), NUL-terminated, for a
/// scrape endpoint. Text conventions as `siptls_get_last_error`: `len_out` gets
/// the full length; a buffer too small gets SIPTLS_ERR_BUFFER_TOO_SMALL.
///
/// # Safety
/// `ctx` must be a live context; `buf` writable for `cap` bytes; `len_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_get_counters_prometheus(
    ctx: *const siptls_ctx,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> siptls_result {
    ffi::call(|| {
        unsafe { ffi::clear_text(buf, cap, len_out) };
        let ctx = unsafe { ffi::handle_ref(ctx, "ctx")? };
        let text = ctx.prometheus();
        unsafe { ffi::copy_text(&text, buf, cap, len_out) }
    })
}
