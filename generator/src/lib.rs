//! Generates a *world dylib*: a WebAssembly shared-everything dynamic library
//! that bridges a WIT world's canonical ABI to an interpreter implementing
//! `wit_dylib.h` (ABI version 3).
//!
//! The output is a drop-in replacement for the library the wasm-tools
//! `wit-dylib` generator emits (same imports, exports, `dylink.0` and
//! metadata layout; see `docs/abi.md`), with stricter checking of
//! the values that cross it: booleans are normalised, `char`s validated and
//! discriminants range-checked, trapping on anything malformed.
//!
//! ```
//! # fn main() -> anyhow::Result<()> {
//! let mut resolve = wit_parser::Resolve::default();
//! let pkg = resolve.push_str(
//!     "demo.wit",
//!     "package demo:app; world app { import log: func(msg: string); export run: func(); }",
//! )?;
//! let world = resolve.select_world(&[pkg], Some("app"))?;
//! let dylib = wit_dylib_generator::generate(&resolve, world, &Default::default())?;
//! assert!(dylib.starts_with(b"\0asm"));
//! # Ok(())
//! # }
//! ```
//!
//! Internals: `world` drives generation in upstream's order (which fixes
//! the metadata tables' order); `glue` (sync) and `async_` (async) emit the
//! per-function bridges, built from `lower` (pop) and `lift` (push) on
//! `func`'s function builder; `futures` imports the built-ins of futures and
//! streams and converts their payloads; `env`
//! lists the 67 interpreter imports; `support` rejects what is not
//! supported yet; `metadata` models the `wit_t` tables, `encode` lays them
//! out as the data segment; `module` assembles the sections and `dylink.0`.

mod async_;
mod encode;
mod env;
mod error_context;
mod func;
mod futures;
mod glue;
mod lift;
mod lower;
mod metadata;
mod module;
mod support;
mod task_hook;
mod world;

use anyhow::Result;
use std::path::Path;

use wit_parser::{PackageId, Resolve, WorldId};

pub use crate::metadata::{
    Alias, ExportFunc, ImportCall, ImportFunc, Map, Metadata, NamedCases, Payload, Record,
    Resource, Tuple, TypeRef, Variant, WitResult, Wrapper,
};
pub use crate::module::StackPointer;
pub use crate::task_hook::{INTERPRETER_TASK_HOOK, task_hook_library};

/// Generation options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// An interpreter library to list as `WASM_DYLINK_NEEDED` in `dylink.0`,
    /// e.g. `libinterp.so`.
    pub interpreter: Option<String>,
    /// Where the library keeps its shadow stack pointer.
    pub stack_pointer: StackPointer,
}

/// Whether some function of `world` passes error-context values: its
/// library then imports `wit_dylib.h`'s error-context extension, which
/// upstream `wit-dylib` lacks (it cannot generate such worlds).
pub fn passes_error_context(resolve: &Resolve, world: WorldId) -> bool {
    support::passes_error_context(resolve, world)
}

/// Generates the world dylib for `world`.
///
/// Fails, naming the item, for WIT features not supported: fixed-length
/// lists of more than 4096 elements, function types that unroll to more than
/// 65,536 values, flags with more than 32 members,
/// futures or streams that no function passes, and error-contexts in future
/// or stream payloads.
pub fn generate(resolve: &Resolve, world: WorldId, opts: &Options) -> Result<Vec<u8>> {
    Ok(generate_with_metadata(resolve, world, opts)?.0)
}

/// Like [`generate`], also returning the function and type tables the
/// library describes to its interpreter.
pub fn generate_with_metadata(
    resolve: &Resolve,
    world: WorldId,
    opts: &Options,
) -> Result<(Vec<u8>, Metadata)> {
    world::generate(resolve, world, opts)
}

/// Selects world `name` of `package` (or its only world when `name` is
/// `None`), like [`Resolve::select_world`], but an unknown name is reported
/// together with the worlds the package does have.
pub fn select_world(resolve: &Resolve, package: PackageId, name: Option<&str>) -> Result<WorldId> {
    resolve.select_world(&[package], name).map_err(|err| {
        let pkg = &resolve.packages[package];
        let worlds: Vec<_> = pkg.worlds.keys().map(|w| format!("`{w}`")).collect();
        let available = match worlds.is_empty() {
            true => "it has no worlds".to_string(),
            false => format!("its worlds are {}", worlds.join(", ")),
        };
        err.context(format!(
            "selecting a world in package `{}` ({available})",
            pkg.name
        ))
    })
}

/// Parses the WIT package at `path` (a `.wit` file, or a directory with an
/// optional `deps/`) into `resolve`. Parse and resolution errors become one
/// line, `file:line:column: message`.
pub fn push_wit(resolve: &mut Resolve, path: &Path) -> Result<PackageId> {
    match resolve.push_path(path) {
        Ok((package, _)) => Ok(package),
        Err(err) => Err(anyhow::anyhow!("{}", one_line(&resolve.render_error(&err)))),
    }
}

/// Turns wit-parser's rendered error (message, `--> file:line:col`, then a
/// snippet) into `file:line:col: message`; other errors pass unchanged.
fn one_line(rendered: &str) -> String {
    let mut lines = rendered.lines();
    let message = lines.next().unwrap_or_default().trim();
    match lines.find_map(|line| line.trim().strip_prefix("--> ")) {
        Some(location) => format!("{location}: {message}"),
        None => rendered.trim().to_string(),
    }
}
