//! Futures and streams in `val`: each stands for its contents (see
//! `generate`). The side that passes one opens it and writes the contents
//! from a background task; the side that receives one drains it and
//! compares the contents. Both walk the whole value, so futures and
//! streams nested in records, variants, lists and so on are played too.
//! Every end this component holds is counted while it lives ([`Counted`]).

use std::cell::Cell;
use std::future::Future as _;
use std::ops::Deref;
use std::rc::Rc;
use std::task::{Context, Waker};

use wit_dylib_sdk::{
    Callee, Channel, Type, Val, read_future, read_stream, spawn, write_future, write_stream,
    yield_now,
};

/// Bytes per stream read or write (64 KiB: 64 Ki elements of a `stream<u8>`).
const CHUNK: usize = 64 << 10;

/// Elements per read or write of a stream of `ty`: [`CHUNK`] bytes' worth
/// (at least one), so that a buffer stays small whatever the element size.
fn chunk(ty: Option<Type>) -> usize {
    let size = ty.map_or(0, |t| wit_dylib_sdk::size_align(t).0);
    (CHUNK / size.max(1)).max(1)
}

thread_local! {
    /// Future and stream ends this component holds.
    static OPEN_ENDS: Cell<usize> = const { Cell::new(0) };
}

/// Future and stream ends this component holds now.
pub fn open_ends() -> usize {
    OPEN_ENDS.get()
}

/// An end this component holds, counted from when it got it until it drops
/// it (the SDK's end drops its handle with it).
struct Counted<T>(T);

impl<T> Counted<T> {
    fn new(end: T) -> Counted<T> {
        OPEN_ENDS.set(OPEN_ENDS.get() + 1);
        Counted(end)
    }
}

impl<T> Drop for Counted<T> {
    fn drop(&mut self) {
        OPEN_ENDS.set(OPEN_ENDS.get() - 1);
    }
}

impl<T> Deref for Counted<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// What a function does differently with its futures and streams.
#[derive(Copy, Clone, PartialEq, Eq)]
pub enum Policy {
    Normal,
    /// `early-reader`: the reader drops the stream after one element.
    EarlyReader,
    /// `early-writer`: the writer drops the stream after half the elements.
    EarlyWriter,
    /// `cancel-read`: the reader cancels a pending read and drops the
    /// future; the writer writes only after the call and finds it gone.
    CancelRead,
    /// `cancel-write`: the writer cancels a pending write before anyone can
    /// read, then writes again.
    CancelWrite,
}

impl Policy {
    pub fn of(name: &str) -> Policy {
        match name {
            "early-reader" => Policy::EarlyReader,
            "early-writer" => Policy::EarlyWriter,
            "cancel-read" => Policy::CancelRead,
            "cancel-write" => Policy::CancelWrite,
            _ => Policy::Normal,
        }
    }

    /// The contents the reader should see of `expected`, given `actual`.
    pub fn expected(self, actual: &Val, expected: Val) -> Val {
        match (self, actual, expected) {
            (Policy::EarlyReader, Val::List(read), Val::List(mut all)) => {
                assert!(read.len() <= 1, "early-reader read more than one element");
                all.truncate(read.len());
                Val::List(all)
            }
            (Policy::EarlyWriter, _, Val::List(mut all)) => {
                all.truncate(all.len() / 2);
                Val::List(all)
            }
            (Policy::CancelRead, Val::List(read), Val::List(_)) if read.is_empty() => {
                Val::List(Vec::new())
            }
            (_, _, expected) => expected,
        }
    }
}

/// Turns the contents of a future or stream of type `ty` into a new one
/// whose readable end is returned: a background task writes the contents
/// (in chunks, for a stream) and drops the writable end. Other values are
/// returned as they are.
pub fn open(
    ty: Type,
    value: Val,
    context: Callee,
    policy: Policy,
    returned: &Rc<Cell<bool>>,
) -> Val {
    match (ty.dealias(), value) {
        (Type::Stream(s), Val::List(items)) => {
            let (readable, writable) = Channel::Stream(s).new_ends();
            let writable = Counted::new(writable);
            let mut items = items;
            if policy == Policy::EarlyWriter {
                items.truncate(items.len() / 2);
            }
            if let Some(t) = s.ty().filter(|t| !is_plain(*t)) {
                items = items
                    .into_iter()
                    .map(|v| open(t, v, context, Policy::Normal, returned))
                    .collect();
            }
            spawn(async move {
                while !items.is_empty() {
                    let rest = items.split_off(items.len().min(chunk(s.ty())));
                    let chunk = std::mem::replace(&mut items, rest);
                    let write = write_stream(&writable, chunk, context);
                    let progress = write.expect("one write at a time").await;
                    if progress.dropped {
                        assert!(
                            policy == Policy::EarlyReader,
                            "{context}: the reader of a stream dropped it early"
                        );
                        break;
                    }
                }
                drop(writable);
            });
            Val::Stream(readable)
        }
        (Type::Future(f), Val::List(items)) => {
            let (readable, writable) = Channel::Future(f).new_ends();
            let writable = Counted::new(writable);
            let value = match (f.ty(), items.into_iter().next()) {
                (Some(t), Some(v)) => open(t, v, context, Policy::Normal, returned),
                _ => Val::Tuple(Vec::new()),
            };
            if policy == Policy::CancelWrite {
                // Nobody can read yet (the readable end is still ours): the
                // write blocks, and dropping it cancels it (and drops what it
                // was writing: a copy, which the policy's payloads allow).
                let copy = value.try_clone().expect("cancel-write writes no handle");
                let write = write_future(&writable, copy, context).expect("a new end is idle");
                let mut write = Box::pin(write);
                let poll = write.as_mut().poll(&mut Context::from_waker(Waker::noop()));
                assert!(
                    poll.is_pending(),
                    "{context}: a write with no reader completed"
                );
                drop(write);
            }
            let returned = returned.clone();
            spawn(async move {
                if policy == Policy::CancelRead {
                    while !returned.get() {
                        yield_now().await;
                    }
                }
                let write = write_future(&writable, value, context);
                let delivered = write.expect("the cancelled write is over").await;
                assert_eq!(
                    delivered,
                    policy != Policy::CancelRead,
                    "{context}: unexpected outcome of a future write"
                );
                drop(writable);
            });
            Val::Future(readable)
        }
        (ty, value) => match parts(ty, value) {
            Ok((types, values, rebuild)) => rebuild(
                types
                    .into_iter()
                    .zip(values)
                    .map(|(t, v)| open(t, v, context, Policy::Normal, returned))
                    .collect(),
            ),
            Err(value) => value,
        },
    }
}

/// Reads a received future or stream of type `ty` to the end and returns
/// its contents (see [`open`]); other values are returned as they are.
pub async fn drain(ty: Type, value: Val, context: Callee, policy: Policy) -> Val {
    match (ty.dealias(), value) {
        (Type::Stream(s), Val::Stream(readable)) => {
            let readable = Counted::new(readable);
            let mut items = Vec::new();
            loop {
                let max = match policy {
                    Policy::EarlyReader => 1,
                    _ => chunk(s.ty()),
                };
                let read = read_stream(&readable, max, context);
                let (mut got, progress) = read.expect("one read at a time").await;
                items.append(&mut got);
                if progress.dropped || (policy == Policy::EarlyReader && !items.is_empty()) {
                    break;
                }
            }
            drop(readable);
            match s.ty().filter(|t| !is_plain(*t)) {
                Some(t) => Val::List(drain_all(vec![t; items.len()], items, context).await),
                None => Val::List(items),
            }
        }
        (Type::Future(f), Val::Future(readable)) => {
            let readable = Counted::new(readable);
            if policy == Policy::CancelRead {
                // The writer waits for the call to return: the read blocks,
                // and dropping it cancels it.
                let read = read_future(&readable, context).expect("a received end is idle");
                let mut read = Box::pin(read);
                let poll = read.as_mut().poll(&mut Context::from_waker(Waker::noop()));
                assert!(
                    poll.is_pending(),
                    "{context}: a read with no writer completed"
                );
                drop(read);
                drop(readable);
                return Val::List(Vec::new());
            }
            let read = read_future(&readable, context).expect("a received end is idle");
            let value = read.await;
            let value =
                value.unwrap_or_else(|| panic!("{context}: a future was dropped without a value"));
            drop(readable);
            Val::List(match f.ty() {
                Some(t) => vec![Box::pin(drain(t, value, context, Policy::Normal)).await],
                None => Vec::new(),
            })
        }
        (ty, value) => match parts(ty, value) {
            Ok((types, values, rebuild)) => rebuild(drain_all(types, values, context).await),
            Err(value) => value,
        },
    }
}

/// Drains each of `values` (of the matching type in `types`), in order.
async fn drain_all(types: Vec<Type>, values: Vec<Val>, context: Callee) -> Vec<Val> {
    let mut drained = Vec::with_capacity(values.len());
    for (t, v) in types.into_iter().zip(values) {
        drained.push(Box::pin(drain(t, v, context, Policy::Normal)).await);
    }
    drained
}

/// Whether values of `ty` can hold no future or stream (no need to walk them).
fn is_plain(ty: Type) -> bool {
    !matches!(
        ty.dealias(),
        Type::Record(_)
            | Type::Tuple(_)
            | Type::FixedLengthList(_)
            | Type::List(_)
            | Type::Option(_)
            | Type::Variant(_)
            | Type::Result(_)
            | Type::Map(_)
            | Type::Future(_)
            | Type::Stream(_)
    )
}

/// Rebuilds a compound value from its (transformed) parts.
type Rebuild = Box<dyn FnOnce(Vec<Val>) -> Val>;

/// The parts of a compound value, with their types and how to put them
/// back together; any other value is handed back.
fn parts(ty: Type, value: Val) -> Result<(Vec<Type>, Vec<Val>, Rebuild), Val> {
    fn one(mut parts: Vec<Val>) -> Box<Val> {
        Box::new(parts.pop().expect("one part"))
    }
    Ok(match (ty, value) {
        (Type::Record(r), Val::Record(fields)) => (
            r.fields().map(|(_, t)| t).collect(),
            fields,
            Box::new(Val::Record),
        ),
        (Type::Tuple(t), Val::Tuple(items)) => (t.types().collect(), items, Box::new(Val::Tuple)),
        (Type::FixedLengthList(l), Val::Tuple(items)) => {
            (vec![l.ty(); items.len()], items, Box::new(Val::Tuple))
        }
        (Type::List(l), Val::List(items)) => {
            (vec![l.ty(); items.len()], items, Box::new(Val::List))
        }
        (Type::Option(o), Val::Option(Some(v))) => (
            vec![o.ty()],
            vec![*v],
            Box::new(|p| Val::Option(Some(one(p)))),
        ),
        (Type::Variant(v), Val::Variant(case, Some(payload))) => {
            let ty = v.cases().nth(case as usize).and_then(|(_, t)| t);
            (
                ty.into_iter().collect(),
                vec![*payload],
                Box::new(move |p| Val::Variant(case, Some(one(p)))),
            )
        }
        (Type::Result(r), Val::Result(Ok(Some(v)))) => (
            r.ok().into_iter().collect(),
            vec![*v],
            Box::new(|p| Val::Result(Ok(Some(one(p))))),
        ),
        (Type::Result(r), Val::Result(Err(Some(v)))) => (
            r.err().into_iter().collect(),
            vec![*v],
            Box::new(|p| Val::Result(Err(Some(one(p))))),
        ),
        (Type::Map(m), Val::Map(entries)) => {
            let types = entries
                .iter()
                .flat_map(|_| [m.key_ty(), m.value_ty()])
                .collect();
            let values = entries.into_iter().flat_map(|(k, v)| [k, v]).collect();
            let rebuild = |flat: Vec<Val>| {
                let mut flat = flat.into_iter();
                let mut entries = Vec::new();
                while let (Some(k), Some(v)) = (flat.next(), flat.next()) {
                    entries.push((k, v));
                }
                Val::Map(entries)
            };
            (types, values, Box::new(rebuild))
        }
        (_, value) => return Err(value),
    })
}
