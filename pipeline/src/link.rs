//! Linking a script, its interpreter and a world library into a component.

use anyhow::{Context, Result};

use crate::{Interpreter, Script};

/// The C library components link by default: a PIC wasi-libc holding only
/// what the workspace's interpreters and world libraries import, prebuilt by
/// `cargo xtask build-wasm` and embedded, so that users need no wasm
/// toolchain.
pub const LIBC: &[u8] = include_bytes!(concat!(env!("WIT_DYLIB_ARTIFACTS_DIR"), "/libc.so"));

/// All of wasi-libc, for an interpreter built outside this workspace that
/// imports more than [`LIBC`] holds (see the README).
pub const LIBC_FULL: &[u8] =
    include_bytes!(concat!(env!("WIT_DYLIB_ARTIFACTS_DIR"), "/libc-full.so"));

/// Links `script` with `interpreter`, a world library (with the world's
/// component type embedded) and the interpreter's libc into a component, plus
/// `extra` (the pre-initialisation library) when given.
pub fn link(
    interpreter: &Interpreter,
    script: &Script,
    world_library: &[u8],
    extra: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let mut linker = wit_component::Linker::default();
    // The interpreter first: its `cabi_realloc` becomes the component's.
    linker.library(interpreter.library_name, interpreter.library, false)?;
    linker.library("world.so", world_library, false)?;
    linker.library(
        "script.so",
        &wit_dylib_script_library::build(&script.name, &script.source),
        false,
    )?;
    if let Some(extra) = extra {
        linker.library("preinit.so", extra, false)?;
    }
    linker.library("libc.so", interpreter.libc, false)?;
    linker.encode().context("linking the component")
}
