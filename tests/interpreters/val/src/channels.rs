//! Futures and streams in `val`: each stands for its contents (see
//! `generate`). The side that passes one opens it and writes the contents
//! from a background task; the side that receives one drains it and
//! compares the contents. Both walk the whole value, so futures and
//! streams nested in records, variants, lists and so on are played too.
//! Every end this component holds is counted.

use std::cell::Cell;
use std::future::Future as _;
use std::rc::Rc;
use std::task::{Context, Waker};

use wit_dylib_sdk::{
    Callee, Type, Val, read_future, read_stream, spawn, write_future, write_stream, yield_now,
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
    static OPEN_ENDS: Cell<i64> = const { Cell::new(0) };
}

fn count_ends(delta: i64) {
    OPEN_ENDS.with(|n| n.set(n.get() + delta));
}

/// Future and stream ends this component holds now.
pub fn open_ends() -> i64 {
    OPEN_ENDS.with(Cell::get)
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
            let (readable, writable) = s.new_pair();
            count_ends(1);
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
                    let progress = write_stream(s, writable, chunk, context).await;
                    if progress.dropped {
                        assert!(
                            policy == Policy::EarlyReader,
                            "{context}: the reader of a stream dropped it early"
                        );
                        break;
                    }
                }
                s.drop_writable(writable);
                count_ends(-1);
            });
            Val::Stream(readable)
        }
        (Type::Future(f), Val::List(items)) => {
            let (readable, writable) = f.new_pair();
            count_ends(1);
            let value = match (f.ty(), items.into_iter().next()) {
                (Some(t), Some(v)) => open(t, v, context, Policy::Normal, returned),
                _ => Val::Tuple(Vec::new()),
            };
            if policy == Policy::CancelWrite {
                // Nobody can read yet (the readable end is still ours): the
                // write blocks, and dropping it cancels it.
                let mut write = Box::pin(write_future(f, writable, value.clone(), context));
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
                let delivered = write_future(f, writable, value, context).await;
                assert_eq!(
                    delivered,
                    policy != Policy::CancelRead,
                    "{context}: unexpected outcome of a future write"
                );
                f.drop_writable(writable);
                count_ends(-1);
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
            count_ends(1);
            let mut items = Vec::new();
            loop {
                let max = match policy {
                    Policy::EarlyReader => 1,
                    _ => chunk(s.ty()),
                };
                let (mut got, progress) = read_stream(s, readable, max, context).await;
                items.append(&mut got);
                if progress.dropped || (policy == Policy::EarlyReader && !items.is_empty()) {
                    break;
                }
            }
            s.drop_readable(readable);
            count_ends(-1);
            match s.ty().filter(|t| !is_plain(*t)) {
                Some(t) => Val::List(drain_all(vec![t; items.len()], items, context).await),
                None => Val::List(items),
            }
        }
        (Type::Future(f), Val::Future(readable)) => {
            count_ends(1);
            if policy == Policy::CancelRead {
                // The writer waits for the call to return: the read blocks,
                // and dropping it cancels it.
                let mut read = Box::pin(read_future(f, readable, context));
                let poll = read.as_mut().poll(&mut Context::from_waker(Waker::noop()));
                assert!(
                    poll.is_pending(),
                    "{context}: a read with no writer completed"
                );
                drop(read);
                f.drop_readable(readable);
                count_ends(-1);
                return Val::List(Vec::new());
            }
            let value = read_future(f, readable, context)
                .await
                .unwrap_or_else(|| panic!("{context}: a future was dropped without a value"));
            f.drop_readable(readable);
            count_ends(-1);
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
