//! The only place raw pointers from C are turned into Rust values, and the
//! one boundary every export runs inside: panics become SIPTLS_ERR_PANIC,
//! failures leave their detail text for `siptls_get_last_error`.

use crate::abi::{siptls_result, siptls_result::*, CEnum};
use std::cell::RefCell;
use std::ffi::{c_char, CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use crate::error::Error;

thread_local! {
    /// Detail of the last failed call on this thread, like errno / dlerror.
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

pub fn last_error() -> String {
    LAST_ERROR.with(|e| e.borrow().clone())
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".into())
}

/// Runs an export's body: `Ok(code)` passes through (OK, AGAIN, ...),
/// `Err` records its detail and returns its code, a panic returns PANIC.
pub fn call(body: impl FnOnce() -> Result<siptls_result, Error>) -> siptls_result {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        Err(Error::new(
            SIPTLS_ERR_PANIC,
            format!("internal panic: {}", panic_message(payload.as_ref())),
        ))
    });
    match outcome {
        Ok(code) => code,
        Err(e) => {
            LAST_ERROR.with(|last| last.borrow_mut().clone_from(&e.detail));
            e.code
        }
    }
}

/// For the few exports that return a value rather than a result code.
pub fn call_value<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(on_panic)
}

fn null(name: &str) -> Error {
    Error::new(SIPTLS_ERR_NULL_ARGUMENT, format!("{name} is NULL"))
}

/// # Safety
/// `ptr` is NULL or points to a live `T` for `'a`.
pub unsafe fn arg_ref<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, Error> {
    // SAFETY: NULL or a live `T` for `'a`, per the contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| null(name))
}

/// An output parameter, set to `initial` through its raw pointer before a
/// reference is formed: the caller's memory may be uninitialised.
///
/// # Safety
/// `ptr` is NULL or points to writable memory for a `T` for `'a`.
pub unsafe fn arg_out<'a, T>(ptr: *mut T, name: &str, initial: T) -> Result<&'a mut T, Error> {
    if ptr.is_null() {
        return Err(null(name));
    }
    // SAFETY: writable per the contract.
    unsafe { ptr.write(initial) };
    // SAFETY: written just above, so the reference is to an initialised `T`.
    Ok(unsafe { &mut *ptr })
}

fn check_len(len: usize, name: &str) -> Result<(), Error> {
    if len > isize::MAX as usize {
        return Err(Error::new(
            SIPTLS_ERR_INVALID_ARGUMENT,
            format!("{name}: length {len} is larger than any buffer can be"),
        ));
    }
    Ok(())
}

/// A caller buffer of `len` bytes; NULL is refused even with length 0.
///
/// # Safety
/// `ptr` is NULL or valid for reads of `len` bytes for `'a`.
pub unsafe fn arg_bytes<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8], Error> {
    // SAFETY: the same contract, for bytes (always aligned).
    unsafe { arg_slice(ptr, len, name) }
}

/// As `arg_bytes`, where NULL with length 0 means "none".
///
/// # Safety
/// As `arg_bytes`.
pub unsafe fn arg_opt_bytes<'a>(
    ptr: *const u8,
    len: usize,
    name: &str,
) -> Result<Option<&'a [u8]>, Error> {
    if ptr.is_null() && len == 0 {
        return Ok(None);
    }
    // SAFETY: the same contract.
    unsafe { arg_bytes(ptr, len, name) }.map(Some)
}

/// Refuses caller input that overlaps `own`, memory the call moves or
/// frees while reading the input (`own_name` says whose): a C caller
/// passing back a pointer it was handed would read bytes as they move.
pub fn arg_apart(
    bytes: &[u8],
    name: &str,
    own: std::ops::Range<*const u8>,
    own_name: &str,
) -> Result<(), Error> {
    let input = bytes.as_ptr_range();
    if input.start.max(own.start) < input.end.min(own.end) {
        return Err(Error::new(
            SIPTLS_ERR_INVALID_ARGUMENT,
            format!(
                "{name} overlaps {own_name}, which this call moves while reading {name}: copy the bytes into memory of your own first and pass the copy"
            ),
        ));
    }
    Ok(())
}

/// A caller array of `count` integers (`T` is u8, u16, u32...); NULL is
/// refused even with a count of 0.
///
/// # Safety
/// `ptr` is NULL or valid, and aligned, for reads of `count` values for `'a`.
pub unsafe fn arg_slice<'a, T: Copy>(
    ptr: *const T,
    count: usize,
    name: &str,
) -> Result<&'a [T], Error> {
    if ptr.is_null() {
        return Err(null(name));
    }
    if !ptr.is_aligned() {
        return Err(Error::new(
            SIPTLS_ERR_INVALID_ARGUMENT,
            format!("{name} is not aligned for its element type"),
        ));
    }
    check_len(count.saturating_mul(std::mem::size_of::<T>()), name)?;
    // SAFETY: non-NULL, aligned, readable for `count` values (the contract),
    // and no larger than `isize::MAX` bytes (checked).
    Ok(unsafe { std::slice::from_raw_parts(ptr, count) })
}

/// A caller's output buffer, written through its raw pointer only.
///
/// C callers pass buffers they have not initialised (`uint8_t buf[16384];`),
/// and Rust must not form a `&mut [u8]` over uninitialised memory: that is
/// undefined behaviour even if nothing reads it. So bytes are copied in with
/// `ptr::copy_nonoverlapping`, and only what was written is ever handed back.
pub struct CallerBuf {
    ptr: *mut u8,
    cap: usize,
    len: usize,
}

impl CallerBuf {
    /// # Safety
    /// `ptr` is NULL or valid for writes of `cap` bytes, initialised or not,
    /// for as long as the value is used.
    #[inline]
    pub unsafe fn new(ptr: *mut u8, cap: usize, name: &str) -> Result<Self, Error> {
        if ptr.is_null() {
            return Err(null(name));
        }
        check_len(cap, name)?;
        Ok(Self { ptr, cap, len: 0 })
    }

    /// As `new`, for outputs where no room (`cap` 0) asks only for a
    /// length: `None` then, and `ptr` may be NULL. Checked before any
    /// length is set, so a bad buffer leaves the outputs at 0.
    ///
    /// # Safety
    /// As `new`.
    pub unsafe fn optional(ptr: *mut u8, cap: usize, name: &str) -> Result<Option<Self>, Error> {
        match cap {
            0 => Ok(None),
            // SAFETY: the same contract as `new`.
            _ => unsafe { Self::new(ptr, cap, name) }.map(Some),
        }
    }

    /// As `optional`, for an array of `count` `uint32_t`.
    ///
    /// # Safety
    /// `ptr` is NULL or valid for writes of `count` `uint32_t`.
    pub unsafe fn optional_u32s(
        ptr: *mut u32,
        count: usize,
        name: &str,
    ) -> Result<Option<Self>, Error> {
        let bytes = count.saturating_mul(std::mem::size_of::<u32>());
        // SAFETY: `count` writable `uint32_t` are that many writable bytes.
        unsafe { Self::optional(ptr.cast::<u8>(), bytes, name) }
    }
}

impl CallerBuf {
    /// Bytes still free.
    #[inline]
    pub fn room(&self) -> usize {
        self.cap - self.len
    }

    /// Appends as much of `bytes` as fits; returns how much that was.
    pub fn put(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(self.room());
        // SAFETY: `len <= cap`, so the offset stays inside the caller's buffer.
        let at = unsafe { self.ptr.add(self.len) };
        // SAFETY: `len + n <= cap` bytes from `ptr` are writable (`new`), and
        // `bytes` is a Rust slice, so the two cannot overlap.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), at, n) };
        self.len += n;
        n
    }
}

/// A NUL-terminated UTF-8 string.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string live for `'a`.
pub unsafe fn arg_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Error> {
    // SAFETY: NULL or NUL-terminated and live for `'a`, per the contract.
    let bytes = unsafe { arg_cstr(ptr, name)? }.to_bytes();
    std::str::from_utf8(bytes).map_err(|e| {
        Error::new(
            SIPTLS_ERR_INVALID_ARGUMENT,
            format!("{name} is not valid UTF-8 ({e})"),
        )
    })
}

/// Like `arg_str`, but NULL means "not given".
///
/// # Safety
/// As `arg_str`.
pub unsafe fn arg_opt_str<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>, Error> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: the same contract.
    unsafe { arg_str(ptr, name) }.map(Some)
}

/// A file system path: any bytes but NUL, as the OS allows.
///
/// # Safety
/// As `arg_str`.
pub unsafe fn arg_path<'a>(ptr: *const c_char, name: &str) -> Result<&'a Path, Error> {
    // SAFETY: NULL or NUL-terminated and live for `'a`, per the contract.
    let bytes = unsafe { arg_cstr(ptr, name)? }.to_bytes();
    if bytes.is_empty() {
        return Err(Error::new(
            SIPTLS_ERR_INVALID_ARGUMENT,
            format!("{name} is an empty path"),
        ));
    }
    Ok(Path::new(OsStr::from_bytes(bytes)))
}

/// # Safety
/// As `arg_str`.
unsafe fn arg_cstr<'a>(ptr: *const c_char, name: &str) -> Result<&'a CStr, Error> {
    if ptr.is_null() {
        return Err(null(name));
    }
    // SAFETY: non-NULL, NUL-terminated and live for `'a`, per the contract.
    Ok(unsafe { CStr::from_ptr(ptr) })
}

/// Copies `text` NUL-terminated into a caller buffer and reports its length
/// (without the NUL) in `len_out`. `buf` may be NULL when `cap` is 0, to ask
/// for the length. A buffer too small gets as much as fits,
/// still terminated, and the code BUFFER_TOO_SMALL; that is returned as a
/// plain code, so the detail being copied is not overwritten before a retry.
///
/// # Safety
/// `buf` is NULL or valid for writes of `cap` bytes; `len_out` is NULL or writable.
pub unsafe fn copy_text(
    text: &str,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> Result<siptls_result, Error> {
    // SAFETY: the same contract as this function's.
    unsafe { clear_text(buf, cap, len_out) };
    // SAFETY: `len_out` is NULL or writable, per the contract.
    let len_out = unsafe { arg_out(len_out, "len_out", 0)? };
    // (NULL, 0) asks for the length only, as with snprintf. A bad buffer
    // fails the call before the length is set: outputs stay 0 on failure.
    // SAFETY: `buf` is NULL or writable for `cap` bytes, per the contract.
    let out = unsafe { CallerBuf::optional(buf.cast::<u8>(), cap, "buf")? };
    *len_out = text.len();
    let Some(mut out) = out else {
        return Ok(SIPTLS_ERR_BUFFER_TOO_SMALL);
    };
    let n = text.len().min(cap - 1);
    out.put(&text.as_bytes()[..n]);
    out.put(&[0]);
    Ok(if n < text.len() {
        SIPTLS_ERR_BUFFER_TOO_SMALL
    } else {
        SIPTLS_OK
    })
}

/// Sets an output the caller passed (non-NULL) to `value`. Exports call
/// this for every output before anything else, so outputs are set on every
/// failure path too.
///
/// # Safety
/// `ptr` is NULL or writable for a `T`.
pub unsafe fn clear_out<T: Copy>(ptr: *mut T, value: T) {
    if !ptr.is_null() {
        // SAFETY: non-NULL and writable for a `T`, per the contract.
        unsafe { ptr.write(value) };
    }
}

/// Empties a text output: length 0 and, when there is room, "".
///
/// # Safety
/// As `copy_text`.
pub unsafe fn clear_text(buf: *mut c_char, cap: usize, len_out: *mut usize) {
    // SAFETY: `len_out` is NULL or writable, per the contract.
    unsafe { clear_out(len_out, 0) };
    if !buf.is_null() && cap > 0 && cap <= isize::MAX as usize {
        // SAFETY: at least one writable byte, per the contract.
        unsafe { buf.write(0) };
    }
}

/// Zeroes a size-prefixed output struct after its size field, within the
/// size the caller declared (a declared size too small to be valid leaves
/// it alone; the call then fails for that reason).
///
/// # Safety
/// As `write_sized`.
pub unsafe fn clear_sized<T>(out: *mut T) {
    if out.is_null() {
        return;
    }
    // SAFETY: a size-prefixed struct begins with its `uint32_t` size, which
    // the caller set (the contract); unaligned, as the caller's memory may be.
    let declared = unsafe { out.cast::<u32>().read_unaligned() } as usize;
    let n = declared.min(std::mem::size_of::<T>());
    if n > 4 {
        // SAFETY: `4 < n <= declared`: the offset stays inside the struct.
        let after_size = unsafe { out.cast::<u8>().add(4) };
        // SAFETY: the caller declared `n` writable bytes.
        unsafe { std::ptr::write_bytes(after_size, 0, n - 4) };
        // As on success: what was written, so a larger caller struct's
        // tail is known to be unset.
        // SAFETY: the size field is writable, as the rest.
        unsafe { out.cast::<u32>().write_unaligned(n as u32) };
    }
}

/// Output structs `write_sized` copies byte for byte: `#[repr(C)]` with no
/// padding, so no uninitialised byte reaches the caller.
///
/// # Safety
/// Implement only for such structs.
pub unsafe trait NoPadding: Sized {}

/// Input structs `read_sized` fills from caller bytes: `#[repr(C)]`, made
/// of integers and raw pointers only (every bit pattern is a valid value),
/// each member as aligned as the struct, so the caller's size can be
/// rounded down to whole members.
///
/// # Safety
/// Implement only for such structs.
pub unsafe trait PlainData: Copy {}

/// A C handle: an opaque type of `abi` that stands for a Rust object the
/// library owns. Each is implemented in `capi`, beside its exports.
///
/// # Safety
/// Every non-NULL pointer of the handle type points to a `Target` made by
/// `to_handle` and not yet freed by `free_handle`.
pub unsafe trait Handle {
    type Target;
}

/// Hands a Rust object to C as its handle.
pub fn to_handle<H: Handle>(value: H::Target) -> *mut H {
    Box::into_raw(Box::new(value)).cast()
}

/// The object behind a handle argument.
///
/// # Safety
/// `ptr` is NULL or a live handle (see `Handle`), not freed for `'a`.
pub unsafe fn handle_ref<'a, H: Handle>(ptr: *const H, name: &str) -> Result<&'a H::Target, Error> {
    // SAFETY: a live handle points to its `Target` (`Handle`'s contract).
    unsafe { arg_ref(ptr.cast::<H::Target>(), name) }
}

/// Takes back and drops the object behind a handle; NULL is a no-op.
///
/// # Safety
/// `ptr` is NULL or a live handle, not used by the caller afterwards.
pub unsafe fn free_handle<H: Handle>(ptr: *mut H) {
    let ptr = ptr.cast::<H::Target>();
    if !ptr.is_null() {
        // SAFETY: made by `to_handle` from a `Box` and not freed yet (the contract).
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// How many bytes of a size-prefixed output struct may be written, or why
/// none: a call that consumes something checks this before it does.
///
/// # Safety
/// As `write_sized`.
pub unsafe fn sized_room<T>(out: *mut T, name: &str) -> Result<usize, Error> {
    if out.is_null() {
        return Err(null(name));
    }
    // SAFETY: non-NULL; the struct begins with the `uint32_t` size the
    // caller set (the contract).
    let declared = unsafe { out.cast::<u32>().read_unaligned() } as usize;
    // Smallest acceptable: the size field and the field after it.
    if declared < 8 {
        return Err(Error::new(
            SIPTLS_ERR_INVALID_ARGUMENT,
            format!("{name}->struct_size is {declared}: set it to sizeof the struct"),
        ));
    }
    Ok(declared.min(std::mem::size_of::<T>()))
}

/// For an output that means nothing in part (a key): fails unless `out`
/// is non-NULL and its `struct_size` covers the whole struct. Exports call
/// it before anything else can fail, so a bad output is what they report.
///
/// # Safety
/// As `write_sized`.
pub unsafe fn whole_room<T>(out: *mut T, name: &str) -> Result<(), Error> {
    // SAFETY: the same contract. The room is the declared size when that
    // is smaller than the struct.
    let room = unsafe { sized_room(out, name)? };
    let whole = std::mem::size_of::<T>();
    if room < whole {
        return Err(Error::new(
            SIPTLS_ERR_INVALID_ARGUMENT,
            format!("{name}->struct_size is {room}, but this output is written whole: set it to sizeof the struct ({whole})"),
        ));
    }
    Ok(())
}

/// Size-prefixed output structs: the caller sets the first field,
/// `uint32_t struct_size`, to `sizeof` its struct; siptls writes at most that
/// many bytes, so a caller built against an older, smaller struct keeps
/// working with a newer library. `value.struct_size` must hold the full size.
///
/// # Safety
/// `out` is NULL or writable for the `struct_size` bytes it declares.
pub unsafe fn write_sized<T: NoPadding>(out: *mut T, value: &T, name: &str) -> Result<(), Error> {
    // SAFETY: the same contract.
    let n = unsafe { sized_room(out, name)? };
    // SAFETY: the caller declared at least `n` writable bytes; we write `n`,
    // from a fully initialised value without padding.
    unsafe {
        std::ptr::copy_nonoverlapping(std::ptr::from_ref(value).cast::<u8>(), out.cast::<u8>(), n)
    };
    // The caller learns how much was written.
    // SAFETY: the size field is among the `n >= 8` bytes just written.
    unsafe { out.cast::<u32>().write_unaligned(n as u32) };
    Ok(())
}

/// An array of size-prefixed output structs: element 0's `struct_size`
/// (the caller's `sizeof`) is the stride of all `cap` elements; each
/// written element gets at most that many bytes, as `write_sized`.
///
/// # Safety
/// `out` is NULL or writable for `cap` elements of the stride it declares.
pub unsafe fn write_sized_array<T: NoPadding>(
    out: *mut T,
    cap: usize,
    values: &[T],
    name: &str,
) -> Result<(), Error> {
    if cap == 0 {
        return Ok(());
    }
    if out.is_null() {
        return Err(null(name));
    }
    // SAFETY: non-NULL, and element 0 begins with the size the caller set.
    let stride = unsafe { out.cast::<u32>().read_unaligned() } as usize;
    for (i, value) in values.iter().take(cap).enumerate() {
        // SAFETY: the caller declared `cap` elements of `stride` bytes.
        let element = unsafe { out.cast::<u8>().add(i * stride) }.cast::<T>();
        // SAFETY: each element declares the same size as element 0.
        unsafe { element.cast::<u32>().write_unaligned(stride as u32) };
        // SAFETY: as `write_sized`, for this element.
        unsafe { write_sized(element, value, name)? };
    }
    Ok(())
}

/// Reads a size-prefixed input struct: the caller's `struct_size` says how
/// much of it exists; fields past that keep their value in `absent` (a
/// caller built against an older, smaller struct never set them).
///
/// # Safety
/// `ptr` is NULL or readable for the `struct_size` bytes it declares.
pub unsafe fn read_sized<T: PlainData>(ptr: *const T, absent: T, name: &str) -> Result<T, Error> {
    if ptr.is_null() {
        return Err(null(name));
    }
    // SAFETY: non-NULL; the struct begins with the `uint32_t` size the
    // caller set (the contract).
    let declared = unsafe { ptr.cast::<u32>().read_unaligned() } as usize;
    if declared < 8 {
        return Err(Error::new(
            SIPTLS_ERR_INVALID_ARGUMENT,
            format!("{name}->struct_size is {declared}: set it to sizeof the struct"),
        ));
    }
    let mut value = absent;
    // Whole members only: a size ending inside a pointer must not make half of one.
    let whole = declared - declared % std::mem::align_of::<T>();
    let n = whole.min(std::mem::size_of::<T>());
    // SAFETY: the caller declared `declared` readable bytes; `T` is plain
    // data (`PlainData`), valid for any bytes read into it.
    unsafe {
        std::ptr::copy_nonoverlapping(
            ptr.cast::<u8>(),
            std::ptr::from_mut(&mut value).cast::<u8>(),
            n,
        )
    };
    Ok(value)
}

/// Copies `text` into a fixed `char` array, NUL-terminated, cut short with
/// "..." when it does not fit.
pub fn fixed_text<const N: usize>(text: &str) -> [c_char; N] {
    let mut out = [0 as c_char; N];
    let bytes = text.as_bytes();
    let room = N - 1;
    let (body, ellipsis): (&[u8], &[u8]) = if bytes.len() <= room {
        (bytes, b"")
    } else {
        let mut cut = room - 3;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        (&bytes[..cut], b"...")
    };
    for (slot, &b) in out.iter_mut().zip(body.iter().chain(ellipsis)) {
        *slot = b as c_char;
    }
    out
}

/// Reads a C enum passed as `uint32_t`, refusing numbers that name no variant.
pub fn arg_enum<T: CEnum>(value: u32, name: &str) -> Result<T, Error> {
    T::from_u32(value).ok_or_else(|| {
        Error::new(
            SIPTLS_ERR_INVALID_ARGUMENT,
            format!("{name}: {value} is not one of the defined values"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_code_with_its_message() {
        let code = call(|| panic!("boom in the core"));
        assert_eq!(code, SIPTLS_ERR_PANIC);
        assert!(
            last_error().contains("boom in the core"),
            "{}",
            last_error()
        );
        assert_eq!(call_value(-1, || -> i32 { panic!("value path") }), -1);
    }

    #[test]
    fn copy_text_truncates_and_reports_needed_length() {
        let mut buf = [0x55 as c_char; 4];
        let mut len = 0usize;
        // SAFETY: a live buffer of its length and a live length.
        let code = call(|| unsafe { copy_text("hello", buf.as_mut_ptr(), buf.len(), &mut len) });
        assert_eq!(code, SIPTLS_ERR_BUFFER_TOO_SMALL);
        assert_eq!(len, 5);
        assert_eq!(
            // SAFETY: `copy_text` terminated it.
            unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap(),
            "hel"
        );
    }

    #[test]
    fn null_and_oversized_arguments_are_named() {
        // SAFETY: NULL is refused before any read.
        let err = unsafe { arg_bytes(std::ptr::null(), 3, "data") }.unwrap_err();
        assert_eq!(
            (err.code, err.detail.as_str()),
            (SIPTLS_ERR_NULL_ARGUMENT, "data is NULL")
        );
        let byte = 0u8;
        // SAFETY: the length is refused before any read.
        let err = unsafe { arg_bytes(&byte, usize::MAX, "data") }.unwrap_err();
        assert_eq!(err.code, SIPTLS_ERR_INVALID_ARGUMENT);
    }

    #[test]
    fn an_enum_number_no_variant_has_is_refused_by_name() {
        use crate::abi::siptls_role;
        assert_eq!(
            arg_enum::<siptls_role>(1, "role"),
            Ok(siptls_role::SIPTLS_ROLE_SERVER)
        );
        for number in [2, u32::MAX] {
            let err = arg_enum::<siptls_role>(number, "role").unwrap_err();
            assert_eq!(
                (err.code, err.into_detail()),
                (
                    SIPTLS_ERR_INVALID_ARGUMENT,
                    format!("role: {number} is not one of the defined values")
                )
            );
        }
    }

    #[test]
    fn input_overlapping_the_callees_own_memory_by_a_byte_is_refused() {
        // Bytes 8..24 stand for the callee's own memory.
        let memory = [0u8; 32];
        let own = memory[8..24].as_ptr_range();
        let apart = |from: usize, to: usize| {
            arg_apart(&memory[from..to], "data", own.clone(), "the buffer").map_err(|e| e.code)
        };
        for (from, to) in [(8, 24), (0, 32), (7, 9), (23, 25), (12, 13)] {
            assert_eq!(
                apart(from, to),
                Err(SIPTLS_ERR_INVALID_ARGUMENT),
                "{from}..{to}"
            );
        }
        // Adjacent on either side, or empty: no byte is shared.
        for (from, to) in [(0, 8), (24, 32), (12, 12), (8, 8)] {
            assert_eq!(apart(from, to), Ok(()), "{from}..{to}");
        }
    }
}
