//! Futures and streams in toy values: each end is a host object holding the
//! SDK's end, whose state machine says what it may do next. The builtins read
//! and write through it, waiting as [`crate::tasks`] describes. An end is
//! dropped by `(drop end)`, by passing a reader on (it moves), or when the
//! last toy value holding it goes away. A dropped peer is a result the script
//! tests, never an error.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use toy_lang::{HostObject, Interp, Value};
use wit_dylib_sdk::{
    Channel, End, EndError, EndState, LookupError, ReadEnd, Val, Wit, read_future, read_stream,
    write_future, write_stream,
};

use crate::resources::Resources;
use crate::tasks::Scheduler;
use crate::values::{lift_payload, lower};

thread_local! {
    /// Ends toy values hold (`wit-open-ends`).
    static OPEN_ENDS: Cell<usize> = const { Cell::new(0) };
    /// Ends numbered so far, for messages.
    static NUMBERED: Cell<usize> = const { Cell::new(0) };
    /// A future writer the script let go of without writing (see `ToyEnd::drop`).
    static UNWRITTEN: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// What went wrong if the script let go of a future writer without writing
/// a value: the component model traps on dropping such an end, so the
/// interpreter keeps it and traps itself, with this message, once the toy
/// code has returned (so that a toy error causing it is reported instead).
pub fn take_unwritten() -> Option<String> {
    UNWRITTEN.take()
}

/// One end of a future or stream, as toy values hold it.
struct ToyEnd {
    channel: Channel,
    readable: bool,
    number: usize,
    /// `None` once dropped or passed on.
    end: RefCell<Option<End>>,
}

impl HostObject for ToyEnd {
    fn describe(&self) -> String {
        let role = if self.readable { "reader" } else { "writer" };
        format!("<{} {role} {}>", self.channel.ty(), self.number)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Drop for ToyEnd {
    fn drop(&mut self) {
        // Dropping such a writer would trap without a word: keep it, report.
        if let Some(End::Write(writer)) = self.take()
            && writer.must_write()
        {
            let message = format!("let go of {} without writing a value", self.describe());
            UNWRITTEN.set(Some(UNWRITTEN.take().unwrap_or(message)));
            std::mem::forget(writer);
        }
    }
}

/// An end (received, read or created) as a toy value.
pub fn lift_end(end: End) -> Value {
    OPEN_ENDS.set(OPEN_ENDS.get() + 1);
    NUMBERED.set(NUMBERED.get() + 1);
    Value::Host(Rc::new(ToyEnd {
        channel: end.channel(),
        readable: end.is_readable(),
        number: NUMBERED.get(),
        end: RefCell::new(Some(end)),
    }))
}

impl ToyEnd {
    /// Takes the SDK's end out, to drop it or pass it on.
    fn take(&self) -> Option<End> {
        let end = self.end.take();
        OPEN_ENDS.set(OPEN_ENDS.get() - usize::from(end.is_some()));
        end
    }

    /// Starts `op` on the SDK's end, or says why it may not.
    fn start<T>(&self, op: impl FnOnce(&End) -> Result<T, EndError>) -> Result<T, String> {
        match &*self.end.borrow() {
            Some(end) => op(end).map_err(|e| format!("{}: {e}", self.describe())),
            None => Err(format!("{} was dropped or moved", self.describe())),
        }
    }
}

fn end_of(value: &Value) -> Option<&ToyEnd> {
    match value {
        Value::Host(object) => object.as_any().downcast_ref::<ToyEnd>(),
        _ => None,
    }
}

/// The reader in `value`, moved out of it to be passed on as a `channel`
/// (the SDK refuses one that is busy or closed).
pub fn pass_reader(channel: Channel, value: &Value) -> Result<ReadEnd, String> {
    match end_of(value).filter(|end| end.readable && end.channel.fits(channel)) {
        Some(end) => match end.take() {
            Some(End::Read(reader)) => Ok(reader),
            _ => Err(format!("{} was dropped or moved", end.describe())),
        },
        None => {
            let found = format!("{} {}", value.type_name(), value.show());
            Err(format!("expected a {} reader, found {found}", channel.ty()))
        }
    }
}

/// `(drop end)`, if `value` is an end: drops it now.
pub fn drop_end(value: &Value) -> Option<Result<(), String>> {
    let end = end_of(value)?;
    let unwritten = end.start(|e| match e.state() {
        busy @ (EndState::Reading | EndState::Writing) => Err(EndError::Busy(busy)),
        _ => Ok(matches!(e, End::Write(writer) if writer.must_write())),
    });
    Some(match unwritten {
        Ok(true) => Err(format!(
            "{} has not written its value, and a future's writer may not be dropped before",
            end.describe()
        )),
        other => other.map(|_| drop(end.take())),
    })
}

/// What the builtins share.
struct Cx {
    tasks: Rc<Scheduler>,
    resources: Rc<Resources>,
}

impl Cx {
    fn lift(&self, channel: Channel, val: Val) -> Value {
        lift_payload(channel.payload(), Some(val), &self.resources)
    }

    /// `value` as an element of `channel`; an error names the type and `at`.
    fn lower_item(&self, channel: Channel, value: &Value, at: &str) -> Result<Val, String> {
        let val = match channel.payload() {
            Some(ty) => lower(ty, value, &self.resources),
            None if matches!(value, Value::Nil) => Ok(Val::Tuple(Vec::new())),
            None => Err(format!("it carries no value, found {}", value.show())),
        };
        val.map_err(|e| format!("writing to {}: {at}{e}", channel.ty()))
    }

    /// `(builtin end ...)`, a read or write (see the README), and its usage.
    fn operate(&self, interp: &Interp, op: (&str, &str), args: &[Value]) -> Result<Value, String> {
        let (builtin, usage) = op;
        let usage = || format!("usage: ({builtin} {usage})");
        let (future, readable) = (builtin.starts_with("future"), builtin.ends_with("read"));
        let first = args.first().ok_or_else(usage)?;
        let of_kind = end_of(first).filter(|end| end.channel.is_future() == future);
        let end = of_kind
            .filter(|end| end.readable == readable)
            .ok_or_else(|| {
                let kind = match of_kind {
                    Some(_) => "",
                    None if future => "future ",
                    None => "stream ",
                };
                let role = if readable { "reader" } else { "writer" };
                format!("`{builtin}` needs a {kind}{role}, found {}", first.show())
            })?;
        let context = self.tasks.current(builtin)?;
        let channel = end.channel;
        let (wait, only_try) = (format!("`{builtin}`"), builtin.contains("-try-"));
        // What a try that found nobody on the other side returns (cancelled, the end stays usable).
        let blocked = || Value::variant("blocked", Value::Nil);
        match (future, readable, &args[1..]) {
            (true, true, []) => {
                let op = end.start(|end| read_future(end.reader()?, context))?;
                Ok(match self.tasks.wait_or_try(interp, &wait, only_try, op)? {
                    None => blocked(),
                    Some(None) => Value::Nil,
                    Some(Some(val)) => Value::variant("some", self.lift(channel, val)),
                })
            }
            (true, false, [value]) => {
                let val = self.lower_item(channel, value, "")?;
                let op = end.start(|end| write_future(end.writer()?, val, context))?;
                let written = self.tasks.wait_or_try(interp, &wait, only_try, op)?;
                Ok(written.map_or_else(blocked, Value::Bool))
            }
            (false, true, [Value::Int(max)]) => {
                let max = match usize::try_from(*max) {
                    // The SDK allocates a buffer for `max` items, up to its limit.
                    Ok(max @ 1..) => max.min(channel.max_read()),
                    _ => return Err(format!("`{builtin}` reads at least 1 item, not {max}")),
                };
                if end.start(|end| Ok(end.state()))? == EndState::Closed {
                    return Ok(Value::Nil);
                }
                let items = loop {
                    let op = end.start(|end| read_stream(end.reader()?, max, context))?;
                    match self.tasks.wait(interp, &wait, op)? {
                        // A read may complete with nothing (the writer wrote nothing): go on.
                        (items, progress) if items.is_empty() && !progress.dropped => continue,
                        (items, _) if items.is_empty() => return Ok(Value::Nil),
                        (items, _) => break items,
                    }
                };
                let items = items.into_iter().map(|val| self.lift(channel, val));
                Ok(Value::list(items.collect()))
            }
            (false, false, [Value::List(items)]) => {
                let items = items.iter().enumerate();
                let vals =
                    items.map(|(i, item)| self.lower_item(channel, item, &format!("item {i}: ")));
                let vals = vals.collect::<Result<Vec<Val>, String>>()?;
                // A zero-length write would wait for a reader: writing nothing is done at once.
                let empty = vals.is_empty();
                let op = end.start(|end| write_stream(end.writer()?, vals, context))?;
                let dropped = !empty && self.tasks.wait(interp, &wait, op)?.dropped;
                Ok(Value::Bool(!dropped))
            }
            _ => Err(usage()),
        }
    }
}

/// Defines the builtins on futures and streams (see the README).
pub fn install(interp: &Interp, wit: Wit, tasks: &Rc<Scheduler>, resources: &Rc<Resources>) {
    let cx = Rc::new(Cx {
        tasks: tasks.clone(),
        resources: resources.clone(),
    });
    for (builtin, kind) in [("future-new", "future"), ("stream-new", "stream")] {
        let cx = cx.clone();
        interp.define_native(builtin, move |_, args| {
            let [Value::Str(name)] = &args[..] else {
                return Err(format!("usage: ({builtin} \"type\"), e.g. \"{kind}<u32>\""));
            };
            cx.tasks.current(builtin)?;
            // Spelt whole, as in WIT; the SDK looks up the payload (`u32`).
            let payload = match name.trim().strip_prefix(kind).map(str::trim) {
                Some("") => Some(None),
                Some(rest) => rest
                    .strip_prefix('<')
                    .and_then(|p| p.strip_suffix('>'))
                    .map(Some),
                None => None,
            };
            let no_type = |why: String| format!("the world uses no type `{name}`{why}");
            let payload = payload.ok_or_else(|| no_type(String::new()))?;
            let found = wit.find_channel(kind == "stream", payload, None);
            let channel = found.map_err(|e| match e {
                LookupError::Unknown { .. } => no_type(format!(" ({e})")),
                ambiguous => ambiguous.to_string(),
            })?;
            let (reader, writer) = channel.new_ends();
            let ends = vec![lift_end(End::Read(reader)), lift_end(End::Write(writer))];
            Ok(Value::list(ends))
        });
    }
    for op in [
        ("future-read", "reader"),
        ("future-try-read", "reader"),
        ("future-write", "writer value"),
        ("future-try-write", "writer value"),
        ("stream-read", "reader max-items"),
        ("stream-write", "writer list-of-items"),
    ] {
        let cx = cx.clone();
        interp.define_native(op.0, move |interp, args| cx.operate(interp, op, &args));
    }
    interp.define_native("wit-open-ends", |_, args| match &args[..] {
        [] => Ok(Value::Int(OPEN_ENDS.get() as i128)),
        _ => Err("usage: (wit-open-ends)".into()),
    });
}
