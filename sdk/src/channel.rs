//! How elements move through futures and streams: one copy routine for
//! both (a future is a stream of one element), over the built-ins the world
//! library lists for each `future<T>` and `stream<T>` type.
//!
//! A read or write is a Rust future that completes when the copy does (see
//! [`crate::task`] for the model). The SDK owns each element buffer until
//! then; dropping such a future early cancels the copy, and the elements it
//! moved meanwhile are released: a read lifts them (and so frees their
//! strings, lists and handles), a write drops the handles in those it did
//! not give away.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;

use crate::call::Call;
use crate::dispose::{drop_handles, holds_handles};
use crate::handle::DropFn;
use crate::metadata::{Future, Stream, Type, Wit};
use crate::runtime::CallFrame;
use crate::task::{NextEvent, next_event};

/// The most bytes one stream read may ask for (see [`Channel::max_read`]):
/// the buffer is allocated up front, so a larger request is refused before
/// it can exhaust the guest's memory.
pub const MAX_READ_BYTES: usize = 16 << 20;

/// The canonical ABI reports a copy's count in 28 bits.
const MAX_COPY_COUNT: usize = (1 << 28) - 1;

const BLOCKED: u32 = 0xffff_ffff;
const COPY_COMPLETED: u32 = 0;
const COPY_DROPPED: u32 = 1;
const COPY_CANCELLED: u32 = 2;

/// [`Channel::spelling`]'s numbers for one world: for each future and
/// each stream, the index of the first one whose payload spells the same.
struct Spellings {
    wit: Wit,
    futures: Vec<usize>,
    streams: Vec<usize>,
}

impl Spellings {
    fn of(wit: Wit) -> Spellings {
        let numbered = |spelt: Vec<Option<String>>| -> Vec<usize> {
            let first = |s: &Option<String>| spelt.iter().position(|t| t == s);
            spelt
                .iter()
                .map(|s| first(s).expect("found itself"))
                .collect()
        };
        let spell = |ty: Option<Type>| ty.map(|t| t.to_string());
        Spellings {
            wit,
            futures: numbered(wit.futures().map(|f| spell(f.ty())).collect()),
            streams: numbered(wit.streams().map(|s| spell(s.ty())).collect()),
        }
    }
}

/// How far a read or write of a future or stream got.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Elements transferred (0 or 1 for a future).
    pub count: usize,
    /// The other end was dropped: no more elements will move.
    pub dropped: bool,
    /// The operation was cancelled (see [`ReadEnd::cancel`](crate::ReadEnd::cancel)).
    pub cancelled: bool,
}

/// A `future<T>` or `stream<T>` type of the world: what an end carries.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Channel {
    Future(Future),
    Stream(Stream),
}

impl Channel {
    /// The type itself.
    pub fn ty(self) -> Type {
        match self {
            Channel::Future(f) => Type::Future(f),
            Channel::Stream(s) => Type::Stream(s),
        }
    }

    /// The payload (future) or element (stream) type; `None` without one.
    pub fn payload(self) -> Option<Type> {
        match self {
            Channel::Future(f) => f.ty(),
            Channel::Stream(s) => s.ty(),
        }
    }

    pub fn is_future(self) -> bool {
        matches!(self, Channel::Future(_))
    }

    /// Whether ends of `self` may stand where `other` is expected: the same
    /// kind with the same payload. The world lists one entry per place a
    /// type is used, and the component model compares types by structure.
    pub fn fits(self, other: Channel) -> bool {
        self == other
            || (self.is_future() == other.is_future() && self.spelling() == other.spelling())
    }

    /// A number for how this type's payload is spelt, the same for every
    /// future (or stream) of the world that spells it alike. Ends are
    /// checked each time they are passed, several times per request in an
    /// HTTP handler, and spelling a type out allocates; so the numbers are
    /// worked out once, for the whole world.
    fn spelling(self) -> usize {
        thread_local! {
            static SPELLINGS: RefCell<Option<Spellings>> = const { RefCell::new(None) };
        }
        let wit = match self {
            Channel::Future(f) => f.wit(),
            Channel::Stream(s) => s.wit(),
        };
        SPELLINGS.with_borrow_mut(|known| {
            let spellings = match known {
                Some(spellings) if spellings.wit.is(wit) => spellings,
                _ => known.insert(Spellings::of(wit)),
            };
            match self {
                Channel::Future(f) => spellings.futures[f.index()],
                Channel::Stream(s) => spellings.streams[s.index()],
            }
        })
    }

    /// The most elements one read may ask for: 1 for a future; for a
    /// stream, as many as fit in [`MAX_READ_BYTES`], and never more than
    /// the canonical ABI can count. Interpreters check a script's count
    /// against it.
    pub fn max_read(self) -> usize {
        match self {
            Channel::Future(_) => 1,
            Channel::Stream(_) => {
                let size = self.ops().size.max(1);
                (MAX_READ_BYTES / size).clamp(1, MAX_COPY_COUNT)
            }
        }
    }

    /// Whether this is a `stream<u8>`, which moves bytes in bulk
    /// ([`ReadEnd::read_bytes`](crate::ReadEnd::read_bytes),
    /// [`WriteEnd::write_bytes`](crate::WriteEnd::write_bytes)).
    pub fn is_bytes(self) -> bool {
        matches!(self, Channel::Stream(s) if s.ty().map(Type::dealias) == Some(Type::U8))
    }

    /// The built-ins of this type, futures' and streams' in one shape.
    pub(crate) fn ops(self) -> Ops {
        macro_rules! ops {
            ($raw:expr, $what:literal, $read:ident, $write:ident) => {{
                let raw = $raw;
                let need = |name: &str| format!("wit-dylib metadata: no {}.{name}", $what);
                Ops {
                    channel: self,
                    size: raw.abi_payload_size,
                    align: raw.abi_payload_align.max(1),
                    lift: raw.lift,
                    lower: raw.lower,
                    new: raw.new.unwrap_or_else(|| panic!("{}", need("new"))),
                    read: CopyFn::$read(raw.read.unwrap_or_else(|| panic!("{}", need("read")))),
                    write: CopyFn::$write(raw.write.unwrap_or_else(|| panic!("{}", need("write")))),
                    cancel_read: raw
                        .cancel_read
                        .unwrap_or_else(|| panic!("{}", need("cancel-read"))),
                    cancel_write: raw
                        .cancel_write
                        .unwrap_or_else(|| panic!("{}", need("cancel-write"))),
                    drop_readable: raw
                        .drop_readable
                        .unwrap_or_else(|| panic!("{}", need("drop-readable"))),
                    drop_writable: raw
                        .drop_writable
                        .unwrap_or_else(|| panic!("{}", need("drop-writable"))),
                }
            }};
        }
        match self {
            Channel::Future(f) => ops!(f.raw_ops(), "future", FutureRead, FutureWrite),
            Channel::Stream(s) => ops!(s.raw_ops(), "stream", StreamRead, StreamWrite),
        }
    }
}

/// A copy built-in. A future's moves one element and takes no count.
#[derive(Copy, Clone)]
pub(crate) enum CopyFn {
    FutureRead(unsafe extern "C" fn(u32, *mut c_void) -> u32),
    FutureWrite(unsafe extern "C" fn(u32, *const c_void) -> u32),
    StreamRead(unsafe extern "C" fn(u32, *mut c_void, usize) -> u32),
    StreamWrite(unsafe extern "C" fn(u32, *const c_void, usize) -> u32),
}

impl CopyFn {
    /// # Safety
    /// `buffer` must hold room for (read) or elements to take (write)
    /// `count` elements, alive until the copy completes or is cancelled.
    unsafe fn call(self, handle: u32, buffer: *mut u8, count: usize) -> u32 {
        // SAFETY: guaranteed by the caller.
        unsafe {
            match self {
                CopyFn::FutureRead(read) => read(handle, buffer.cast()),
                CopyFn::FutureWrite(write) => write(handle, buffer.cast()),
                CopyFn::StreamRead(read) => read(handle, buffer.cast(), count),
                CopyFn::StreamWrite(write) => write(handle, buffer.cast(), count),
            }
        }
    }
}

/// The built-ins and per-element conversions of one future or stream type.
#[derive(Copy, Clone)]
pub(crate) struct Ops {
    pub channel: Channel,
    pub size: usize,
    pub align: usize,
    lift: Option<unsafe extern "C" fn(*mut c_void, *const c_void)>,
    lower: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
    new: unsafe extern "C" fn() -> u64,
    read: CopyFn,
    write: CopyFn,
    cancel_read: unsafe extern "C" fn(u32) -> u32,
    cancel_write: unsafe extern "C" fn(u32) -> u32,
    pub drop_readable: DropFn,
    pub drop_writable: DropFn,
}

impl Ops {
    /// A new pair of raw ends, `(readable, writable)`.
    pub fn new_pair(&self) -> (u32, u32) {
        // SAFETY: the `future.new`/`stream.new` built-in takes nothing.
        let ends = unsafe { (self.new)() };
        (ends as u32, (ends >> 32) as u32)
    }

    /// Whether nothing more can move through an end after a copy ended with
    /// `code`: the peer dropped its end, or a future's one value went
    /// through.
    pub fn closes(&self, code: u32) -> bool {
        let status = code & 0xf;
        status == COPY_DROPPED || (self.channel.is_future() && status == COPY_COMPLETED)
    }

    /// What a copy's completion (or cancellation) code says. A future's
    /// code carries no count: its one element moved iff it completed.
    fn progress(&self, code: u32) -> Progress {
        let status = code & 0xf;
        Progress {
            count: match self.channel {
                Channel::Future(_) => usize::from(status == COPY_COMPLETED),
                Channel::Stream(_) => (code >> 4) as usize,
            },
            dropped: status == COPY_DROPPED,
            cancelled: status == COPY_CANCELLED,
        }
    }
}

/// Element buffer of a read or write, owned by the SDK until it completes.
pub(crate) struct Buffer {
    ptr: *mut u8,
    layout: std::alloc::Layout,
    size: usize,
}

impl Buffer {
    fn new(ops: &Ops, count: usize) -> Buffer {
        let bytes = ops.size.checked_mul(count).expect("buffer size overflows");
        let layout = std::alloc::Layout::from_size_align(bytes, ops.align)
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
        Buffer {
            ptr,
            layout,
            size: ops.size,
        }
    }

    fn at(&self, index: usize) -> *mut u8 {
        self.ptr.wrapping_add(index * self.size)
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

/// The elements a read receives, lifted onto `frame` when it ends. If the
/// read is cancelled, those the cancelled copy moved are lifted (and so
/// released) as the read is dropped.
pub(crate) struct Incoming<C: Call> {
    /// `None` once finished.
    frame: Option<Box<CallFrame<C>>>,
    buffer: Buffer,
    ops: Ops,
    /// Elements the canonical ABI wrote and nobody lifted yet.
    pub moved: Cell<usize>,
}

impl<C: Call + 'static> Incoming<C> {
    pub fn new(ops: Ops, frame: CallFrame<C>, max: usize) -> Incoming<C> {
        crate::runtime::check_stack_type::<C>(|| format!("reading a {}", ops.channel.ty()));
        Incoming {
            frame: Some(Box::new(frame)),
            buffer: Buffer::new(&ops, max),
            ops,
            moved: Cell::new(0),
        }
    }

    pub fn buffer(&self) -> *mut u8 {
        self.buffer.at(0)
    }

    /// The frame with the elements read pushed onto it.
    pub fn finish(mut self) -> CallFrame<C> {
        self.lift();
        *self.frame.take().expect("finished once")
    }
}

impl<C: Call> Incoming<C> {
    /// Pushes the moved elements onto the frame, in order.
    fn lift(&mut self) {
        let count = self.moved.replace(0);
        let (Some(lift), Some(frame)) = (self.ops.lift, self.frame.as_deref_mut()) else {
            return;
        };
        let cx: *mut CallFrame<C> = frame;
        for i in 0..count {
            // SAFETY: the canonical ABI wrote element `i`, lifted once
            // (`moved` is reset); `cx` is a frame of the interpreter's
            // `CallCx` (checked in `new`), and the glue pushes one element.
            unsafe { lift(cx.cast(), self.buffer.at(i).cast()) };
        }
    }
}

impl<C: Call> Drop for Incoming<C> {
    fn drop(&mut self) {
        // A cancelled read: what the copy moved is lifted onto the frame
        // and released with it.
        self.lift();
    }
}

/// The lowered elements of a write. Those the reader did not take (it
/// dropped its end, or the write was cancelled) still hold this component's
/// handles: dropping this drops those handles (see [`crate::dispose`]).
pub(crate) struct Outgoing<C: Call> {
    /// Owns what the elements point to (strings, lists) until the write
    /// ends; `None` once it has.
    frame: Option<Box<CallFrame<C>>>,
    buffer: Buffer,
    ty: Option<Type>,
    count: usize,
    /// Elements the reader took so far.
    pub taken: Cell<usize>,
}

impl<C: Call + 'static> Outgoing<C> {
    /// Lowers `count` elements popped from `frame` (the first on top).
    pub fn lower(ops: Ops, frame: CallFrame<C>, count: usize) -> Outgoing<C> {
        crate::runtime::check_stack_type::<C>(|| format!("writing a {}", ops.channel.ty()));
        let mut outgoing = Outgoing {
            frame: Some(Box::new(frame)),
            buffer: Buffer::new(&ops, count),
            ty: ops.channel.payload(),
            count,
            // Until lowered, no element holds anything to drop.
            taken: Cell::new(count),
        };
        if let Some(lower) = ops.lower {
            let cx: *mut CallFrame<C> = outgoing.frame.as_deref_mut().expect("not ended");
            for i in 0..count {
                // SAFETY: the glue's lowering pops one element from the frame
                // (of the interpreter's `CallCx`, checked above) into element
                // `i` of the buffer, which has the payload's size and
                // alignment.
                unsafe { lower(cx.cast(), outgoing.buffer.at(i).cast()) };
            }
        }
        outgoing.taken.set(0);
        outgoing
    }

    pub fn buffer(&self) -> *mut u8 {
        self.buffer.at(0)
    }

    /// Ends the write: drops what the reader did not take, and returns the
    /// frame.
    pub fn into_frame(mut self) -> CallFrame<C> {
        self.drop_untaken();
        *self.frame.take().expect("ended once")
    }
}

impl<C: Call> Outgoing<C> {
    fn drop_untaken(&mut self) {
        let untaken = self.taken.replace(self.count)..self.count;
        let Some(ty) = self.ty.filter(|t| holds_handles(*t)) else {
            return;
        };
        for i in untaken {
            // SAFETY: element `i` was lowered by this write and not taken.
            unsafe { drop_handles(ty, self.buffer.at(i)) }
        }
    }
}

impl<C: Call> Drop for Outgoing<C> {
    fn drop(&mut self) {
        self.drop_untaken();
    }
}

/// Which way a copy goes.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) enum Direction {
    /// One copy into the buffer: completes as soon as some elements arrive.
    Read,
    /// Copies from the buffer until the reader took every element.
    Write,
}

/// Lets an end stop the copy in progress on it from outside the copy's
/// future: [`ReadEnd::cancel`](crate::ReadEnd::cancel).
#[derive(Default)]
pub(crate) struct Control {
    /// The cancel built-in of the copy blocked now, if one is.
    blocked: Cell<Option<unsafe extern "C" fn(u32) -> u32>>,
    /// How a cancellation ended the copy, for the copy to see when polled.
    cancelled: Cell<Option<u32>>,
    /// The blocked copy's wait for its event. Here, not in the copy's
    /// future, so that `cancel` can take the handle out of the waitable set
    /// first: a joined waitable cannot be cancelled synchronously.
    event: RefCell<Option<NextEvent>>,
}

impl Control {
    /// Stops the copy on `handle`: a blocked one at once (the component
    /// model requires it to be over before the end is used again), one not
    /// started yet before it starts. Returns how the copy ended.
    pub fn cancel(&self, handle: u32) -> u32 {
        drop(self.event.take());
        let code = match self.blocked.take() {
            // SAFETY: the sync cancel built-in of the copy blocked on this
            // handle, which is in no waitable set; it returns when the copy
            // has stopped.
            Some(cancel) => unsafe { cancel(handle) },
            None => COPY_CANCELLED,
        };
        self.cancelled.set(Some(code));
        code
    }

    /// The code of the copy that was blocked, stopped now if it still ran.
    fn stop(&self, handle: u32) -> Option<u32> {
        if self.blocked.get().is_some() {
            self.cancel(handle);
        }
        self.cancelled.take()
    }
}

/// Moves `count` elements of `ops`'s type between `buffer` and end `handle`;
/// `moved` counts the elements moved and `closed` says whether nothing more
/// can move through the end (see `Ops::closes`), also when the copy is
/// cancelled (by `control`, or by dropping the returned future).
///
/// # Safety
/// `buffer` must hold room for (read) or the lowered elements (write) of
/// `count` elements, alive and untouched until the returned future
/// completes or is dropped.
#[allow(clippy::too_many_arguments)]
pub(crate) async unsafe fn copy(
    ops: Ops,
    direction: Direction,
    handle: u32,
    control: &Control,
    buffer: *mut u8,
    count: usize,
    moved: &Cell<usize>,
    closed: &Cell<bool>,
) -> Progress {
    let (copy, cancel) = match direction {
        Direction::Read => (ops.read, ops.cancel_read),
        Direction::Write => (ops.write, ops.cancel_write),
    };
    if count == 0 {
        // Nothing to move (an empty stream write): no copy, no waiting.
        return Progress {
            count: 0,
            dropped: false,
            cancelled: false,
        };
    }
    loop {
        let done = moved.get();
        let code = match control.cancelled.take() {
            Some(code) => code,
            // SAFETY: the built-in moves the elements not moved yet; the
            // buffer stays alive (the caller's contract) until the copy
            // completes or is cancelled (by `control` or `guard`).
            None => unsafe {
                copy.call(handle, buffer.wrapping_add(done * ops.size), count - done)
            },
        };
        let code = match code {
            BLOCKED => {
                control.blocked.set(Some(cancel));
                let guard = CancelOnDrop {
                    ops,
                    handle,
                    control,
                    moved,
                    closed,
                };
                *control.event.borrow_mut() = Some(next_event(handle));
                let code = std::future::poll_fn(|cx| {
                    if let Some(code) = control.cancelled.take() {
                        return std::task::Poll::Ready(code);
                    }
                    let mut event = control.event.borrow_mut();
                    let event = event.as_mut().expect("a blocked copy waits for its event");
                    std::future::Future::poll(std::pin::Pin::new(event), cx).map(|(_, code)| code)
                })
                .await;
                control.blocked.set(None);
                control.event.take();
                std::mem::forget(guard);
                code
            }
            code => code,
        };
        let progress = ops.progress(code);
        moved.set(done + progress.count);
        closed.set(ops.closes(code));
        let total = Progress {
            count: moved.get(),
            ..progress
        };
        let more = direction == Direction::Write && total.count < count;
        if !more || total.dropped || total.cancelled {
            return total;
        }
    }
}

/// Stops a blocked copy if dropped before it completed, and counts the
/// elements the copy moved meanwhile.
struct CancelOnDrop<'a> {
    ops: Ops,
    handle: u32,
    control: &'a Control,
    moved: &'a Cell<usize>,
    closed: &'a Cell<bool>,
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(code) = self.control.stop(self.handle) {
            let progress = self.ops.progress(code);
            self.moved.set(self.moved.get() + progress.count);
            self.closed.set(self.ops.closes(code));
        }
    }
}
