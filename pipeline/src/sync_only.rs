//! Sync worlds make sync components.
//!
//! An interpreter built with async support (the SDK's `export!(T, async)`)
//! imports the component model's async built-ins (`waitable-set.new`,
//! `context.get`, …) from `$root`, and a component that imports any of them
//! needs a host with concurrency support, which costs every call: wasmtime
//! sets up its concurrency machinery for each. A world with no async
//! function, future or stream never reaches that code, so for such a world
//! the pipeline links the interpreter with these imports moved to `env`,
//! where a generated library defines each as a trap. The component then
//! imports no async built-in and runs on engines with concurrency off, as
//! well as on any other.

use std::borrow::Cow;

use anyhow::{Context, Result};
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, CustomSection, ExportKind, ExportSection, Function, FunctionSection,
    ImportSection, Module, RawSection, TypeSection,
};
use wasmparser::{Parser, Payload, TypeRef};

/// The prefix the moved imports get in `env`.
const MOVED: &str = "wit-dylib-sync-only:";

/// The interpreter `library` with its async built-in imports moved to
/// `env`, and the library that defines them as traps; `None` when the
/// interpreter imports none.
pub fn split(library: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut types = Vec::new();
    let mut moved = Vec::new();
    let mut module = Module::new();
    for payload in Parser::new(0).parse_all(library) {
        let payload = payload.context("reading the interpreter library")?;
        match &payload {
            Payload::TypeSection(reader) => {
                for group in reader.clone() {
                    for ty in group?.into_types() {
                        types.push(ty);
                    }
                }
            }
            Payload::ImportSection(reader) => {
                let mut imports = ImportSection::new();
                for import in reader.clone().into_imports() {
                    let import = import?;
                    let ty = RoundtripReencoder.entity_type(import.ty)?;
                    match (import.module, import.ty) {
                        ("$root", TypeRef::Func(index)) if is_async_builtin(import.name) => {
                            let name = format!("{MOVED}{}", import.name);
                            imports.import("env", &name, ty);
                            moved.push((name, types[index as usize].clone()));
                        }
                        _ => {
                            imports.import(import.module, import.name, ty);
                        }
                    }
                }
                module.section(&imports);
                continue;
            }
            _ => {}
        }
        if let Some((id, range)) = payload.as_section() {
            module.section(&RawSection {
                id,
                data: &library[range.start as usize..range.end as usize],
            });
        }
    }
    match moved.is_empty() {
        true => Ok(None),
        false => Ok(Some((module.finish(), traps(&moved)?))),
    }
}

/// The built-ins of the async ABI that an SDK interpreter may import.
fn is_async_builtin(name: &str) -> bool {
    ["[waitable-", "[subtask-", "[context-", "[task-", "[thread-"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

/// A library exporting each moved import as a function that traps.
fn traps(moved: &[(String, wasmparser::SubType)]) -> Result<Vec<u8>> {
    let mut module = Module::new();
    module.section(&CustomSection {
        name: Cow::Borrowed("dylink.0"),
        data: Cow::Owned(wit_dylib_script_library::dylink_mem_info(0)),
    });
    let mut types = TypeSection::new();
    let mut functions = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    for (index, (name, ty)) in moved.iter().enumerate() {
        let wasmparser::CompositeInnerType::Func(func) = &ty.composite_type.inner else {
            anyhow::bail!("the async built-in import `{name}` is not a function");
        };
        let params = func
            .params()
            .iter()
            .map(|t| RoundtripReencoder.val_type(*t));
        let results = func
            .results()
            .iter()
            .map(|t| RoundtripReencoder.val_type(*t));
        types.ty().function(
            params.collect::<Result<Vec<_>, _>>()?,
            results.collect::<Result<Vec<_>, _>>()?,
        );
        functions.function(index as u32);
        exports.export(name, ExportKind::Func, index as u32);
        let mut body = Function::new([]);
        body.instructions().unreachable().end();
        code.function(&body);
    }
    module.section(&types);
    module.section(&functions);
    module.section(&exports);
    module.section(&code);
    Ok(module.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_only_the_async_builtins() {
        let wat = r#"(module
            (import "$root" "[waitable-set-new]" (func (result i32)))
            (import "$root" "[context-set-0]" (func (param i32)))
            (import "env" "malloc" (func (param i32) (result i32)))
            (import "$root" "[resource-drop]r" (func (param i32)))
            (func (export "f") (result i32) call 0))"#;
        let library = wat::parse_str(wat).unwrap();
        let (moved, traps) = split(&library).unwrap().expect("two imports move");
        let imports: Vec<String> = Parser::new(0)
            .parse_all(&moved)
            .filter_map(|p| match p.unwrap() {
                Payload::ImportSection(r) => Some(
                    r.into_imports()
                        .map(|i| {
                            let i = i.unwrap();
                            format!("{} {}", i.module, i.name)
                        })
                        .collect::<Vec<_>>(),
                ),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(
            imports,
            [
                "env wit-dylib-sync-only:[waitable-set-new]",
                "env wit-dylib-sync-only:[context-set-0]",
                "env malloc",
                "$root [resource-drop]r",
            ]
        );
        wasmparser::validate(&moved).unwrap();
        wasmparser::validate(&traps).unwrap();
        let no_async = "(module (import \"env\" \"malloc\" (func (param i32) (result i32))))";
        assert!(split(&wat::parse_str(no_async).unwrap()).unwrap().is_none());
    }
}
