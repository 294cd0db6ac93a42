//! The ends of futures and streams as owning values, and the one state
//! machine that says what an end may do next.
//!
//! An end is [idle](EndState::Idle) until a read or write claims it
//! ([reading](EndState::Reading), [writing](EndState::Writing)). When the
//! operation ends it is idle again, or [closed](EndState::Closed) if nothing
//! more can move through it: the peer dropped its end, or a future's value
//! went through. Cancelling an operation (dropping its Rust future) stops
//! the copy at once and leaves the end idle (or closed, if the copy had
//! finished meanwhile). A closed end drops its handle at once, since
//! nothing can use it any more (so an interpreter that keeps the value
//! around leaks nothing); otherwise each end drops its handle exactly once,
//! when the value (and any operation still holding it) is gone, unless it
//! was passed on.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use crate::buffer::Bytes;
use crate::call::Call;
use crate::channel::{Channel, Control, Direction, Incoming, Ops, Outgoing, Progress, copy};
use crate::handle::release;
use crate::runtime::CallFrame;

/// Where an end is in its life; see the [module docs](self).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum EndState {
    Idle,
    Reading,
    Writing,
    Closed,
}

/// Why an end refused an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndError {
    /// Another read or write is in progress on it.
    Busy(EndState),
    /// Nothing more can move through it: drop it.
    Closed,
    /// An end of another type where `expected` is needed.
    Mismatch { expected: String, found: String },
    /// A stream read of more elements than [`Channel::max_read`].
    TooMany { asked: usize, max: usize },
    /// A bulk byte operation on an end that is not a `stream<u8>`.
    NotBytes(String),
}

impl fmt::Display for EndError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndError::Busy(EndState::Writing) => f.write_str("it is busy with a write"),
            EndError::Busy(_) => f.write_str("it is busy with a read"),
            EndError::Closed => {
                f.write_str("it is closed (its peer is gone, or its future's value went through)")
            }
            EndError::Mismatch { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            EndError::TooMany { asked, max } => {
                write!(
                    f,
                    "a read of {asked} elements exceeds the most at once, {max}"
                )
            }
            EndError::NotBytes(ty) => write!(f, "bulk bytes need a stream<u8>, not {ty}"),
        }
    }
}

impl std::error::Error for EndError {}

/// What both ends hold: the handle and its state.
struct Shared {
    channel: Channel,
    readable: bool,
    handle: u32,
    /// Closed ends have dropped their handle.
    state: Cell<EndState>,
    /// How to stop the operation in progress, if any.
    current: RefCell<Option<Rc<Control>>>,
    /// Counts claims, so that an operation cancelled from outside, which
    /// ends later, leaves the state of a newer one alone.
    claims: Cell<u64>,
}

impl Shared {
    fn new(channel: Channel, readable: bool, handle: u32) -> Rc<Shared> {
        Rc::new(Shared {
            channel,
            readable,
            handle,
            state: Cell::new(EndState::Idle),
            current: RefCell::new(None),
            claims: Cell::new(0),
        })
    }

    fn describe(&self) -> String {
        self.channel.end_name(self.readable)
    }

    /// Claims the end for an operation, if it is idle.
    fn claim(self: &Rc<Shared>, busy: EndState) -> Result<Claim, EndError> {
        match self.state.get() {
            EndState::Idle => {
                self.state.set(busy);
                self.claims.set(self.claims.get() + 1);
                let control = Rc::new(Control::default());
                *self.current.borrow_mut() = Some(control.clone());
                Ok(Claim {
                    end: self.clone(),
                    number: self.claims.get(),
                    control,
                    closed: Cell::new(false),
                })
            }
            EndState::Closed => Err(EndError::Closed),
            state => Err(EndError::Busy(state)),
        }
    }

    /// Stops the operation in progress: the end is free again at once (or
    /// closed, if the stopped copy says so), and the operation sees the
    /// cancellation when next polled.
    fn cancel(&self) -> bool {
        let Some(control) = self.current.borrow_mut().take() else {
            return false;
        };
        let code = control.cancel(self.handle);
        self.settle(self.channel.ops().closes(code));
        // The cancelled claim no longer owns the state.
        self.claims.set(self.claims.get() + 1);
        true
    }

    /// Ends an operation: the end is idle again, or closed, dropping its
    /// handle.
    fn settle(&self, closed: bool) {
        if !closed {
            self.state.set(EndState::Idle);
        } else if self.state.replace(EndState::Closed) != EndState::Closed {
            self.drop_handle();
        }
    }

    fn drop_handle(&self) {
        let ops = self.channel.ops();
        let drop = match self.readable {
            true => ops.drop_readable,
            false => ops.drop_writable,
        };
        // SAFETY: the handle is this end's (`from_raw`'s contract or a new
        // pair), dropped once: here when the end closes (no copy is in
        // progress, and a closed end does no more), or when the end is
        // dropped unless it closed.
        unsafe { release(drop, self.handle) }
    }

    /// Gives the handle away (to pass the end on), if the end is idle and
    /// nothing else holds it.
    fn into_raw(self: Rc<Shared>) -> Result<u32, EndError> {
        match self.state.get() {
            EndState::Idle => {}
            EndState::Closed => return Err(EndError::Closed),
            state => return Err(EndError::Busy(state)),
        }
        let end = Rc::into_inner(self).ok_or(EndError::Busy(EndState::Reading))?;
        Ok(std::mem::ManuallyDrop::new(end).handle)
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // No operation holds the end any more.
        if self.state.get() != EndState::Closed {
            self.drop_handle();
        }
    }
}

/// An end claimed by one operation: busy until the claim is dropped, which
/// leaves it idle, or closed if the copy said nothing more can move (unless
/// the operation was cancelled from outside: see `Shared::cancel`).
struct Claim {
    end: Rc<Shared>,
    /// Which claim of the end this is.
    number: u64,
    control: Rc<Control>,
    closed: Cell<bool>,
}

impl Claim {
    /// Runs the operation's copy (see `channel::copy`).
    ///
    /// # Safety
    /// As for `channel::copy`.
    async unsafe fn copy(
        &self,
        ops: Ops,
        direction: Direction,
        buffer: *mut u8,
        count: usize,
        moved: &Cell<usize>,
    ) -> Progress {
        // SAFETY: guaranteed by the caller.
        unsafe {
            copy(
                ops,
                direction,
                self.end.handle,
                &self.control,
                buffer,
                count,
                moved,
                &self.closed,
            )
        }
        .await
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.end.claims.get() != self.number {
            return;
        }
        self.end.current.borrow_mut().take();
        self.end.settle(self.closed.get());
    }
}

/// The readable end of a future or stream, owned by this component.
pub struct ReadEnd(Rc<Shared>);

/// The writable end of a future or stream, owned by this component. The
/// component model traps when a future's writable end is dropped before it
/// wrote its value: see [`WriteEnd::must_write`].
pub struct WriteEnd(Rc<Shared>);

impl Channel {
    /// "the readable end of a stream<u8>", for messages.
    pub fn end_name(self, readable: bool) -> String {
        let side = if readable { "readable" } else { "writable" };
        format!("the {side} end of a {}", self.ty())
    }

    /// Creates a future or stream: its readable and writable ends.
    pub fn new_ends(self) -> (ReadEnd, WriteEnd) {
        let (readable, writable) = self.ops().new_pair();
        (
            ReadEnd(Shared::new(self, true, readable)),
            WriteEnd(Shared::new(self, false, writable)),
        )
    }
}

macro_rules! end_accessors {
    ($end:ident, $readable:literal) => {
        impl $end {
            /// Takes ownership of a raw handle.
            ///
            /// # Safety
            /// `handle` must be an end of this kind of a `channel` type in
            /// this component's table, which nothing else will drop or pass
            /// on, with no copy in progress.
            pub unsafe fn from_raw(channel: Channel, handle: u32) -> $end {
                $end(Shared::new(channel, $readable, handle))
            }

            /// The future or stream type.
            pub fn channel(&self) -> Channel {
                self.0.channel
            }

            /// Where the end is in its life.
            pub fn state(&self) -> EndState {
                self.0.state.get()
            }

            /// "the readable end of a stream<u8>", for messages.
            pub fn describe(&self) -> String {
                self.0.describe()
            }

            /// Cancels the operation in progress, if any (from outside its
            /// Rust future, e.g. another coroutine): a blocked copy stops at
            /// once and the end is free for another operation; the cancelled
            /// one completes, when next polled, with [`Progress::cancelled`]
            /// and whatever the copy moved. Returns whether an operation was
            /// in progress.
            pub fn cancel(&self) -> bool {
                self.0.cancel()
            }
        }

        impl PartialEq for $end {
            /// The same end.
            fn eq(&self, other: &Self) -> bool {
                Rc::ptr_eq(&self.0, &other.0)
            }
        }

        impl fmt::Debug for $end {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} ({})", self.0.describe(), self.0.handle)
            }
        }
    };
}

end_accessors!(ReadEnd, true);
end_accessors!(WriteEnd, false);

impl ReadEnd {
    /// Gives the handle away to pass this end as a `future<T>` or
    /// `stream<T>` of type `expected`: it must fit that type and be idle.
    pub(crate) fn pass(self, expected: Channel) -> Result<u32, EndError> {
        if !self.0.channel.fits(expected) {
            return Err(EndError::Mismatch {
                expected: format!("the readable end of a {}", expected.ty()),
                found: self.0.describe(),
            });
        }
        self.0.into_raw()
    }

    /// Reads at most `max` elements (1 for a future; at most
    /// [`Channel::max_read`]). Completes as soon as some arrived, with them
    /// pushed onto `frame`'s stack in order (the last on top; nothing is
    /// pushed for a type without payload), or when the writer dropped its
    /// end (`dropped`). Drop the returned future before it completes to
    /// cancel the read.
    pub fn read<C: Call + 'static>(
        &self,
        frame: CallFrame<C>,
        max: usize,
    ) -> Result<impl Future<Output = (CallFrame<C>, Progress)> + 'static + use<C>, EndError> {
        let ops = self.0.channel.ops();
        self.check_count(max)?;
        let claim = self.0.claim(EndState::Reading)?;
        let incoming = Incoming::new(ops, frame, max);
        Ok(async move {
            let incoming = incoming;
            let claim = claim;
            // SAFETY: the buffer has room for `max` elements and lives in
            // `incoming` until the copy is over.
            let progress = unsafe {
                claim.copy(
                    ops,
                    Direction::Read,
                    incoming.buffer(),
                    max,
                    &incoming.moved,
                )
            }
            .await;
            (incoming.finish(), progress)
        })
    }

    /// Reads at most `max` bytes of a `stream<u8>` straight into a `Vec`,
    /// without a per-element conversion; completes as soon as some arrived
    /// or the writer dropped its end. Dropping the returned future cancels
    /// the read (bytes it had received are discarded).
    pub fn read_bytes(
        &self,
        max: usize,
    ) -> Result<impl Future<Output = (Vec<u8>, Progress)> + 'static + use<>, EndError> {
        let ops = self.0.channel.ops();
        if !self.0.channel.is_bytes() {
            return Err(EndError::NotBytes(self.0.channel.ty().to_string()));
        }
        self.check_count(max)?;
        let claim = self.0.claim(EndState::Reading)?;
        let mut bytes: Vec<u8> = Vec::with_capacity(max);
        Ok(async move {
            let claim = claim;
            let moved = Cell::new(0);
            // SAFETY: the vector's spare capacity holds `max` bytes and lives
            // in this future until the copy is over.
            let progress =
                unsafe { claim.copy(ops, Direction::Read, bytes.as_mut_ptr(), max, &moved) }.await;
            // SAFETY: the canonical ABI initialised `progress.count <= max`
            // bytes (bytes need no lifting).
            unsafe { bytes.set_len(progress.count) };
            (bytes, progress)
        })
    }

    fn check_count(&self, max: usize) -> Result<(), EndError> {
        let most = self.0.channel.max_read();
        match max {
            1.. if max <= most => Ok(()),
            _ => Err(EndError::TooMany {
                asked: max,
                max: most,
            }),
        }
    }
}

impl WriteEnd {
    /// Whether this is a future's writable end that has not written its
    /// value yet: dropping it now traps the component (the component model
    /// requires the value).
    pub fn must_write(&self) -> bool {
        self.0.channel.is_future() && self.0.state.get() != EndState::Closed
    }

    /// Writes `count` elements (1 for a future), popped from `frame`'s stack
    /// (the first on top; nothing is popped for a type without payload).
    /// Completes when all are written, or when the reader dropped its end
    /// (`dropped`; the unwritten elements are dropped, the owned handles in
    /// them too). Drop the returned future before it completes to cancel the
    /// write, which drops the unwritten elements in the same way.
    pub fn write<C: Call + 'static>(
        &self,
        frame: CallFrame<C>,
        count: usize,
    ) -> Result<impl Future<Output = (CallFrame<C>, Progress)> + 'static + use<C>, EndError> {
        let ops = self.0.channel.ops();
        if self.0.channel.is_future() && count != 1 {
            return Err(EndError::TooMany {
                asked: count,
                max: 1,
            });
        }
        let claim = self.0.claim(EndState::Writing)?;
        let outgoing = Outgoing::lower(ops, frame, count);
        Ok(async move {
            let outgoing = outgoing;
            let claim = claim;
            // SAFETY: the buffer holds `count` lowered elements and lives
            // (with the frame owning what they point to) in `outgoing` until
            // the copy is over.
            let progress = unsafe {
                claim.copy(
                    ops,
                    Direction::Write,
                    outgoing.buffer(),
                    count,
                    &outgoing.taken,
                )
            }
            .await;
            (outgoing.into_frame(), progress)
        })
    }

    /// Writes `bytes` to a `stream<u8>` without a per-element conversion;
    /// completes when all are written or the reader dropped its end
    /// (`dropped`). Dropping the returned future cancels the write.
    pub fn write_bytes(
        &self,
        bytes: Bytes,
    ) -> Result<impl Future<Output = Progress> + 'static + use<>, EndError> {
        let ops = self.0.channel.ops();
        if !self.0.channel.is_bytes() {
            return Err(EndError::NotBytes(self.0.channel.ty().to_string()));
        }
        let claim = self.0.claim(EndState::Writing)?;
        Ok(async move {
            let claim = claim;
            let taken = Cell::new(0);
            // SAFETY: `bytes`, owned by this future, keeps the bytes alive
            // and unchanged until the copy is over; the built-in only reads.
            unsafe {
                claim.copy(
                    ops,
                    Direction::Write,
                    bytes.as_ptr().cast_mut(),
                    bytes.len(),
                    &taken,
                )
            }
            .await
        })
    }
}

/// Either end, for interpreters that hold both kinds in one value.
#[derive(Debug, PartialEq)]
pub enum End {
    Read(ReadEnd),
    Write(WriteEnd),
}

impl End {
    fn shared(&self) -> &Rc<Shared> {
        match self {
            End::Read(end) => &end.0,
            End::Write(end) => &end.0,
        }
    }

    pub fn channel(&self) -> Channel {
        self.shared().channel
    }

    pub fn state(&self) -> EndState {
        self.shared().state.get()
    }

    pub fn is_readable(&self) -> bool {
        matches!(self, End::Read(_))
    }

    /// "the readable end of a stream<u8>", for messages.
    pub fn describe(&self) -> String {
        self.shared().describe()
    }

    /// See [`ReadEnd::cancel`].
    pub fn cancel(&self) -> bool {
        match self {
            End::Read(end) => end.cancel(),
            End::Write(end) => end.cancel(),
        }
    }

    /// The readable end, or why this is not one.
    pub fn reader(&self) -> Result<&ReadEnd, EndError> {
        match self {
            End::Read(end) => Ok(end),
            End::Write(end) => Err(EndError::Mismatch {
                expected: "a readable end".into(),
                found: end.describe(),
            }),
        }
    }

    /// The writable end, or why this is not one.
    pub fn writer(&self) -> Result<&WriteEnd, EndError> {
        match self {
            End::Write(end) => Ok(end),
            End::Read(end) => Err(EndError::Mismatch {
                expected: "a writable end".into(),
                found: end.describe(),
            }),
        }
    }
}
