//! Expiry an operator can watch: each identity, trust entry and CRL with
//! the time it has left by the gateway's clock, and the warning thresholds.

use crate::abi::{siptls_expiry_info, siptls_result, siptls_result::*, SIPTLS_NOTHING_EXPIRES};

use super::handles;
use super::siptls_ctx;
use crate::error::Error;
use crate::expiry::Thresholds;
use crate::ffi;

// SAFETY: repr(C); four u32, three i64, then a char array: no padding.
unsafe impl ffi::NoPadding for siptls_expiry_info {}

/// How far ahead of an expiry a WARN log record (SIPTLS_LOG_EXPIRY) and the
/// counter `expiry_warnings` come, once per crossing: `certificate_seconds`
/// before the notAfter of an identity's certificate chain or a trust entry
/// (default 30 days), `crl_seconds` before a CRL's nextUpdate (default 1
/// day); 0 turns that warning off. siptls looks when the counters, the
/// Prometheus text or the expiry list are read, and at most once a second
/// when a session is made; by the gateway's clock.
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_expiry_warning(
    ctx: *mut siptls_ctx,
    certificate_seconds: u32,
    crl_seconds: u32,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            ctx.set_expiry_warning(Thresholds {
                certificate: certificate_seconds,
                crl: crl_seconds,
            })
        })
    }
}

/// How many things expire: identities, then trust entries, then CRLs
/// (`siptls_ctx_get_expiry` describes each). Looks for crossings, as the
/// counters do.
///
/// # Safety
/// `ctx` must be a live context; `count_out` writable.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_count_expiries(
    ctx: *const siptls_ctx,
    count_out: *mut usize,
) -> siptls_result {
    unsafe { handles::count_on_ctx(ctx, count_out, |ctx| ctx.expiry().0.len()) }
}

/// Describes expiring thing number `index` (0 to count - 1): its kind and
/// ID, its notAfter (a CRL: nextUpdate), for an identity the earliest
/// notAfter of its chain, the seconds left by the gateway's clock, and
/// whether it was warned of.
///
/// # Safety
/// `ctx` must be a live context; `info_out` writable for its `struct_size`.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_get_expiry(
    ctx: *const siptls_ctx,
    index: usize,
    info_out: *mut siptls_expiry_info,
) -> siptls_result {
    ffi::call(|| {
        unsafe { ffi::clear_sized(info_out) };
        unsafe {
            handles::on_ctx(ctx, |ctx| {
                let (items, now) = ctx.expiry();
                let item = items.get(index).ok_or_else(|| {
                    Error::new(
                        SIPTLS_ERR_INVALID_ARGUMENT,
                        format!("index {index}: {} things expire", items.len()),
                    )
                })?;
                let info = siptls_expiry_info {
                    struct_size: std::mem::size_of::<siptls_expiry_info>() as u32,
                    kind: item.kind,
                    id: item.id,
                    warned: u32::from(ctx.expiry_warned(item)),
                    not_after: item.not_after,
                    earliest_not_after: item.earliest,
                    seconds_left: now.map_or(SIPTLS_NOTHING_EXPIRES, |now| item.left(now)),
                    subject: ffi::fixed_text(&item.subject),
                };
                ffi::write_sized(info_out, &info, "info_out")?;
                Ok(SIPTLS_OK)
            })
        }
    })
}
