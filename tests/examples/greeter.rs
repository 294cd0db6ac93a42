//! Builds the greeter component (Rust interpreter dylib + world dylib + libc
//! + libsetjmp) and runs it: `cargo xtask demo [NAME]`.

use std::path::Path;

use anyhow::Result;
use wasmtime::component::Val;
use wit_dylib_tests::component::{self, World};
use wit_dylib_tests::host::{HostFn, Instance};

fn main() -> Result<()> {
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "world".to_string());
    let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("worlds/greeter.wit");
    let world = World::load(&wit, "greeter")?;
    let bytes = component::link(
        "greeter_interpreter.so",
        &component::upstream_world_dylib(&world)?,
    )?;
    println!("linked the greeter component: {} bytes", bytes.len());

    let log: HostFn = Box::new(|args| {
        if let [Val::String(msg)] = args {
            println!("  host log: {msg}");
        }
        Ok(vec![])
    });
    let mut instance = Instance::new(&bytes, vec![("log", log)])?;
    let results = instance.call("run", &[Val::String(name.clone())])?;
    println!("run({name:?}) returned {results:?}");
    Ok(())
}
