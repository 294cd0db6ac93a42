//! Linking a script, its interpreter and a world library into a component.

use anyhow::{Context, Result, bail};
use wasmparser::{Parser, Payload};

use crate::{Interpreter, Script};

/// Links `script` with `interpreter`, a world library (with the world's
/// component type embedded) and the interpreter's libc into a component, and
/// the task hook library when the world library keeps its stack pointer in
/// the task context. For a sync world the interpreter's async built-ins
/// become traps ([`crate::sync_only`]), so that the component imports none.
///
/// With `preinit`, the pre-initialisation library ([`crate::preinit::init_library`])
/// is linked in place of the script, which it fetches at build time: the
/// component is then the same for every script.
pub fn link(
    interpreter: &Interpreter,
    script: &Script,
    world_library: &[u8],
    preinit: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let mut linker = wit_component::Linker::default();
    // A sync world gets a sync component (see `sync_only`).
    let split = match is_sync(world_library) {
        true => crate::sync_only::split(&interpreter.library)?,
        false => None,
    };
    let library = match &split {
        Some((library, _)) => library,
        None => &interpreter.library[..],
    };
    // The interpreter first: its `cabi_realloc` becomes the component's.
    linker.library(&interpreter.library_name, library, false)?;
    if let Some((_, traps)) = &split {
        linker.library("sync-only.so", traps, false)?;
    }
    linker.library("world.so", world_library, false)?;
    if preinit.is_none() {
        linker.library(
            "script.so",
            &wit_dylib_script_library::build(&script.name, &script.source),
            false,
        )?;
    }
    if let Some(hook) = task_hook_library_for(world_library) {
        // Nothing imports from the hook library; the linker keeps only
        // libraries something reaches, and a dlopen-able one counts.
        linker.library("task-hook.so", &hook, true)?;
    }
    linker.library("libc.so", &interpreter.libc, false)?;
    if let Some(preinit) = preinit {
        linker.library("preinit.so", preinit, false)?;
    }
    linker.encode().context("linking the component")
}

/// Whether the world library passes nothing asynchronous: no async
/// function, future, stream or error-context among its imports and exports.
fn is_sync(world_library: &[u8]) -> bool {
    let asynchronous = |name: &str| {
        [
            "[async-lower]",
            "[async-lift]",
            "[callback]",
            "[task-return]",
            "[future-",
            "[stream-",
            "[error-context-",
        ]
        .iter()
        .any(|marker| name.contains(marker))
    };
    !any_import(world_library, |_, name| asynchronous(name))
        && !any_export(world_library, asynchronous)
}

/// The task hook library (docs/abi.md §8.7) when `world_library` keeps its
/// stack pointer in the task context, that is, imports no
/// `env.__stack_pointer`.
pub fn task_hook_library_for(world_library: &[u8]) -> Option<Vec<u8>> {
    let uses_global = any_import(world_library, |module, name| {
        module == "env" && name == "__stack_pointer"
    });
    (!uses_global).then(wit_dylib_generator::task_hook_library)
}

/// Fails, saying what it is instead, unless `library` is a WebAssembly
/// dynamic library (a core module with a `dylink.0` section).
pub(crate) fn check_dylib(library: &[u8]) -> Result<()> {
    if !library.starts_with(b"\0asm") {
        bail!("not a WebAssembly file");
    }
    for payload in Parser::new(0).parse_all(library) {
        match payload {
            Ok(Payload::Version {
                encoding: wasmparser::Encoding::Component,
                ..
            }) => {
                bail!("a component, not a dynamic library (a core module built with -shared)");
            }
            Ok(Payload::CustomSection(section)) if section.name() == "dylink.0" => return Ok(()),
            Ok(_) => {}
            Err(err) => bail!("not a valid WebAssembly module ({err})"),
        }
    }
    bail!(
        "a WebAssembly module without a `dylink.0` section: not a dynamic library (build it with -shared)"
    )
}

/// Whether the dylib `library` exports `name`.
pub(crate) fn exports(library: &[u8], name: &str) -> bool {
    any_export(library, |export| export == name)
}

/// Whether some import of the core module `library` (module, name) passes
/// `test`.
fn any_import(library: &[u8], mut test: impl FnMut(&str, &str) -> bool) -> bool {
    Parser::new(0)
        .parse_all(library)
        .any(|payload| match payload {
            Ok(Payload::ImportSection(imports)) => imports
                .into_imports()
                .any(|import| import.is_ok_and(|i| test(i.module, i.name))),
            _ => false,
        })
}

/// The module names of the core module `library`'s imports (`env`,
/// `wasi:cli/environment@0.2.4`, ...).
pub(crate) fn import_modules(library: &[u8]) -> std::collections::BTreeSet<String> {
    let mut modules = std::collections::BTreeSet::new();
    any_import(library, |module, _| {
        if !modules.contains(module) {
            modules.insert(module.to_string());
        }
        false
    });
    modules
}

/// Whether the name of some export of the core module `library` passes
/// `test`.
fn any_export(library: &[u8], test: impl Fn(&str) -> bool) -> bool {
    Parser::new(0)
        .parse_all(library)
        .any(|payload| match payload {
            Ok(Payload::ExportSection(exports)) => exports
                .into_iter()
                .any(|export| export.is_ok_and(|e| test(e.name))),
            _ => false,
        })
}
