//! Allocations kept for the next call. Every export call needs a frame, and
//! every async one a task, each of one type per component: taking the kept
//! allocation and giving it back costs a few instructions where a `malloc`
//! and a `free` cost well over a hundred.
//!
//! Each is made at start-up, so that the heap holds it whenever no call is
//! in progress: interpreters that check for leaks between calls see the same
//! heap every time.

use std::alloc::Layout;
use std::cell::Cell;
use std::ptr::NonNull;
use std::thread::LocalKey;

/// One allocation for a value of some type `T`, holding none, in a
/// thread-local. A `SpareBox` serves one type only: every call below must
/// name the same `T`.
///
/// Values move in outside the thread-local's `with`: a value returned
/// through it costs a copy and a check more (140 fuel for a frame). They
/// leave in place: their owners move out only what needs moving, and give
/// the allocation back.
pub(crate) struct SpareBox(Cell<Option<NonNull<u8>>>);

impl SpareBox {
    pub(crate) const fn new() -> SpareBox {
        SpareBox(Cell::new(None))
    }

    /// Makes the spare allocation, unless there is one.
    pub(crate) fn prepare<T>(key: &'static LocalKey<SpareBox>) {
        key.with(|spare| {
            let allocation = spare.0.take().unwrap_or_else(|| {
                NonNull::from(Box::leak(Box::<std::mem::MaybeUninit<T>>::new_uninit())).cast()
            });
            spare.0.set(Some(allocation));
        });
    }

    /// Moves `value` into the spare allocation, or into a new one.
    pub(crate) fn put<T>(key: &'static LocalKey<SpareBox>, value: T) -> NonNull<T> {
        const { assert!(size_of::<T>() != 0, "a spare holds a sized value") };
        match key.with(|spare| spare.0.take()) {
            Some(allocation) => {
                let slot = allocation.cast::<T>();
                // SAFETY: the spare is an allocation for a `T` (the one type
                // this spare serves) holding none.
                unsafe { slot.write(value) };
                slot
            }
            None => NonNull::from(Box::leak(Box::new(value))),
        }
    }

    /// Keeps the allocation `slot` as the spare (or frees it if there is one
    /// already), without dropping what it holds.
    ///
    /// # Safety
    /// `slot` must come from [`SpareBox::put`] on the same `key`, for the
    /// same `T`, and is consumed; whatever it holds must have been moved
    /// out, or need no drop.
    pub(crate) unsafe fn give_back<T>(key: &'static LocalKey<SpareBox>, slot: NonNull<T>) {
        if let Some(extra) = key.with(|spare| spare.0.replace(Some(slot.cast()))) {
            // SAFETY: a spare allocation of a `T`, holding none; `Box` made
            // it with `T`'s layout.
            unsafe { std::alloc::dealloc(extra.as_ptr(), Layout::new::<T>()) };
        }
    }
}
