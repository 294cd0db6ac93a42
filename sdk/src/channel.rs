//! Futures and streams: creating their ends, reading and writing elements
//! (moved through the glue's per-element lift and lower functions), and
//! dropping ends. Reads and writes are Rust futures that complete when the
//! copy does (see [`crate::task`] for the model); the SDK owns each element
//! buffer until then, and dropping such a future early cancels the copy.

use std::cell::Cell;
use std::ffi::c_void;

use crate::buffer::Bytes;
use crate::call::Call;
use crate::dispose::{drop_handles, holds_handles};
use crate::metadata::Type;
use crate::runtime::CallFrame;
use crate::task::next_event;

/// The most bytes one stream read may ask for (see [`Stream::max_read`]):
/// the buffer is allocated up front, so a larger request is refused before
/// it can exhaust the guest's memory.
pub const MAX_READ_BYTES: usize = 16 << 20;

/// The canonical ABI reports a copy's count in 28 bits.
const MAX_COPY_COUNT: usize = (1 << 28) - 1;

const BLOCKED: u32 = 0xffff_ffff;
const COPY_COMPLETED: u32 = 0;
const COPY_DROPPED: u32 = 1;

/// How far a read or write of a future or stream got.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Elements transferred (0 or 1 for a future).
    pub count: usize,
    /// The other end was dropped: no more elements will move. Drop this end.
    pub dropped: bool,
}

impl Progress {
    fn decode(code: u32) -> Progress {
        Progress {
            count: (code >> 4) as usize,
            dropped: code & 0xf == COPY_DROPPED,
        }
    }
}

/// Element buffer of a read or write, owned by the SDK until it completes.
struct Buffer {
    ptr: *mut u8,
    layout: std::alloc::Layout,
}

impl Buffer {
    fn new(size: usize, align: usize, count: usize) -> Buffer {
        let bytes = size.checked_mul(count).expect("buffer size overflows");
        let layout = std::alloc::Layout::from_size_align(bytes, align.max(1))
            .expect("wit-dylib metadata: invalid payload layout");
        let ptr = if bytes == 0 {
            // Zero-size elements are never read or written.
            layout.align() as *mut u8
        } else {
            // SAFETY: `layout` has a non-zero size.
            let ptr = unsafe { std::alloc::alloc(layout) };
            if ptr.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            ptr
        };
        Buffer { ptr, layout }
    }

    fn at(&self, offset: usize) -> *mut u8 {
        self.ptr.wrapping_add(offset)
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        if self.layout.size() != 0 {
            // SAFETY: allocated in `new` with this layout.
            unsafe { std::alloc::dealloc(self.ptr, self.layout) };
        }
    }
}

/// The glue's per-element conversions of a payload type.
#[derive(Copy, Clone)]
struct Payload {
    ty: Option<Type>,
    size: usize,
    lift: Option<unsafe extern "C" fn(*mut c_void, *const c_void)>,
    lower: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
}

impl Payload {
    /// Lifts elements `0..count` of `buffer` onto `cx`, in order.
    ///
    /// # Safety
    /// `cx` must be a live frame of the interpreter's `CallCx` and the first
    /// `count` elements of `buffer` must have been written by the canonical
    /// ABI (they are moved out: lift each element once).
    unsafe fn lift(&self, cx: *mut c_void, buffer: &Buffer, count: usize) {
        if let Some(lift) = self.lift {
            for i in 0..count {
                // SAFETY: guaranteed by the caller; the glue pushes one element.
                unsafe { lift(cx, buffer.at(i * self.size).cast()) };
            }
        }
    }
}

/// The lowered elements of a write. Those the reader did not take (it
/// dropped its end, or the write was cancelled) still hold this component's
/// handles: dropping the buffer drops those handles (see [`crate::dispose`]).
struct Outgoing {
    buffer: Buffer,
    payload: Payload,
    count: usize,
    /// Elements the reader took so far.
    taken: Cell<usize>,
}

impl Outgoing {
    /// Lowers `count` elements popped from `frame` (the first on top).
    fn lower<C: Call + 'static>(
        payload: Payload,
        align: usize,
        count: usize,
        frame: &mut CallFrame<C>,
    ) -> Outgoing {
        let outgoing = Outgoing {
            buffer: Buffer::new(payload.size, align, count),
            payload,
            count,
            // Until lowered, no element holds anything to drop.
            taken: Cell::new(count),
        };
        if let Some(lower) = payload.lower {
            for i in 0..count {
                // SAFETY: the glue's lowering pops one element from the frame
                // (of the interpreter's `CallCx`, which the callers check)
                // into element `i` of the buffer, which has the payload's
                // size and alignment.
                unsafe { lower((frame as *mut CallFrame<C>).cast(), outgoing.at(i).cast()) };
            }
        }
        outgoing.taken.set(0);
        outgoing
    }

    fn at(&self, index: usize) -> *mut u8 {
        self.buffer.at(index * self.payload.size)
    }
}

/// A stream's copy built-in and its cancellation.
struct CopyOps {
    copy: unsafe extern "C" fn(u32, *const c_void, usize) -> u32,
    cancel: unsafe extern "C" fn(u32) -> u32,
}

/// Writes `count` elements of `size` bytes from `base` to stream end
/// `writable` until the reader took them all or dropped its end; `taken`
/// counts the elements it took, also when the write is cancelled.
///
/// # Safety
/// The elements must stay alive and unchanged until the returned future
/// completes or is dropped.
async unsafe fn write_all(
    ops: CopyOps,
    writable: u32,
    base: *const u8,
    size: usize,
    count: usize,
    taken: &Cell<usize>,
) -> Progress {
    while taken.get() < count {
        let written = taken.get();
        // SAFETY: the built-in reads the untaken elements, kept alive by the
        // caller until the copy completes or is cancelled by `guard`.
        let code =
            unsafe { (ops.copy)(writable, base.add(written * size).cast(), count - written) };
        let mut guard = CancelOnDrop {
            handle: writable,
            cancel: ops.cancel,
            copying: Copying::Write(taken),
            armed: true,
        };
        let code = complete_copy(code, &mut guard).await;
        taken.set(written + Progress::decode(code).count);
        if code & 0xf != COPY_COMPLETED {
            return Progress {
                count: taken.get(),
                dropped: true,
            };
        }
    }
    Progress {
        count: taken.get(),
        dropped: false,
    }
}

impl Drop for Outgoing {
    fn drop(&mut self) {
        let Some(ty) = self.payload.ty.filter(|t| holds_handles(*t)) else {
            return;
        };
        for i in self.taken.get()..self.count {
            // SAFETY: element `i` was lowered by this write and not taken.
            unsafe { drop_handles(ty, self.at(i)) }
        }
    }
}

/// What becomes of the elements a cancelled copy moved.
enum Copying {
    /// A read: they are lifted onto the frame.
    Read(Payload, *mut c_void, *const Buffer),
    /// A read of bytes: nothing to lift.
    ReadBytes,
    /// A write: they are counted as taken.
    Write(*const Cell<usize>),
}

/// Cancels a blocked copy if dropped before it completed. A read lifts
/// whatever it got meanwhile (so that its strings, lists and handles are
/// released); a write counts what the reader took, so that the rest is
/// disposed of.
struct CancelOnDrop {
    handle: u32,
    cancel: unsafe extern "C" fn(u32) -> u32,
    copying: Copying,
    armed: bool,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // SAFETY: the metadata's cancel function is the sync
        // `stream.cancel-*`/`future.cancel-*` built-in for this handle, which
        // has a copy in progress; it returns when the copy has stopped.
        let code = unsafe { (self.cancel)(self.handle) };
        let count = (code >> 4) as usize;
        // SAFETY (both arms): the frame and the buffers are declared before
        // this guard in the copy's future, so they are still alive.
        match self.copying {
            // The canonical ABI wrote `count` elements.
            Copying::Read(payload, cx, buffer) => unsafe { payload.lift(cx, &*buffer, count) },
            Copying::ReadBytes => {}
            Copying::Write(taken) => {
                let taken = unsafe { &*taken };
                taken.set(taken.get() + count);
            }
        }
    }
}

/// Waits for a copy that returned `code` (perhaps `BLOCKED`) to complete.
async fn complete_copy(code: u32, guard: &mut CancelOnDrop) -> u32 {
    if code != BLOCKED {
        guard.armed = false;
        return code;
    }
    let (_, code) = next_event(guard.handle).await;
    guard.armed = false;
    code
}

fn end_pair(new: Option<unsafe extern "C" fn() -> u64>) -> (u32, u32) {
    let new = new.expect("wit-dylib metadata: no `new` built-in");
    // SAFETY: the `future.new`/`stream.new` built-in takes nothing.
    let ends = unsafe { new() };
    (ends as u32, (ends >> 32) as u32)
}

impl crate::metadata::Future {
    fn payload(&self) -> Payload {
        let raw = self.raw_ops();
        Payload {
            ty: self.ty(),
            size: raw.abi_payload_size,
            lift: raw.lift,
            lower: raw.lower,
        }
    }

    /// Creates a future: returns its `(readable, writable)` ends.
    pub fn new_pair(&self) -> (u32, u32) {
        end_pair(self.raw_ops().new)
    }

    /// Writes the value on top of `frame`'s stack (nothing for `future`) to
    /// writable end `writable`. Completes once a reader took it
    /// (`count == 1`) or dropped its end (`dropped`; the value is then
    /// dropped, the owned resources and future or stream ends in it too).
    /// Drop the future before completion to cancel the write, which drops
    /// the value in the same way.
    pub fn write<C: Call + 'static>(
        &self,
        writable: u32,
        frame: CallFrame<C>,
    ) -> impl Future<Output = (CallFrame<C>, Progress)> + 'static {
        crate::runtime::check_stack_type::<C>(|| "future.write".to_string());
        let raw = self.raw_ops();
        let payload = self.payload();
        let (write, cancel) = (
            raw.write.expect("no future.write"),
            raw.cancel_write.expect("no future.cancel-write"),
        );
        let mut frame = Box::new(frame);
        let outgoing = Outgoing::lower(payload, raw.abi_payload_align, 1, &mut frame);
        async move {
            let outgoing = outgoing;
            // SAFETY: the built-in reads one element from the buffer, which
            // stays alive (with the frame owning what it points to) until the
            // write completes or is cancelled by `guard`.
            let code = unsafe { write(writable, outgoing.at(0).cast()) };
            let mut guard = CancelOnDrop {
                handle: writable,
                cancel,
                copying: Copying::Write(&outgoing.taken),
                armed: true,
            };
            let code = complete_copy(code, &mut guard).await;
            let done = code & 0xf == COPY_COMPLETED;
            outgoing.taken.set(done as usize);
            drop(outgoing);
            (
                *frame,
                Progress {
                    count: done as usize,
                    dropped: !done,
                },
            )
        }
    }

    /// Reads readable end `readable`: completes with the value pushed onto
    /// `frame`'s stack (`count == 1`; nothing is pushed for `future`), or
    /// with `dropped` if the writer dropped its end without writing. Drop
    /// the future before completion to cancel the read.
    pub fn read<C: Call + 'static>(
        &self,
        readable: u32,
        frame: CallFrame<C>,
    ) -> impl Future<Output = (CallFrame<C>, Progress)> + 'static {
        crate::runtime::check_stack_type::<C>(|| "future.read".to_string());
        let raw = self.raw_ops();
        let payload = self.payload();
        let (read, cancel) = (
            raw.read.expect("no future.read"),
            raw.cancel_read.expect("no future.cancel-read"),
        );
        let mut frame = Box::new(frame);
        let buffer = Box::new(Buffer::new(payload.size, raw.abi_payload_align, 1));
        async move {
            let cx: *mut c_void = (&mut *frame as *mut CallFrame<C>).cast();
            // SAFETY: the built-in writes one element to the buffer, which
            // stays alive until the read completes or is cancelled.
            let code = unsafe { read(readable, buffer.at(0).cast()) };
            let mut guard = CancelOnDrop {
                handle: readable,
                cancel,
                copying: Copying::Read(payload, cx, &*buffer),
                armed: true,
            };
            let code = complete_copy(code, &mut guard).await;
            let done = code & 0xf == COPY_COMPLETED;
            if done {
                // SAFETY: the read completed: one element is in the buffer.
                unsafe { payload.lift(cx, &buffer, 1) };
            }
            drop(guard);
            drop(buffer);
            (
                *frame,
                Progress {
                    count: done as usize,
                    dropped: !done,
                },
            )
        }
    }

    /// Drops a readable end.
    pub fn drop_readable(&self, readable: u32) {
        let drop = self
            .raw_ops()
            .drop_readable
            .expect("no future.drop-readable");
        // SAFETY: the built-in validates the handle.
        unsafe { drop(readable) }
    }

    /// Drops a writable end.
    pub fn drop_writable(&self, writable: u32) {
        let drop = self
            .raw_ops()
            .drop_writable
            .expect("no future.drop-writable");
        // SAFETY: the built-in validates the handle.
        unsafe { drop(writable) }
    }
}

impl crate::metadata::Stream {
    /// The most elements one read of this stream may ask for: as many as
    /// fit in [`MAX_READ_BYTES`], and never more than the canonical ABI
    /// can count. Interpreters check a script's count against it.
    pub fn max_read(&self) -> usize {
        let size = self.raw_ops().abi_payload_size.max(1);
        (MAX_READ_BYTES / size).clamp(1, MAX_COPY_COUNT)
    }

    fn check_read(&self, max: usize) {
        let most = self.max_read();
        assert!(
            max <= most,
            "wit-dylib: a read of {max} elements from {} exceeds its max_read ({most})",
            Type::Stream(*self).describe()
        );
    }

    fn payload(&self) -> Payload {
        let raw = self.raw_ops();
        Payload {
            ty: self.ty(),
            size: raw.abi_payload_size,
            lift: raw.lift,
            lower: raw.lower,
        }
    }

    /// Creates a stream: returns its `(readable, writable)` ends.
    pub fn new_pair(&self) -> (u32, u32) {
        end_pair(self.raw_ops().new)
    }

    /// Writes `count` elements, popped from `frame`'s stack (the first on
    /// top; nothing is popped for `stream`), to writable end `writable`.
    /// Completes when all are written, or when the reader dropped its end
    /// (`dropped`; the unwritten elements are dropped, the owned resources
    /// and future or stream ends in them too). Drop the future before
    /// completion to cancel the write, which drops the unwritten elements in
    /// the same way.
    pub fn write<C: Call + 'static>(
        &self,
        writable: u32,
        frame: CallFrame<C>,
        count: usize,
    ) -> impl Future<Output = (CallFrame<C>, Progress)> + 'static {
        crate::runtime::check_stack_type::<C>(|| "stream.write".to_string());
        let raw = self.raw_ops();
        let payload = self.payload();
        let (write, cancel) = (
            raw.write.expect("no stream.write"),
            raw.cancel_write.expect("no stream.cancel-write"),
        );
        let mut frame = Box::new(frame);
        let outgoing = Outgoing::lower(payload, raw.abi_payload_align, count, &mut frame);
        async move {
            let outgoing = outgoing;
            let ops = CopyOps {
                copy: write,
                cancel,
            };
            // SAFETY: the buffer holds `count` elements of the payload's size
            // and lives (with the frame owning what they point to) until the
            // write is over.
            let progress = unsafe {
                write_all(
                    ops,
                    writable,
                    outgoing.at(0),
                    payload.size,
                    count,
                    &outgoing.taken,
                )
            }
            .await;
            drop(outgoing);
            (*frame, progress)
        }
    }

    /// Reads at most `max` elements (at most [`Stream::max_read`]) from
    /// readable end `readable`; completes
    /// as soon as some arrived, with them pushed onto `frame`'s stack in
    /// order (the last on top; nothing is pushed for `stream`), or when the
    /// writer dropped its end (`dropped`). Drop the future before completion
    /// to cancel the read.
    pub fn read<C: Call + 'static>(
        &self,
        readable: u32,
        frame: CallFrame<C>,
        max: usize,
    ) -> impl Future<Output = (CallFrame<C>, Progress)> + 'static {
        crate::runtime::check_stack_type::<C>(|| "stream.read".to_string());
        self.check_read(max);
        let raw = self.raw_ops();
        let payload = self.payload();
        let (read, cancel) = (
            raw.read.expect("no stream.read"),
            raw.cancel_read.expect("no stream.cancel-read"),
        );
        let mut frame = Box::new(frame);
        let buffer = Box::new(Buffer::new(payload.size, raw.abi_payload_align, max));
        async move {
            let cx: *mut c_void = (&mut *frame as *mut CallFrame<C>).cast();
            // SAFETY: the built-in writes at most `max` elements to the
            // buffer, which stays alive until the read completes or is
            // cancelled.
            let code = unsafe { read(readable, buffer.at(0).cast(), max) };
            let mut guard = CancelOnDrop {
                handle: readable,
                cancel,
                copying: Copying::Read(payload, cx, &*buffer),
                armed: true,
            };
            let code = complete_copy(code, &mut guard).await;
            let progress = Progress::decode(code);
            // SAFETY: the canonical ABI wrote `progress.count` elements.
            unsafe { payload.lift(cx, &buffer, progress.count) };
            drop(guard);
            drop(buffer);
            (*frame, progress)
        }
    }

    /// Whether the elements are bytes (`stream<u8>`): such a stream can be
    /// read and written in bulk with [`Stream::read_bytes`] and
    /// [`Stream::write_bytes`], without a per-element conversion.
    pub fn is_bytes(&self) -> bool {
        self.ty().map(Type::dealias) == Some(Type::U8)
    }

    fn expect_bytes(&self, what: &str) {
        assert!(
            self.is_bytes(),
            "wit-dylib: {what} needs a stream<u8>, not {}",
            Type::Stream(*self).describe()
        );
    }

    /// Reads at most `max` bytes (at most [`Stream::max_read`]) from
    /// readable end `readable` of a
    /// `stream<u8>` straight into a `Vec`; completes as soon as some arrived
    /// or the writer dropped its end. Dropping the future early cancels the
    /// read (bytes it had received are discarded).
    pub fn read_bytes(
        &self,
        readable: u32,
        max: usize,
    ) -> impl Future<Output = (Vec<u8>, Progress)> + 'static {
        self.expect_bytes("read_bytes");
        self.check_read(max);
        let raw = self.raw_ops();
        let (read, cancel) = (
            raw.read.expect("no stream.read"),
            raw.cancel_read.expect("no stream.cancel-read"),
        );
        let mut bytes: Vec<u8> = Vec::with_capacity(max);
        async move {
            // SAFETY: the built-in writes at most `max` bytes to the vector's
            // spare capacity, which stays allocated (the vector lives in this
            // future) until the read completes or is cancelled by `guard`.
            let code = unsafe { read(readable, bytes.as_mut_ptr().cast(), max) };
            let mut guard = CancelOnDrop {
                handle: readable,
                cancel,
                copying: Copying::ReadBytes,
                armed: true,
            };
            let progress = Progress::decode(complete_copy(code, &mut guard).await);
            // SAFETY: the canonical ABI initialised `progress.count <= max`
            // bytes (bytes need no lifting).
            unsafe { bytes.set_len(progress.count) };
            (bytes, progress)
        }
    }

    /// Writes `bytes` to writable end `writable` of a `stream<u8>` without a
    /// per-element conversion; completes when all are written or the reader
    /// dropped its end (`dropped`). Dropping the future early cancels it.
    pub fn write_bytes(
        &self,
        writable: u32,
        bytes: Bytes,
    ) -> impl Future<Output = Progress> + 'static {
        self.expect_bytes("write_bytes");
        let raw = self.raw_ops();
        let (write, cancel) = (
            raw.write.expect("no stream.write"),
            raw.cancel_write.expect("no stream.cancel-write"),
        );
        async move {
            let ops = CopyOps {
                copy: write,
                cancel,
            };
            let taken = Cell::new(0);
            // SAFETY: `bytes` (owned by this future) keeps the bytes alive
            // until the write is over.
            unsafe { write_all(ops, writable, bytes.as_ptr(), 1, bytes.len(), &taken) }.await
        }
    }

    /// Drops a readable end.
    pub fn drop_readable(&self, readable: u32) {
        let drop = self
            .raw_ops()
            .drop_readable
            .expect("no stream.drop-readable");
        // SAFETY: the built-in validates the handle.
        unsafe { drop(readable) }
    }

    /// Drops a writable end.
    pub fn drop_writable(&self, writable: u32) {
        let drop = self
            .raw_ops()
            .drop_writable
            .expect("no stream.drop-writable");
        // SAFETY: the built-in validates the handle.
        unsafe { drop(writable) }
    }
}
