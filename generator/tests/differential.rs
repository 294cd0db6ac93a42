//! Differential tests against upstream `wit-dylib` 0.263: for every world of
//! `tests/worlds/*.wit`, `tests/worlds/matrix/*.wit` and this crate's
//! `tests/async-worlds/*.wit` (async functions, futures, streams), for
//! `wasi:cli/command` and `wasi:http/proxy` 0.2.12 (vendored in `wasi-wit/`)
//! and for the `wasi:cli` 0.3.0 worlds (vendored in `wasi-wit/p3/`), our
//! library must validate and match upstream's import and export names and
//! core types, its `dylink.0` section and its metadata data segment byte for
//! byte, in both stack-pointer modes (the `__stack_pointer` global and the
//! task context), where the imports must also come in upstream's order.
//! Worlds with fixed-length lists or functions passing error-contexts,
//! which upstream cannot generate (it panics, `todo!`), only have to
//! validate.
//!
//! One trial per world, named `{file}::{world}`.

mod common;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use libtest_mimic::{Arguments, Trial};
use wasmparser::{Validator, WasmFeatures};
use wit_dylib_generator::{Options, StackPointer};
use wit_parser::{Resolve, TypeDef, TypeDefKind, WorldId};

use common::Summary;

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    let manifest = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let worlds = manifest.join("../tests/worlds");
    let async_worlds = manifest.join("tests/async-worlds");
    let mut files: Vec<PathBuf> = [worlds.clone(), worlds.join("matrix"), async_worlds]
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).expect("reading the test worlds"))
        .map(|e| e.expect("listing the test worlds").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wit"))
        .collect();
    files.sort();
    for file in files {
        let mut resolve = Resolve::default();
        let (pkg, _) = resolve.push_path(&file).expect("parsing a test world");
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        for name in resolve.packages[pkg].worlds.keys() {
            let (file, name) = (file.clone(), name.clone());
            trials.push(Trial::test(format!("{stem}::{name}"), move || {
                compare_file(&file, &name).map_err(|e| format!("{e:?}").into())
            }));
        }
    }
    let wasi = [
        ("tests/wasi-wit", "wasi:cli/command@0.2.12"),
        ("tests/wasi-wit", "wasi:http/proxy@0.2.12"),
        ("tests/wasi-wit/p3", "wasi:cli/command@0.3.0"),
        ("tests/wasi-wit/p3", "wasi:cli/imports@0.3.0"),
        ("tests/wasi-wit/p3", "wasi:filesystem/imports@0.3.0"),
        ("tests/wasi-wit/p3", "wasi:sockets/imports@0.3.0"),
    ];
    for (dir, world) in wasi {
        trials.push(Trial::test(format!("wasi::{world}"), move || {
            let dir = std::path::PathBuf::from(
                std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
            )
            .join(dir);
            compare_file(&dir, world).map_err(|e| format!("{e:?}").into())
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}

fn compare_file(path: &Path, world: &str) -> Result<()> {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve.push_path(path)?;
    let world = resolve.select_world(&[pkg], Some(world))?;
    compare(&resolve, world)
}

fn compare(resolve: &Resolve, world: WorldId) -> Result<()> {
    for mode in [StackPointer::Global, StackPointer::TaskContext] {
        compare_in(resolve, world, mode).with_context(|| format!("stack pointer {mode:?}"))?;
    }
    Ok(())
}

fn compare_in(resolve: &Resolve, world: WorldId, stack_pointer: StackPointer) -> Result<()> {
    let options = Options {
        stack_pointer,
        ..Default::default()
    };
    let ours = wit_dylib_generator::generate(resolve, world, &options)?;
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(&ours)
        .context("our module does not validate")?;
    let fixed_length = |(_, t): (_, &TypeDef)| matches!(t.kind, TypeDefKind::FixedLengthList(..));
    if resolve.types.iter().any(fixed_length)
        || wit_dylib_generator::passes_error_context(resolve, world)
    {
        return Ok(());
    }
    let mut upstream_options = wit_dylib::DylibOpts {
        stack_pointer: match stack_pointer {
            StackPointer::Global => wit_dylib::StackPointer::Global,
            StackPointer::TaskContext => wit_dylib::StackPointer::TaskContext,
        },
        ..Default::default()
    };
    let theirs = wit_dylib::create(resolve, world, Some(&mut upstream_options))?;
    let ours = Summary::of(&ours)?;
    let theirs = Summary::of(&theirs)?;
    ensure!(
        ours.imports.len() >= 67 + 5,
        "too few imports: {}",
        ours.imports.len()
    );
    ensure!(
        !ours.dylink.is_empty() && !ours.data.is_empty(),
        "no dylink.0 or data"
    );
    ours.same_imports_and_exports(&theirs)?;
    ensure!(ours.dylink == theirs.dylink, "dylink.0 differs");
    ensure!(
        ours.data == theirs.data,
        "metadata segment differs ({} bytes vs upstream's {})",
        ours.data.len(),
        theirs.data.len()
    );
    Ok(())
}
