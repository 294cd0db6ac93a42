//! Futures and streams in Lua: their ends are userdata (`LuaEnd`).
//!
//! * `wit.future("T")` / `wit.stream("T")` create one (`T` spelled as in
//!   WIT; nothing for `future`/`stream` without payload) and return the
//!   readable end, then the writable end.
//! * A readable end received as an argument or result is an `LuaEnd` too;
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
//! The SDK's ends keep the rules: one operation at a time, nothing after
//! the other side is gone, and a `cancel` that stops a waiting copy at once
//! (the component model requires a cancelled copy to be over before the end
//! is used again).

use std::cell::RefCell;

use mlua::{
    IntoLuaMulti, Lua, MetaMethod, MultiValue, Table, UserData, UserDataMethods, UserDataRef,
    Value, Variadic,
};
use wit_dylib_sdk::{
    Bytes, CallFrame, Channel, End, EndError, EndState, LookupError, Progress, ReadEnd, Wit,
};

use crate::stack::{LuaStack, Site, check as check_value};
use crate::tasks::require_task;
use crate::values::{self, Mismatch, describe};

/// Elements a stream read asks for when the script gives no count.
const DEFAULT_READ: usize = 64 * 1024;
/// The same for a `stream<u8>`, whose chunks become strings: larger reads
/// mean fewer reads and writes, each costing a round through the task.
const DEFAULT_READ_BYTES: usize = 256 * 1024;

/// One end of a future or stream, as scripts hold it. The SDK's end keeps
/// the rules (one operation at a time, nothing after the peer is gone, how
/// to cancel, dropping its handle once nothing more can move through it);
/// this adds the Lua side: messages.
struct LuaEnd {
    channel: Channel,
    readable: bool,
    /// `None` once closed by the script or given away.
    handle: RefCell<Option<End>>,
}

impl LuaEnd {
    fn new(channel: Channel, handle: End) -> LuaEnd {
        LuaEnd {
            channel,
            readable: handle.is_readable(),
            handle: RefCell::new(Some(handle)),
        }
    }

    fn name(&self) -> String {
        self.channel.end_name(self.readable)
    }

    fn refused(&self, verb: &str, why: impl std::fmt::Display) -> mlua::Error {
        mlua::Error::runtime(format!("cannot {verb} {}: {why}", self.name()))
    }

    fn state(&self) -> Option<EndState> {
        self.handle.borrow().as_ref().map(End::state)
    }

    /// The other side is gone (or the future's value went through).
    fn finished(&self) -> bool {
        self.state() == Some(EndState::Closed)
    }

    /// Starts an operation on the SDK's end with `start`.
    fn start<T>(
        &self,
        verb: &str,
        start: impl FnOnce(&End) -> Result<T, EndError>,
    ) -> mlua::Result<T> {
        let handle = self.handle.borrow();
        let handle = handle
            .as_ref()
            .ok_or_else(|| self.refused(verb, "it is closed or was passed on"))?;
        start(handle).map_err(|e| match e {
            EndError::Busy(_) => self.refused(verb, "another coroutine is waiting on it"),
            other => self.refused(verb, other),
        })
    }

    /// Stops the operation in progress, if any (its waiter sees "cancelled").
    fn cancel(&self) -> bool {
        self.handle.borrow().as_ref().is_some_and(End::cancel)
    }

    /// `end:close()`: cancels what is in progress and drops the end.
    fn close(&self) -> mlua::Result<()> {
        self.cancel();
        self.handle.borrow_mut().take();
        Ok(())
    }
}

impl UserData for LuaEnd {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_async_method("read", |lua, this, count: Option<i64>| async move {
            read(&lua, &this, count).await
        });
        methods.add_async_method("write", |lua, this, data: Variadic<Value>| async move {
            write(&lua, &this, data.into_iter().next()).await
        });
        methods.add_method("cancel", |_, this, ()| Ok(this.cancel()));
        methods.add_method("close", |_, this, ()| this.close());
        methods.add_meta_method(MetaMethod::Close, |_, this, _: Value| this.close());
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(this.name()));
    }
}

fn frame(lua: &Lua, end: &LuaEnd) -> CallFrame<LuaStack> {
    CallFrame::new(LuaStack::new(lua.clone(), Site::Channel(end.channel.ty())))
}

/// `end:read([n])`.
async fn read(lua: &Lua, end: &LuaEnd, count: Option<i64>) -> mlua::Result<MultiValue> {
    require_task(lua, "reading a future or stream")?;
    if end.finished() && end.readable {
        return (Value::Nil, "closed").into_lua_multi(lua);
    }
    let max = match (end.channel, count) {
        (Channel::Future(_), _) => 1,
        (_, None) if end.channel.is_bytes() => DEFAULT_READ_BYTES.min(end.channel.max_read()),
        (_, None) => DEFAULT_READ.min(end.channel.max_read()),
        (_, Some(n)) if n < 1 => {
            return Err(end.refused(&format!("read {n} elements from"), "read at least 1"));
        }
        (_, Some(n)) if n as u64 > end.channel.max_read() as u64 => {
            return Err(mlua::Error::runtime(format!(
                "cannot read {n} elements from {} at once: read at most {}",
                end.name(),
                end.channel.max_read()
            )));
        }
        (_, Some(n)) => n as usize,
    };
    let (value, progress) = if end.channel.is_bytes() {
        let read = end.start("read from", |h| h.reader()?.read_bytes(max))?;
        let (bytes, progress) = read.await;
        (Value::String(lua.create_string(bytes)?), progress)
    } else {
        let read = end.start("read from", |h| h.reader()?.read(frame(lua, end), max))?;
        let (mut frame, progress) = read.await;
        // A `none` read is `wit.none`: `nil` means the future was closed.
        let value = match (end.channel, end.channel.payload()) {
            (_, Some(_)) if progress.count == 0 => Value::Nil,
            (Channel::Future(_), Some(_)) => values::hole(lua, frame.stack().pop_value()),
            (Channel::Future(_), None) => Value::Boolean(true),
            (Channel::Stream(_), Some(_)) => {
                let items = frame.into_inner().take(progress.count);
                let items = items.into_iter().map(|item| values::hole(lua, item));
                Value::Table(lua.create_sequence_from(items)?)
            }
            (Channel::Stream(_), None) => Value::Integer(progress.count as i64),
        };
        (value, progress)
    };
    match progress {
        Progress {
            cancelled: true, ..
        } => (Value::Nil, "cancelled").into_lua_multi(lua),
        Progress {
            count: 0,
            dropped: true,
            ..
        } => (Value::Nil, "closed").into_lua_multi(lua),
        _ => value.into_lua_multi(lua),
    }
}

/// `end:write(data)`: the elements the script gives, checked and pushed
/// onto a frame (the first on top), and their number.
fn lower_elements(
    lua: &Lua,
    end: &LuaEnd,
    data: Value,
) -> Result<(CallFrame<LuaStack>, usize), Mismatch> {
    let mut frame = frame(lua, end);
    let count = match (end.channel, end.channel.payload()) {
        (Channel::Future(_), Some(ty)) => {
            check_value(ty, &data)?;
            frame.stack().push(data);
            1
        }
        (Channel::Future(_), None) => 1,
        (Channel::Stream(_), None) => match data {
            Value::Integer(n) if n >= 0 => n as usize,
            other => {
                return Err(format!(
                    "expected a count of elements, got {}",
                    describe(&other)
                ));
            }
        },
        (Channel::Stream(_), Some(ty)) => {
            let Value::Table(items) = data else {
                return Err(format!(
                    "expected a sequence of {ty}, got {}",
                    describe(&data)
                ));
            };
            let items: Vec<Value> = items
                .sequence_values()
                .collect::<mlua::Result<_>>()
                .map_err(|e| e.to_string())?;
            for (i, item) in items.iter().enumerate() {
                check_value(ty, item).map_err(|e| format!("element {}: {e}", i + 1))?;
            }
            let count = items.len();
            // The glue lowers the first element first.
            for item in items.into_iter().rev() {
                frame.stack().push(item);
            }
            count
        }
    };
    Ok((frame, count))
}

/// `end:write(data)`.
async fn write(lua: &Lua, end: &LuaEnd, data: Option<Value>) -> mlua::Result<MultiValue> {
    require_task(lua, "writing to a future or stream")?;
    if end.finished() {
        return (0, "closed").into_lua_multi(lua);
    }
    let data = data.unwrap_or(Value::Nil);
    let wrong = |e: Mismatch| mlua::Error::runtime(format!("writing to {}: {e}", end.name()));
    let progress = match (&data, end.channel.is_bytes()) {
        (Value::String(string), true) => {
            let (ptr, len) = {
                let bytes = string.as_bytes();
                (bytes.as_ptr(), bytes.len())
            };
            // SAFETY: Lua strings are immutable and do not move; `string`
            // (a registry reference) keeps the bytes alive.
            let bytes = unsafe { Bytes::from_raw_parts(ptr, len, string.clone()) };
            end.start("write to", |h| h.writer()?.write_bytes(bytes))?
                .await
        }
        (other, true) => {
            let got = describe(other);
            return Err(wrong(format!("expected a string of bytes, got {got}")));
        }
        (_, false) => {
            let (frame, count) = lower_elements(lua, end, data).map_err(wrong)?;
            end.start("write to", |h| h.writer()?.write(frame, count))?
                .await
                .1
        }
    };
    if progress.cancelled {
        return (Value::Nil, "cancelled").into_lua_multi(lua);
    }
    let written = match end.channel {
        Channel::Future(_) => Value::Boolean(progress.count == 1),
        Channel::Stream(_) => Value::Integer(progress.count as i64),
    };
    match progress.dropped {
        true => (written, "closed").into_lua_multi(lua),
        false => written.into_lua_multi(lua),
    }
}

/// Adds `future` and `stream` to the `wit` table.
pub fn install(lua: &Lua, wit: Wit, table: &Table) -> mlua::Result<()> {
    for (name, stream) in [("future", false), ("stream", true)] {
        let create = lua.create_function(
            move |lua, (payload, interface): (Option<String>, Option<String>)| {
                let channel = wit
                    .find_channel(stream, payload.as_deref(), interface.as_deref())
                    .map_err(|e| lookup_error(name, e))?;
                let (reader, writer) = channel.new_ends();
                Ok((
                    lua.create_userdata(LuaEnd::new(channel, End::Read(reader)))?,
                    lua.create_userdata(LuaEnd::new(channel, End::Write(writer)))?,
                ))
            },
        )?;
        table.raw_set(name, create)?;
    }
    Ok(())
}

/// The SDK's lookup error, with the Lua call that would tell types apart.
fn lookup_error(name: &str, error: LookupError) -> mlua::Error {
    mlua::Error::runtime(match &error {
        LookupError::Ambiguous { payload, first, .. } => {
            format!("{error}; name the interface: wit.{name}(\"{payload}\", \"{first}\")")
        }
        LookupError::Unknown { .. } => error.to_string(),
    })
}

/// A readable end received from the other side.
pub fn lift(lua: &Lua, channel: Channel, end: ReadEnd) -> mlua::Result<Value> {
    lua.create_userdata(LuaEnd::new(channel, End::Read(end)))
        .map(Value::UserData)
}

fn readable_end(value: &Value, channel: Channel) -> Result<UserDataRef<LuaEnd>, Mismatch> {
    let expected = || format!("the readable end of a {}", channel.ty());
    let end = match value {
        Value::UserData(data) => data.borrow::<LuaEnd>().ok(),
        _ => None,
    };
    let Some(end) = end else {
        return Err(format!("expected {}, got {}", expected(), describe(value)));
    };
    if !end.readable || !end.channel.fits(channel) {
        return Err(format!("expected {}, got {}", expected(), end.name()));
    }
    match end.state() {
        None | Some(EndState::Closed) => {
            return Err(format!("{} is closed or was passed on", end.name()));
        }
        Some(EndState::Reading) => return Err(format!("{} has a read in progress", end.name())),
        _ => {}
    }
    Ok(end)
}

/// Checks that `value` can be passed as `channel`.
pub fn check(value: &Value, channel: Channel) -> Result<(), Mismatch> {
    readable_end(value, channel).map(drop)
}

/// Takes the readable end in `value` to pass it as `channel`, giving it away.
pub fn take(value: &Value, channel: Channel) -> Result<ReadEnd, Mismatch> {
    let end = readable_end(value, channel)?;
    match end.handle.borrow_mut().take() {
        Some(End::Read(reader)) => Ok(reader),
        _ => unreachable!("readable_end found a readable end"),
    }
}
