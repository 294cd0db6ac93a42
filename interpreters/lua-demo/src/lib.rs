//! `lua-demo` as a library: the Lua and toy interpreters plugged into
//! `wit-dylib-pipeline`, which turns a script and a WIT world into a
//! component ([`componentize`]) and runs components ([`runtime`]).

use anyhow::{Result, anyhow};
use wit_dylib_pipeline::Interpreter;
use wit_parser::{Resolve, WorldId};

pub mod serve;

pub use wit_dylib_pipeline::{Limits, Options, Script, load_world, runtime, streams};

/// The Lua 5.4 interpreter. A Lua script is only checked in the sandbox:
/// the interpreter reports syntax errors and missing exports there.
pub const LUA: Interpreter = Interpreter {
    language: "Lua",
    library_name: "lua_interpreter.so",
    library: include_bytes!(concat!(
        env!("WIT_DYLIB_ARTIFACTS_DIR"),
        "/lua_interpreter.so"
    )),
    check: |_| Ok(()),
    supports_async: true,
    libc: wit_dylib_pipeline::LIBC,
};

/// The toy language's interpreter; toy scripts are parsed on the host first,
/// for messages with line and column.
pub const TOY: Interpreter = Interpreter {
    language: "toy",
    library_name: "toy_interpreter.so",
    library: include_bytes!(concat!(
        env!("WIT_DYLIB_ARTIFACTS_DIR"),
        "/toy_interpreter.so"
    )),
    check: check_toy,
    supports_async: true,
    libc: wit_dylib_pipeline::LIBC,
};

/// The interpreter for `script`: toy for a `.toy` file, Lua otherwise.
pub fn interpreter_for(script: &Script) -> &'static Interpreter {
    match script.name.ends_with(".toy") {
        true => &TOY,
        false => &LUA,
    }
}

/// Builds a component from `script` for `world` with the default options
/// (pre-initialised, default limits).
pub fn componentize(script: &Script, resolve: &Resolve, world: WorldId) -> Result<Vec<u8>> {
    componentize_with(script, resolve, world, &Options::default())
}

/// Builds a component from `script` for `world`.
pub fn componentize_with(
    script: &Script,
    resolve: &Resolve,
    world: WorldId,
    options: &Options,
) -> Result<Vec<u8>> {
    let interpreter = interpreter_for(script);
    wit_dylib_pipeline::componentize(interpreter, script, resolve, world, options)
}

/// Links `script` with its interpreter and a world library (with the world
/// embedded), without running it: for callers that bring their own glue.
pub fn link(script: &Script, world_library: &[u8]) -> Result<Vec<u8>> {
    wit_dylib_pipeline::link(interpreter_for(script), script, world_library, None)
}

/// The host-side check of `script` (parsing only; nothing runs).
pub fn check_script(script: &Script) -> Result<()> {
    (interpreter_for(script).check)(script)
}

fn check_toy(script: &Script) -> Result<()> {
    let source = std::str::from_utf8(&script.source)
        .map_err(|err| anyhow!("{}: not UTF-8: {err}", script.name))?;
    toy_lang::Program::parse(&script.name, source)?;
    Ok(())
}
