//! The handles and what every export on them shares: which object stands
//! behind each, a context call that keeps its failure as the context's
//! last error, and a session call that carries out a free requested while
//! it ran.

use parking_lot::Mutex;

use crate::abi::{siptls_ctx, siptls_framer, siptls_result, siptls_result::*, siptls_session};
use crate::context::Context;
use crate::error::Error;
use crate::ffi;
use crate::session::{Session, State};
use crate::sip::Framer;

// SAFETY: every pointer of these handle types is made by `ffi::to_handle`
// from its target, in the `_new` export of its object.
unsafe impl ffi::Handle for siptls_ctx {
    type Target = Context;
}

// SAFETY: as above.
unsafe impl ffi::Handle for siptls_session {
    type Target = Session;
}

// SAFETY: as above.
unsafe impl ffi::Handle for siptls_framer {
    type Target = Mutex<Framer>;
}

/// The body of an export on a context: checks the pointer, runs `body`,
/// and keeps a failure's detail as the context's last error too.
///
/// # Safety
/// `ctx` is NULL or a live context from `siptls_ctx_new`.
pub unsafe fn on_ctx<T>(
    ctx: *const siptls_ctx,
    body: impl FnOnce(&Context) -> Result<T, Error>,
) -> Result<T, Error> {
    let ctx = unsafe { ffi::handle_ref(ctx, "ctx")? };
    ctx.recorded(|| body(ctx))
}

/// The whole body of a `siptls_ctx_count_*` export: the panic boundary,
/// the output set to 0 before anything can fail, the context pointer, and
/// the count.
///
/// # Safety
/// As `on_ctx`; `count_out` is NULL or writable.
pub unsafe fn count_on_ctx(
    ctx: *const siptls_ctx,
    count_out: *mut usize,
    count: impl FnOnce(&Context) -> usize,
) -> siptls_result {
    ffi::call(|| {
        let count_out = unsafe { ffi::arg_out(count_out, "count_out", 0)? };
        let ctx = unsafe { ffi::handle_ref(ctx, "ctx")? };
        *count_out = count(ctx);
        Ok(SIPTLS_OK)
    })
}

/// The whole body of an export that edits a context and has no output
/// (most `siptls_ctx_set_*`): the panic boundary, the context pointer, the
/// edit, and its failure kept as the calling thread's error text.
///
/// # Safety
/// As `on_ctx`.
pub unsafe fn edit_ctx(
    ctx: *const siptls_ctx,
    edit: impl FnOnce(&Context) -> Result<(), Error>,
) -> siptls_result {
    ffi::call(|| unsafe { on_ctx(ctx, |ctx| edit(ctx).map(|()| SIPTLS_OK)) })
}

/// Runs `f` with exclusive use of a session, then carries out a free that
/// was requested meanwhile (by the session's own callback, or another
/// thread): the session is never freed while a call is inside it.
///
/// # Safety
/// `session` is NULL or a live session from `siptls_session_new`.
#[inline]
pub unsafe fn with_session<T>(
    session: *const siptls_session,
    f: impl FnOnce(&mut State) -> Result<T, Error>,
) -> Result<T, Error> {
    let live = unsafe { ffi::handle_ref(session, "session")? };
    let (result, free_now) = live.with(f);
    if free_now {
        unsafe { ffi::free_handle(session.cast_mut()) };
    }
    result
}

/// Frees a session now, or when the call in progress on it returns.
///
/// # Safety
/// `session` is NULL or a live session from `siptls_session_new`, not used
/// by the caller afterwards.
pub unsafe fn free_session(session: *mut siptls_session) {
    if let Some(live) = unsafe { session.cast::<Session>().as_ref() } {
        if live.request_free() {
            unsafe { ffi::free_handle(session) };
        }
    }
}
