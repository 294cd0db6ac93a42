//! Lua 5.4 as a wit-dylib interpreter: a component runs the Lua script linked
//! into it (see `lua-demo`) and implements any WIT world with it.
//!
//! The script sees the world's imports as modules (`require`) and returns a
//! table of its exports; the value mapping is in [`values`], the names in the
//! `lua_mapping` crate, resources in [`resources`].

// The value stack lends Lua strings to the glue without copying; the
// `unsafe` there says why that is sound.
#![allow(unsafe_code)]

mod modules;
mod resources;
mod stack;
mod values;

use mlua::{Function, Lua, MultiValue, Table, Value};
use stack::{LuaStack, check};
use wit_dylib_sdk::{Callee, ExportFunction, Interpreter, Resource, Wit};

struct LuaInterpreter {
    lua: Lua,
    /// The script's function for each export, by export index.
    exports: Vec<Function>,
}

impl Interpreter for LuaInterpreter {
    type CallCx = LuaStack;

    fn initialize(wit: Wit) -> Self {
        let script = wit_dylib_sdk::linked_script();
        let lua = Lua::new();
        let start = || -> mlua::Result<Vec<Function>> {
            resources::install(&lua)?;
            modules::install(&lua, wit)?;
            let returned: Value = lua
                .load(script.source)
                .set_name(format!("@{}", script.name))
                .call(())?;
            let Value::Table(table) = returned else {
                return Err(mlua::Error::runtime(format!(
                    "the script must return a table of exports, but it returned {}",
                    values::describe(&returned)
                )));
            };
            wit.export_funcs()
                .map(|func| find_export(&table, func))
                .collect()
        };
        match start() {
            Ok(exports) => LuaInterpreter { lua, exports },
            Err(err) => panic!("lua: starting `{}` failed: {err}", script.name),
        }
    }

    fn export_start(&self, func: ExportFunction) -> LuaStack {
        LuaStack::new(self.lua.clone(), Callee::Export(func))
    }

    fn export_call(&self, func: ExportFunction, cx: &mut LuaStack) {
        let function = &self.exports[func.index()];
        // Small calls pass their arguments without collecting them in a
        // `Vec`, and only the first result counts: taking it as one `Value`
        // saves collecting them all.
        let called = match func.params().len() {
            0 => function.call::<Value>(()),
            1 => function.call::<Value>(cx.pop_value()),
            n => function.call::<Value>(MultiValue::from_vec(cx.take(n))),
        };
        let result = match called {
            Ok(result) => result,
            Err(err) => panic!("lua: export `{}` failed: {err}", func.qualified_name()),
        };
        let Some(ty) = func.result() else { return };
        if let Err(mismatch) = check(ty, &result) {
            panic!(
                "lua: export `{}` must return {}: {mismatch}",
                func.qualified_name(),
                ty.describe()
            );
        }
        cx.push(result);
    }

    fn resource_dtor(&self, _ty: Resource, rep: usize) {
        if let Err(err) = resources::destroy(&self.lua, rep) {
            panic!("lua: releasing resource {rep} failed: {err}");
        }
    }
}

/// The function implementing `func` in the script's export table.
fn find_export(exports: &Table, func: ExportFunction) -> mlua::Result<Function> {
    let path = lua_mapping::export_path(func.interface(), func.name());
    let mut value = Value::Table(exports.clone());
    for key in &path {
        value = match value {
            Value::Table(table) => table.raw_get(key.as_str())?,
            _ => Value::Nil,
        };
    }
    match value {
        Value::Function(f) => Ok(f),
        other => Err(mlua::Error::runtime(format!(
            "the script does not export `{}` (expected a function at {}, found {})",
            func.qualified_name(),
            lua_mapping::describe_path(&path),
            values::describe(&other)
        ))),
    }
}

wit_dylib_sdk::export!(LuaInterpreter);
