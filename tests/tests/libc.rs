//! The trimmed `libc.so` components link: it must still define every libc
//! symbol that an interpreter artifact or a generated world library imports
//! (so that a change to an interpreter cannot silently break linking), and
//! hold nothing else; `libc-full.so` stays usable for other interpreters.

use std::collections::BTreeSet;

use anyhow::{Context, Result, ensure};
use wasmparser::{Parser, Payload, TypeRef};
use wasmtime::component::Val;
use wit_dylib_pipeline::{Interpreter, Options, Script};
use wit_dylib_tests::component::{World, ours_world_dylib, upstream_world_dylib};
use wit_dylib_tests::{artifacts, interpreters};

/// The symbols a dylib imports from other libraries: functions from `env`,
/// and the addresses of data (`GOT.mem`) and functions (`GOT.func`).
fn imports(module: &[u8]) -> Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::ImportSection(section) = payload? {
            for import in section.into_imports() {
                let import = import?;
                if matches!(
                    (import.module, import.ty),
                    ("env", TypeRef::Func(_)) | ("GOT.mem" | "GOT.func", _)
                ) {
                    names.insert(import.name.to_string());
                }
            }
        }
    }
    Ok(names)
}

fn exports(module: &[u8]) -> Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::ExportSection(section) = payload? {
            for export in section {
                names.insert(export?.name.to_string());
            }
        }
    }
    Ok(names)
}

/// The two libcs' exports.
struct Libcs {
    trimmed: BTreeSet<String>,
    full: BTreeSet<String>,
}

impl Libcs {
    fn read() -> Result<Libcs> {
        Ok(Libcs {
            trimmed: exports(&artifacts::read("libc.so")?)?,
            full: exports(&artifacts::read("libc-full.so")?)?,
        })
    }

    /// The libc symbols (those the full libc defines) `dylib` imports.
    fn wanted_by(&self, dylib: &[u8]) -> Result<BTreeSet<String>> {
        Ok(imports(dylib)?
            .into_iter()
            .filter(|name| self.full.contains(name))
            .collect())
    }

    /// Fails naming `dylib` and every libc symbol it imports that the
    /// trimmed libc lacks.
    fn check(&self, what: &str, dylib: &[u8]) -> Result<BTreeSet<String>> {
        let wanted = self.wanted_by(dylib)?;
        let missing: Vec<&String> = wanted.difference(&self.trimmed).collect();
        ensure!(
            missing.is_empty(),
            "{what} imports {missing:?} from libc, which the trimmed libc.so does not \
             export; rebuild it with `cargo xtask build-wasm`"
        );
        Ok(wanted)
    }
}

/// Every interpreter dylib in the artifacts directory, by file name.
fn interpreter_artifacts() -> Result<Vec<(String, Vec<u8>)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(artifacts::dir()?)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".so") && !name.starts_with("libc") {
            found.push((name.clone(), artifacts::read(&name)?));
        }
    }
    found.sort();
    Ok(found)
}

/// World libraries from both generators for every world of the test and
/// benchmark WIT files.
fn world_libraries() -> Result<Vec<(String, Vec<u8>)>> {
    let worlds = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("worlds");
    let mut files = vec![worlds.join("bench.wit"), worlds.join("bench-async.wit")];
    for entry in std::fs::read_dir(worlds.join("matrix"))? {
        files.push(entry?.path());
    }
    files.sort();
    let mut libraries = Vec::new();
    for file in files {
        let mut resolve = wit_parser::Resolve::default();
        let (package, _) = resolve
            .push_path(&file)
            .with_context(|| format!("parsing {}", file.display()))?;
        let names: Vec<String> = resolve.packages[package].worlds.keys().cloned().collect();
        // Upstream 0.263 panics on fixed-length lists and on functions
        // passing error-contexts: only ours builds those.
        let fixed_lengths = resolve
            .types
            .iter()
            .any(|(_, ty)| matches!(ty.kind, wit_parser::TypeDefKind::FixedLengthList(..)));
        for name in names {
            let world = World::load(&file, &name)?;
            let label = format!("{}#{name}", file.display());
            libraries.push((format!("{label} (ours)"), ours_world_dylib(&world)?));
            let error_contexts =
                wit_dylib_generator::passes_error_context(&world.resolve, world.world);
            if !fixed_lengths && !error_contexts {
                libraries.push((format!("{label} (upstream)"), upstream_world_dylib(&world)?));
            }
        }
    }
    Ok(libraries)
}

#[test]
fn the_trimmed_libc_defines_what_every_interpreter_imports_from_libc() -> Result<()> {
    let libcs = Libcs::read()?;
    let interpreters = interpreter_artifacts()?;
    ensure!(
        interpreters
            .iter()
            .any(|(name, _)| name == "lua_interpreter.so"),
        "no Lua interpreter among the artifacts: {:?}",
        interpreters
            .iter()
            .map(|(name, _)| name)
            .collect::<Vec<_>>()
    );
    for (name, dylib) in &interpreters {
        let wanted = libcs.check(name, dylib)?;
        ensure!(
            wanted.contains("malloc"),
            "{name}: no libc import found (read {} imports)",
            imports(dylib)?.len()
        );
    }
    Ok(())
}

#[test]
fn the_trimmed_libc_defines_what_world_libraries_of_both_generators_import() -> Result<()> {
    let libcs = Libcs::read()?;
    let libraries = world_libraries()?;
    ensure!(
        libraries.len() > 30,
        "only {} world libraries",
        libraries.len()
    );
    for (label, dylib) in &libraries {
        libcs.check(label, dylib)?;
    }
    Ok(())
}

#[test]
fn the_trimmed_libc_holds_only_what_is_imported() -> Result<()> {
    let libcs = Libcs::read()?;
    let mut imported = BTreeSet::new();
    for (_, dylib) in interpreter_artifacts()?.iter().chain(&world_libraries()?) {
        imported.extend(libcs.wanted_by(dylib)?);
    }
    // Besides: what wasm-ld adds to every shared library, and wasi-libc's
    // marker that carries WASI's component type to the component linker.
    let unasked: Vec<&String> = libcs
        .trimmed
        .difference(&imported)
        .filter(|name| {
            !name.starts_with("__wasm_") && !name.starts_with("__component_type_object_force_link")
        })
        .collect();
    ensure!(
        unasked.is_empty(),
        "the trimmed libc.so exports {unasked:?}, which nothing imports"
    );
    ensure!(
        libcs.trimmed.len() < libcs.full.len(),
        "the trimmed libc.so exports {} symbols, the full one {}",
        libcs.trimmed.len(),
        libcs.full.len()
    );
    Ok(())
}

/// The path the pipeline README gives an interpreter that needs more of
/// libc: `Interpreter::libc` set to the full libc. Lua with the full libc
/// formats numbers and catches errors as with the trimmed one.
#[test]
fn an_interpreter_can_link_the_full_libc_through_the_pipeline() -> Result<()> {
    let lua_full = Interpreter {
        libc: interpreters::libc_full()?,
        ..interpreters::lua()?
    };
    let mut resolve = wit_parser::Resolve::default();
    let package = resolve.push_str(
        "fmt.wit",
        "package test:libc; world fmt { export format: func(x: f64) -> string; }",
    )?;
    let world = resolve.select_world(&[package], Some("fmt"))?;
    let script = Script {
        name: "fmt.lua".into(),
        source: br#"return { format = function(x)
            local ok, err = pcall(error, "boom")
            return string.format("%.2f %s %s", x, tostring(ok), err)
        end }"#
            .to_vec(),
    };
    let component =
        wit_dylib_pipeline::componentize(&lua_full, &script, &resolve, world, &Options::default())?;
    let engine = wit_dylib_pipeline::runtime::engine()?;
    let mut running = wit_dylib_pipeline::runtime::instantiate(&engine, &component, |_, _| Ok(()))?;
    let x = 12.345;
    let result = running.call(None, "format", &[Val::Float64(x)])?;
    assert_eq!(result, [Val::String(format!("{x:.2} false boom"))]);
    Ok(())
}
