//! What the world library's glue costs per call, ours against upstream
//! `wit-dylib` 0.263: the same echo interpreter (`tests/interpreters/echo`)
//! is linked with each generator's library for `tests/worlds/bench.wit`, and
//! each export is called under wasmtime with fuel metering. Fuel counts wasm
//! instructions executed, so it is deterministic and independent of the
//! machine; wall time is printed too, as secondary information.
//!
//! The async rows use `tests/worlds/bench-async.wit`: one async export call
//! taking and returning a u32, and 1 MiB through a `stream<u8>` in 64 KiB
//! chunks between two components (`pump` writes, `sink` reads; the fuel is
//! both sides' and includes the echo interpreter building a `Val` per byte).
//!
//! The native floor: the same `bench` world as plain Rust (`wit-bindgen`,
//! `tests/native/echo`, built by this benchmark), against which the echo
//! interpreter with our glue is compared call by call.
//!
//! `cargo bench -p wit-dylib-tests --bench glue` (after `cargo xtask build-wasm`)

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use wasmtime::component::{Component, Func, Linker, ResourceTable, Val};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wit_dylib_tests::component::{World, link, ours_world_dylib, upstream_world_dylib};
use wit_dylib_tests::compose;
use wit_dylib_tests::host::block_on;

/// Bytes through the stream in the stream row.
const STREAM_BYTES: u32 = 1 << 20;

/// Wall time is sampled for about this long per call and generator.
const WALL_BUDGET: Duration = Duration::from_millis(300);

/// At most this many times the native component's fuel and wall time, on
/// the calls named in `NATIVE_TARGET_CALLS`.
const NATIVE_TARGET: f64 = 2.0;
const NATIVE_TARGET_CALLS: &[&str] = &["scalar", "nested"];

fn main() -> Result<()> {
    let path = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("worlds/bench.wit");
    let world = World::load(&path, "bench")?;
    let engine = fuel_engine()?;
    let mut ours = Bench::new(
        &engine,
        &link("echo_interpreter.so", &ours_world_dylib(&world)?)?,
    )?;
    let mut upstream = Bench::new(
        &engine,
        &link("echo_interpreter.so", &upstream_world_dylib(&world)?)?,
    )?;
    let mut native = Bench::new(&engine, &wit_dylib_tests::native::build("echo")?)?;
    let mut ours_figures = Vec::new();
    println!(
        "{:<26} {:>11} {:>11} {:>7}   {:>10} {:>10}",
        "call", "fuel ours", "fuel upstr", "ratio", "wall ours", "wall upstr"
    );
    for (label, name, arg) in calls() {
        let (ours_fuel, ours_wall) = ours.measure(name, &arg)?;
        let (theirs_fuel, theirs_wall) = upstream.measure(name, &arg)?;
        println!(
            "{label:<26} {ours_fuel:>11} {theirs_fuel:>11} {:>6.2}x   {ours_wall:>10.2?} {theirs_wall:>10.2?}",
            ours_fuel as f64 / theirs_fuel as f64
        );
        ours_figures.push((label, name, arg, ours_fuel, ours_wall));
    }
    bulk_rows(&ours_figures);
    async_rows(&engine)?;
    println!("targets: fuel <= 1.00x upstream on every call, <= 0.50x on words and text");
    println!("(wall times are medians with fuel metering on)");
    native_rows(&mut native, &ours_figures)
}

/// At most this share of the element-by-element path's fuel on the lists
/// the SDK moves in one piece.
const BULK_TARGET: f64 = 0.5;

/// The bulk path against the element-by-element path, in one run. (Both
/// generators' libraries offer every list in canonical layout; the SDK's
/// `ValStack` takes the offer, so the bulk path is the same with upstream's.)
fn bulk_rows(ours: &[(&str, &str, Val, u64, Duration)]) {
    let fuel = |name: &str| ours.iter().find(|f| f.1 == name).map(|f| f.3 as f64);
    for name in ["points", "pairs"] {
        let (Some(bulk), Some(each)) = (fuel(name), fuel(&format!("{name}-each"))) else {
            continue;
        };
        let ratio = bulk / each;
        println!(
            "bulk path, {name}: {ratio:.2}x the element-by-element fuel (target <= {BULK_TARGET:.2}x: {})",
            if ratio <= BULK_TARGET {
                "met"
            } else {
                "not met"
            }
        );
    }
}

/// Ours (echo interpreter) against the native component, call by call.
fn native_rows(native: &mut Bench, ours: &[(&str, &str, Val, u64, Duration)]) -> Result<()> {
    println!(
        "\n{:<26} {:>11} {:>11} {:>7}   {:>10} {:>10} {:>7}   target",
        "call", "fuel ours", "fuel native", "ratio", "wall ours", "wall nativ", "ratio"
    );
    for (label, name, arg, ours_fuel, ours_wall) in ours {
        let (native_fuel, native_wall) = native.measure(name, arg)?;
        let fuel_ratio = *ours_fuel as f64 / native_fuel as f64;
        let wall_ratio = ours_wall.as_secs_f64() / native_wall.as_secs_f64();
        let target = match NATIVE_TARGET_CALLS.contains(name) {
            true => format!("fuel {}, wall {}", verdict(fuel_ratio), verdict(wall_ratio)),
            false => "-".into(),
        };
        println!(
            "{label:<26} {ours_fuel:>11} {native_fuel:>11} {fuel_ratio:>6.2}x   {ours_wall:>10.2?} \
             {native_wall:>10.2?} {wall_ratio:>6.2}x   {target}"
        );
    }
    println!(
        "target: ours <= {NATIVE_TARGET:.2}x native on {} (native: tests/native/echo, \
         plain Rust with wit-bindgen)",
        NATIVE_TARGET_CALLS.join(" and ")
    );
    Ok(())
}

fn verdict(ratio: f64) -> &'static str {
    match ratio <= NATIVE_TARGET {
        true => "met",
        false => "not met",
    }
}

/// The async rows: one async call, and 1 MiB through a stream.
fn async_rows(engine: &Engine) -> Result<()> {
    let path = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("worlds/bench-async.wit");
    let echo = World::load(&path, "echo")?;
    let pump = World::load(&path, "pump")?;
    let mut benches = Vec::new();
    for generate in [ours_world_dylib, upstream_world_dylib] {
        let echo = link("echo_interpreter.so", &generate(&echo)?)?;
        let pump = link("echo_interpreter.so", &generate(&pump)?)?;
        let composed = compose::chain(&[("echo", &echo), ("pump", &pump)], &["pump"])?;
        benches.push((Bench::new(engine, &echo)?, Bench::new(engine, &composed)?));
    }
    let [(ours_echo, ours_pump), (theirs_echo, theirs_pump)] = &mut benches[..] else {
        unreachable!()
    };
    let arg = Val::U32(42);
    let (ours_fuel, ours_wall) = ours_echo.measure("scalar-async", &arg)?;
    let (theirs_fuel, theirs_wall) = theirs_echo.measure("scalar-async", &arg)?;
    println!(
        "{:<26} {ours_fuel:>11} {theirs_fuel:>11} {:>6.2}x   {ours_wall:>10.2?} {theirs_wall:>10.2?}",
        "async scalar(u32)",
        ours_fuel as f64 / theirs_fuel as f64
    );
    let arg = Val::U32(STREAM_BYTES);
    let bytes = Val::U64(STREAM_BYTES.into());
    let (ours_fuel, ours_wall) = ours_pump.measure_with("pump", &arg, &bytes)?;
    let (theirs_fuel, theirs_wall) = theirs_pump.measure_with("pump", &arg, &bytes)?;
    println!(
        "{:<26} {ours_fuel:>11} {theirs_fuel:>11} {:>6.2}x   {ours_wall:>10.2?} {theirs_wall:>10.2?}",
        "stream<u8> 1 MiB / 64 KiB",
        ours_fuel as f64 / theirs_fuel as f64
    );
    let gbps = |wall: Duration| f64::from(STREAM_BYTES) / wall.as_secs_f64() / 1e9;
    println!(
        "{:<26} {:>11.4} {:>11.4}   GB/s (wall, fuel metering on)",
        "stream<u8> throughput",
        gbps(ours_wall),
        gbps(theirs_wall)
    );
    Ok(())
}

/// Each benchmark call: a label, the export and its one argument.
fn calls() -> Vec<(&'static str, &'static str, Val)> {
    let text: String = (0..1024u32)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let rec = Val::Record(vec![
        ("id".into(), Val::U64(7)),
        ("name".into(), Val::String("a rectangle".into())),
        (
            "shape".into(),
            Val::Variant(
                "rectangle".into(),
                Some(Box::new(Val::Tuple(vec![
                    Val::Float64(2.0),
                    Val::Float64(3.5),
                ]))),
            ),
        ),
        (
            "tags".into(),
            Val::List(
                ["red", "large", "new"]
                    .map(|t| Val::String(t.into()))
                    .into(),
            ),
        ),
        (
            "weight".into(),
            Val::Option(Some(Box::new(Val::Float32(1.25)))),
        ),
    ]);
    let points: Vec<Val> = (0..1024u32)
        .map(|i| {
            Val::Record(vec![
                ("x".into(), Val::Float64(f64::from(i) * 0.5)),
                ("y".into(), Val::Float64(-f64::from(i))),
                ("id".into(), Val::U32(i)),
            ])
        })
        .collect();
    let pairs: Vec<Val> = (0..1024u16)
        .map(|i| Val::Tuple(vec![Val::U16(i), Val::S64(-i64::from(i) << 40)]))
        .collect();
    vec![
        ("scalar(u32)", "scalar", Val::U32(42)),
        (
            "words(list<u32>, 1024)",
            "words",
            Val::List((0..1024).map(Val::U32).collect()),
        ),
        ("text(string, 1024 B)", "text", Val::String(text)),
        ("nested(rec)", "nested", rec),
        (
            "points(list<point>, 1024)",
            "points",
            Val::List(points.clone()),
        ),
        (
            "pairs(list<tuple>, 1024)",
            "pairs",
            Val::List(pairs.clone()),
        ),
        ("  element by element", "points-each", Val::List(points)),
        ("  element by element", "pairs-each", Val::List(pairs)),
    ]
}

/// Like the test harness's engine (wasm exceptions for setjmp/longjmp),
/// with fuel metering.
fn fuel_engine() -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_exceptions(true);
    config.wasm_component_model_map(true);
    config.consume_fuel(true);
    // The echo interpreter supports async exports, so it imports the
    // component model's async built-ins.
    config.wasm_component_model_async(true);
    Engine::new(&config).map_err(anyhow::Error::from)
}

struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// One instantiated component with plenty of fuel.
struct Bench {
    store: Store<Host>,
    instance: wasmtime::component::Instance,
}

impl Bench {
    fn new(engine: &Engine, component: &[u8]) -> Result<Bench> {
        let component = Component::new(engine, component).map_err(anyhow::Error::from)?;
        let mut linker = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
        let host = Host {
            wasi: WasiCtx::builder().inherit_stderr().build(),
            table: ResourceTable::new(),
        };
        let mut store = Store::new(engine, host);
        store.set_fuel(u64::MAX).map_err(anyhow::Error::from)?;
        let instance = linker
            .instantiate(&mut store, &component)
            .map_err(anyhow::Error::from)?;
        Ok(Bench { store, instance })
    }

    /// The fuel one call of `name(arg)` consumes (after a warm-up call that
    /// also checks the echo) and the median wall time of a call.
    fn measure(&mut self, name: &str, arg: &Val) -> Result<(u64, Duration)> {
        self.measure_with(name, arg, arg)
    }

    /// Like `measure`, for a call that returns `expected`.
    fn measure_with(&mut self, name: &str, arg: &Val, expected: &Val) -> Result<(u64, Duration)> {
        let func = self
            .instance
            .get_func(&mut self.store, name)
            .with_context(|| format!("no export `{name}`"))?;
        let result = self.call(func, arg)?;
        ensure!(
            &result == expected,
            "`{name}` returned {result:?}, expected {expected:?}"
        );
        let before = self.store.get_fuel().map_err(anyhow::Error::from)?;
        self.call(func, arg)?;
        let fuel = before - self.store.get_fuel().map_err(anyhow::Error::from)?;
        let mut samples = Vec::new();
        let start = Instant::now();
        while samples.len() < 100.min(1 + fuel as usize / 10_000_000)
            || start.elapsed() < WALL_BUDGET
        {
            let call = Instant::now();
            self.call(func, arg)?;
            samples.push(call.elapsed());
        }
        samples.sort();
        Ok((fuel, samples[samples.len() / 2]))
    }

    fn call(&mut self, func: Func, arg: &Val) -> Result<Val> {
        let mut results = [Val::Bool(false)];
        if func.ty(&self.store).async_() {
            block_on(func.call_async(&mut self.store, std::slice::from_ref(arg), &mut results))
                .map_err(anyhow::Error::from)?;
        } else {
            func.call(&mut self.store, std::slice::from_ref(arg), &mut results)
                .map_err(anyhow::Error::from)?;
        }
        let [result] = results;
        Ok(result)
    }
}
