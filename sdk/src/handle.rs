//! Owned and borrowed resource handles, and the one place where any handle
//! this component owns is dropped.
//!
//! Every owning type of the SDK ([`Own`], [`ReadEnd`](crate::ReadEnd),
//! [`WriteEnd`](crate::WriteEnd), [`ErrorContext`](crate::ErrorContext))
//! gives its handle back through [`release`] when dropped. A sync export's
//! results are read after it returned, and its post-return
//! (`wit_dylib_export_finish`) may call no built-in: a handle released there
//! is queued, and the queue is emptied when the next export starts.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use crate::metadata::Resource;

/// A canonical `*.drop*` built-in: `resource.drop`, `future.drop-readable`,
/// `error-context.drop`, ….
pub(crate) type DropFn = unsafe extern "C" fn(u32);

/// Room for the handles queued during one post-return without touching the
/// heap, whose live bytes interpreters compare between calls to find leaks.
const QUEUE_ROOM: usize = 256;

// Atomics rather than thread-locals: the component is single-threaded, and
// these are read on every export call, where a thread-local costs more.
/// Whether the SDK is running a sync export's post-return.
static IN_POST_RETURN: AtomicBool = AtomicBool::new(false);
/// Released handles and their drop built-ins (as addresses), queued during
/// post-return: the first `QUEUED_LEN` here, any more in `OVERFLOW`.
static QUEUED: [(AtomicUsize, AtomicU32); QUEUE_ROOM] =
    [const { (AtomicUsize::new(0), AtomicU32::new(0)) }; QUEUE_ROOM];
static QUEUED_LEN: AtomicUsize = AtomicUsize::new(0);
static OVERFLOW: Mutex<Vec<(DropFn, u32)>> = Mutex::new(Vec::new());

/// Drops `handle` with its built-in `drop`: now, or when the next export
/// starts if a post-return is running.
///
/// # Safety
/// `drop` must be the drop built-in of `handle`'s kind, and `handle` must be
/// this component's to drop, dropped by nothing else.
pub(crate) unsafe fn release(drop: DropFn, handle: u32) {
    if IN_POST_RETURN.load(Ordering::Relaxed) {
        queue(drop, handle);
        return;
    }
    // SAFETY: guaranteed by the caller.
    unsafe { drop(handle) }
}

fn queue(drop: DropFn, handle: u32) {
    let len = QUEUED_LEN.load(Ordering::Relaxed);
    match QUEUED.get(len) {
        Some((function, slot)) => {
            function.store(drop as usize, Ordering::Relaxed);
            slot.store(handle, Ordering::Relaxed);
        }
        None => overflow().push((drop, handle)),
    }
    QUEUED_LEN.store(len + 1, Ordering::Relaxed);
}

fn overflow() -> std::sync::MutexGuard<'static, Vec<(DropFn, u32)>> {
    OVERFLOW
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `post_return` (a sync export's `wit_dylib_export_finish`), queueing
/// the handles released meanwhile.
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
    let queued = QUEUED[..len.min(QUEUE_ROOM)]
        .iter()
        .map(|(function, slot)| {
            let address = function.load(Ordering::Relaxed);
            // SAFETY: `queue` stored the address of a `DropFn` here.
            let drop = unsafe { std::mem::transmute::<usize, DropFn>(address) };
            (drop, slot.load(Ordering::Relaxed))
        });
    let overflow = match len > QUEUE_ROOM {
        true => std::mem::take(&mut *overflow()),
        false => Vec::new(),
    };
    for (drop, handle) in queued.chain(overflow) {
        // SAFETY: `release` queued a handle with its own drop built-in.
        unsafe { drop(handle) };
    }
}

/// An owned handle to a resource: dropped (`resource.drop`) exactly once,
/// when this value is, unless it is passed on as an `own<R>`.
///
/// For a resource this component exports, dropping the last handle makes
/// the runtime call the interpreter's
/// [`resource_dtor`](crate::Interpreter::resource_dtor).
#[derive(PartialEq, Eq)]
pub struct Own {
    ty: Resource,
    handle: u32,
}

impl Own {
    /// Takes ownership of a raw handle.
    ///
    /// # Safety
    /// `handle` must be an owned handle of resource `ty` in this component's
    /// table that nothing else will drop or pass on.
    pub unsafe fn from_raw(ty: Resource, handle: u32) -> Own {
        Own { ty, handle }
    }

    /// Gives up ownership: the caller must drop or pass on the handle.
    pub(crate) fn into_raw(self) -> u32 {
        std::mem::ManuallyDrop::new(self).handle
    }

    /// The resource type.
    pub fn ty(&self) -> Resource {
        self.ty
    }

    /// For a resource this component exports, the rep the handle stands
    /// for (`resource.rep`); `None` for an imported resource.
    pub fn rep(&self) -> Option<usize> {
        // SAFETY: `[resource-rep]` built-in of this handle's type; the handle
        // is live (owned by `self`).
        self.ty.raw_rep().map(|rep| unsafe { rep(self.handle) })
    }

    /// A borrow of the resource, to pass as `borrow<R>` while `self` lives.
    /// A borrow of a resource this component exports travels as its rep.
    pub fn borrow(&self) -> Borrow {
        let raw = match self.rep() {
            Some(rep) => u32::try_from(rep).expect("wit-dylib: a rep wider than 32 bits"),
            None => self.handle,
        };
        Borrow { ty: self.ty, raw }
    }
}

impl Drop for Own {
    fn drop(&mut self) {
        // SAFETY: the handle is ours (`from_raw`'s contract) and is dropped
        // here once, with the resource's `[resource-drop]` built-in.
        unsafe { release(self.ty.raw_drop(), self.handle) }
    }
}

impl fmt::Debug for Own {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "own<{}> {}", self.ty.name(), self.handle)
    }
}

impl Resource {
    /// A new handle for `rep` (`resource.new`); `None` for a resource this
    /// component does not export.
    pub fn new_own(&self, rep: usize) -> Option<Own> {
        // SAFETY: `[resource-new]` built-in; any rep is allowed, and the new
        // handle is owned by nobody else.
        self.raw_new().map(|new| Own {
            ty: *self,
            handle: unsafe { new(rep) },
        })
    }
}

/// A borrowed resource, as a `borrow<R>` argument arrives or as
/// [`Own::borrow`] lends one: valid while its owner lives (for an argument,
/// during the call). It owns nothing, so it may be copied freely.
///
/// For a resource this component exports, a borrow arrives as the rep of
/// the object ([`Borrow::rep`]).
#[derive(Copy, Clone, PartialEq, Eq)]
pub struct Borrow {
    ty: Resource,
    raw: u32,
}

impl Borrow {
    /// A borrow from a raw handle (or, for a resource this component
    /// exports, a rep).
    ///
    /// # Safety
    /// `raw` must be a live handle of `ty` (or a rep of an exported `ty`) for
    /// as long as the borrow is used.
    pub unsafe fn from_raw(ty: Resource, raw: u32) -> Borrow {
        Borrow { ty, raw }
    }

    pub(crate) fn raw(&self) -> u32 {
        self.raw
    }

    /// The resource type.
    pub fn ty(&self) -> Resource {
        self.ty
    }

    /// The rep of a borrowed object of a resource this component exports;
    /// `None` for an imported resource.
    pub fn rep(&self) -> Option<usize> {
        self.ty.is_exported().then_some(self.raw as usize)
    }
}

impl fmt::Debug for Borrow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "borrow<{}> {}", self.ty.name(), self.raw)
    }
}
