//! The interpreter's allocator: the system's (libc's malloc), except that
//! while the script's top level runs, freed memory is zeroed first.
//!
//! A pre-initialised component is a snapshot of memory after the top level,
//! and the snapshot keeps every non-zero byte: garbage that was freed but
//! not cleared (the parser's buffers, what the collector reclaimed while the
//! top level ran) would ship in every component. With freed memory zeroed,
//! what remains is live data, garbage not yet collected, and the
//! allocator's own bookkeeping in free chunks (their headers and list
//! links, which libc's malloc writes after the block is zeroed).
//!
//! The interpreter forces a full collection at the end of the top level
//! only when the heap is larger than [`COLLECT_ABOVE`]. Measured on the HTTP
//! hello handler (an instance per request, its heap well under that), a fully
//! collected snapshot answered 15 % fewer requests per second, each instance
//! paying to grow again what the collection shrank; a large heap leaves the
//! collector's next cycle far away, and the garbage its top level left
//! (its main chunk's bytecode, for one) would be in every instance.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

/// The heap size above which the top level's garbage is collected before
/// the snapshot.
pub const COLLECT_ABOVE: usize = 1 << 20;

/// Whether freed memory is zeroed now.
static ZEROING: AtomicBool = AtomicBool::new(false);

/// Zeroes memory as it is freed from now until [`stop_zeroing`].
pub fn start_zeroing() {
    ZEROING.store(true, Ordering::Relaxed);
}

pub fn stop_zeroing() {
    ZEROING.store(false, Ordering::Relaxed);
}

struct Heap;

// SAFETY: every method hands the same arguments to `System`, which upholds
// the allocator contract; zeroing writes only the `layout.size()` bytes of a
// block the caller owns and gives up.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ZEROING.load(Ordering::Relaxed) {
            unsafe { zero(ptr, layout.size()) };
        }
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !ZEROING.load(Ordering::Relaxed) {
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // Moving or shrinking in place would leave old bytes behind: copy
        // to a new block and free the old one through `dealloc`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new = unsafe { System.alloc(new_layout) };
        if !new.is_null() {
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

/// Zeroes `len` bytes at `ptr` with volatile stores: the compiler knows that
/// memory about to be freed is never read again, and would drop a plain
/// `write_bytes` as a dead store.
///
/// # Safety
/// `ptr` must be valid for writes of `len` bytes.
unsafe fn zero(ptr: *mut u8, len: usize) {
    let mut at = 0;
    if ptr.addr().is_multiple_of(8) {
        while at + 8 <= len {
            // SAFETY: 8 aligned bytes within the block.
            unsafe { ptr.add(at).cast::<u64>().write_volatile(0) };
            at += 8;
        }
    }
    while at < len {
        // SAFETY: within the block.
        unsafe { ptr.add(at).write_volatile(0) };
        at += 1;
    }
}

#[global_allocator]
static HEAP: Heap = Heap;
