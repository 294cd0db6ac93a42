//! Figures for Lua components made by `lua-demo`: component sizes, the
//! latency of a small export call and the throughput of a large one, and
//! the same for an async export and a `stream<u8>` echo, each printed
//! against its target. The small call is shown against its floor: the same
//! call into a native component (plain Rust, `tests/native/echo`) in the
//! same engine, which is what wasmtime itself spends on a call. The same
//! call into a component of a sync world (which imports no async built-in)
//! is timed again on an engine with wasmtime's concurrency support off, as
//! `run` and `serve` use for such components, with its floor on that
//! engine. The async call is shown against an async export of plain Rust
//! (`tests/native/async`, with wit-bindgen's async runtime) in the same way.
//!
//! That call's fuel is then broken down: the same world with the echo test
//! interpreter (`tests/interpreters/echo`, which returns its argument
//! through the SDK's `ValStack`) costs the glue, the SDK and a `Val` stack;
//! the Lua VM's part is what one more `inc` costs inside a Lua loop; the
//! rest is mlua, and Lua's own stack in place of the `Val` one.
//!
//! `cargo bench -p wit-dylib-tests --bench lua` (after `cargo xtask build-wasm`)

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use wasmtime::Engine;
use wasmtime::component::{StreamReader, TypedFunc};
use wit_dylib_pipeline::Interpreter;
use wit_dylib_pipeline::concurrency;
use wit_dylib_pipeline::runtime::{Running, block_on, cached_engine_for, engine, instantiate};
use wit_dylib_pipeline::streams::Collector;
use wit_dylib_pipeline::{Options, Script, load_world};
use wit_dylib_tests::component::{self, World, ours_world_dylib};
use wit_dylib_tests::interpreters;
use wit_parser::{Resolve, WorldId};

const SIZE_TARGET: usize = 700_000;
const CALL_TARGET: Duration = Duration::from_nanos(500);
/// What our side (glue, SDK, mlua, the Lua VM) may add to wasmtime's floor.
const OUR_PART_TARGET: Duration = Duration::from_nanos(250);
const THROUGHPUT_TARGET: f64 = 1e9;
/// Issue #27's target for the `stream<u8>` echo; its peer is the
/// `list<u8>` echo in the same run.
const STREAM_TARGET: f64 = 3e9;
const ECHO_LEN: usize = 1 << 20;
/// An async call may cost at most this many sync calls.
const ASYNC_CALL_RATIO_TARGET: f64 = 3.0;
/// Bytes per stream echo, and per write or read on each side.
const STREAM_LEN: usize = 8 << 20;
const STREAM_CHUNK: usize = 64 << 10;

/// The smallest useful component, and the calls to time.
const BENCH_WIT: &str = "package bench:lua;
world hello { export hello: func() -> string; }
world perf-sync {
  export inc: func(x: u32) -> u32;
  export inc-loop: func(n: u32, x: u32) -> u32;
}
world perf {
  export inc: func(x: u32) -> u32;
  export echo-bytes: func(b: list<u8>) -> list<u8>;
  export inc-async: async func(x: u32) -> u32;
  export echo-stream: async func(s: stream<u8>) -> stream<u8>;
}";
const HELLO_LUA: &str = r#"return { hello = function() return "Hello, world!" end }"#;
const PERF_LUA: &str = r#"
local function inc(x) return x + 1 end
return {
  inc = inc,
  inc_loop = function(n, x) for _ = 1, n do x = inc(x) end return x end,
  echo_bytes = function(b) return b end,
  inc_async = function(x) return x + 1 end,
  echo_stream = function(input)
    local output, writer = wit.stream("u8")
    wit.spawn(function()
      for chunk in function() return input:read() end do writer:write(chunk) end
      writer:close()
    end)
    return output
  end,
}"#;

fn main() -> Result<()> {
    let example = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("../interpreters/lua-demo/example");
    let (resolve, world) = load_world(&example.join("app.wit"), Some("app"))?;
    let demo = interpreters::componentize(
        &Script::read(&example.join("app.lua"))?,
        &resolve,
        world,
        &Options::default(),
    )?;
    let hello = componentize_str("hello", HELLO_LUA, &interpreters::lua()?)?;
    // The baseline: the same component with all of wasi-libc.
    let lua_full_libc = Interpreter {
        libc: interpreters::libc_full()?,
        ..interpreters::lua()?
    };
    let hello_full = componentize_str("hello", HELLO_LUA, &lua_full_libc)?;
    let perf = componentize_str("perf", PERF_LUA, &interpreters::lua()?)?;

    let engine = engine()?;
    let mut running = instantiate(&engine, &perf, |_, _| Ok(()))?;
    // The floor: the same kind of call into plain Rust, in the same engine.
    let native = wit_dylib_tests::native::build("echo")?;
    let mut floor_running = instantiate(&engine, &native, |_, _| Ok(()))?;
    let (call, floor, above_floor) = time_against_floor(
        Scalar::new(&mut running, "inc", 42)?,
        Scalar::new(&mut floor_running, "scalar", 41)?,
    )?;
    // A sync world's component, on the engine `run` picks for it.
    let sync_perf = componentize_str("perf-sync", PERF_LUA, &interpreters::lua()?)?;
    ensure!(
        !concurrency::needed_by(&sync_perf),
        "the sync world's component needs concurrency"
    );
    let sync_engine = cached_engine_for(&sync_perf)?;
    let mut sync_running = instantiate(&sync_engine, &sync_perf, |_, _| Ok(()))?;
    let mut sync_floor_running = instantiate(&cached_engine_for(&native)?, &native, |_, _| Ok(()))?;
    let (sync_call, sync_floor, sync_above_floor) = time_against_floor(
        Scalar::new(&mut sync_running, "inc", 42)?,
        Scalar::new(&mut sync_floor_running, "scalar", 41)?,
    )?;
    let stages = Stages::measure(&engine, &sync_perf, sync_call.fuel)?;
    let echo = time_echo(&mut running)?;
    let throughput = ECHO_LEN as f64 / echo.as_secs_f64();
    // The async floor: an async export of plain Rust with wit-bindgen's
    // runtime, in the same engine.
    let native_async = wit_dylib_tests::native::build("async")?;
    let mut async_floor_running = instantiate(&engine, &native_async, |_, _| Ok(()))?;
    let (async_call, async_floor, async_above_floor) = time_against_floor(
        AsyncInc::new(&mut running)?,
        AsyncInc::new(&mut async_floor_running)?,
    )?;
    let (stream, stream_fuel) = time_echo_stream(&mut running)?;
    let stream_throughput = STREAM_LEN as f64 / stream.as_secs_f64();

    println!("{:<40} {:>14} {:>14}", "figure", "measured", "target");
    for (what, size) in [
        ("demo component (app.lua)", demo.len()),
        ("hello-world component", hello.len()),
    ] {
        println!(
            "{what:<40} {:>12.3}MB {:>12.3}MB",
            mb(size),
            mb(SIZE_TARGET)
        );
    }
    println!(
        "{:<40} {:>12.3}MB {:>14}   (trimmed libc.so: {:.2}x its size)",
        "hello-world with libc-full.so",
        mb(hello_full.len()),
        "-",
        hello.len() as f64 / hello_full.len() as f64
    );
    println!(
        "{:<40} {:>14.2?} {:>14.2?}   ({} fuel)",
        "inc(u32) -> u32, median call", call.median, CALL_TARGET, call.fuel
    );
    println!(
        "{:<40} {:>14.2?} {:>14}   ({} fuel; wasmtime's own cost of a call)",
        "  floor: native scalar(u32) -> u32", floor.median, "-", floor.fuel
    );
    println!(
        "{:<40} {:>14.2?} {:>14}   (glue, SDK, mlua and the Lua VM)",
        "  above the floor", above_floor, "-"
    );
    println!(
        "{:<40} {:>14.2?} {:>14.2?}   ({} fuel; concurrency off)",
        "inc(u32) -> u32, sync world", sync_call.median, CALL_TARGET, sync_call.fuel
    );
    println!(
        "{:<40} {:>14.2?} {:>14}   ({} fuel; concurrency {})",
        "  floor: native scalar(u32) -> u32",
        sync_floor.median,
        "-",
        sync_floor.fuel,
        if concurrency::needed_by(&native) {
            "on: it needs it"
        } else {
            "off"
        }
    );
    println!(
        "{:<40} {:>14.2?} {:>14.2?}",
        "  above the floor", sync_above_floor, OUR_PART_TARGET
    );
    stages.print();
    println!(
        "{:<40} {:>10.3}GB/s {:>10.3}GB/s   ({echo:.2?} per call)",
        "echo-bytes(1 MiB list<u8>)",
        throughput / 1e9,
        THROUGHPUT_TARGET / 1e9
    );
    let ratio = async_call.median.as_secs_f64() / call.median.as_secs_f64();
    let fuel_ratio = async_call.fuel as f64 / call.fuel as f64;
    println!(
        "{:<40} {:>14.2?} {:>13.2}x   ({ratio:.2}x the sync call, target {ASYNC_CALL_RATIO_TARGET:.1}x; {} fuel, {fuel_ratio:.2}x the sync call's)",
        "async inc(u32) -> u32, median call",
        async_call.median,
        ASYNC_CALL_RATIO_TARGET,
        async_call.fuel
    );
    println!(
        "{:<40} {:>14.2?} {:>14}   ({} fuel; {:.2}x the native sync call)",
        "  floor: native async inc(u32) -> u32",
        async_floor.median,
        "-",
        async_floor.fuel,
        async_floor.median.as_secs_f64() / floor.median.as_secs_f64()
    );
    println!(
        "{:<40} {:>14.2?} {:>14}   (sync: {above_floor:.2?})",
        "  above the floor", async_above_floor, "-"
    );
    println!(
        "{:<40} {:>10.3}GB/s {:>10.3}GB/s   ({stream:.2?} per 8 MiB, the host writes all, reads 64 KiB at a time; {:.2}x the list<u8> echo; {stream_fuel} fuel)",
        "echo-stream(stream<u8>)",
        stream_throughput / 1e9,
        STREAM_TARGET / 1e9,
        stream_throughput / throughput
    );
    Ok(())
}

/// The fuel of the sync `inc` call, by stage.
struct Stages {
    total: u64,
    /// The echo interpreter's call of the same export: glue, SDK and a
    /// `Val` stack.
    glue_sdk: u64,
    /// One `inc` inside a Lua loop.
    lua_vm: u64,
}

impl Stages {
    fn measure(engine: &Engine, sync_perf: &[u8], total: u64) -> Result<Stages> {
        let (resolve, world) = bench_world("perf-sync")?;
        let world = World { resolve, world };
        let echo = component::link("echo_interpreter.so", &ours_world_dylib(&world)?)?;
        let mut echo = instantiate(engine, &echo, |_, _| Ok(()))?;
        let glue_sdk = Scalar::new(&mut echo, "inc", 41)?;
        let mut lua = instantiate(engine, sync_perf, |_, _| Ok(()))?;
        let looped = |running: &mut Running, n: u32| -> Result<u64> {
            let func = running
                .instance
                .get_typed_func::<(u32, u32), (u32,)>(&mut running.store, "inc-loop")
                .map_err(anyhow::Error::from)?;
            running.store.set_fuel(u64::MAX)?;
            let (x,) = func
                .call(&mut running.store, (n, 0))
                .map_err(anyhow::Error::from)?;
            ensure!(x == n, "inc-loop({n}, 0) returned {x}");
            Ok(u64::MAX - running.store.get_fuel()?)
        };
        looped(&mut lua, 1)?;
        let lua_vm = (looped(&mut lua, 1001)? - looped(&mut lua, 1)?) / 1000;
        Ok(Stages {
            total,
            glue_sdk: glue_sdk.fuel,
            lua_vm,
        })
    }

    fn print(&self) {
        let rest = self.total.saturating_sub(self.glue_sdk + self.lua_vm);
        println!("{:<40} {:>14}", "  its fuel by stage:", self.total);
        for (stage, fuel) in [
            ("glue + SDK + Val stack (echo interp.)", self.glue_sdk),
            ("mlua, Lua's stack less the Val stack", rest),
            ("the Lua VM (one inc in a Lua loop)", self.lua_vm),
        ] {
            println!(
                "    {stage:<36} {fuel:>14}   ({:.0} %)",
                fuel as f64 * 100.0 / self.total as f64
            );
        }
    }
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

/// World `world` of [`BENCH_WIT`].
fn bench_world(world: &str) -> Result<(Resolve, WorldId)> {
    let mut resolve = Resolve::default();
    let package = resolve.push_str("bench.wit", BENCH_WIT)?;
    let world = resolve.select_world(&[package], Some(world))?;
    Ok((resolve, world))
}

/// Componentizes a script for world `world` of [`BENCH_WIT`].
fn componentize_str(world: &str, source: &str, interpreter: &Interpreter) -> Result<Vec<u8>> {
    let (resolve, world) = bench_world(world)?;
    let script = Script {
        name: format!("{world:?}.lua"),
        source: source.as_bytes().to_vec(),
    };
    wit_dylib_pipeline::componentize(interpreter, &script, &resolve, world, &Options::default())
}

/// A warm call's wall time and its fuel (wasm instructions).
struct CallCost {
    /// The median, over rounds, of the mean time per call of a batch.
    median: Duration,
    fuel: u64,
}

/// Export `name: func(u32) -> u32` of a running component, called through a
/// typed function, the host's cheapest way to call.
struct Scalar<'a> {
    running: &'a mut Running,
    func: TypedFunc<(u32,), (u32,)>,
    fuel: u64,
}

impl<'a> Scalar<'a> {
    /// `name`, which must return `expected` for 41 (`inc` adds one, the
    /// native `scalar` echoes), warmed up, with the fuel of one call.
    fn new(running: &'a mut Running, name: &str, expected: u32) -> Result<Scalar<'a>> {
        let func = running
            .instance
            .get_typed_func::<(u32,), (u32,)>(&mut running.store, name)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("typing `{name}`"))?;
        running.store.set_fuel(u64::MAX)?;
        let (result,) = func
            .call(&mut running.store, (41,))
            .map_err(anyhow::Error::from)?;
        ensure!(
            result == expected,
            "{name}(41) returned {result}, not {expected}"
        );
        let before = running.store.get_fuel()?;
        func.call(&mut running.store, (41,))
            .map_err(anyhow::Error::from)?;
        let fuel = before - running.store.get_fuel()?;
        Ok(Scalar {
            running,
            func,
            fuel,
        })
    }
}

/// A call timed against its floor by [`time_against_floor`].
trait Timed {
    /// The mean wall time of one call over a batch of them.
    fn batch(&mut self) -> Duration;
    /// The fuel of one call.
    fn fuel(&self) -> u64;
}

impl Timed for Scalar<'_> {
    fn batch(&mut self) -> Duration {
        let start = Instant::now();
        for _ in 0..BATCH {
            black_box(
                self.func
                    .call(&mut self.running.store, (black_box(7),))
                    .unwrap(),
            );
        }
        start.elapsed() / BATCH
    }

    fn fuel(&self) -> u64 {
        self.fuel
    }
}

/// Calls per timed batch of [`time_against_floor`].
const BATCH: u32 = 2_000;

/// Times `call` and its `floor` in alternating batches for a few seconds, so
/// that both are measured under the same load: on a shared machine the load
/// changes from one second to the next, and two figures taken one after the
/// other were up to 2x apart. Returns the cost of each and what is above the
/// floor: the median of each round's difference.
fn time_against_floor(
    mut call: impl Timed,
    mut floor: impl Timed,
) -> Result<(CallCost, CallCost, Duration)> {
    let (mut calls, mut floors, mut aboves) = (Vec::new(), Vec::new(), Vec::new());
    let start = Instant::now();
    while calls.len() < 10 || start.elapsed() < Duration::from_secs(4) {
        let (c, f) = (call.batch(), floor.batch());
        calls.push(c);
        floors.push(f);
        aboves.push(c.saturating_sub(f));
    }
    Ok((
        CallCost {
            median: median_of(calls),
            fuel: call.fuel(),
        },
        CallCost {
            median: median_of(floors),
            fuel: floor.fuel(),
        },
        median_of(aboves),
    ))
}

/// The median wall time of echoing [`ECHO_LEN`] bytes.
fn time_echo(running: &mut Running) -> Result<Duration> {
    let echo = running
        .instance
        .get_typed_func::<(&[u8],), (Vec<u8>,)>(&mut running.store, "echo-bytes")
        .map_err(anyhow::Error::from)
        .context("typing `echo-bytes`")?;
    let bytes: Vec<u8> = (0..ECHO_LEN).map(|i| (i * 7) as u8).collect();
    ensure!(
        echo.call(&mut running.store, (&bytes,))
            .map_err(anyhow::Error::from)?
            .0
            == bytes,
        "echo-bytes did not echo"
    );
    median(200, Duration::from_secs(2), || {
        black_box(echo.call(&mut running.store, (&bytes,)).unwrap());
    })
}

/// Export `inc-async: async func(u32) -> u32` of a running component, each
/// call awaited in turn inside the store's event loop.
struct AsyncInc<'a> {
    running: &'a mut Running,
    func: TypedFunc<(u32,), (u32,)>,
    fuel: u64,
}

impl<'a> AsyncInc<'a> {
    /// `inc-async`, checked to add one, warmed up, with the fuel of one call.
    fn new(running: &'a mut Running) -> Result<AsyncInc<'a>> {
        let func = running
            .export(None, "inc-async")?
            .typed::<(u32,), (u32,)>(&running.store)
            .map_err(anyhow::Error::from)?;
        let mut inc = AsyncInc {
            running,
            func,
            fuel: 0,
        };
        inc.running.store.set_fuel(u64::MAX)?;
        inc.calls(1)?;
        let before = inc.running.store.get_fuel()?;
        inc.calls(1)?;
        inc.fuel = before - inc.running.store.get_fuel()?;
        Ok(inc)
    }

    /// Makes `n` calls, one after the other, in one run of the event loop.
    fn calls(&mut self, n: u32) -> Result<()> {
        let func = self.func;
        block_on(self.running.store.run_concurrent(async move |accessor| {
            for _ in 0..n {
                let (y,) = func.call_concurrent(accessor, (black_box(7),)).await?;
                ensure!(y == 8, "inc-async(7) returned {y}");
            }
            Ok(())
        }))
        .map_err(anyhow::Error::from)?
    }
}

impl Timed for AsyncInc<'_> {
    fn batch(&mut self) -> Duration {
        let start = Instant::now();
        self.calls(ASYNC_BATCH).unwrap();
        start.elapsed() / ASYNC_BATCH
    }

    fn fuel(&self) -> u64 {
        self.fuel
    }
}

/// Async calls per timed batch.
const ASYNC_BATCH: u32 = 200;

/// The median wall time of echoing [`STREAM_LEN`] bytes through
/// `echo-stream` (the host writes them and reads them back), and the fuel
/// of one echo.
fn time_echo_stream(running: &mut Running) -> Result<(Duration, u64)> {
    let echo = running
        .export(None, "echo-stream")?
        .typed::<(StreamReader<u8>,), (StreamReader<u8>,)>(&running.store)
        .map_err(anyhow::Error::from)?;
    let bytes: Vec<u8> = (0..STREAM_LEN).map(|i| (i * 7) as u8).collect();
    let expected = Arc::new(bytes.clone());
    let mut samples = Vec::new();
    let mut fuel = 0;
    let start = Instant::now();
    while samples.len() < 5 || (samples.len() < 100 && start.elapsed() < Duration::from_secs(3)) {
        running.store.set_fuel(u64::MAX)?;
        let input =
            StreamReader::new(&mut running.store, bytes.clone()).map_err(anyhow::Error::from)?;
        // Each batch is checked as it arrives and then dropped, as a
        // server would send it on: the host does not grow an 8 MiB buffer.
        let (echoed, matches) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(true)),
        );
        let output = Collector::<u8>::new(STREAM_CHUNK)
            .discard_items()
            .on_items({
                let (expected, echoed, matches) =
                    (expected.clone(), echoed.clone(), matches.clone());
                move |batch| {
                    let at = echoed.fetch_add(batch.len(), Ordering::Relaxed);
                    if expected.get(at..at + batch.len()) != Some(batch) {
                        matches.store(false, Ordering::Relaxed);
                    }
                }
            });
        let begin = Instant::now();
        block_on(running.store.run_concurrent(async |accessor| {
            let (stream,) = echo.call_concurrent(accessor, (input,)).await?;
            accessor.with(|store| stream.pipe(store, output.consumer()))?;
            output.items().await;
            wasmtime::Result::<_>::Ok(())
        }))
        .map_err(anyhow::Error::from)?
        .map_err(anyhow::Error::from)?;
        samples.push(begin.elapsed());
        fuel = u64::MAX - running.store.get_fuel()?;
        ensure!(
            matches.load(Ordering::Relaxed) && echoed.load(Ordering::Relaxed) == bytes.len(),
            "echo-stream did not echo"
        );
    }
    Ok((median_of(samples), fuel))
}

fn median_of(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Runs `call` up to `max` times or for about `budget` (at least 10 times)
/// and returns the median duration.
fn median(max: usize, budget: Duration, mut call: impl FnMut()) -> Result<Duration> {
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < 10 || (samples.len() < max && start.elapsed() < budget) {
        let begin = Instant::now();
        call();
        samples.push(begin.elapsed());
    }
    samples.sort();
    Ok(samples[samples.len() / 2])
}
