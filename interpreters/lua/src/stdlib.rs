//! What a script may not do with Lua's standard library:
//!
//! * load bytecode: Lua does not verify binary chunks, so a crafted one can
//!   corrupt the interpreter's memory. `load`, `loadfile` and `dofile`
//!   take text chunks only (as Luau, Redis and Roblox do);
//! * end the process: a component cannot exit on behalf of its host, so
//!   `os.exit(n)` traps with "the script called os.exit(n)", which the
//!   build or the caller reports.

use mlua::{Lua, Table, Value};

/// Replaces the loaders with text-only ones. Run before the script, so
/// that the script never sees the originals.
const TEXT_ONLY_LOADERS: &str = r#"
local load, loadfile, error, type = load, loadfile, error, type
local refused = "binary chunks are refused (Lua does not verify bytecode); pass text"
local function text_only(mode)
  return mode == nil or (type(mode) == "string" and mode:find("t", 1, true) ~= nil)
end
function _G.load(chunk, name, mode, ...)
  if not text_only(mode) then return nil, refused end
  return load(chunk, name, "t", ...)
end
function _G.loadfile(filename, mode, ...)
  if not text_only(mode) then return nil, refused end
  return loadfile(filename, "t", ...)
end
function _G.dofile(filename)
  local chunk, err = loadfile(filename, "t")
  if not chunk then error(err, 2) end
  return chunk()
end
"#;

pub fn install(lua: &Lua) -> mlua::Result<()> {
    lua.load(TEXT_ONLY_LOADERS)
        .set_name("=wit-dylib-lua")
        .exec()?;
    let os: Table = lua.globals().get("os")?;
    let exit = lua.create_function(|_, (code, _close): (Value, Value)| -> mlua::Result<()> {
        // Lua's own reading of the status: true (the default) is success.
        let code = match code {
            Value::Nil | Value::Boolean(true) => "0".to_string(),
            Value::Boolean(false) => "1".to_string(),
            Value::Integer(n) => n.to_string(),
            Value::Number(n) if n.fract() == 0.0 => format!("{n:.0}"),
            other => {
                return Err(mlua::Error::runtime(format!(
                    "os.exit takes a boolean or an integer status, not {}",
                    crate::values::describe(&other)
                )));
            }
        };
        panic!("lua: the script called os.exit({code})")
    })?;
    os.raw_set("exit", exit)
}
