//! The WIT side: loading a world, refusing what an interpreter cannot serve,
//! and generating the world library with our generator.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, bail};
use wit_component::StringEncoding;
use wit_dylib_generator::StackPointer;
use wit_parser::{Function, Resolve, Type, TypeDefKind, WorldId, WorldItem};

use crate::versions::aligned_world;

/// Parses the WIT at `path` (a file, or a directory with `deps/`) and picks
/// `world`, or the only world when `world` is `None`.
pub fn load_world(path: &Path, world: Option<&str>) -> Result<(Resolve, WorldId)> {
    let mut resolve = Resolve::default();
    let (package, _) = match resolve.push_path(path) {
        Ok(loaded) => loaded,
        // Rendered against the source map: `file:line:column` and the line.
        Err(err) => bail!("cannot load WIT: {}", resolve.render_error(&err)),
    };
    let id = match resolve.select_world(&[package], world) {
        Ok(id) => id,
        Err(err) => {
            let worlds: Vec<&str> = resolve.packages[package]
                .worlds
                .keys()
                .map(String::as_str)
                .collect();
            bail!(
                "{err:#} (worlds in {}: {})",
                path.display(),
                worlds.join(", ")
            )
        }
    };
    Ok((resolve, id))
}

/// The world library for `world` (our generator), keeping its stack pointer
/// where `stack_pointer` says, with the world's component type embedded for
/// the linker. That type also imports, at the world's version, the WASI
/// interfaces among `library_imports` (the interpreter's and libc's core
/// import modules) that the world's WIT has in a newer compatible release
/// ([`crate::versions`]).
pub fn world_library(
    resolve: &Resolve,
    world: WorldId,
    stack_pointer: StackPointer,
    library_imports: &BTreeSet<String>,
) -> Result<Vec<u8>> {
    let options = wit_dylib_generator::Options {
        stack_pointer,
        ..Default::default()
    };
    let mut library = wit_dylib_generator::generate(resolve, world, &options)
        .context("generating the world library")?;
    let aligned = aligned_world(resolve, world, library_imports.iter().map(String::as_str))?;
    let (resolve, world) = match &aligned {
        Some((resolve, world)) => (resolve, *world),
        None => (resolve, world),
    };
    wit_component::embed_component_metadata(
        &mut library,
        resolve,
        world,
        StringEncoding::UTF8,
        false,
    )?;
    Ok(library)
}

/// Where the world library of `world` keeps its stack pointer: in the task
/// context (the WASI 0.3 convention) for a world with async functions,
/// futures or streams, when the interpreter receives the task hook
/// (`task_hook`, docs/abi.md §8.7); in the `__stack_pointer` global
/// otherwise.
pub fn stack_pointer_for(resolve: &Resolve, world: WorldId, task_hook: bool) -> StackPointer {
    match task_hook && first_async_use(resolve, world).is_some() {
        true => StackPointer::TaskContext,
        false => StackPointer::Global,
    }
}

/// Fails, naming the first function, for a world that uses async
/// functions, futures or streams: `language` cannot serve them yet.
pub fn require_sync(resolve: &Resolve, world: WorldId, language: &str) -> Result<()> {
    match first_async_use(resolve, world) {
        Some((function, place, what)) => bail!(
            "function `{function}` {place} {what}: {language} scripts cannot serve async \
             functions, futures or streams yet"
        ),
        None => Ok(()),
    }
}

/// The first function of the world that is async or passes a future or a
/// stream: its name, where it is and what it does.
fn first_async_use(resolve: &Resolve, world: WorldId) -> Option<(String, String, &'static str)> {
    functions(resolve, world)
        .into_iter()
        .find_map(|(function, place)| {
            let what = if function.kind.is_async() {
                Some("is async")
            } else {
                let mut types = function.params.iter().map(|p| p.ty).chain(function.result);
                types
                    .find_map(|ty| async_type(resolve, ty))
                    .map(|kind| match kind {
                        AsyncType::Future => "uses a future",
                        AsyncType::Stream => "uses a stream",
                    })
            };
            what.map(|what| (function.name.clone(), place, what))
        })
}

/// Every function the world imports or exports, with where it is
/// (`of interface `a:b/c``, or `of world `w``).
fn functions(resolve: &Resolve, world: WorldId) -> Vec<(&Function, String)> {
    let w = &resolve.worlds[world];
    let mut found = Vec::new();
    for (key, item) in w.imports.iter().chain(&w.exports) {
        match item {
            WorldItem::Function(f) => found.push((f, format!("of world `{}`", w.name))),
            WorldItem::Interface { id, .. } => {
                let place = format!("of interface `{}`", resolve.name_world_key(key));
                for f in resolve.interfaces[*id].functions.values() {
                    found.push((f, place.clone()));
                }
            }
            WorldItem::Type { .. } => {}
        }
    }
    found
}

enum AsyncType {
    Future,
    Stream,
}

/// The first future or stream inside `ty`, if any.
fn async_type(resolve: &Resolve, ty: Type) -> Option<AsyncType> {
    let Type::Id(id) = ty else { return None };
    let inner = |ty: &Option<Type>| ty.and_then(|t| async_type(resolve, t));
    match &resolve.types[id].kind {
        TypeDefKind::Future(_) => Some(AsyncType::Future),
        TypeDefKind::Stream(_) => Some(AsyncType::Stream),
        TypeDefKind::Record(r) => r.fields.iter().find_map(|f| async_type(resolve, f.ty)),
        TypeDefKind::Tuple(t) => t.types.iter().find_map(|t| async_type(resolve, *t)),
        TypeDefKind::Variant(v) => v.cases.iter().find_map(|c| inner(&c.ty)),
        TypeDefKind::Option(t)
        | TypeDefKind::List(t)
        | TypeDefKind::FixedLengthList(t, _)
        | TypeDefKind::Type(t) => async_type(resolve, *t),
        TypeDefKind::Result(r) => inner(&r.ok).or_else(|| inner(&r.err)),
        TypeDefKind::Map(k, v) => async_type(resolve, *k).or_else(|| async_type(resolve, *v)),
        TypeDefKind::Resource
        | TypeDefKind::Handle(_)
        | TypeDefKind::Flags(_)
        | TypeDefKind::Enum(_)
        | TypeDefKind::Unknown => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(wit: &str) -> (Resolve, WorldId) {
        let mut resolve = Resolve::default();
        let package = resolve.push_str("test.wit", wit).expect("valid WIT");
        let world = resolve.select_world(&[package], None).expect("one world");
        (resolve, world)
    }

    #[test]
    fn async_worlds_keep_the_stack_pointer_in_the_task_context() {
        for wit in [
            "package a:b; world w { export f: async func(); }",
            "package a:b; world w { import f: func() -> stream<u8>; }",
            "package a:b; interface i { record r { f: future<u32> } g: func(r: r); } world w { export i; }",
        ] {
            let (resolve, id) = world(wit);
            assert_eq!(
                stack_pointer_for(&resolve, id, true),
                StackPointer::TaskContext,
                "{wit}"
            );
            // An interpreter without the task hook keeps the global.
            assert_eq!(
                stack_pointer_for(&resolve, id, false),
                StackPointer::Global,
                "{wit}"
            );
        }
    }

    #[test]
    fn sync_worlds_keep_the_global() {
        let (resolve, id) = world("package a:b; world w { export f: func(s: string) -> u32; }");
        assert_eq!(stack_pointer_for(&resolve, id, true), StackPointer::Global);
    }
}
