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
//!
//! With `by-function` (and CALLS ignored), it counts instead of sampling:
//! the fuel of one call (sync, or async with `async` too) by function. For
//! every `n` up to the call's fuel, a fresh instance (warmed up by two
//! calls) runs the call with `n` fuel, which traps where the `n`th unit runs
//! out; the trap's backtrace names the functions running then. Fuel is not
//! quite instructions: wasmtime charges `memory.copy` and `memory.fill` one
//! unit per byte, so a large move shows. Wasmtime checks fuel
//! on entering a function and at loop heads, so a caller's instructions
//! just before a call count for the callee too, and those after the last
//! check are shown apart; the inclusive figures (a function and what it
//! calls) are exact up to that.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;

use anyhow::{Context, Result, bail};
use wasmtime::component::{Component, TypedFunc};
use wasmtime::{Config, Engine, ProfilingStrategy, Store, WasmBacktrace};
use wit_dylib_pipeline::runtime::{self, Sandbox};
use wit_dylib_pipeline::{Interpreter, Options, Script};
use wit_parser::Resolve;

const WIT: &str = "package bench:profile; world profile { export inc: func(x: u32) -> u32; }";
const ASYNC_WIT: &str =
    "package bench:profile; world profile { export inc: async func(x: u32) -> u32; }";
const LUA: &str = "return { inc = function(x) return x + 1 end }";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [library, libc, calls, modes @ ..] = &args[..] else {
        bail!("usage: profile_inc INTERPRETER.so LIBC.so CALLS [async] [by-function]");
    };
    let is_async = modes.iter().any(|m| m == "async");
    let by_function = modes.iter().any(|m| m == "by-function");
    if let Some(other) = modes.iter().find(|m| *m != "async" && *m != "by-function") {
        bail!("unknown mode `{other}` (expected `async` or `by-function`)");
    }
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
    let instantiate = || -> Result<(Store<runtime::Host>, Inc)> {
        let mut store = runtime::store(&engine, &Sandbox::default())?;
        store.set_fuel(u64::MAX).map_err(anyhow::Error::from)?;
        let instance = linker
            .instantiate(&mut store, &component)
            .map_err(anyhow::Error::from)?;
        let inc = instance
            .get_typed_func::<(u32,), (u32,)>(&mut store, "inc")
            .map_err(anyhow::Error::from)?;
        Ok((store, inc))
    };
    let call_once = if is_async {
        call_once_async
    } else {
        call_once_sync
    };
    if by_function {
        return fuel_by_function(instantiate, call_once);
    }
    let (mut store, inc) = instantiate()?;
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

type Inc = TypedFunc<(u32,), (u32,)>;

/// Calls sync `inc` once.
fn call_once_sync(store: &mut Store<runtime::Host>, inc: Inc, arg: u32) -> wasmtime::Result<()> {
    inc.call(store, (arg,)).map(|_| ())
}

/// Calls async `inc` once, in a run of the store's event loop.
fn call_once_async(store: &mut Store<runtime::Host>, inc: Inc, arg: u32) -> wasmtime::Result<()> {
    runtime::block_on(store.run_concurrent(async move |accessor| {
        inc.call_concurrent(accessor, (arg,)).await.map(|_| ())
    }))?
}

/// Prints the fuel of one warm call of `inc` (made by `call_once`) by
/// function: inclusive (the function and its callees) and self (the
/// function at the top).
fn fuel_by_function(
    instantiate: impl Fn() -> Result<(Store<runtime::Host>, Inc)>,
    call_once: fn(&mut Store<runtime::Host>, Inc, u32) -> wasmtime::Result<()>,
) -> Result<()> {
    let warm = |store: &mut Store<runtime::Host>, inc: Inc| -> Result<u64> {
        for arg in [1, 2] {
            call_once(store, inc, arg).map_err(anyhow::Error::from)?;
        }
        let before = store.get_fuel().map_err(anyhow::Error::from)?;
        call_once(store, inc, 3).map_err(anyhow::Error::from)?;
        Ok(before - store.get_fuel().map_err(anyhow::Error::from)?)
    };
    let (mut store, inc) = instantiate()?;
    let total = warm(&mut store, inc)?;
    let (mut inclusive, mut exclusive) = (BTreeMap::<String, u64>::new(), BTreeMap::new());
    let mut unchecked = 0;
    for n in 1..=total {
        let (mut store, inc) = instantiate()?;
        warm(&mut store, inc)?;
        store.set_fuel(n).map_err(anyhow::Error::from)?;
        let err = match call_once(&mut store, inc, 4) {
            // The rest runs after the last check: the call no longer traps.
            Ok(_) => {
                unchecked = total - n + 1;
                break;
            }
            Err(err) => err,
        };
        let trace = err
            .downcast_ref::<WasmBacktrace>()
            .context("an out-of-fuel trap without a backtrace")?;
        let names: Vec<String> = trace
            .frames()
            .iter()
            .map(|frame| match frame.func_name() {
                Some(name) => name.to_string(),
                None => format!(
                    "module {} function {}",
                    frame.module().name().unwrap_or("?"),
                    frame.func_index()
                ),
            })
            .collect();
        if let Some(top) = names.first() {
            *exclusive.entry(top.clone()).or_default() += 1;
        }
        for name in names.into_iter().collect::<BTreeSet<_>>() {
            *inclusive.entry(name).or_default() += 1;
        }
    }
    let mut rows: Vec<(String, u64, u64)> = inclusive
        .into_iter()
        .map(|(name, fuel)| {
            let own = exclusive.get(&name).copied().unwrap_or(0);
            (name, fuel, own)
        })
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)));
    println!(
        "one call of inc: {total} fuel\n{:>9} {:>6}  function",
        "inclusive", "self"
    );
    for (name, fuel, own) in rows {
        println!("{fuel:>9} {own:>6}  {name}");
    }
    println!("{unchecked:>9} {unchecked:>6}  (after the last fuel check: the call's return)");
    Ok(())
}

/// Calls async `inc` `calls` times, each awaited before the next.
fn call_async(store: &mut Store<runtime::Host>, inc: Inc, calls: u64) -> Result<()> {
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
