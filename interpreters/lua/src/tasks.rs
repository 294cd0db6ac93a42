//! Async exports as Lua coroutines, and the task functions of the `wit`
//! global (`wit.spawn`, `wit.yield`).
//!
//! Every call of an async export runs its Lua function in a coroutine of its
//! own, which the SDK's task for that call drives (an mlua `AsyncThread`
//! inside the task's Rust future); so does each function `wit.spawn`
//! starts. A coroutine whose function returned is reset and runs a later
//! one. Whatever waits (an async import, a future or stream read or write,
//! `wit.yield`, `task:join()`) is an mlua async function: it yields the
//! coroutine until the SDK delivers the event it waits for, so the script's
//! code stays straight-line.
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

use mlua::thread::ThreadStatus;
use mlua::{
    FromLuaMulti, Function, IntoLuaMulti, Lua, MultiValue, Table, Thread, UserData,
    UserDataMethods, ffi,
};

/// The coroutines SDK tasks drive, by their state pointer, and those of
/// them that are idle, kept for the next task: a call of an async export
/// then makes no coroutine (an allocation of its stack, and garbage).
#[derive(Default)]
pub struct Driven {
    threads: RefCell<HashSet<*const c_void>>,
    idle: RefCell<Vec<Thread>>,
}

/// The most idle coroutines kept.
const MAX_IDLE: usize = 16;

/// A coroutine an SDK task drives. When the task ends, the coroutine is
/// kept for the next if it finished, and forgotten otherwise (it failed,
/// or the task was dropped while it waited).
struct Driving {
    driven: Rc<Driven>,
    /// Always present until dropped.
    thread: Option<Thread>,
}

impl Driving {
    /// An idle coroutine reset to run `function`, or a new one.
    fn start(lua: &Lua, driven: Rc<Driven>, function: &Function) -> mlua::Result<Driving> {
        let idle = driven.idle.borrow_mut().pop();
        let thread = match idle {
            Some(thread) => {
                reset(lua, &thread, function)?;
                thread
            }
            None => {
                let thread = lua.create_thread(function.clone())?;
                driven.threads.borrow_mut().insert(thread.to_pointer());
                thread
            }
        };
        Ok(Driving {
            driven,
            thread: Some(thread),
        })
    }

    fn thread(&self) -> &Thread {
        self.thread.as_ref().expect("present until dropped")
    }
}

/// Readies the finished coroutine `thread` to run `function`, as mlua's
/// `Thread::reset` does for a finished one (it empties the coroutine's
/// stack and puts the function there) but without taking the function by
/// value: a clone of a `Function` and its drop cost a registry slot each.
fn reset(lua: &Lua, thread: &Thread, function: &Function) -> mlua::Result<()> {
    lua.exec_raw_lua(|raw| {
        // SAFETY: the main state gets room for two values and is left as it
        // was; the coroutine finished (only finished ones are idle), so its
        // stack may be emptied, and it gets the one value moved to it.
        unsafe {
            let state = raw.state();
            if ffi::lua_checkstack(state, 2) == 0 {
                return Err(mlua::Error::StackError);
            }
            raw.push(thread)?;
            let coroutine = ffi::lua_tothread(state, -1);
            ffi::lua_settop(coroutine, 0);
            raw.push(function)?;
            ffi::lua_xmove(state, coroutine, 1);
            ffi::lua_pop(state, 1);
            Ok(())
        }
    })
}

impl Drop for Driving {
    fn drop(&mut self) {
        let thread = self.thread.take().expect("present until dropped");
        let mut idle = self.driven.idle.borrow_mut();
        if thread.status() == ThreadStatus::Finished && idle.len() < MAX_IDLE {
            idle.push(thread);
        } else {
            self.driven
                .threads
                .borrow_mut()
                .remove(&thread.to_pointer());
        }
    }
}

fn driven(lua: &Lua) -> Rc<Driven> {
    lua.app_data_ref::<Rc<Driven>>()
        .expect("tasks::install runs at start-up")
        .clone()
}

/// Adds `spawn` and `yield` to the `wit` table; returns the driven
/// coroutines, which the interpreter passes to [`run`].
pub fn install(lua: &Lua, wit: &Table) -> mlua::Result<Rc<Driven>> {
    let driven = Rc::new(Driven::default());
    lua.set_app_data(driven.clone());
    wit.raw_set("spawn", lua.create_function(spawn)?)?;
    wit.raw_set(
        "yield",
        lua.create_async_function(|lua, ()| async move {
            require_task(&lua, "wit.yield()")?;
            wit_dylib_sdk::yield_now().await;
            Ok(())
        })?,
    )?;
    Ok(driven)
}

/// Fails unless the running coroutine is driven by an SDK task, so that
/// waiting in it suspends that task.
pub fn require_task(lua: &Lua, what: &str) -> mlua::Result<()> {
    let current = lua.current_thread().to_pointer();
    let driven = lua
        .app_data_ref::<Rc<Driven>>()
        .expect("tasks::install runs at start-up");
    if driven.threads.borrow().contains(&current) {
        return Ok(());
    }
    Err(mlua::Error::runtime(format!(
        "{what} waits, so it must run inside an async export or a function started with \
         wit.spawn (not in a sync export, at the script's top level or in a coroutine of the \
         script's own)"
    )))
}

/// Runs `function(args...)` in a coroutine of its own that may wait;
/// completes with its results.
pub async fn run<R: FromLuaMulti>(
    lua: Lua,
    driven: Rc<Driven>,
    function: &Function,
    args: impl IntoLuaMulti,
) -> mlua::Result<R> {
    let driving = Driving::start(&lua, driven, function)?;
    let results = driving.thread().clone().into_async::<R>(args)?.await;
    drop(driving);
    results
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
    let (lua, driven) = (lua.clone(), driven(lua));
    let mut future = Box::pin(async move { run(lua, driven, &function, args).await });
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
