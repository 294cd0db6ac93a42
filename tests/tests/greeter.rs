//! The first end-to-end test: a Rust interpreter dylib built on the SDK, a
//! world dylib from the wasm-tools `wit-dylib` generator and libc.so linked
//! into one component and run under wasmtime.

use anyhow::Result;
use wasmtime::component::Val;
use wit_dylib_tests::component::{self, World};
use wit_dylib_tests::host::{HostFn, Instance, Recorder};

fn greeter_component() -> Result<Vec<u8>> {
    let wit = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("worlds/greeter.wit");
    let world = World::load(&wit, "greeter")?;
    let dylib = component::upstream_world_dylib(&world)?;
    component::link("greeter_interpreter.so", &dylib)
}

fn log_import(log: &Recorder) -> (&'static str, HostFn) {
    let log = log.clone();
    let func: HostFn = Box::new(move |args| {
        match args {
            [Val::String(msg)] => log.record(msg.clone()),
            other => anyhow::bail!("log called with {other:?}"),
        }
        Ok(vec![])
    });
    ("log", func)
}

#[test]
fn run_returns_the_greeting_and_logs_through_the_host() -> Result<()> {
    let log = Recorder::default();
    let mut instance = Instance::new(&greeter_component()?, vec![log_import(&log)])?;

    let results = instance.call("run", &[Val::String("wasm".into())])?;
    assert_eq!(results, [Val::String("Hello, wasm!".into())]);
    assert_eq!(log.entries(), ["run called with \"wasm\""]);

    // A second call on the same instance: the interpreter's state and the
    // glue's stack frames survive the first one.
    let results = instance.call("run", &[Val::String("ünïcödé ✓".into())])?;
    assert_eq!(results, [Val::String("Hello, ünïcödé ✓!".into())]);
    assert_eq!(log.entries().len(), 2);
    assert_eq!(log.entries()[1], "run called with \"ünïcödé ✓\"");
    Ok(())
}
