//! The gateway's pointer, handed back to its callbacks untouched.

/// C `void *` user data handed back to callbacks. The gateway promises, by
/// registering it, that it may be used from whichever thread runs a session.
#[derive(Clone, Copy)]
pub struct UserData(pub *mut std::ffi::c_void);

impl UserData {
    /// No user data: NULL.
    pub const NONE: UserData = UserData(std::ptr::null_mut());
}

impl Default for UserData {
    fn default() -> Self {
        Self::NONE
    }
}
// SAFETY: the pointer is never dereferenced here, only passed back to the
// caller's own callback; docs/conventions.md states callbacks run on session threads.
unsafe impl Send for UserData {}
// SAFETY: as for `Send`: shared, it is still only handed back.
unsafe impl Sync for UserData {}
