//! What a context negotiates: a named profile, or explicit lists of cipher
//! suites and key-exchange groups by IANA number.

use super::siptls_ctx;
use crate::abi::{siptls_profile, siptls_result};

use super::handles;
use crate::ffi;

/// Selects the cipher suites and key-exchange groups of a profile
/// (`profile` is a `siptls_profile`; docs/versions-and-suites.md has the table). Replaces
/// explicit lists set before.
///
/// # Safety
/// `ctx` must be a live context.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_profile(
    ctx: *mut siptls_ctx,
    profile: u32,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            let profile = ffi::arg_enum::<siptls_profile>(profile, "profile")?;
            ctx.set_profile(profile)
        })
    }
}

/// Sets the cipher suites, in preference order, by IANA number (e.g.
/// 0x1301 TLS_AES_128_GCM_SHA256, 0xc02b ECDHE-ECDSA-AES128-GCM-SHA256).
/// A number that is unknown, not an AEAD suite of TLS 1.2 or 1.3, or listed
/// twice, an empty list, and a list that leaves no usable suite for the
/// configured versions are refused with SIPTLS_ERR_INVALID_ARGUMENT, the
/// detail naming the number; nothing changes then.
///
/// # Safety
/// `ctx` must be a live context; `suites` readable for `count` values.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_cipher_suites(
    ctx: *mut siptls_ctx,
    suites: *const u16,
    count: usize,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            ctx.set_cipher_suites(ffi::arg_slice(suites, count, "suites")?)
        })
    }
}

/// Sets the key-exchange groups, in preference order, by IANA number
/// (0x001d X25519, 0x0017 secp256r1, 0x0018 secp384r1, 0x11ec
/// X25519MLKEM768, ...). Refused as `siptls_ctx_set_cipher_suites` refuses.
///
/// # Safety
/// `ctx` must be a live context; `groups` readable for `count` values.
#[no_mangle]
pub unsafe extern "C" fn siptls_ctx_set_kx_groups(
    ctx: *mut siptls_ctx,
    groups: *const u16,
    count: usize,
) -> siptls_result {
    unsafe {
        handles::edit_ctx(ctx, |ctx| {
            ctx.set_kx_groups(ffi::arg_slice(groups, count, "groups")?)
        })
    }
}
