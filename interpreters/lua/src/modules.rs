//! The world's imports as Lua modules (`require("demo:app/host")`,
//! `require("world")` for world-level imports); see `lua_mapping` for names.

use std::collections::BTreeMap;

use lua_mapping::{FunctionKind, WORLD_MODULE, lua_name};
use mlua::{Function, Lua, MultiValue, Table, Value};
use wit_dylib_sdk::{CallFrame, Callee, ImportFunction, Wit};

use crate::resources;
use crate::stack::{LuaStack, check};
use crate::tasks::require_task;

/// Registers every import module in `package.preload`.
pub fn install(lua: &Lua, wit: Wit) -> mlua::Result<()> {
    let mut modules: BTreeMap<String, Table> = BTreeMap::new();
    let mut methods: BTreeMap<usize, Table> = BTreeMap::new();
    for func in wit.import_funcs() {
        let module_name = func.interface().unwrap_or(WORLD_MODULE).to_string();
        let module = match modules.get(&module_name) {
            Some(module) => module.clone(),
            None => {
                let module = lua.create_table()?;
                modules.insert(module_name, module.clone());
                module
            }
        };
        let kind = FunctionKind::parse(func.name());
        let function = import_function(lua, func)?;
        match kind {
            FunctionKind::Freestanding(_) => module.raw_set(kind.key(), function)?,
            FunctionKind::Constructor { resource } | FunctionKind::Static { resource, .. } => {
                class(lua, &module, resource)?.raw_set(kind.key(), function)?
            }
            FunctionKind::Method { resource, .. } => {
                let ty = wit
                    .resources()
                    .find(|r| {
                        !r.is_exported()
                            && r.interface() == func.interface()
                            && r.name() == resource
                    })
                    .ok_or_else(|| {
                        mlua::Error::runtime(format!("no imported resource `{resource}`"))
                    })?;
                let table = match methods.get(&ty.index()) {
                    Some(table) => table.clone(),
                    None => {
                        let table = lua.create_table()?;
                        resources::set_methods(lua, ty, table.clone())?;
                        methods.insert(ty.index(), table.clone());
                        table
                    }
                };
                table.raw_set(kind.key(), function)?;
            }
        }
    }
    let preload: Table = lua.globals().get::<Table>("package")?.get("preload")?;
    for (name, module) in modules {
        preload.raw_set(name, lua.create_function(move |_, ()| Ok(module.clone()))?)?;
    }
    // Helpers in Lua for wasi:http handlers: `require("helpers.http")` for
    // 0.2, `require("helpers.http3")` for 0.3.
    // The loader runs the chunk from Lua, so that an error it raises
    // reaches `require`'s caller as it was raised.
    let wrap: Function = lua
        .load("return function(compile) return function(...) return compile()(...) end end")
        .set_name("=helpers")
        .eval()?;
    for &(name, chunk_name, source) in HELPERS {
        let compile = lua.create_function(move |lua, ()| {
            lua.load(source).set_name(chunk_name).into_function()
        })?;
        preload.raw_set(name, wrap.call::<Function>(compile)?)?;
    }
    Ok(())
}

/// The helper modules, compiled only when required (most scripts require
/// none, and a helper compiled up front would cost every instance the parse,
/// and every pre-initialised component the bytecode in its snapshot): name,
/// chunk name (for error messages) and source.
const HELPERS: &[(&str, &str, &str)] = &[
    ("helpers.http", "=helpers.http", include_str!("http.lua")),
    ("helpers.http3", "=helpers.http3", include_str!("http3.lua")),
];

/// The class table of `resource` inside `module`, created on first use.
fn class(lua: &Lua, module: &Table, resource: &str) -> mlua::Result<Table> {
    let key = lua_name(resource);
    match module.raw_get::<Option<Table>>(key.as_str())? {
        Some(class) => Ok(class),
        None => {
            let class = lua.create_table()?;
            module.raw_set(key, class.clone())?;
            Ok(class)
        }
    }
}

/// A Lua function that calls `func`: arguments are checked against the
/// parameter types (a mismatch is a Lua error), pushed, and the result popped.
/// An async import waits for its result, suspending the calling coroutine
/// (see [`crate::tasks`]).
fn import_function(lua: &Lua, func: ImportFunction) -> mlua::Result<Function> {
    if func.is_async() {
        return lua.create_async_function(move |lua, args: MultiValue| async move {
            require_task(&lua, &format!("async import `{}`", func.qualified_name()))?;
            let frame = arguments(&lua, func, args)?;
            let mut frame = func.call_async(frame).await;
            Ok(result(func, &mut frame))
        });
    }
    lua.create_function(move |lua, args: MultiValue| {
        let mut frame = arguments(lua, func, args)?;
        func.call(&mut frame);
        Ok(result(func, &mut frame))
    })
}

/// A frame holding the arguments of a call of `func`, checked.
fn arguments(
    lua: &Lua,
    func: ImportFunction,
    args: MultiValue,
) -> mlua::Result<CallFrame<LuaStack>> {
    let params = func.params();
    if args.len() != params.len() {
        return Err(mlua::Error::runtime(format!(
            "`{}` takes {} arguments, got {}",
            func.qualified_name(),
            params.len(),
            args.len()
        )));
    }
    for (i, (ty, arg)) in params.zip(args.iter()).enumerate() {
        check(ty, arg).map_err(|e| {
            mlua::Error::runtime(format!(
                "argument {} of `{}`: {e}",
                i + 1,
                func.qualified_name()
            ))
        })?;
    }
    let mut frame = CallFrame::new(LuaStack::new(lua.clone(), Callee::Import(func)));
    // The import's glue pops the first argument first.
    for arg in args.into_iter().rev() {
        frame.stack().push(arg);
    }
    Ok(frame)
}

fn result(func: ImportFunction, frame: &mut CallFrame<LuaStack>) -> Value {
    match func.result() {
        Some(_) => frame.stack().pop_value(),
        None => Value::Nil,
    }
}
