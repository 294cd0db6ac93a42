//! Futures and streams in Lua: their ends are userdata (`End`).
//!
//! * `wit.future("T")` / `wit.stream("T")` create one (`T` spelled as in
//!   WIT; nothing for `future`/`stream` without payload) and return the
//!   readable end, then the writable end.
//! * A readable end received as an argument or result is an `End` too;
//!   passing one as an argument or result gives it away.
//! * `end:read(...)` and `end:write(...)` wait (see [`crate::tasks`]). A
//!   future is one-shot: its end closes itself after its read or write. A
//!   stream's readable end closes itself at the end of the stream, and its
//!   writable end when the reader is gone.
//! * The other side gone, and a cancelled operation, are results the script
//!   tests: `nil, "closed"` / `count, "closed"` and `nil, "cancelled"`.
//! * `end:cancel()` stops the operation in progress on an end (another
//!   coroutine is waiting in it); `end:close()`, a to-be-closed variable and
//!   the garbage collector cancel it and drop the end.
//!
//! Operations run as SDK futures kept in the end's slot, not on the waiting
//! coroutine's stack, so that `cancel` can stop one synchronously (the
//! component model requires a cancelled copy to be over before the end is
//! used again).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;

use mlua::{Lua, MetaMethod, MultiValue, Table, UserData, UserDataMethods, Value, Variadic};
use wit_dylib_sdk::{Bytes, CallFrame, Future, Progress, Stream, Type, Wit};

use crate::stack::{LuaStack, Site, check as check_value};
use crate::tasks::require_task;
use crate::values::{self, Mismatch, describe};

/// Elements a stream read asks for when the script gives no count.
const DEFAULT_READ: usize = 64 * 1024;

/// A future or stream type of the world.
#[derive(Copy, Clone)]
pub enum Kind {
    Future(Future),
    Stream(Stream),
}

impl Kind {
    fn payload(self) -> Option<Type> {
        match self {
            Kind::Future(f) => f.ty(),
            Kind::Stream(s) => s.ty(),
        }
    }

    fn ty(self) -> Type {
        match self {
            Kind::Future(f) => Type::Future(f),
            Kind::Stream(s) => Type::Stream(s),
        }
    }

    fn drop_end(self, handle: u32, readable: bool) {
        match (self, readable) {
            (Kind::Future(f), true) => f.drop_readable(handle),
            (Kind::Future(f), false) => f.drop_writable(handle),
            (Kind::Stream(s), true) => s.drop_readable(handle),
            (Kind::Stream(s), false) => s.drop_writable(handle),
        }
    }

    /// Whether ends of `self` may stand where `other` is expected: the same
    /// kind with the same payload (the world has one entry per place a type
    /// is used, and the component model compares them structurally).
    fn matches(self, other: Kind) -> bool {
        let same_kind = matches!(
            (self, other),
            (Kind::Future(_), Kind::Future(_)) | (Kind::Stream(_), Kind::Stream(_))
        );
        same_kind && self.payload().map(|t| t.to_string()) == other.payload().map(|t| t.to_string())
    }
}

/// The interfaces that define the named types in `ty`, in the order met.
fn interfaces_in(ty: Option<Type>) -> Vec<&'static str> {
    let mut found = Vec::new();
    let mut stack: Vec<Type> = ty.into_iter().collect();
    while let Some(ty) = stack.pop() {
        let interface = match ty {
            Type::Record(t) => {
                stack.extend(t.fields().map(|(_, ty)| ty));
                t.interface()
            }
            Type::Variant(t) => {
                stack.extend(t.cases().filter_map(|(_, ty)| ty));
                t.interface()
            }
            Type::Tuple(t) => {
                stack.extend(t.types());
                t.name().and(t.interface())
            }
            Type::Option(t) => {
                stack.push(t.ty());
                t.name().and(t.interface())
            }
            Type::Result(t) => {
                stack.extend(t.ok().into_iter().chain(t.err()));
                t.name().and(t.interface())
            }
            Type::List(t) => {
                stack.push(t.ty());
                t.name().and(t.interface())
            }
            Type::FixedLengthList(t) => {
                stack.push(t.ty());
                t.name().and(t.interface())
            }
            Type::Map(t) => {
                stack.extend([t.key_ty(), t.value_ty()]);
                t.name().and(t.interface())
            }
            Type::Future(t) => {
                stack.extend(t.ty());
                t.name().and(t.interface())
            }
            Type::Stream(t) => {
                stack.extend(t.ty());
                t.name().and(t.interface())
            }
            Type::Alias(t) => {
                stack.push(t.ty());
                t.interface()
            }
            Type::Enum(t) => t.interface(),
            Type::Flags(t) => t.interface(),
            Type::Own(t) | Type::Borrow(t) => t.interface(),
            _ => None,
        };
        if let Some(interface) = interface
            && !found.contains(&interface)
        {
            found.push(interface);
        }
    }
    found
}

/// `ty`'s structure, named types spelt out: what the component model
/// compares (resources aside, which are nominal: named with their
/// interface).
fn shape(ty: Type) -> String {
    let all = |parts: Vec<String>| parts.join(",");
    let optional = |ty: Option<Type>| ty.map_or("_".to_string(), shape);
    match ty {
        Type::Record(t) => format!(
            "record{{{}}}",
            all(t
                .fields()
                .map(|(n, t)| format!("{n}:{}", shape(t)))
                .collect())
        ),
        Type::Variant(t) => format!(
            "variant{{{}}}",
            all(t
                .cases()
                .map(|(n, t)| format!("{n}:{}", optional(t)))
                .collect())
        ),
        Type::Enum(t) => format!("enum{{{}}}", all(t.names().map(String::from).collect())),
        Type::Flags(t) => format!("flags{{{}}}", all(t.names().map(String::from).collect())),
        Type::Alias(t) => shape(t.ty()),
        Type::Own(r) => format!("own<{}#{}>", r.interface().unwrap_or_default(), r.name()),
        Type::Borrow(r) => format!("borrow<{}#{}>", r.interface().unwrap_or_default(), r.name()),
        Type::Tuple(t) => format!("tuple<{}>", all(t.types().map(shape).collect())),
        Type::Option(t) => format!("option<{}>", shape(t.ty())),
        Type::Result(t) => format!("result<{},{}>", optional(t.ok()), optional(t.err())),
        Type::List(t) => format!("list<{}>", shape(t.ty())),
        Type::FixedLengthList(t) => format!("list<{},{}>", shape(t.ty()), t.len()),
        Type::Map(t) => format!("map<{},{}>", shape(t.key_ty()), shape(t.value_ty())),
        Type::Future(t) => format!("future<{}>", optional(t.ty())),
        Type::Stream(t) => format!("stream<{}>", optional(t.ty())),
        other => other.to_string(),
    }
}

/// What a finished operation produced.
enum Outcome {
    /// Elements read onto the frame, or a write (the frame is empty). Boxed:
    /// a frame is much larger than the other outcomes.
    Frame(Box<CallFrame<LuaStack>>, Progress),
    Bytes(Vec<u8>, Progress),
    Written(Progress),
}

type Operation = Pin<Box<dyn std::future::Future<Output = Outcome>>>;

/// A read that lifts its elements onto a frame.
fn frames(
    read: impl std::future::Future<Output = (CallFrame<LuaStack>, Progress)> + 'static,
) -> Operation {
    Box::pin(async move {
        let (frame, progress) = read.await;
        Outcome::Frame(Box::new(frame), progress)
    })
}

fn written(write: impl std::future::Future<Output = Progress> + 'static) -> Operation {
    Box::pin(async move { Outcome::Written(write.await) })
}

/// One end of a future or stream.
struct EndState {
    kind: Kind,
    readable: bool,
    /// 0 once closed or given away.
    handle: Cell<u32>,
    /// The other side is gone (or the future's value went through): nothing
    /// more can move.
    finished: Cell<bool>,
    /// The operation in progress, numbered so that a waiter can tell its own
    /// from one started after it was cancelled.
    operation: RefCell<Option<(u64, Operation)>>,
    next_operation: Cell<u64>,
}

impl EndState {
    fn name(&self) -> String {
        let side = if self.readable {
            "readable"
        } else {
            "writable"
        };
        format!("the {side} end of a {}", self.kind.ty())
    }

    fn handle(&self, readable: bool, verb: &str) -> mlua::Result<u32> {
        let error = |why: &str| {
            Err(mlua::Error::runtime(format!(
                "cannot {verb} {}: {why}",
                self.name()
            )))
        };
        if self.readable != readable {
            return error("wrong end");
        }
        match self.handle.get() {
            0 => error("it is closed or was passed on"),
            _ if self.operation.borrow().is_some() => error("another coroutine is waiting on it"),
            handle => Ok(handle),
        }
    }

    /// Stops the operation in progress, if any (its waiter sees "cancelled").
    fn cancel(&self) -> bool {
        let operation = self.operation.borrow_mut().take();
        operation.is_some()
    }

    fn close(&self) {
        self.cancel();
        let handle = self.handle.replace(0);
        if handle != 0 {
            self.kind.drop_end(handle, self.readable);
        }
    }

    /// Runs `operation` in the end's slot; `None` if it was cancelled.
    async fn wait(&self, operation: Operation) -> Option<Outcome> {
        let id = self.next_operation.get();
        self.next_operation.set(id + 1);
        *self.operation.borrow_mut() = Some((id, operation));
        std::future::poll_fn(|cx| {
            let mut slot = self.operation.borrow_mut();
            match slot.as_mut() {
                Some((current, operation)) if *current == id => match operation.as_mut().poll(cx) {
                    Poll::Ready(outcome) => {
                        *slot = None;
                        Poll::Ready(Some(outcome))
                    }
                    Poll::Pending => Poll::Pending,
                },
                _ => Poll::Ready(None),
            }
        })
        .await
    }

    /// Records that the peer is gone; a future's end or a finished stream's
    /// end is dropped at once, as nothing more can go through it.
    fn finish(&self) {
        self.finished.set(true);
        self.close();
    }
}

impl Drop for EndState {
    fn drop(&mut self) {
        self.close();
    }
}

/// The userdata of an end.
#[derive(Clone)]
struct End(Rc<EndState>);

impl End {
    fn new(kind: Kind, readable: bool, handle: u32) -> End {
        End(Rc::new(EndState {
            kind,
            readable,
            handle: Cell::new(handle),
            finished: Cell::new(false),
            operation: RefCell::new(None),
            next_operation: Cell::new(0),
        }))
    }
}

impl UserData for End {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_async_method("read", |lua, this, count: Option<i64>| {
            let end = this.0.clone();
            async move { read(&lua, &end, count).await }
        });
        methods.add_async_method("write", |lua, this, data: Variadic<Value>| {
            let end = this.0.clone();
            async move { write(&lua, &end, data.into_iter().next()).await }
        });
        methods.add_method("cancel", |_, this, ()| Ok(this.0.cancel()));
        methods.add_method("close", |_, this, ()| {
            this.0.close();
            Ok(())
        });
        methods.add_meta_method(MetaMethod::Close, |_, this, _: Value| {
            this.0.close();
            Ok(())
        });
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(this.0.name()));
    }
}

/// `end:read([n])`.
async fn read(lua: &Lua, end: &EndState, count: Option<i64>) -> mlua::Result<MultiValue> {
    require_task(lua, "reading a future or stream")?;
    let closed = |lua: &Lua| Ok(pair(lua, Value::Nil, "closed"));
    if end.finished.get() && end.readable {
        return closed(lua);
    }
    let handle = end.handle(true, "read from")?;
    let outcome = match end.kind {
        Kind::Future(f) => {
            let frame = CallFrame::new(LuaStack::new(lua.clone(), Site::Channel(end.kind.ty())));
            end.wait(frames(f.read(handle, frame))).await
        }
        Kind::Stream(s) => {
            let max = match count {
                None => DEFAULT_READ,
                Some(n) if n >= 1 && n as u64 > s.max_read() as u64 => {
                    return Err(mlua::Error::runtime(format!(
                        "cannot read {n} elements from {} at once: read at most {}",
                        end.name(),
                        s.max_read()
                    )));
                }
                Some(n) if n >= 1 => n as usize,
                Some(n) => {
                    return Err(mlua::Error::runtime(format!(
                        "cannot read {n} elements from {}: read at least 1",
                        end.name()
                    )));
                }
            };
            if s.is_bytes() {
                let read = s.read_bytes(handle, max);
                end.wait(Box::pin(async move {
                    let (bytes, progress) = read.await;
                    Outcome::Bytes(bytes, progress)
                }))
                .await
            } else {
                let frame =
                    CallFrame::new(LuaStack::new(lua.clone(), Site::Channel(end.kind.ty())));
                end.wait(frames(s.read(handle, frame, max))).await
            }
        }
    };
    let Some(outcome) = outcome else {
        return Ok(pair(lua, Value::Nil, "cancelled"));
    };
    let progress = match &outcome {
        Outcome::Frame(_, progress) | Outcome::Bytes(_, progress) | Outcome::Written(progress) => {
            *progress
        }
    };
    if progress.dropped || matches!(end.kind, Kind::Future(_)) {
        end.finish();
    }
    if progress.count == 0 && progress.dropped {
        return closed(lua);
    }
    let value = match (end.kind, outcome) {
        (_, Outcome::Bytes(bytes, _)) => Value::String(lua.create_string(bytes)?),
        // A `none` read is `wit.none`: `nil` means the future was closed.
        (Kind::Future(f), Outcome::Frame(mut frame, _)) => match f.ty() {
            Some(_) => values::hole(lua, frame.stack().pop_value()),
            None => Value::Boolean(true),
        },
        (Kind::Stream(s), Outcome::Frame(frame, progress)) => match s.ty() {
            Some(_) => {
                let items = (*frame).into_inner().take(progress.count);
                let items = items.into_iter().map(|item| values::hole(lua, item));
                Value::Table(lua.create_sequence_from(items)?)
            }
            None => Value::Integer(progress.count as i64),
        },
        (_, Outcome::Written(_)) => unreachable!("a read produces no write outcome"),
    };
    Ok(MultiValue::from_vec(vec![value]))
}

/// `end:write(data)`.
async fn write(lua: &Lua, end: &EndState, data: Option<Value>) -> mlua::Result<MultiValue> {
    require_task(lua, "writing to a future or stream")?;
    if end.finished.get() {
        return Ok(pair(lua, Value::Integer(0), "closed"));
    }
    let handle = end.handle(false, "write to")?;
    let data = data.unwrap_or(Value::Nil);
    let wrong = |e: Mismatch| mlua::Error::runtime(format!("writing to {}: {e}", end.name()));
    let frame = || CallFrame::new(LuaStack::new(lua.clone(), Site::Channel(end.kind.ty())));
    let outcome = match end.kind {
        Kind::Future(f) => {
            let mut frame = frame();
            if let Some(ty) = f.ty() {
                check_value(ty, &data).map_err(wrong)?;
                frame.stack().push(data);
            }
            let write = f.write(handle, frame);
            end.wait(written(async move { write.await.1 })).await
        }
        Kind::Stream(s) if s.is_bytes() => {
            let Value::String(string) = data else {
                return Err(wrong(format!(
                    "expected a string of bytes, got {}",
                    describe(&data)
                )));
            };
            let (ptr, len) = {
                let bytes = string.as_bytes();
                (bytes.as_ptr(), bytes.len())
            };
            // SAFETY: Lua strings are immutable and do not move; `string`
            // (a registry reference) keeps the bytes alive.
            let bytes = unsafe { Bytes::from_raw_parts(ptr, len, string) };
            end.wait(written(s.write_bytes(handle, bytes))).await
        }
        Kind::Stream(s) => {
            let mut frame = frame();
            let count = match s.ty() {
                None => match data {
                    Value::Integer(n) if n >= 0 => n as usize,
                    other => {
                        return Err(wrong(format!(
                            "expected a count of elements, got {}",
                            describe(&other)
                        )));
                    }
                },
                Some(ty) => {
                    let Value::Table(items) = data else {
                        return Err(wrong(format!(
                            "expected a sequence of {}, got {}",
                            ty,
                            describe(&data)
                        )));
                    };
                    let items: Vec<Value> = items.sequence_values().collect::<mlua::Result<_>>()?;
                    for (i, item) in items.iter().enumerate() {
                        check_value(ty, item)
                            .map_err(|e| wrong(format!("element {}: {e}", i + 1)))?;
                    }
                    let count = items.len();
                    // The glue lowers the first element first.
                    for item in items.into_iter().rev() {
                        frame.stack().push(item);
                    }
                    count
                }
            };
            if count == 0 {
                return Ok(MultiValue::from_vec(vec![Value::Integer(0)]));
            }
            let write = s.write(handle, frame, count);
            end.wait(written(async move { write.await.1 })).await
        }
    };
    let Some(Outcome::Written(progress)) = outcome else {
        return Ok(pair(lua, Value::Nil, "cancelled"));
    };
    if progress.dropped || matches!(end.kind, Kind::Future(_)) {
        end.finish();
    }
    let written = match end.kind {
        Kind::Future(_) => Value::Boolean(progress.count == 1),
        Kind::Stream(_) => Value::Integer(progress.count as i64),
    };
    Ok(match progress.dropped {
        true => pair(lua, written, "closed"),
        false => MultiValue::from_vec(vec![written]),
    })
}

fn pair(lua: &Lua, value: Value, why: &str) -> MultiValue {
    let why = lua
        .create_string(why)
        .map(Value::String)
        .unwrap_or(Value::Nil);
    MultiValue::from_vec(vec![value, why])
}

/// Adds `future` and `stream` to the `wit` table.
pub fn install(lua: &Lua, wit: Wit, table: &Table) -> mlua::Result<()> {
    for kinds in [
        Kinds::new("future", wit.futures().map(Kind::Future).collect()),
        Kinds::new("stream", wit.streams().map(Kind::Stream).collect()),
    ] {
        let name = kinds.name;
        let create =
            lua.create_function(move |lua, (ty, iface): (Option<String>, Option<String>)| {
                let kind = kinds.get(ty, iface)?;
                let (readable, writable) = match kind {
                    Kind::Future(f) => f.new_pair(),
                    Kind::Stream(s) => s.new_pair(),
                };
                Ok((
                    lua.create_userdata(End::new(kind, true, readable))?,
                    lua.create_userdata(End::new(kind, false, writable))?,
                ))
            })?;
        table.raw_set(name, create)?;
    }
    Ok(())
}

/// The arguments of `wit.future`/`wit.stream`: a payload's spelling and an
/// interface.
type Asked = (Option<String>, Option<String>);

/// The world's futures or streams, and the ones scripts have asked for:
/// finding one spells out every type of the world, and a script asks for
/// the same few again and again (twice per request in an HTTP handler).
struct Kinds {
    name: &'static str,
    all: Vec<Kind>,
    /// By the `wit.future`/`wit.stream` arguments that found them.
    asked: RefCell<HashMap<Asked, Kind>>,
}

impl Kinds {
    fn new(name: &'static str, all: Vec<Kind>) -> Kinds {
        Kinds {
            name,
            all,
            asked: RefCell::default(),
        }
    }

    fn get(&self, payload: Option<String>, interface: Option<String>) -> mlua::Result<Kind> {
        let key = (payload, interface);
        if let Some(&kind) = self.asked.borrow().get(&key) {
            return Ok(kind);
        }
        let kind = find(&self.all, self.name, key.0.as_deref(), key.1.as_deref())?;
        self.asked.borrow_mut().insert(key, kind);
        Ok(kind)
    }
}

/// The type `wit.future(T[, interface])` / `wit.stream(T[, interface])`
/// names. Names in `T` are unqualified, so two interfaces' types of one
/// name (`error-code`) spell alike; `interface` then says whose.
fn find(
    kinds: &[Kind],
    kind_name: &str,
    payload: Option<&str>,
    interface: Option<&str>,
) -> mlua::Result<Kind> {
    let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let wanted = payload
        .map(squeeze)
        .filter(|p| !p.is_empty() && p != kind_name);
    let spelt = |wanted: Option<&str>| -> Vec<Kind> {
        let spelt_so = |kind: &&Kind| match (wanted, kind.payload()) {
            (None, None) => true,
            (Some(wanted), Some(ty)) => {
                squeeze(&ty.to_string()) == wanted || squeeze(&ty.dealias().to_string()) == wanted
            }
            _ => false,
        };
        kinds.iter().filter(spelt_so).copied().collect()
    };
    // The payload's spelling, or the whole type's (`stream<u8>` for `u8`).
    let mut found = spelt(wanted.as_deref());
    if found.is_empty()
        && let Some(inner) = wanted.as_deref().and_then(|w| {
            w.strip_prefix(kind_name)?
                .strip_prefix('<')?
                .strip_suffix('>')
        })
    {
        found = spelt(Some(inner));
    }
    let asked = match &wanted {
        Some(p) => format!("{kind_name}<{p}>"),
        None => kind_name.to_string(),
    };
    if let Some(interface) = interface {
        found.retain(|k| interfaces_in(k.payload()).contains(&interface));
    }
    // Types of one shape are one type to the component model: any of them
    // fits. Types of one spelling but different shapes need the interface.
    let mut shapes: Vec<String> = found.iter().map(|k| shape(k.ty())).collect();
    shapes.sort();
    shapes.dedup();
    if shapes.len() > 1 {
        let mut whose: Vec<String> = found
            .iter()
            .map(|k| interfaces_in(k.payload()).join(" and "))
            .collect();
        whose.sort();
        whose.dedup();
        return Err(mlua::Error::runtime(format!(
            "cannot create a {asked}: its names are the types of more than one interface ({}); \
             name the interface: wit.{kind_name}(\"{}\", \"{}\")",
            whose.join("; "),
            wanted.as_deref().unwrap_or_default(),
            interfaces_in(found[0].payload())
                .first()
                .copied()
                .unwrap_or_default()
        )));
    }
    let Some(&kind) = found.first() else {
        let known: Vec<String> = kinds.iter().map(|k| k.ty().to_string()).collect();
        let of = interface.map(|i| format!(" of {i}")).unwrap_or_default();
        return Err(mlua::Error::runtime(match known.is_empty() {
            true => format!("cannot create a {asked}: the world uses no {kind_name}s"),
            false => format!(
                "cannot create a {asked}{of}: the world's {kind_name}s are {}",
                known.join(", ")
            ),
        }));
    };
    Ok(kind)
}

/// A readable end received from the other side.
pub fn lift(lua: &Lua, kind: Kind, handle: u32) -> mlua::Result<Value> {
    lua.create_userdata(End::new(kind, true, handle))
        .map(Value::UserData)
}

fn readable_end(value: &Value, kind: Kind) -> Result<Rc<EndState>, Mismatch> {
    let expected = || format!("the readable end of a {}", kind.ty());
    let end = match value {
        Value::UserData(data) => data.borrow::<End>().ok().map(|end| end.0.clone()),
        _ => None,
    };
    let Some(end) = end else {
        return Err(format!("expected {}, got {}", expected(), describe(value)));
    };
    if !end.readable || !end.kind.matches(kind) {
        return Err(format!("expected {}, got {}", expected(), end.name()));
    }
    if end.handle.get() == 0 {
        return Err(format!("{} is closed or was passed on", end.name()));
    }
    if end.operation.borrow().is_some() {
        return Err(format!("{} has a read in progress", end.name()));
    }
    Ok(end)
}

/// Checks that `value` can be passed as `kind`.
pub fn check(value: &Value, kind: Kind) -> Result<(), Mismatch> {
    readable_end(value, kind).map(drop)
}

/// Takes the handle of a readable end passed as `kind`, giving it away.
pub fn take(value: &Value, kind: Kind) -> Result<u32, Mismatch> {
    let end = readable_end(value, kind)?;
    Ok(end.handle.replace(0))
}
