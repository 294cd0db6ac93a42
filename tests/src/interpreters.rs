//! The Lua and toy interpreters as the pipeline takes them, read at run time
//! from the wasm artifacts, with the trimmed `libc.so` they import from.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use anyhow::{Result, anyhow};
use wit_dylib_pipeline::{Interpreter, Options, Script};
use wit_parser::{Resolve, WorldId};

use crate::artifacts;

/// An artifact, read once per test binary.
pub fn artifact(name: &str) -> Result<&'static [u8]> {
    static READ: OnceLock<Mutex<HashMap<String, &'static [u8]>>> = OnceLock::new();
    let mut read = READ.get_or_init(Default::default).lock().unwrap();
    if let Some(bytes) = read.get(name) {
        return Ok(bytes);
    }
    let bytes: &'static [u8] = artifacts::read(name)?.leak();
    read.insert(name.to_string(), bytes);
    Ok(bytes)
}

/// The Lua 5.4 interpreter; scripts are checked in the sandbox only.
pub fn lua() -> Result<Interpreter> {
    Ok(Interpreter {
        language: "Lua".into(),
        library_name: "lua_interpreter.so".into(),
        library: Cow::Borrowed(artifact("lua_interpreter.so")?),
        check: None,
        supports_async: true,
        libc: Cow::Borrowed(artifact("libc.so")?),
    })
}

/// The toy interpreter; scripts are parsed on the host first.
pub fn toy() -> Result<Interpreter> {
    Ok(Interpreter {
        language: "toy".into(),
        library_name: "toy_interpreter.so".into(),
        library: Cow::Borrowed(artifact("toy_interpreter.so")?),
        check: Some(check_toy),
        supports_async: true,
        libc: Cow::Borrowed(artifact("libc.so")?),
    })
}

/// All of wasi-libc, for an interpreter that needs more than the trimmed one.
pub fn libc_full() -> Result<Cow<'static, [u8]>> {
    Ok(Cow::Borrowed(artifact("libc-full.so")?))
}

/// The interpreter for `script`: toy for a `.toy` file, Lua otherwise.
pub fn for_script(script: &Script) -> Result<Interpreter> {
    match script.name.ends_with(".toy") {
        true => toy(),
        false => lua(),
    }
}

/// The host-side check of `script` by its interpreter (parsing only).
pub fn check(script: &Script) -> Result<()> {
    for_script(script)?.check(script)
}

/// Links `script` with its interpreter to a world library (with the world
/// embedded), without checking or running it: errors in the script show
/// when the component starts.
pub fn link(script: &Script, world_library: &[u8]) -> Result<Vec<u8>> {
    wit_dylib_pipeline::link(&for_script(script)?, script, world_library, None)
}

/// The whole pipeline for `script`, with its interpreter.
pub fn componentize(
    script: &Script,
    resolve: &Resolve,
    world: WorldId,
    options: &Options,
) -> Result<Vec<u8>> {
    wit_dylib_pipeline::componentize(&for_script(script)?, script, resolve, world, options)
}

fn check_toy(script: &Script) -> Result<()> {
    let source = std::str::from_utf8(&script.source)
        .map_err(|err| anyhow!("{}: not UTF-8: {err}", script.name))?;
    toy_lang::Program::parse(&script.name, source)?;
    Ok(())
}
