//! What the world library's glue costs per call, ours against upstream
//! `wit-dylib` 0.263: the same echo interpreter (`tests/interpreters/echo`)
//! is linked with each generator's library for `tests/worlds/bench.wit`, and
//! each export is called under wasmtime with fuel metering. Fuel counts wasm
//! instructions executed, so it is deterministic and independent of the
//! machine; wall time is printed too, as secondary information.
//!
//! `cargo bench -p wit-dylib-tests --bench glue` (after `cargo xtask build-wasm`)

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use wasmtime::component::{Component, Func, Linker, ResourceTable, Val};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wit_dylib_tests::component::{World, link, ours_world_dylib, upstream_world_dylib};

/// Wall time is sampled for about this long per call and generator.
const WALL_BUDGET: Duration = Duration::from_millis(300);

fn main() -> Result<()> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("worlds/bench.wit");
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
    }
    println!("targets: fuel <= 1.00x upstream on every call, <= 0.50x on words and text");
    println!("(wall times are medians with fuel metering on)");
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
    vec![
        ("scalar(u32)", "scalar", Val::U32(42)),
        (
            "words(list<u32>, 1024)",
            "words",
            Val::List((0..1024).map(Val::U32).collect()),
        ),
        ("text(string, 1024 B)", "text", Val::String(text)),
        ("nested(rec)", "nested", rec),
    ]
}

/// Like the test harness's engine (wasm exceptions for setjmp/longjmp),
/// with fuel metering.
fn fuel_engine() -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_exceptions(true);
    config.wasm_component_model_map(true);
    config.consume_fuel(true);
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
        let func = self
            .instance
            .get_func(&mut self.store, name)
            .with_context(|| format!("no export `{name}`"))?;
        let result = self.call(func, arg)?;
        ensure!(&result == arg, "`{name}` did not echo its argument");
        let before = self.store.get_fuel().map_err(anyhow::Error::from)?;
        self.call(func, arg)?;
        let fuel = before - self.store.get_fuel().map_err(anyhow::Error::from)?;
        let mut samples = Vec::new();
        let start = Instant::now();
        while samples.len() < 100 || start.elapsed() < WALL_BUDGET {
            let call = Instant::now();
            self.call(func, arg)?;
            samples.push(call.elapsed());
        }
        samples.sort();
        Ok((fuel, samples[samples.len() / 2]))
    }

    fn call(&mut self, func: Func, arg: &Val) -> Result<Val> {
        let mut results = [Val::Bool(false)];
        func.call(&mut self.store, std::slice::from_ref(arg), &mut results)
            .map_err(anyhow::Error::from)?;
        let [result] = results;
        Ok(result)
    }
}
