//! Lua 5.4 as a wit-dylib interpreter: a component runs the Lua script linked
//! into it (see `lua-demo`) and implements any WIT world with it.
//!
//! The script sees the world's imports as modules (`require`) and returns a
//! table of its exports; the value mapping is in [`values`], the names in the
//! `lua_mapping` crate, resources in [`resources`]. Async exports run as
//! coroutines ([`tasks`]); futures and streams are in [`channels`]. The
//! global table `wit` holds `spawn`, `yield`, `future`, `stream` and
//! `none` (see [`values`]).

// The value stack lends Lua strings to the glue without copying; the
// `unsafe` there says why that is sound.
#![allow(unsafe_code)]

mod call;
mod channels;
mod heap;
mod modules;
mod resources;
mod stack;
mod stdlib;
mod tasks;
mod values;

use std::cell::Cell;
use std::rc::Rc;

use mlua::{Function, IntoLuaMulti, Lua, MultiValue, Table, Value};
use stack::{LuaStack, check};
use wit_dylib_sdk::{Callee, ExportFunction, Interpreter, Resource, Task, Type, Wit};

struct LuaInterpreter {
    lua: Lua,
    /// The script's function for each export, by export index.
    exports: Vec<Function>,
    /// Each export's result type, by export index, decoded once.
    results: Vec<Option<Type>>,
    /// Lua's own `math.randomseed`, taken before the script could replace it.
    randomseed: Function,
    /// The coroutines that run async exports.
    driven: Rc<tasks::Driven>,
    /// Whether this instance has seeded `math.random` (see [`Self::seed`]).
    seeded: Cell<bool>,
    /// The value stack of the last finished export, reused by the next one.
    spare_stack: Cell<Option<LuaStack>>,
}

impl Interpreter for LuaInterpreter {
    type CallCx = LuaStack;

    fn initialize(wit: Wit) -> Self {
        let script = wit_dylib_sdk::linked_script();
        let lua = Lua::new();
        let start = || -> mlua::Result<(Vec<Function>, Function, Rc<tasks::Driven>)> {
            let randomseed = lua.globals().get::<Table>("math")?.get("randomseed")?;
            stdlib::install(&lua)?;
            resources::install(&lua)?;
            modules::install(&lua, wit)?;
            let wit_table = lua.create_table()?;
            values::install(&lua, &wit_table)?;
            let driven = tasks::install(&lua, &wit_table)?;
            channels::install(&lua, wit, &wit_table)?;
            lua.globals().raw_set("wit", wit_table)?;
            let returned: Value = lua
                .load(script.source)
                .set_name(format!("@{}", script.name))
                .set_mode(mlua::chunk::ChunkMode::Text)
                .call(())?;
            let Value::Table(table) = returned else {
                return Err(mlua::Error::runtime(format!(
                    "the script must return a table of exports, but it returned {}",
                    values::describe(&returned)
                )));
            };
            let exports = find_exports(&table, wit)?;
            if lua.used_memory() > heap::COLLECT_ABOVE {
                lua.gc_collect()?;
            }
            Ok((exports, randomseed, driven))
        };
        // What the top level frees does not stay in a snapshot (see `heap`).
        heap::start_zeroing();
        let started = start();
        heap::stop_zeroing();
        // SAFETY: Lua compiled the source into objects of its own (the
        // chunk name included), and nothing reads `script` again.
        unsafe { wit_dylib_sdk::release_linked_script() };
        match started {
            Ok((exports, randomseed, driven)) => LuaInterpreter {
                lua,
                exports,
                results: wit.export_funcs().map(|func| func.result()).collect(),
                randomseed,
                driven,
                seeded: Cell::new(false),
                spare_stack: Cell::new(None),
            },
            Err(err) => panic!("lua: {err}"),
        }
    }

    fn export_start(&self, func: ExportFunction) -> LuaStack {
        match self.spare_stack.take() {
            Some(mut stack) => {
                stack.set_context(Callee::Export(func));
                stack
            }
            None => LuaStack::new(self.lua.clone(), Callee::Export(func)),
        }
    }

    fn export_call(&self, func: ExportFunction, cx: &mut LuaStack) {
        self.seed_once();
        let function = &self.exports[func.index()];
        // One argument moves without a `Vec`.
        let called = match func.params().len() {
            1 => call::call(&self.lua, function, &[cx.pop_value()]),
            n => call::call(&self.lua, function, &cx.take(n)),
        };
        finish(func, self.results[func.index()], called, cx);
    }

    fn export_async(&'static self, func: ExportFunction, mut cx: LuaStack) -> Task<LuaStack> {
        self.seed_once();
        // One argument moves without a `MultiValue`.
        match func.params().len() {
            1 => {
                let arg = cx.pop_value();
                self.run_async(func, cx, arg)
            }
            n => {
                let args = MultiValue::from_vec(cx.take(n));
                self.run_async(func, cx, args)
            }
        }
    }

    fn export_finish(&self, _func: ExportFunction, mut cx: LuaStack) {
        // Keep the stack's vectors for the next call; values left on it
        // (none, normally) are released now.
        cx.clear();
        self.spare_stack.set(Some(cx));
    }

    fn resource_dtor(&self, _ty: Resource, rep: usize) {
        resources::destroy(&self.lua, rep);
    }
}

impl LuaInterpreter {
    /// The task of async export `func` called with `args`.
    fn run_async(
        &'static self,
        func: ExportFunction,
        mut cx: LuaStack,
        args: impl IntoLuaMulti + 'static,
    ) -> Task<LuaStack> {
        Box::pin(async move {
            let function = &self.exports[func.index()];
            // Only the first result counts: taken as one `Value`, the
            // results need no `MultiValue`.
            let called =
                tasks::run::<Value>(self.lua.clone(), self.driven.clone(), function, args).await;
            finish(func, self.results[func.index()], called, &mut cx);
            cx
        })
    }

    #[inline]
    fn seed_once(&self) {
        if !self.seeded.replace(true) {
            self.seed();
        }
    }

    /// Seeds `math.random` from `wasi:random`, once per instance, at its
    /// first call: a pre-initialised component starts from a snapshot in
    /// which Lua's own seed is the same for every instance. Without an
    /// entropy source (WASI stubbed), the snapshot's seed stays.
    fn seed(&self) {
        let Some(bytes) = wit_dylib_sdk::random_seed() else {
            return;
        };
        let (high, low) = bytes.split_at(8);
        let seed = |half: &[u8]| i64::from_le_bytes(half.try_into().expect("8 bytes"));
        if let Err(err) = self.randomseed.call::<()>((seed(high), seed(low))) {
            panic!("lua: seeding math.random failed: {err}");
        }
    }
}

/// Pushes the result of export `func` onto `cx`, trapping with the Lua
/// error (and its traceback) if the call failed or the result does not fit.
fn finish(
    func: ExportFunction,
    result_type: Option<Type>,
    called: mlua::Result<Value>,
    cx: &mut LuaStack,
) {
    let result = match called {
        Ok(result) => result,
        Err(err) => panic!("lua: export `{}` failed: {err}", func.qualified_name()),
    };
    let Some(ty) = result_type else { return };
    // An integer is checked once, as the glue pops it, with this message
    // (`LuaStack::trap_mismatch`).
    let integer = matches!(
        ty,
        Type::U8 | Type::S8 | Type::U16 | Type::S16 | Type::U32 | Type::S32 | Type::U64 | Type::S64
    );
    if integer {
        cx.push(result);
        return;
    }
    if let Err(mismatch) = check(ty, &result) {
        panic!(
            "lua: export `{}` must return {}: {mismatch}",
            func.qualified_name(),
            ty.describe()
        );
    }
    cx.push(result);
}

/// The script's function for every export, in export order; fails naming
/// every export the table lacks.
fn find_exports(exports: &Table, wit: Wit) -> mlua::Result<Vec<Function>> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for func in wit.export_funcs() {
        let path = lua_mapping::export_path(func.interface(), func.name());
        let mut value = Value::Table(exports.clone());
        for key in &path {
            value = match value {
                Value::Table(table) => table.raw_get(key.as_str())?,
                _ => Value::Nil,
            };
        }
        match value {
            Value::Function(f) => found.push(f),
            Value::Nil => missing.push(format!(
                "`{}` (expected a function at {})",
                func.qualified_name(),
                lua_mapping::describe_path(&path),
            )),
            other => missing.push(format!(
                "`{}` (expected a function at {}, found {})",
                func.qualified_name(),
                lua_mapping::describe_path(&path),
                values::describe(&other)
            )),
        }
    }
    match missing.len() {
        0 => Ok(found),
        1 => Err(mlua::Error::runtime(format!(
            "missing export: {}",
            missing[0]
        ))),
        _ => Err(mlua::Error::runtime(format!(
            "missing exports: {}",
            missing.join("; ")
        ))),
    }
}

wit_dylib_sdk::export!(LuaInterpreter, async);
