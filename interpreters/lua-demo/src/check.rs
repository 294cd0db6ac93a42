//! Checks a script on the host before it becomes a component. A Lua script
//! must parse, and running it must return a table with a function for every
//! export. A toy script must parse; it registers its exports while it runs,
//! which needs the component, so missing ones are named when it starts.

use anyhow::{Result, anyhow, bail};
use lua_mapping::{WORLD_MODULE, describe_path, export_path};
use mlua::{Lua, Table, Value};
use wit_parser::{Resolve, WorldId, WorldItem};

use crate::componentize::{Language, Script};

/// Lua that makes a module stand-in: any field is another stand-in, and
/// calling one fails, since imports exist only inside the component.
const STUB_MODULE: &str = r#"
local name = ...
local function stub(path)
  return setmetatable({}, {
    __index = function(_, key) return stub(path .. "." .. tostring(key)) end,
    __call = function()
      error("`" .. path .. "` was called while the script was being checked; " ..
            "imports can only be called from inside exported functions", 2)
    end,
  })
end
return stub(name)
"#;

/// Syntax-checks `script` and, for Lua, checks that it exports every export
/// of `world`.
pub fn check_script(script: &Script, resolve: &Resolve, world: WorldId) -> Result<()> {
    match script.language() {
        Language::Lua => check_lua(script, resolve, world),
        Language::Toy => check_toy(script),
    }
}

fn check_toy(script: &Script) -> Result<()> {
    let source = std::str::from_utf8(&script.source)
        .map_err(|err| anyhow!("{}: not UTF-8: {err}", script.name))?;
    toy_lang::Program::parse(&script.name, source)?;
    Ok(())
}

fn check_lua(script: &Script, resolve: &Resolve, world: WorldId) -> Result<()> {
    let lua = Lua::new();
    let chunk = lua
        .load(&script.source[..])
        .set_name(format!("@{}", script.name))
        .into_function()
        .map_err(|err| match err {
            mlua::Error::SyntaxError { message, .. } => anyhow!("{message}"),
            other => anyhow!("{}: {other}", script.name),
        })?;
    install_stubs(&lua, resolve, world).map_err(|e| anyhow!("{e}"))?;
    let returned: Value = chunk
        .call(())
        .map_err(|e| anyhow!("{}: running the script failed: {e}", script.name))?;
    let Value::Table(exports) = returned else {
        bail!(
            "{}: the script must return a table of exports, but it returned {}",
            script.name,
            returned.type_name()
        );
    };

    let mut missing = Vec::new();
    for (interface, function) in world_exports(resolve, world) {
        let path = export_path(interface.as_deref(), &function);
        if !matches!(lookup(&exports, &path), Value::Function(_)) {
            let qualified = match &interface {
                Some(interface) => format!("`{function}` of `{interface}`"),
                None => format!("`{function}`"),
            };
            missing.push(format!(
                "{qualified} (expected a function at {})",
                describe_path(&path)
            ));
        }
    }
    if !missing.is_empty() {
        bail!(
            "{}: missing export{}: {}",
            script.name,
            if missing.len() == 1 { "" } else { "s" },
            missing.join("; ")
        );
    }
    Ok(())
}

/// `(interface, function name)` of every exported function.
fn world_exports(resolve: &Resolve, world: WorldId) -> Vec<(Option<String>, String)> {
    let mut exports = Vec::new();
    for (key, item) in &resolve.worlds[world].exports {
        match item {
            WorldItem::Function(f) => exports.push((None, f.name.clone())),
            WorldItem::Interface { id, .. } => {
                let interface = resolve.name_world_key(key);
                for name in resolve.interfaces[*id].functions.keys() {
                    exports.push((Some(interface.clone()), name.clone()));
                }
            }
            WorldItem::Type { .. } => {}
        }
    }
    exports
}

fn install_stubs(lua: &Lua, resolve: &Resolve, world: WorldId) -> mlua::Result<()> {
    let preload: Table = lua.globals().get::<Table>("package")?.get("preload")?;
    let stub = lua.load(STUB_MODULE).set_name("=stub").into_function()?;
    let mut names = vec![WORLD_MODULE.to_string()];
    for (key, item) in &resolve.worlds[world].imports {
        if let WorldItem::Interface { .. } = item {
            names.push(resolve.name_world_key(key));
        }
    }
    for name in names {
        let stub = stub.clone();
        let module_name = name.clone();
        preload.raw_set(
            name,
            lua.create_function(move |_, ()| stub.call::<Value>(module_name.clone()))?,
        )?;
    }
    Ok(())
}

fn lookup(exports: &Table, path: &[String]) -> Value {
    let mut value = Value::Table(exports.clone());
    for key in path {
        value = match value {
            Value::Table(table) => table.raw_get(key.as_str()).unwrap_or(Value::Nil),
            _ => return Value::Nil,
        };
    }
    value
}
