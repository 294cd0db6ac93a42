//! Error-context values: [`ErrorContext`], and the canonical built-ins that
//! create, read and drop them, which the world library hands over (see
//! `wit_dylib.h`, "Error-context values") when some function of its world
//! passes one.
//!
//! Passing an error-context copies its handle, so the interpreter keeps the
//! values it passes. An [`ErrorContext`] is shared by its clones and drops
//! its handle with the last of them (see [`crate::handle`] for drops during
//! post-return).

use std::fmt;
use std::rc::Rc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use wit_dylib_ffi as ffi;

use crate::handle::release;

/// The built-ins, as the world library registered them.
struct Builtins {
    new: unsafe extern "C" fn(*const u8, usize) -> u32,
    debug_message: unsafe extern "C" fn(u32, *mut usize),
    drop: unsafe extern "C" fn(u32),
}

static BUILTINS: OnceLock<Builtins> = OnceLock::new();

/// Handles this component holds: created or received, not yet dropped.
static HELD: AtomicUsize = AtomicUsize::new(0);

/// The world passes no error-context values, so its library provides none
/// of their built-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unavailable;

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no function of this world passes error-context values, so there are none")
    }
}

impl std::error::Error for Unavailable {}

fn builtins() -> Result<&'static Builtins, Unavailable> {
    BUILTINS.get().ok_or(Unavailable)
}

/// Whether this world passes error-context values (and so [`new`] works).
pub fn available() -> bool {
    BUILTINS.get().is_some()
}

/// How many error-context handles this component holds: created with
/// [`ErrorContext::new`] or received, and not yet dropped (queued drops
/// included). A leak check.
pub fn held() -> usize {
    HELD.load(Ordering::Relaxed)
}

/// An error-context this component holds. Clones share one handle, which
/// is dropped with the last of them.
#[derive(Clone)]
pub struct ErrorContext(Rc<Handle>);

struct Handle(u32);

impl Drop for Handle {
    fn drop(&mut self) {
        HELD.fetch_sub(1, Ordering::Relaxed);
        let drop = builtins()
            .expect("wit-dylib: an error-context handle without built-ins")
            .drop;
        // SAFETY: `error-context.drop` for a handle this component holds,
        // dropped once: here, with the last clone.
        unsafe { release(drop, self.0) }
    }
}

impl ErrorContext {
    /// A new error-context with `message` as its debug message.
    pub fn new(message: &str) -> Result<ErrorContext, Unavailable> {
        let builtins = builtins()?;
        // SAFETY: the built-in reads `message.len()` bytes of valid UTF-8.
        let handle = unsafe { (builtins.new)(message.as_ptr(), message.len()) };
        // SAFETY: a new handle, owned by nobody else.
        Ok(unsafe { ErrorContext::from_raw(handle) })
    }

    /// Takes ownership of a raw handle.
    ///
    /// # Safety
    /// `handle` must be an error-context handle in this component's table
    /// that nothing else will drop.
    pub unsafe fn from_raw(handle: u32) -> ErrorContext {
        HELD.fetch_add(1, Ordering::Relaxed);
        ErrorContext(Rc::new(Handle(handle)))
    }

    /// The handle, to pass on: passing copies it, and `self` keeps its own.
    pub(crate) fn raw(&self) -> u32 {
        self.0.0
    }

    /// The debug message. The runtime decides what it holds: wasmtime keeps
    /// the message given to `error-context.new`.
    pub fn debug_message(&self) -> String {
        let builtins = builtins().expect("wit-dylib: an error-context handle without built-ins");
        let mut ret = [0usize; 2];
        // SAFETY: the built-in stores a pointer and a length at `ret`.
        unsafe { (builtins.debug_message)(self.raw(), ret.as_mut_ptr()) };
        let [ptr, len] = ret;
        if len == 0 {
            return String::new();
        }
        // SAFETY: the canonical ABI allocated the `len` bytes with this
        // component's `cabi_realloc` (layout (len, 1), that of a `Vec<u8>` of
        // capacity `len`) and gave them to us.
        let bytes = unsafe { Vec::from_raw_parts(ptr as *mut u8, len, len) };
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

impl PartialEq for ErrorContext {
    /// The same handle.
    fn eq(&self, other: &Self) -> bool {
        self.raw() == other.raw()
    }
}

impl fmt::Debug for ErrorContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error-context {}", self.raw())
    }
}

/// `wit_dylib_error_context_builtins`: stores the built-ins.
#[doc(hidden)]
pub fn register(
    new: ffi::wit_error_context_new_fn_t,
    debug_message: ffi::wit_error_context_debug_message_fn_t,
    drop: ffi::wit_error_context_drop_fn_t,
) {
    let (Some(new), Some(debug_message), Some(drop)) = (new, debug_message, drop) else {
        panic!("wit-dylib: wit_dylib_error_context_builtins got a null function");
    };
    let builtins = Builtins {
        new,
        debug_message,
        drop,
    };
    if BUILTINS.set(builtins).is_err() {
        panic!("wit-dylib: wit_dylib_error_context_builtins called twice");
    }
}
