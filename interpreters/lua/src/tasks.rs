//! Async exports as Lua coroutines, and the task functions of the `wit`
//! global (`wit.spawn`, `wit.yield`).
//!
//! Every call of an async export runs its Lua function in a coroutine of its
//! own, which the SDK's task for that call drives (an mlua `AsyncThread`
//! inside the task's Rust future). Whatever waits (an async import, a future
//! or stream read or write, `wit.yield`, `task:join()`) is an mlua async
//! function: it yields the coroutine until the SDK delivers the event it
//! waits for, so the script's code stays straight-line.
//!
//! Only coroutines driven this way may wait: a sync export, the script's top
//! level or a coroutine the script made itself has no task to suspend, and
//! gets a Lua error saying so instead of a trap.

use std::cell::RefCell;
use std::collections::HashSet;
use std::ffi::c_void;
use std::future::Future;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use mlua::{Function, Lua, MultiValue, Table, Thread, UserData, UserDataMethods};

/// The coroutines SDK tasks drive, by their state pointer.
#[derive(Default)]
struct Driven(RefCell<HashSet<*const c_void>>);

/// Removes a coroutine from [`Driven`] when it stops running.
struct DrivenGuard {
    lua: Lua,
    thread: *const c_void,
}

impl DrivenGuard {
    fn new(lua: &Lua, thread: &Thread) -> DrivenGuard {
        let pointer = thread.to_pointer();
        driven(lua).0.borrow_mut().insert(pointer);
        DrivenGuard {
            lua: lua.clone(),
            thread: pointer,
        }
    }
}

impl Drop for DrivenGuard {
    fn drop(&mut self) {
        driven(&self.lua).0.borrow_mut().remove(&self.thread);
    }
}

fn driven(lua: &Lua) -> mlua::AppDataRef<'_, Driven> {
    lua.app_data_ref::<Driven>()
        .expect("tasks::install runs at start-up")
}

/// Adds `spawn` and `yield` to the `wit` table.
pub fn install(lua: &Lua, wit: &Table) -> mlua::Result<()> {
    lua.set_app_data(Driven::default());
    wit.raw_set("spawn", lua.create_function(spawn)?)?;
    wit.raw_set(
        "yield",
        lua.create_async_function(|lua, ()| async move {
            require_task(&lua, "wit.yield()")?;
            wit_dylib_sdk::yield_now().await;
            Ok(())
        })?,
    )?;
    Ok(())
}

/// Fails unless the running coroutine is driven by an SDK task, so that
/// waiting in it suspends that task.
pub fn require_task(lua: &Lua, what: &str) -> mlua::Result<()> {
    let current = lua.current_thread().to_pointer();
    if driven(lua).0.borrow().contains(&current) {
        return Ok(());
    }
    Err(mlua::Error::runtime(format!(
        "{what} waits, so it must run inside an async export or a function started with \
         wit.spawn (not in a sync export, at the script's top level or in a coroutine of the \
         script's own)"
    )))
}

/// Runs `function(args...)` in a new coroutine that may wait; completes with
/// its results.
pub async fn run(lua: Lua, function: Function, args: MultiValue) -> mlua::Result<MultiValue> {
    let thread = lua.create_thread(function)?;
    let _driven = DrivenGuard::new(&lua, &thread);
    thread.into_async::<MultiValue>(args)?.await
}

/// What `wit.spawn` returns: the results of the function once it is done.
#[derive(Clone, Default)]
struct SpawnedTask(Rc<RefCell<Option<MultiValue>>>);

impl SpawnedTask {
    fn finish(&self, result: mlua::Result<MultiValue>) {
        match result {
            Ok(values) => *self.0.borrow_mut() = Some(values),
            Err(err) => panic!("lua: a function started with wit.spawn failed: {err}"),
        }
    }
}

impl UserData for SpawnedTask {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("done", |_, this, ()| Ok(this.0.borrow().is_some()));
        methods.add_async_method("join", |lua, this, ()| {
            let results = this.0.clone();
            async move {
                require_task(&lua, "task:join()")?;
                Ok(std::future::poll_fn(|_| match &*results.borrow() {
                    Some(values) => Poll::Ready(values.clone()),
                    None => Poll::Pending,
                })
                .await)
            }
        });
    }
}

/// `wit.spawn(f, ...)`: runs `f(...)` concurrently with the caller, inside
/// the same export call, which lasts until `f` is done too. `f` runs at once
/// up to the first time it waits, then whenever its event arrives.
fn spawn(lua: &Lua, (function, args): (Function, MultiValue)) -> mlua::Result<SpawnedTask> {
    require_task(lua, "wit.spawn()")?;
    let task = SpawnedTask::default();
    let mut future = Box::pin(run(lua.clone(), function, args));
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(result) => task.finish(result),
        Poll::Pending => {
            let task = task.clone();
            wit_dylib_sdk::spawn(async move { task.finish(future.await) });
        }
    }
    Ok(task)
}
