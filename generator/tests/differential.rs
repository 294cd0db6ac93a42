//! Differential tests against upstream `wit-dylib` 0.263: for every world of
//! `tests/worlds/*.wit` and `tests/worlds/matrix/*.wit` and for `wasi:cli/command` and
//! `wasi:http/proxy` (0.2.12, vendored in `wasi-wit/`), our library must
//! validate and match upstream's import and export names and core types, its
//! `dylink.0` section and its metadata data segment byte for byte.
//!
//! One trial per world, named `{file}::{world}`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use libtest_mimic::{Arguments, Trial};
use wasmparser::{Parser, Payload, TypeRef, Validator, WasmFeatures};
use wit_parser::{Resolve, WorldId};

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    let worlds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/worlds");
    let mut files: Vec<PathBuf> = [worlds.clone(), worlds.join("matrix")]
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
    for world in ["wasi:cli/command@0.2.12", "wasi:http/proxy@0.2.12"] {
        trials.push(Trial::test(format!("wasi::{world}"), move || {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wasi-wit");
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
    let ours = wit_dylib_generator::generate(resolve, world, &Default::default())?;
    let theirs = wit_dylib::create(resolve, world, None)?;
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(&ours)
        .context("our module does not validate")?;
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
    diff("imports", &ours.imports, &theirs.imports)?;
    diff("exports", &ours.exports, &theirs.exports)?;
    ensure!(ours.dylink == theirs.dylink, "dylink.0 differs");
    ensure!(
        ours.data == theirs.data,
        "metadata segment differs ({} bytes vs upstream's {})",
        ours.data.len(),
        theirs.data.len()
    );
    Ok(())
}

fn diff(what: &str, ours: &BTreeSet<String>, theirs: &BTreeSet<String>) -> Result<()> {
    let missing: Vec<_> = theirs.difference(ours).collect();
    let extra: Vec<_> = ours.difference(theirs).collect();
    if !missing.is_empty() || !extra.is_empty() {
        bail!("{what} differ:\n  missing: {missing:#?}\n  extra: {extra:#?}");
    }
    Ok(())
}

/// What must match between two libraries.
struct Summary {
    /// `module name: type`.
    imports: BTreeSet<String>,
    exports: BTreeSet<String>,
    dylink: Vec<u8>,
    data: Vec<u8>,
}

impl Summary {
    fn of(wasm: &[u8]) -> Result<Summary> {
        let mut types = Vec::new();
        let mut funcs = Vec::new();
        let mut imports = BTreeSet::new();
        let mut exports = Vec::new();
        let mut dylink = Vec::new();
        let mut data = Vec::new();
        for payload in Parser::new(0).parse_all(wasm) {
            match payload? {
                Payload::TypeSection(reader) => {
                    for ty in reader.into_iter_err_on_gc_types() {
                        types.push(format!("{}", ty?));
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import?;
                        let ty = match import.ty {
                            TypeRef::Func(i) => {
                                funcs.push(i);
                                types[i as usize].clone()
                            }
                            other => format!("{other:?}"),
                        };
                        imports.insert(format!("{} {}: {ty}", import.module, import.name));
                    }
                }
                Payload::FunctionSection(reader) => {
                    for f in reader {
                        funcs.push(f?);
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export?;
                        exports.push((export.name.to_string(), export.kind, export.index));
                    }
                }
                Payload::CustomSection(c) if c.name() == "dylink.0" => dylink = c.data().to_vec(),
                Payload::DataSection(reader) => {
                    for segment in reader {
                        data.extend_from_slice(segment?.data);
                    }
                }
                _ => {}
            }
        }
        let exports = exports
            .into_iter()
            .map(|(name, kind, index)| {
                let ty = match kind {
                    wasmparser::ExternalKind::Func => types[funcs[index as usize] as usize].clone(),
                    other => format!("{other:?}"),
                };
                format!("{name}: {ty}")
            })
            .collect();
        Ok(Summary {
            imports,
            exports,
            dylink,
            data,
        })
    }
}
