//! Error-context values: the canonical built-ins that create, read and drop
//! them, which the world library hands over (see `wit_dylib.h`, "Error-context
//! values") when some function of its world passes one.
//!
//! Passing an error-context copies its handle, so the interpreter always
//! keeps the handles it pops and drops those it no longer needs, whether it
//! received them or created them with [`new`].
//!
//! A sync export's results are read after it returned, and its post-return
//! (`wit_dylib_export_finish`) may call no built-in: [`drop`] there only
//! queues the handle, and the SDK drops the queued ones when the next
//! export starts.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use wit_dylib_ffi as ffi;

/// The built-ins, as the world library registered them.
struct Builtins {
    new: unsafe extern "C" fn(*const u8, usize) -> u32,
    debug_message: unsafe extern "C" fn(u32, *mut usize),
    drop: unsafe extern "C" fn(u32),
}

static BUILTINS: OnceLock<Builtins> = OnceLock::new();

/// Handles this component holds: created or received, not yet dropped.
static HELD: AtomicUsize = AtomicUsize::new(0);

/// Room for the handles queued during one post-return without touching the
/// heap, whose live bytes interpreters compare between calls to find leaks.
const QUEUE_ROOM: usize = 256;

// Atomics rather than thread-locals: the component is single-threaded, and
// these are read on every export call, where a thread-local costs more.
/// Whether the SDK is running a sync export's post-return.
static IN_POST_RETURN: AtomicBool = AtomicBool::new(false);
/// Handles [`drop`] queued during post-return: the first `QUEUED_LEN` in
/// `QUEUED`, any more in `OVERFLOW`.
static QUEUED: [AtomicU32; QUEUE_ROOM] = [const { AtomicU32::new(0) }; QUEUE_ROOM];
static QUEUED_LEN: AtomicUsize = AtomicUsize::new(0);
static OVERFLOW: Mutex<Vec<u32>> = Mutex::new(Vec::new());

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

/// How many error-context handles this component holds: those created with
/// [`new`] or received, less those given to [`drop`] (queued ones
/// included). A leak check.
pub fn held() -> usize {
    HELD.load(Ordering::Relaxed)
}

/// A new error-context with `message` as its debug message; the handle is
/// the caller's to drop.
pub fn new(message: &str) -> Result<u32, Unavailable> {
    let builtins = builtins()?;
    // SAFETY: the built-in reads `message.len()` bytes of valid UTF-8.
    let handle = unsafe { (builtins.new)(message.as_ptr(), message.len()) };
    HELD.fetch_add(1, Ordering::Relaxed);
    Ok(handle)
}

/// Counts a handle the glue lifted (`wit_dylib_push_error_context`).
#[doc(hidden)]
pub fn received() {
    HELD.fetch_add(1, Ordering::Relaxed);
}

/// The debug message of error-context `handle`. The runtime decides what it
/// holds: wasmtime keeps the message given to `error-context.new`.
///
/// # Panics
/// If the world passes no error-context values (there is then no handle).
pub fn debug_message(handle: u32) -> String {
    let builtins = builtins().expect("wit-dylib: an error-context handle without built-ins");
    let mut ret = [0usize; 2];
    // SAFETY: the built-in stores a pointer and a length at `ret`.
    unsafe { (builtins.debug_message)(handle, ret.as_mut_ptr()) };
    let [ptr, len] = ret;
    if len == 0 {
        return String::new();
    }
    // SAFETY: the canonical ABI allocated the `len` bytes with this
    // component's `cabi_realloc` (layout (len, 1), that of a `Vec<u8>` of
    // capacity `len`) and gave them to us.
    let bytes = unsafe { Vec::from_raw_parts(ptr as *mut u8, len, len) };
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The debug message of error-context `handle`, which is dropped: how an
/// interpreter that shows error-contexts as their messages receives one.
pub fn take_message(handle: u32) -> String {
    let message = debug_message(handle);
    drop(handle);
    message
}

/// Error-contexts a value stack passed during a call. The receivers got
/// copies, so these are dropped once the call is over: on [`Passed::release`]
/// or when this is dropped.
#[derive(Default)]
pub struct Passed(Vec<u32>);

impl Passed {
    pub fn push(&mut self, handle: u32) {
        self.0.push(handle);
    }

    /// Drops every handle; the list keeps its room for the next call.
    pub fn release(&mut self) {
        // Most calls pass none: skip setting up the drain.
        if self.0.is_empty() {
            return;
        }
        for handle in self.0.drain(..) {
            drop(handle);
        }
    }
}

impl Drop for Passed {
    fn drop(&mut self) {
        self.release();
    }
}

/// Drops this component's error-context `handle`; during a sync export's
/// post-return, when the next export starts (see the module docs).
///
/// # Panics
/// If the world passes no error-context values (there is then no handle).
pub fn drop(handle: u32) {
    let builtins = builtins().expect("wit-dylib: an error-context handle without built-ins");
    HELD.fetch_sub(1, Ordering::Relaxed);
    if IN_POST_RETURN.load(Ordering::Relaxed) {
        queue(handle);
        return;
    }
    // SAFETY: the built-in takes any handle (and traps on a wrong one).
    unsafe { (builtins.drop)(handle) };
}

fn queue(handle: u32) {
    let len = QUEUED_LEN.load(Ordering::Relaxed);
    match QUEUED.get(len) {
        Some(slot) => slot.store(handle, Ordering::Relaxed),
        None => overflow().push(handle),
    }
    QUEUED_LEN.store(len + 1, Ordering::Relaxed);
}

fn overflow() -> std::sync::MutexGuard<'static, Vec<u32>> {
    OVERFLOW
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `post_return` (a sync export's `wit_dylib_export_finish`), queueing
/// the error-contexts it drops.
#[inline]
pub(crate) fn in_post_return<R>(post_return: impl FnOnce() -> R) -> R {
    IN_POST_RETURN.store(true, Ordering::Relaxed);
    let result = post_return();
    IN_POST_RETURN.store(false, Ordering::Relaxed);
    result
}

/// Drops the handles queued by the last post-return; called as an export
/// starts, where built-ins may be called again.
#[inline]
pub(crate) fn drop_queued() {
    if QUEUED_LEN.load(Ordering::Relaxed) != 0 {
        drop_queued_now();
    }
}

#[cold]
fn drop_queued_now() {
    let len = QUEUED_LEN.swap(0, Ordering::Relaxed);
    let Some(builtins) = BUILTINS.get() else {
        return;
    };
    let queued = QUEUED[..len.min(QUEUE_ROOM)]
        .iter()
        .map(|slot| slot.load(Ordering::Relaxed));
    let overflow = match len > QUEUE_ROOM {
        true => std::mem::take(&mut *overflow()),
        false => Vec::new(),
    };
    for handle in queued.chain(overflow) {
        // SAFETY: as in `drop`.
        unsafe { (builtins.drop)(handle) };
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
