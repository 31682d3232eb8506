//! A value one call at a time may use, where a second caller is told "busy"
//! instead of waiting, and a free asked for during a call is carried out
//! when that call returns.
//!
//! This is the lock of every session. One atomic word is both the lock and
//! the free protocol, so a call costs two atomic operations (enter, leave);
//! a mutex inside would add two more to every call on the data path, for
//! nothing: nobody ever waits for it.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU8, Ordering};

/// Who holds the value: nobody, one call in progress, one call in progress
/// with a free requested meanwhile (from its callback or another thread),
/// or nobody ever again (being freed).
const IDLE: u8 = 0;
const IN_CALL: u8 = 1;
const IN_CALL_FREE_PENDING: u8 = 2;
const FREED: u8 = 3;

pub struct Exclusive<T> {
    owner: AtomicU8,
    value: UnsafeCell<T>,
}

// SAFETY: `value` is reached only through `with`, and only by the one
// caller whose compare-exchange moved `owner` from IDLE to IN_CALL
// (Acquire); that caller gives it back with a Release store or exchange.
// Every other caller, on any thread, including the same thread re-entering
// from a callback, sees a state other than IDLE and gets `None`, so there
// is never more than one `&mut T`. `T: Send` because the value moves
// between the threads that take turns.
unsafe impl<T: Send> Sync for Exclusive<T> {}

/// Whether the caller of `with` must now free the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterCall {
    Keep,
    /// A free was requested during the call: nobody may enter again.
    Free,
}

impl<T> Exclusive<T> {
    pub fn new(value: T) -> Self {
        Self {
            owner: AtomicU8::new(IDLE),
            value: UnsafeCell::new(value),
        }
    }

    /// Runs `f` with the value, or returns `None` at once when another call
    /// holds it (or it is being freed).
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<(R, AfterCall)> {
        self.owner
            .compare_exchange(IDLE, IN_CALL, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        let unwinding = Unwinding(&self.owner);
        // SAFETY: the exchange above made this call the only holder (see
        // the Sync impl); the reference does not outlive `f`.
        let result = f(unsafe { &mut *self.value.get() });
        std::mem::forget(unwinding);
        let released = self
            .owner
            .compare_exchange(IN_CALL, IDLE, Ordering::Release, Ordering::Relaxed)
            .is_ok();
        if released {
            return Some((result, AfterCall::Keep));
        }
        self.owner.store(FREED, Ordering::Release);
        Some((result, AfterCall::Free))
    }

    /// Asks to free the value. True: it is idle and the caller frees it
    /// now. False: a call is in progress and frees it when it returns (or a
    /// free is already under way).
    pub fn request_free(&self) -> bool {
        loop {
            match self
                .owner
                .compare_exchange(IDLE, FREED, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(IN_CALL) => {
                    let deferred = self.owner.compare_exchange(
                        IN_CALL,
                        IN_CALL_FREE_PENDING,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                    if deferred.is_ok() {
                        return false;
                    }
                    // The call ended meanwhile: try again from IDLE.
                }
                Err(_) => return false,
            }
        }
    }
}

/// Gives the value back if `f` unwinds, so a panic cannot leave it held for
/// good. A free requested meanwhile is then not carried out: the value
/// leaks rather than being freed under a caller that is unwinding.
struct Unwinding<'a>(&'a AtomicU8);

impl Drop for Unwinding<'_> {
    fn drop(&mut self) {
        let _ = self
            .0
            .compare_exchange(IN_CALL, IDLE, Ordering::Release, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_call_is_refused_and_the_outer_one_goes_on() {
        let cell = Exclusive::new(1);
        let (inner, after) = cell
            .with(|v| {
                *v += 1;
                cell.with(|v| *v += 10).is_none()
            })
            .unwrap();
        assert!(inner, "the nested call got in");
        assert_eq!(after, AfterCall::Keep);
        assert_eq!(cell.with(|v| *v).unwrap().0, 2);
    }

    #[test]
    fn a_free_requested_during_a_call_is_left_to_that_call() {
        let cell = Exclusive::new(());
        let (now, after) = cell.with(|_| cell.request_free()).unwrap();
        assert!(!now, "freed under the call");
        assert_eq!(after, AfterCall::Free);
        assert!(cell.with(|_| ()).is_none(), "entered after the free");
        assert!(!cell.request_free(), "freed twice");
    }

    #[test]
    fn a_panic_inside_gives_the_value_back() {
        let cell = Exclusive::new(5);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            cell.with(|_| panic!("inside"));
        }));
        assert!(caught.is_err());
        assert_eq!(
            cell.with(|v| *v).unwrap().0,
            5,
            "still held after the panic"
        );
    }

    #[test]
    fn an_idle_value_is_freed_by_the_requester_once() {
        let cell = Exclusive::new(());
        assert!(cell.request_free());
        assert!(!cell.request_free());
        assert!(cell.with(|_| ()).is_none());
    }

    #[test]
    fn two_threads_never_hold_it_at_once() {
        let cell = Exclusive::new(0u64);
        let entered = std::sync::atomic::AtomicU64::new(0);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..100_000 {
                        if cell.with(|v| *v += 1).is_some() {
                            entered.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        // Every call that got in counted exactly once: no lost update.
        assert_eq!(
            cell.with(|v| *v).unwrap().0,
            entered.load(Ordering::Relaxed)
        );
    }
}
