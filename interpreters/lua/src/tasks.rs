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
    idle: RefCell<Vec<Coroutine>>,
}

/// The most idle coroutines kept.
const MAX_IDLE: usize = 16;

/// A coroutine and its Lua state, read once: mlua's own status and reset
/// look the state up and zero a `lua_Debug` (a hundred bytes, which
/// wasmtime's fuel counts one by one) every time.
struct Coroutine {
    thread: Thread,
    /// `thread`'s state, alive as long as `thread`.
    state: *mut ffi::lua_State,
}

impl Coroutine {
    /// A new coroutine that runs `function`.
    fn new(lua: &Lua, function: &Function) -> mlua::Result<Coroutine> {
        let thread = lua.create_thread(function.clone())?;
        let state = lua.exec_raw_lua(|raw| {
            // SAFETY: the main state gets room for the thread, which is
            // pushed and popped.
            unsafe {
                if ffi::lua_checkstack(raw.state(), 1) == 0 {
                    return Err(mlua::Error::StackError);
                }
                raw.push(&thread)?;
                let state = ffi::lua_tothread(raw.state(), -1);
                ffi::lua_pop(raw.state(), 1);
                Ok(state)
            }
        })?;
        Ok(Coroutine { thread, state })
    }

    /// Readies this finished coroutine to run `function`, as mlua's
    /// `Thread::reset` does for a finished one (it empties the coroutine's
    /// stack and puts the function there) but without taking the function
    /// by value: a clone of a `Function` and its drop cost a registry slot
    /// each.
    fn reset(&self, lua: &Lua, function: &Function) -> mlua::Result<()> {
        lua.exec_raw_lua(|raw| {
            // SAFETY: the main state gets room for the function, which moves
            // to the coroutine; the coroutine finished (only finished ones
            // are idle), so its stack may be emptied.
            unsafe {
                if ffi::lua_checkstack(raw.state(), 1) == 0 {
                    return Err(mlua::Error::StackError);
                }
                ffi::lua_settop(self.state, 0);
                raw.push(function)?;
                ffi::lua_xmove(raw.state(), self.state, 1);
                Ok(())
            }
        })
    }

    /// Whether the coroutine's function returned: no error, nothing
    /// suspended or running in it, nothing left on its stack (as mlua's
    /// `ThreadStatus::Finished`).
    fn finished(&self) -> bool {
        let mut frame = std::mem::MaybeUninit::<ffi::lua_Debug>::uninit();
        // SAFETY: the state lives as long as `self.thread`; these only read
        // it, and `lua_getstack` writes `frame` only if there is a frame.
        unsafe {
            ffi::lua_status(self.state) == ffi::LUA_OK
                && ffi::lua_gettop(self.state) == 0
                && ffi::lua_getstack(self.state, 0, frame.as_mut_ptr()) == 0
        }
    }
}

/// A coroutine an SDK task drives. When the task ends, the coroutine is
/// kept for the next if it finished, and forgotten otherwise (it failed,
/// or the task was dropped while it waited).
struct Driving {
    driven: Rc<Driven>,
    /// Always present until dropped.
    coroutine: Option<Coroutine>,
}

impl Driving {
    /// An idle coroutine reset to run `function`, or a new one.
    fn start(lua: &Lua, driven: Rc<Driven>, function: &Function) -> mlua::Result<Driving> {
        let idle = driven.idle.borrow_mut().pop();
        let coroutine = match idle {
            Some(coroutine) => {
                coroutine.reset(lua, function)?;
                coroutine
            }
            None => {
                let coroutine = Coroutine::new(lua, function)?;
                driven.threads.borrow_mut().insert(coroutine.state.cast());
                coroutine
            }
        };
        Ok(Driving {
            driven,
            coroutine: Some(coroutine),
        })
    }

    fn thread(&self) -> &Thread {
        &self
            .coroutine
            .as_ref()
            .expect("present until dropped")
            .thread
    }
}

impl Drop for Driving {
    fn drop(&mut self) {
        let coroutine = self.coroutine.take().expect("present until dropped");
        let mut idle = self.driven.idle.borrow_mut();
        if coroutine.finished() && idle.len() < MAX_IDLE {
            idle.push(coroutine);
        } else {
            self.driven
                .threads
                .borrow_mut()
                .remove(&coroutine.state.cast_const().cast());
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
    // The state of the coroutine running this Rust function.
    let current: *const c_void = lua.exec_raw_lua(|raw| raw.state()).cast_const().cast();
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
