//! Where a call's time goes: calls `inc(u32)` of a Lua component in a loop
//! on an engine that writes a perf map (`/tmp/perf-PID.map`), so that
//! `perf` names the wasm functions the guest runs. The `lua` bench gives
//! the call's fuel by stage; this gives it by function. With `async` last,
//! `inc` is an async export, each call awaited in turn in the store's
//! event loop (as the bench's async figure). Either way it prints the
//! fuel of one call.
//!
//! ```sh
//! cargo build --release -p wit-dylib-tests --example profile_inc
//! perf record -D 3000 -F 20000 target/release/examples/profile_inc \
//!     INTERPRETER.so LIBC.so 4000000 [async]
//! perf report --sort sym --no-children
//! ```
//!
//! `-D 3000` skips building and compiling the component. The shipped
//! interpreters carry no names (`wasm-opt` drops them): for names, pass the
//! unshrunk dylib from `<target>/wasm-build/wasm32-wasip2/wasm/` of a build
//! whose profile keeps symbols (`strip = "debuginfo"`).

use std::borrow::Cow;
use std::hint::black_box;

use anyhow::{Context, Result, bail};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, ProfilingStrategy};
use wit_dylib_pipeline::runtime::{self, Sandbox};
use wit_dylib_pipeline::{Interpreter, Options, Script};
use wit_parser::Resolve;

const WIT: &str = "package bench:profile; world profile { export inc: func(x: u32) -> u32; }";
const ASYNC_WIT: &str =
    "package bench:profile; world profile { export inc: async func(x: u32) -> u32; }";
const LUA: &str = "return { inc = function(x) return x + 1 end }";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (library, libc, calls, is_async) = match &args[..] {
        [library, libc, calls] => (library, libc, calls, false),
        [library, libc, calls, mode] if mode == "async" => (library, libc, calls, true),
        _ => bail!("usage: profile_inc INTERPRETER.so LIBC.so CALLS [async]"),
    };
    let calls: u64 = calls.parse().context("CALLS is a number")?;
    let read = |path: &str| std::fs::read(path).with_context(|| format!("reading {path}"));
    let interpreter = Interpreter {
        language: "Lua".into(),
        library_name: "lua_interpreter.so".into(),
        library: Cow::Owned(read(library)?),
        check: None,
        supports_async: true,
        libc: Cow::Owned(read(libc)?),
    };
    let mut resolve = Resolve::default();
    let package = resolve.push_str("profile.wit", if is_async { ASYNC_WIT } else { WIT })?;
    let world = resolve.select_world(&[package], Some("profile"))?;
    let script = Script {
        name: "profile.lua".into(),
        source: LUA.as_bytes().to_vec(),
    };
    let options = Options::default();
    let bytes = wit_dylib_pipeline::componentize(&interpreter, &script, &resolve, world, &options)?;

    // As `run` configures a component, plus the perf map.
    let mut config = Config::new();
    config.wasm_exceptions(true);
    config.concurrency_support(is_async);
    config.consume_fuel(true);
    config.epoch_interruption(true);
    config.profiler(ProfilingStrategy::PerfMap);
    let engine = Engine::new(&config).map_err(anyhow::Error::from)?;
    let component = Component::new(&engine, &bytes).map_err(anyhow::Error::from)?;
    let linker = runtime::linker(&component, |linker, component| {
        runtime::stub_imports(linker, component, "the profile calls none")
    })?;
    let mut store = runtime::store(&engine, &Sandbox::default())?;
    store.set_fuel(u64::MAX).map_err(anyhow::Error::from)?;
    let instance = linker
        .instantiate(&mut store, &component)
        .map_err(anyhow::Error::from)?;
    let inc = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "inc")
        .map_err(anyhow::Error::from)?;
    if is_async {
        return call_async(&mut store, inc, calls);
    }
    let fuel = store.get_fuel().map_err(anyhow::Error::from)?;
    let mut x = 0;
    for _ in 0..calls {
        let arg = x % 1_000_000;
        x = black_box(inc.call(&mut store, (arg,)).map_err(anyhow::Error::from)?.0);
    }
    let used = fuel - store.get_fuel().map_err(anyhow::Error::from)?;
    println!(
        "inc called {calls} times, last result {x}, {} fuel per call",
        used / calls.max(1)
    );
    Ok(())
}

/// Calls async `inc` `calls` times, each awaited before the next.
fn call_async(
    store: &mut wasmtime::Store<runtime::Host>,
    inc: wasmtime::component::TypedFunc<(u32,), (u32,)>,
    calls: u64,
) -> Result<()> {
    let fuel = store.get_fuel().map_err(anyhow::Error::from)?;
    let x = runtime::block_on(store.run_concurrent(async move |accessor| {
        let mut x = 0;
        for _ in 0..calls {
            let arg = x % 1_000_000;
            x = black_box(inc.call_concurrent(accessor, (arg,)).await?.0);
        }
        wasmtime::Result::<_>::Ok(x)
    }))
    .map_err(anyhow::Error::from)?
    .map_err(anyhow::Error::from)?;
    let used = fuel - store.get_fuel().map_err(anyhow::Error::from)?;
    println!(
        "async inc called {calls} times, last result {x}, {} fuel per call",
        used / calls.max(1)
    );
    Ok(())
}
