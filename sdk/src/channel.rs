//! Futures and streams: creating their ends, reading and writing elements
//! (moved through the glue's per-element lift and lower functions), and
//! dropping ends. Reads and writes are Rust futures that complete when the
//! copy does (see [`crate::task`] for the model); the SDK owns each element
//! buffer until then, and dropping such a future early cancels the copy.

use std::ffi::c_void;

use crate::buffer::Bytes;
use crate::call::Call;
use crate::metadata::Type;
use crate::runtime::CallFrame;
use crate::task::next_event;

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

/// Cancels a blocked copy if dropped before it completed, lifting whatever
/// it read meanwhile (so that its strings, lists and handles are released).
struct CancelOnDrop {
    handle: u32,
    cancel: unsafe extern "C" fn(u32) -> u32,
    /// For reads: where the elements went.
    read_into: Option<(Payload, *mut c_void, *const Buffer)>,
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
        if let Some((payload, cx, buffer)) = self.read_into {
            let count = (code >> 4) as usize;
            // SAFETY: the frame and the buffer are declared before this guard
            // in the read's future, so they are still alive; the canonical
            // ABI wrote `count` elements.
            unsafe { payload.lift(cx, &*buffer, count) };
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
    /// dropped, and resource handles in it stay with this component). Drop
    /// the future before completion to cancel the write.
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
        let buffer = Buffer::new(payload.size, raw.abi_payload_align, 1);
        if let Some(lower) = payload.lower {
            // SAFETY: the glue's lowering pops one element from the frame (of
            // the interpreter's `CallCx`, checked above) into the buffer,
            // which has the payload's size and alignment.
            unsafe {
                lower(
                    (&mut *frame as *mut CallFrame<C>).cast(),
                    buffer.at(0).cast(),
                )
            };
        }
        async move {
            let buffer = buffer;
            // SAFETY: the built-in reads one element from the buffer, which
            // stays alive (with the frame owning what it points to) until the
            // write completes or is cancelled by `guard`.
            let code = unsafe { write(writable, buffer.at(0).cast()) };
            let mut guard = CancelOnDrop {
                handle: writable,
                cancel,
                read_into: None,
                armed: true,
            };
            let code = complete_copy(code, &mut guard).await;
            drop(buffer);
            let done = code & 0xf == COPY_COMPLETED;
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
                read_into: Some((payload, cx, &*buffer)),
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
    fn payload(&self) -> Payload {
        let raw = self.raw_ops();
        Payload {
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
    /// (`dropped`; the unwritten elements are dropped, and resource handles
    /// in them stay with this component). Drop the future before completion
    /// to cancel the write.
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
        let buffer = Buffer::new(payload.size, raw.abi_payload_align, count);
        if let Some(lower) = payload.lower {
            for i in 0..count {
                // SAFETY: as in `Future::write`, for element `i`.
                unsafe {
                    lower(
                        (&mut *frame as *mut CallFrame<C>).cast(),
                        buffer.at(i * payload.size).cast(),
                    )
                };
            }
        }
        async move {
            let buffer = buffer;
            let mut written = 0;
            let mut dropped = false;
            while written < count {
                // SAFETY: the built-in reads the unwritten elements, which
                // stay alive until the write completes or is cancelled.
                let code = unsafe {
                    write(
                        writable,
                        buffer.at(written * payload.size).cast(),
                        count - written,
                    )
                };
                let mut guard = CancelOnDrop {
                    handle: writable,
                    cancel,
                    read_into: None,
                    armed: true,
                };
                let code = complete_copy(code, &mut guard).await;
                let progress = Progress::decode(code);
                written += progress.count;
                if code & 0xf != COPY_COMPLETED {
                    dropped = true;
                    break;
                }
            }
            drop(buffer);
            (
                *frame,
                Progress {
                    count: written,
                    dropped,
                },
            )
        }
    }

    /// Reads at most `max` elements from readable end `readable`; completes
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
                read_into: Some((payload, cx, &*buffer)),
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

    /// Reads at most `max` bytes from readable end `readable` of a
    /// `stream<u8>` straight into a `Vec`; completes as soon as some arrived
    /// or the writer dropped its end. Dropping the future early cancels the
    /// read (bytes it had received are discarded).
    pub fn read_bytes(
        &self,
        readable: u32,
        max: usize,
    ) -> impl Future<Output = (Vec<u8>, Progress)> + 'static {
        self.expect_bytes("read_bytes");
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
                read_into: None,
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
            let mut written = 0;
            let mut dropped = false;
            while written < bytes.len() {
                // SAFETY: the built-in reads the unwritten bytes, which `bytes`
                // (owned by this future) keeps alive until the write completes
                // or is cancelled by `guard`.
                let code = unsafe {
                    write(
                        writable,
                        bytes.as_ptr().add(written).cast(),
                        bytes.len() - written,
                    )
                };
                let mut guard = CancelOnDrop {
                    handle: writable,
                    cancel,
                    read_into: None,
                    armed: true,
                };
                let code = complete_copy(code, &mut guard).await;
                written += Progress::decode(code).count;
                if code & 0xf != COPY_COMPLETED {
                    dropped = true;
                    break;
                }
            }
            Progress {
                count: written,
                dropped,
            }
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
