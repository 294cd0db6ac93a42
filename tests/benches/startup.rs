//! Start-up figures for pre-initialisation: instantiate + first call (one
//! engine, a warm `InstancePre`) with and without a snapshot, for the bundled
//! example and for a large generated script; componentize time; sizes, and
//! how much the snapshot adds to them.
//!
//! `cargo bench -p wit-dylib-tests --bench startup` (after `cargo xtask build-wasm`)

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use wasmtime::Engine;
use wasmtime::component::{Component, Val};
use wit_dylib_pipeline::runtime::{self, Sandbox};
use wit_dylib_pipeline::{Options, Script, load_world};
use wit_dylib_tests::interpreters;
use wit_parser::{Resolve, WorldId};

const START_TARGET: Duration = Duration::from_millis(1);
/// Issue #27's target for a rebuild with the compilation cache warm.
const WARM_COMPONENTIZE_TARGET: Duration = Duration::from_millis(150);
/// How much larger a snapshot may make a component (issue #27).
const SNAPSHOT_GROWTH_TARGET: f64 = 1.5;
/// Top-level lines of the large script.
const LARGE_LINES: usize = 10_000;

const LARGE_WIT: &str = "package bench:startup;
world large { export lookup: func(key: u32) -> u32; }";

fn main() -> Result<()> {
    let example = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("../interpreters/lua-demo/example");
    let (app_resolve, app) = load_world(&example.join("app.wit"), Some("app"))?;
    let app_script = Script::read(&example.join("app.lua"))?;
    let mut large_resolve = Resolve::default();
    let package = large_resolve.push_str("large.wit", LARGE_WIT)?;
    let large = large_resolve.select_world(&[package], Some("large"))?;
    let large_script = Script {
        name: "large.lua".into(),
        source: large_source().into_bytes(),
    };

    let engine = runtime::engine()?;
    println!(
        "{:<52} {:>12} {:>12} {:>10}",
        "figure", "measured", "target", "size"
    );
    let circle = Val::Variant("circle".into(), Some(Box::new(Val::Float64(2.0))));
    let cases: [(&str, &Resolve, WorldId, &Script, Call); 2] = [
        (
            "app.lua",
            &app_resolve,
            app,
            &app_script,
            Call(&["demo:app/api", "area"], vec![circle]),
        ),
        (
            "large.lua (10,000 lines)",
            &large_resolve,
            large,
            &large_script,
            Call(&["lookup"], vec![Val::U32(9_999)]),
        ),
    ];
    for (name, resolve, world, script, call) in cases {
        // Sizes with and without a snapshot, in that order.
        let mut sizes = [0; 2];
        for preinit in [true, false] {
            let options = Options {
                preinit,
                ..Options::default()
            };
            let component = interpreters::componentize(script, resolve, world, &options)?;
            let start = time_start(&engine, &component, &call)?;
            let label = format!(
                "{name}: instantiate + first call, {}",
                if preinit { "pre-initialised" } else { "plain" }
            );
            let target = match preinit {
                true => format!("{START_TARGET:.2?}"),
                false => "-".into(),
            };
            println!(
                "{label:<52} {:>12.2?} {target:>12} {:>8}KiB",
                start,
                component.len() / 1024
            );
            sizes[usize::from(!preinit)] = component.len();
        }
        println!(
            "{:<52} {:>11.2}x {:>11.2}x",
            format!("{name}: pre-initialised size / plain"),
            sizes[0] as f64 / sizes[1] as f64,
            SNAPSHOT_GROWTH_TARGET
        );
    }
    // The builds above have filled the compilation cache, unless it is off.
    let componentize = median(5, || {
        let started = Instant::now();
        interpreters::componentize(&app_script, &app_resolve, app, &Options::default())?;
        Ok(started.elapsed())
    })?;
    match wit_dylib_pipeline::cache::directory() {
        Some(_) => println!(
            "{:<52} {:>12.2?} {:>12.2?}",
            "componentize app.lua (pre-initialised), cache warm",
            componentize,
            WARM_COMPONENTIZE_TARGET
        ),
        None => println!(
            "{:<52} {:>12.2?} {:>12}",
            "componentize app.lua (pre-initialised), cache off", componentize, "-"
        ),
    }
    Ok(())
}

/// An export to call: its path (interface, function) and arguments.
struct Call(&'static [&'static str], Vec<Val>);

/// Median of instantiating `component` from a warm `InstancePre` and making
/// `call`.
fn time_start(engine: &Engine, component: &[u8], call: &Call) -> Result<Duration> {
    let component = Component::new(engine, component)?;
    let linker = runtime::linker(&component, |linker, component| {
        runtime::stub_imports(linker, component, "the benchmark calls none")
    })?;
    let pre = linker.instantiate_pre(&component)?;
    let sandbox = Sandbox::default();
    median(21, || {
        let started = Instant::now();
        let mut store = runtime::store(engine, &sandbox)?;
        let instance = pre.instantiate(&mut store)?;
        let mut index = None;
        for name in call.0 {
            index = instance.get_export_index(&mut store, index.as_ref(), name);
        }
        let func = instance
            .get_func(&mut store, index.context("no such export")?)
            .context("not a function")?;
        let mut results = [Val::Bool(false)];
        func.call(&mut store, &call.1, &mut results)?;
        Ok(started.elapsed())
    })
}

fn median(runs: usize, mut run: impl FnMut() -> Result<Duration>) -> Result<Duration> {
    let mut times = (0..runs).map(|_| run()).collect::<Result<Vec<_>>>()?;
    times.sort();
    Ok(times[runs / 2])
}

/// A script whose top level builds tables and functions: `LARGE_LINES`
/// lines, each defining a record and a function over it.
fn large_source() -> String {
    let mut source = String::from("local items, fns = {}, {}\n");
    for i in 0..LARGE_LINES - 2 {
        source.push_str(&format!(
            "items[{i}] = {{ id = {i}, name = \"item {i}\", tags = {{ {a}, {b} }} }}; \
             fns[{i}] = function(x) return x + items[{i}].tags[1] end\n",
            a = i * 3,
            b = i * 7
        ));
    }
    source.push_str("return { lookup = function(key) return fns[key % #items](key) end }\n");
    source
}
