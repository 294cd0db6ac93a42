//! Futures and streams in toy values. Each end is a host object; the
//! builtins read and write through the SDK, waiting as [`crate::tasks`]
//! describes. An end is dropped by `(drop end)`, by passing a reader to a
//! function or a write (it moves), or when the last toy value holding it
//! goes away. A dropped peer is a result the script tests, never an error.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use toy_lang::{HostObject, Interp, Value};
use wit_dylib_sdk::{
    Callee, Future, Stream, Type, Val, Wit, read_future, read_stream, write_future, write_stream,
};

use crate::resources::Resources;
use crate::tasks::Scheduler;
use crate::values::{lift, lower};

thread_local! {
    /// Ends this component holds (open, busy or finished, not yet dropped).
    static OPEN_ENDS: Cell<usize> = const { Cell::new(0) };
    /// A future writer the script let go of without writing (see `End::drop`).
    static UNWRITTEN: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// What went wrong if the script let go of a future writer without writing
/// a value: the component model traps on dropping such an end, so the
/// interpreter keeps it and traps itself, with this message, once the toy
/// code has returned (so that a toy error causing it is reported instead).
pub fn take_unwritten() -> Option<String> {
    UNWRITTEN.with(|u| u.borrow_mut().take())
}

/// The number of future and stream ends the component holds.
pub fn open_ends() -> usize {
    OPEN_ENDS.with(Cell::get)
}

/// A future or stream type of the world.
#[derive(Copy, Clone)]
pub enum Channel {
    Future(Future),
    Stream(Stream),
}

impl Channel {
    fn ty(self) -> Type {
        match self {
            Channel::Future(f) => Type::Future(f),
            Channel::Stream(s) => Type::Stream(s),
        }
    }

    /// The payload or element type; `None` without one.
    fn payload(self) -> Option<Type> {
        match self {
            Channel::Future(f) => f.ty(),
            Channel::Stream(s) => s.ty(),
        }
    }

    fn name(self) -> String {
        self.ty().to_string()
    }
}

/// One end of a future or stream.
pub struct End {
    channel: Channel,
    readable: bool,
    handle: u32,
    state: Cell<State>,
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum State {
    Open,
    /// A read or write is in progress.
    Busy,
    /// No more elements will move: the future's value went through, or the
    /// peer dropped its end. Still to be dropped.
    Finished,
    /// Dropped, or moved into a call or a write.
    Gone,
}

impl HostObject for End {
    fn describe(&self) -> String {
        let role = if self.readable { "reader" } else { "writer" };
        format!("<{} {role} {}>", self.channel.name(), self.handle)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Drop for End {
    fn drop(&mut self) {
        match self.state.get() {
            State::Gone => {}
            // Dropping the handle would trap without a word: keep it, report.
            _ if self.unwritten_future() => {
                let message = format!("let go of {} without writing a value", self.describe());
                UNWRITTEN.with(|u| {
                    u.borrow_mut().get_or_insert(message);
                });
                OPEN_ENDS.with(|n| n.set(n.get() - 1));
            }
            _ => self.release(),
        }
    }
}

impl End {
    fn new(channel: Channel, readable: bool, handle: u32) -> Rc<End> {
        OPEN_ENDS.with(|n| n.set(n.get() + 1));
        Rc::new(End {
            channel,
            readable,
            handle,
            state: Cell::new(State::Open),
        })
    }

    /// A future writer that has not written (nor tried to): the component
    /// model traps if it is dropped.
    fn unwritten_future(&self) -> bool {
        matches!(self.channel, Channel::Future(_))
            && !self.readable
            && self.state.get() == State::Open
    }

    /// Drops the handle (the state says it is still ours).
    fn release(&self) {
        self.state.set(State::Gone);
        OPEN_ENDS.with(|n| n.set(n.get() - 1));
        match (self.channel, self.readable) {
            (Channel::Future(f), true) => f.drop_readable(self.handle),
            (Channel::Future(f), false) => f.drop_writable(self.handle),
            (Channel::Stream(s), true) => s.drop_readable(self.handle),
            (Channel::Stream(s), false) => s.drop_writable(self.handle),
        }
    }

    /// Checks that `builtin` may use this end now and marks it busy.
    fn begin(&self, builtin: &str, readable: bool) -> Result<(), String> {
        let role = if readable { "reader" } else { "writer" };
        if self.readable != readable {
            return Err(format!(
                "`{builtin}` needs a {role}, found {}",
                self.describe()
            ));
        }
        match self.state.get() {
            State::Open => {
                self.state.set(State::Busy);
                Ok(())
            }
            State::Busy => Err(format!(
                "{} is busy with another read or write",
                self.describe()
            )),
            State::Finished => Err(format!(
                "{} is finished (its value went through or its peer is gone): drop it",
                self.describe()
            )),
            State::Gone => Err(format!("{} was dropped or moved", self.describe())),
        }
    }

    /// Ends what [`End::begin`] started; `finished` when nothing more can move.
    fn end(&self, finished: bool) {
        self.state.set(if finished {
            State::Finished
        } else {
            State::Open
        });
    }
}

/// A received reader (an argument, a result, a value read) as a toy value.
pub fn lift_reader(channel: Channel, handle: u32) -> Value {
    Value::Host(End::new(channel, true, handle))
}

/// The handle of the reader in `value` of type `channel`, moved out of the
/// script's value to be passed on.
pub fn pass_reader(channel: Channel, value: &Value) -> Result<u32, String> {
    let expected = channel.name();
    let end = end_of(value).ok_or_else(|| {
        format!(
            "expected a {expected} reader, found {} {}",
            value.type_name(),
            value.show()
        )
    })?;
    if end.channel.name() != expected || !end.readable {
        return Err(format!(
            "expected a {expected} reader, found {}",
            end.describe()
        ));
    }
    end.begin("pass", true)?;
    end.state.set(State::Gone);
    OPEN_ENDS.with(|n| n.set(n.get() - 1));
    Ok(end.handle)
}

fn end_of(value: &Value) -> Option<&End> {
    match value {
        Value::Host(object) => object.as_any().downcast_ref::<End>(),
        _ => None,
    }
}

/// `(drop end)`, if `value` is an end: drops it now.
pub fn drop_end(value: &Value) -> Option<Result<(), String>> {
    let end = end_of(value)?;
    Some(match end.state.get() {
        _ if end.unwritten_future() => Err(format!(
            "{} has not written its value, and a future's writer may not be dropped before",
            end.describe()
        )),
        State::Open | State::Finished => {
            end.release();
            Ok(())
        }
        State::Busy => Err(format!("{} is busy with a read or write", end.describe())),
        State::Gone => Err(format!("{} was dropped or moved", end.describe())),
    })
}

/// Every future and stream type in the world's functions, by name.
fn channel_types(wit: Wit) -> Vec<(String, Channel)> {
    fn collect(ty: Type, out: &mut Vec<(String, Channel)>) {
        let add = |channel: Channel, out: &mut Vec<(String, Channel)>| {
            let name = channel.name();
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, channel));
            }
        };
        match ty {
            Type::Future(f) => add(Channel::Future(f), out),
            Type::Stream(s) => add(Channel::Stream(s), out),
            _ => {}
        }
        let inner: Vec<Type> = match ty {
            Type::Record(r) => r.fields().map(|(_, t)| t).collect(),
            Type::Tuple(t) => t.types().collect(),
            Type::Variant(v) => v.cases().filter_map(|(_, t)| t).collect(),
            Type::Option(o) => vec![o.ty()],
            Type::Result(r) => r.ok().into_iter().chain(r.err()).collect(),
            Type::List(l) => vec![l.ty()],
            Type::FixedLengthList(l) => vec![l.ty()],
            Type::Map(m) => vec![m.key_ty(), m.value_ty()],
            Type::Alias(a) => vec![a.ty()],
            Type::Future(f) => f.ty().into_iter().collect(),
            Type::Stream(s) => s.ty().into_iter().collect(),
            _ => Vec::new(),
        };
        for ty in inner {
            collect(ty, out);
        }
    }
    let mut out = Vec::new();
    let signatures = wit
        .import_funcs()
        .flat_map(|f| f.params().chain(f.result()).collect::<Vec<_>>())
        .chain(
            wit.export_funcs()
                .flat_map(|f| f.params().chain(f.result()).collect::<Vec<_>>()),
        );
    for ty in signatures {
        collect(ty, &mut out);
    }
    out
}

/// What the builtins share.
struct Cx {
    tasks: Rc<Scheduler>,
    resources: Rc<Resources>,
}

impl Cx {
    fn context(&self, builtin: &str) -> Result<Callee, String> {
        self.tasks
            .current()
            .ok_or_else(|| format!("`{builtin}` works only while an export runs"))
    }

    /// A toy value as the payload of `channel`, or an error naming it.
    fn lower_payload(&self, channel: Channel, value: &Value) -> Result<Option<Val>, String> {
        match channel.payload() {
            Some(ty) => lower(ty, value, &self.resources)
                .map(Some)
                .map_err(|e| format!("writing to {}: {e}", channel.name())),
            None if matches!(value, Value::Nil) => Ok(None),
            None => Err(format!(
                "writing to {}: it carries no value, found {}",
                channel.name(),
                value.show()
            )),
        }
    }

    fn lift_payload(&self, channel: Channel, val: Val) -> Value {
        match channel.payload() {
            Some(ty) => lift(ty, val, &self.resources),
            None => Value::Nil,
        }
    }
}

fn end_arg<'a>(builtin: &str, value: &'a Value) -> Result<&'a End, String> {
    end_of(value).ok_or_else(|| {
        format!(
            "`{builtin}` needs a future or stream end, found {}",
            value.show()
        )
    })
}

fn future_of(builtin: &str, end: &End) -> Result<Future, String> {
    match end.channel {
        Channel::Future(f) => Ok(f),
        Channel::Stream(_) => Err(format!(
            "`{builtin}` needs a future, found {}",
            end.describe()
        )),
    }
}

fn stream_of(builtin: &str, end: &End) -> Result<Stream, String> {
    match end.channel {
        Channel::Stream(s) => Ok(s),
        Channel::Future(_) => Err(format!(
            "`{builtin}` needs a stream, found {}",
            end.describe()
        )),
    }
}

/// `(variant "blocked")`: a try-read or try-write found nobody on the other side.
fn blocked() -> Value {
    Value::variant("blocked", Value::Nil)
}

/// Defines the builtins on futures and streams (see the README).
pub fn install(interp: &Interp, wit: Wit, tasks: &Rc<Scheduler>, resources: &Rc<Resources>) {
    let types = Rc::new(channel_types(wit));
    let cx = Rc::new(Cx {
        tasks: tasks.clone(),
        resources: resources.clone(),
    });

    for (builtin, is_future) in [("future-new", true), ("stream-new", false)] {
        let types = types.clone();
        let cx = cx.clone();
        interp.define_native(builtin, move |_, args| {
            let [Value::Str(name)] = &args[..] else {
                return Err(format!("usage: ({builtin} \"type\"), e.g. \"future<u32>\""));
            };
            cx.context(builtin)?;
            let channel = types
                .iter()
                .find(|(n, c)| n == &**name && matches!(c, Channel::Future(_)) == is_future)
                .map(|(_, c)| *c)
                .ok_or_else(|| {
                    let known: Vec<&str> = types.iter().map(|(n, _)| n.as_str()).collect();
                    format!(
                        "the world uses no type `{name}` (its futures and streams: {})",
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    )
                })?;
            let (readable, writable) = match channel {
                Channel::Future(f) => f.new_pair(),
                Channel::Stream(s) => s.new_pair(),
            };
            Ok(Value::list(vec![
                Value::Host(End::new(channel, true, readable)),
                Value::Host(End::new(channel, false, writable)),
            ]))
        });
    }

    for (builtin, try_only) in [("future-read", false), ("future-try-read", true)] {
        let cx = cx.clone();
        interp.define_native(builtin, move |interp, args| {
            let [reader] = &args[..] else {
                return Err(format!("usage: ({builtin} reader)"));
            };
            let end = end_arg(builtin, reader)?;
            let f = future_of(builtin, end)?;
            let context = cx.context(builtin)?;
            end.begin(builtin, true)?;
            let op = read_future(f, end.handle, context);
            let outcome = match try_only {
                true => cx.tasks.try_now(interp, builtin, op),
                false => cx.tasks.wait(interp, &format!("`{builtin}`"), op).map(Some),
            };
            end.end(matches!(outcome, Ok(Some(_))));
            Ok(match outcome? {
                None => blocked(),
                Some(None) => Value::Nil,
                Some(Some(val)) => Value::variant("some", cx.lift_payload(end.channel, val)),
            })
        });
    }

    for (builtin, try_only) in [("future-write", false), ("future-try-write", true)] {
        let cx = cx.clone();
        interp.define_native(builtin, move |interp, args| {
            let [writer, value] = &args[..] else {
                return Err(format!("usage: ({builtin} writer value)"));
            };
            let end = end_arg(builtin, writer)?;
            let f = future_of(builtin, end)?;
            let context = cx.context(builtin)?;
            end.begin(builtin, false)?;
            let outcome = cx.lower_payload(end.channel, value).and_then(|val| {
                let val = val.unwrap_or(Val::Tuple(Vec::new()));
                let op = write_future(f, end.handle, val, context);
                match try_only {
                    true => cx.tasks.try_now(interp, builtin, op),
                    false => cx.tasks.wait(interp, &format!("`{builtin}`"), op).map(Some),
                }
            });
            end.end(matches!(outcome, Ok(Some(_))));
            Ok(match outcome? {
                None => blocked(),
                Some(taken) => Value::Bool(taken),
            })
        });
    }

    let stream_read = cx.clone();
    interp.define_native("stream-read", move |interp, args| {
        let cx = &stream_read;
        let [reader, Value::Int(max)] = &args[..] else {
            return Err("usage: (stream-read reader max-items)".into());
        };
        let end = end_arg("stream-read", reader)?;
        let s = stream_of("stream-read", end)?;
        let max = usize::try_from(*max)
            .ok()
            .filter(|&m| m > 0)
            .ok_or_else(|| format!("`stream-read` reads at least 1 item, not {max}"))?
            // The SDK allocates a buffer for `max` items, up to its limit.
            .min(s.max_read());
        let context = cx.context("stream-read")?;
        if end.readable && end.state.get() == State::Finished {
            return Ok(Value::Nil);
        }
        end.begin("stream-read", true)?;
        // A read may complete with nothing (the writer wrote nothing): go on.
        let outcome = loop {
            let op = read_stream(s, end.handle, max, context);
            match cx.tasks.wait(interp, "`stream-read`", op) {
                Ok((items, progress)) if items.is_empty() && !progress.dropped => continue,
                other => break other,
            }
        };
        end.end(matches!(&outcome, Ok((_, progress)) if progress.dropped));
        let (items, _) = outcome?;
        Ok(match items.is_empty() {
            true => Value::Nil,
            false => Value::list(
                items
                    .into_iter()
                    .map(|val| cx.lift_payload(end.channel, val))
                    .collect(),
            ),
        })
    });

    let stream_write = cx.clone();
    interp.define_native("stream-write", move |interp, args| {
        let cx = &stream_write;
        let [writer, Value::List(items)] = &args[..] else {
            return Err("usage: (stream-write writer list-of-items)".into());
        };
        let end = end_arg("stream-write", writer)?;
        let s = stream_of("stream-write", end)?;
        let context = cx.context("stream-write")?;
        end.begin("stream-write", false)?;
        let outcome = items
            .iter()
            .enumerate()
            .map(|(i, item)| match s.ty() {
                Some(ty) => lower(ty, item, &cx.resources)
                    .map_err(|e| format!("writing to {}: item {i}: {e}", end.channel.name())),
                // Only the number of items counts.
                None => Ok(Val::Tuple(Vec::new())),
            })
            .collect::<Result<Vec<Val>, String>>()
            .and_then(|vals| {
                let op = write_stream(s, end.handle, vals, context);
                cx.tasks.wait(interp, "`stream-write`", op)
            });
        end.end(matches!(&outcome, Ok(progress) if progress.dropped));
        Ok(Value::Bool(!outcome?.dropped))
    });

    interp.define_native("wit-open-ends", |_, args| match &args[..] {
        [] => Ok(Value::Int(open_ends() as i128)),
        _ => Err("usage: (wit-open-ends)".into()),
    });
}
