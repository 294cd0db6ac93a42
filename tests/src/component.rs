//! From WIT world and interpreter dylib to a linked component.

use std::path::Path;

use anyhow::{Context, Result};
use wit_component::StringEncoding;
use wit_dylib_generator::StackPointer;
use wit_parser::{Resolve, WorldId};

use crate::artifacts;

/// A parsed WIT package and one of its worlds.
pub struct World {
    pub resolve: Resolve,
    pub world: WorldId,
}

impl World {
    /// Parses `path` (a file or a directory with `deps/`) and selects `world`.
    pub fn load(path: &Path, world: &str) -> Result<World> {
        let mut resolve = Resolve::default();
        let (package, _) = match resolve.push_path(path) {
            Ok(loaded) => loaded,
            Err(err) => anyhow::bail!("{}", resolve.render_error(&err)),
        };
        let world = resolve.select_world(&[package], Some(world))?;
        Ok(World { resolve, world })
    }
}

/// Generates the world dylib with the wasm-tools `wit-dylib` generator and
/// embeds the world's component type in it for the linker.
pub fn upstream_world_dylib(world: &World) -> Result<Vec<u8>> {
    upstream_world_dylib_in(world, StackPointer::Global)
}

/// [`upstream_world_dylib`], keeping the stack pointer where `stack_pointer`
/// says.
pub fn upstream_world_dylib_in(world: &World, stack_pointer: StackPointer) -> Result<Vec<u8>> {
    let mut options = wit_dylib::DylibOpts {
        stack_pointer: match stack_pointer {
            StackPointer::Global => wit_dylib::StackPointer::Global,
            StackPointer::TaskContext => wit_dylib::StackPointer::TaskContext,
        },
        ..Default::default()
    };
    let dylib = wit_dylib::create(&world.resolve, world.world, Some(&mut options))
        .context("wit-dylib could not generate the world library")?;
    embed_world(world, dylib)
}

/// Generates the world dylib with our generator (`wit-dylib-generator`) and
/// embeds the world's component type in it for the linker.
pub fn ours_world_dylib(world: &World) -> Result<Vec<u8>> {
    ours_world_dylib_in(world, StackPointer::Global)
}

/// [`ours_world_dylib`], keeping the stack pointer where `stack_pointer`
/// says.
pub fn ours_world_dylib_in(world: &World, stack_pointer: StackPointer) -> Result<Vec<u8>> {
    let options = wit_dylib_generator::Options {
        stack_pointer,
        ..Default::default()
    };
    let dylib = wit_dylib_generator::generate(&world.resolve, world.world, &options)
        .context("wit-dylib-generator could not generate the world library")?;
    embed_world(world, dylib)
}

/// Embeds the world's component type in a world dylib for the linker.
fn embed_world(world: &World, mut dylib: Vec<u8>) -> Result<Vec<u8>> {
    wit_component::embed_component_metadata(
        &mut dylib,
        &world.resolve,
        world.world,
        StringEncoding::UTF8,
        false,
    )?;
    Ok(dylib)
}

/// Links an interpreter dylib (an artifact name, e.g. `greeter_interpreter.so`)
/// with a world dylib and `libc.so` into a component.
pub fn link(interpreter: &str, world_dylib: &[u8]) -> Result<Vec<u8>> {
    let mut linker = wit_component::Linker::default();
    // The first library exporting a symbol provides it. The interpreter goes
    // first so that its `cabi_realloc` (the global allocator the SDK frees
    // with) is the component's, not the malloc-based one in libc.so.
    linker.library(interpreter, &artifacts::read(interpreter)?, false)?;
    linker.library("world.so", world_dylib, false)?;
    if let Some(hook) = wit_dylib_pipeline::task_hook_library_for(world_dylib) {
        // Nothing imports from the hook library; the linker keeps only
        // libraries something reaches, and a dlopen-able one counts.
        linker.library("task-hook.so", &hook, true)?;
    }
    linker.library("libc.so", &artifacts::read("libc.so")?, false)?;
    linker.encode().context("linking the component")
}
