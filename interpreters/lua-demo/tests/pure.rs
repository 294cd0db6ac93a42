//! `--stub-wasi`: a component that imports exactly its world, and runs on a
//! host that provides nothing else (here: a wasmtime linker without WASI).

use std::path::Path;

use anyhow::Result;
use lua_demo::{Options, Script, componentize_with, load_world, runtime};
use wasmtime::Store;
use wasmtime::component::{Component, Instance, Linker, Val};

const STUBBED: Options = Options {
    preinit: true,
    stub_wasi: true,
    limits: lua_demo::Limits::DEFAULT,
};

fn build(script: &Path, wit: &Path, world: &str) -> Result<Vec<u8>> {
    let (resolve, world) = load_world(wit, Some(world))?;
    componentize_with(&Script::read(script)?, &resolve, world, &STUBBED)
}

fn import_names(component: &Component) -> Vec<String> {
    let engine = component.engine();
    let mut names: Vec<String> = component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    names.sort();
    names
}

/// Instantiates with nothing but what `define` provides: no WASI.
fn instantiate_bare(
    component: &Component,
    define: impl FnOnce(&mut Linker<()>) -> wasmtime::Result<()>,
) -> Result<(Store<()>, Instance)> {
    let mut linker = Linker::new(component.engine());
    define(&mut linker)?;
    let mut store = Store::new(component.engine(), ());
    store.set_fuel(lua_demo::Limits::DEFAULT_FUEL)?;
    // The pipeline's engines interrupt wasm at a store's epoch deadline.
    lua_demo::deadline::arm(&mut store, lua_demo::Limits::DEFAULT_TIMEOUT);
    let instance = linker.instantiate(&mut store, component)?;
    Ok((store, instance))
}

fn call(
    store: &mut Store<()>,
    instance: &Instance,
    path: &[&str],
    args: &[Val],
) -> Result<Vec<Val>> {
    let mut parent = None;
    for name in path {
        parent = Some(
            instance
                .get_export_index(&mut *store, parent.as_ref(), name)
                .ok_or_else(|| anyhow::anyhow!("no export {name}"))?,
        );
    }
    let func = instance
        .get_func(&mut *store, parent.unwrap())
        .ok_or_else(|| anyhow::anyhow!("not a function"))?;
    let mut results = vec![Val::Bool(false); func.ty(&*store).results().len()];
    func.call(&mut *store, args, &mut results)?;
    Ok(results)
}

#[test]
fn a_world_without_imports_gives_a_component_without_imports() -> Result<()> {
    let dir = lua_demo::crate_dir().join("tests");
    let script = std::env::temp_dir().join(format!("pure-{}.lua", std::process::id()));
    std::fs::write(
        &script,
        "local at = os.time()\n\
         return { spin = function() end, started_at = function() return at end,\n\
                  starts = function() return 1 end,\n\
                  draw = function() return math.random(1, 6) end }",
    )?;
    let bytes = build(&script, &dir.join("sandbox.wit"), "sandbox")?;
    let component = Component::new(&runtime::engine()?, &bytes)?;
    assert_eq!(import_names(&component), Vec::<String>::new());

    let (mut store, instance) = instantiate_bare(&component, |_| Ok(()))?;
    let [Val::S64(at)] = call(&mut store, &instance, &["started-at"], &[])?[..] else {
        panic!("started-at returns s64")
    };
    assert_eq!(at, 946_684_800, "the build sandbox's clock");
    // No wasi:random in the world: math.random keeps the snapshot's seed.
    let [Val::S64(die)] = call(&mut store, &instance, &["draw"], &[])?[..] else {
        panic!("draw returns s64")
    };
    assert!((1..=6).contains(&die), "{die}");
    Ok(())
}

#[test]
fn the_bundled_example_imports_only_its_host_interface() -> Result<()> {
    let example = lua_demo::crate_dir().join("example");
    let bytes = build(&example.join("app.lua"), &example.join("app.wit"), "app")?;
    let component = Component::new(&runtime::engine()?, &bytes)?;
    assert_eq!(import_names(&component), ["demo:app/host"]);

    let (mut store, instance) = instantiate_bare(&component, |linker| {
        let mut host = linker.instance("demo:app/host")?;
        host.func_new("log", |_, _, _, _| Ok(()))?;
        host.func_new("current-weather", |_, _, _, _| {
            wasmtime::bail!("not needed by greet")
        })?;
        Ok(())
    })?;
    let greeting = call(
        &mut store,
        &instance,
        &["demo:app/api", "greet"],
        &[Val::String("pure".into())],
    )?;
    assert_eq!(greeting, [Val::String("Hello, pure!".into())]);
    Ok(())
}

/// Issue #27: stubs cost nothing. The stubbed component drops the WASI
/// imports and their types; its stubs share the one small core module that
/// every pre-initialised component has (for the build-time import), so it
/// has as many core instances and memories as the plain one.
#[test]
fn a_stubbed_component_is_no_bigger_than_the_plain_one() -> Result<()> {
    let example = lua_demo::crate_dir().join("example");
    let (resolve, world) = load_world(&example.join("app.wit"), Some("app"))?;
    let script = Script::read(&example.join("app.lua"))?;
    let plain = Options {
        stub_wasi: false,
        ..STUBBED
    };
    let plain = componentize_with(&script, &resolve, world, &plain)?;
    let stubbed = componentize_with(&script, &resolve, world, &STUBBED)?;
    assert!(
        stubbed.len() <= plain.len(),
        "stubbed {} bytes, plain {} bytes",
        stubbed.len(),
        plain.len()
    );
    let (plain, stubbed) = (
        instances_and_memories(&plain)?,
        instances_and_memories(&stubbed)?,
    );
    assert_eq!(stubbed, plain, "core instances and memories");
    Ok(())
}

/// How many core instances a component makes and memories its modules define.
fn instances_and_memories(component: &[u8]) -> Result<(u32, u32)> {
    let (mut instances, mut memories) = (0, 0);
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        match payload? {
            wasmparser::Payload::InstanceSection(section) => {
                for instance in section {
                    if let wasmparser::Instance::Instantiate { .. } = instance? {
                        instances += 1;
                    }
                }
            }
            wasmparser::Payload::MemorySection(section) => memories += section.count(),
            _ => {}
        }
    }
    Ok((instances, memories))
}

#[test]
fn a_stubbed_wasi_call_traps() -> Result<()> {
    let dir = lua_demo::crate_dir().join("tests");
    let script = std::env::temp_dir().join(format!("pure-print-{}.lua", std::process::id()));
    std::fs::write(
        &script,
        "return { spin = function() print('hello') io.stdout:flush() end,\n\
                  started_at = function() return 0 end, starts = function() return 1 end,\n\
                  draw = function() return 4 end }",
    )?;
    let bytes = build(&script, &dir.join("sandbox.wit"), "sandbox")?;
    let component = Component::new(&runtime::engine()?, &bytes)?;
    let (mut store, instance) = instantiate_bare(&component, |_| Ok(()))?;
    assert_eq!(call(&mut store, &instance, &["draw"], &[])?, [Val::S64(4)]);
    // `print` reaches wasi:cli/stdout, which the world does not import.
    let err = call(&mut store, &instance, &["spin"], &[]).expect_err("a stub must trap");
    assert!(
        matches!(
            err.downcast_ref::<wasmtime::Trap>(),
            Some(wasmtime::Trap::UnreachableCodeReached)
        ),
        "{err:?}"
    );
    Ok(())
}
