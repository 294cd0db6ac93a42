//! `lua-demo` as a library: the Lua and toy interpreters plugged into
//! `wit-dylib-pipeline`, which turns a script and a WIT world into a
//! component ([`componentize`]) and runs components ([`runtime`]).

use std::borrow::Cow;

use anyhow::{Result, anyhow};
use wit_dylib_pipeline::Interpreter;
use wit_parser::{Resolve, WorldId};

pub use wit_dylib_cli::serve;
pub use wit_dylib_pipeline::{
    Limits, Options, Script, compose, concurrency, deadline, load_world, runtime, streams,
};

/// This crate's source directory, where its examples are: the one `cargo`
/// names at run time (`cargo run`, `cargo test`), else the one the binary
/// was built from. Run time first, because a binary built in another
/// checkout sharing the target directory would otherwise use that one.
pub fn crate_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The Lua interpreter's dylib, built by this crate's build script.
const LUA_LIBRARY: &[u8] =
    include_bytes!(concat!(env!("LUA_DEMO_WASM_DIR"), "/lua_interpreter.so"));
/// The toy interpreter's dylib.
const TOY_LIBRARY: &[u8] =
    include_bytes!(concat!(env!("LUA_DEMO_WASM_DIR"), "/toy_interpreter.so"));
/// wasi-libc trimmed to what the two interpreters and world libraries import.
pub const LIBC: &[u8] = include_bytes!(concat!(env!("LUA_DEMO_WASM_DIR"), "/libc.so"));

/// The Lua 5.4 interpreter. A Lua script is only checked in the sandbox:
/// the interpreter reports syntax errors and missing exports there.
pub fn lua() -> Interpreter {
    Interpreter {
        language: "Lua".into(),
        library_name: "lua_interpreter.so".into(),
        library: Cow::Borrowed(LUA_LIBRARY),
        check: None,
        supports_async: true,
        libc: Cow::Borrowed(LIBC),
    }
}

/// The toy language's interpreter; toy scripts are parsed on the host first,
/// for messages with line and column.
pub fn toy() -> Interpreter {
    Interpreter {
        language: "toy".into(),
        library_name: "toy_interpreter.so".into(),
        library: Cow::Borrowed(TOY_LIBRARY),
        check: Some(check_toy),
        supports_async: true,
        libc: Cow::Borrowed(LIBC),
    }
}

/// The interpreter for `script`: toy for a `.toy` file, Lua otherwise.
pub fn interpreter_for(script: &Script) -> Interpreter {
    match script.name.ends_with(".toy") {
        true => toy(),
        false => lua(),
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
    wit_dylib_pipeline::componentize(&interpreter, script, resolve, world, options)
}

fn check_toy(script: &Script) -> Result<()> {
    let source = std::str::from_utf8(&script.source)
        .map_err(|err| anyhow!("{}: not UTF-8: {err}", script.name))?;
    toy_lang::Program::parse(&script.name, source)?;
    Ok(())
}
