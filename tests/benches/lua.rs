//! Figures for Lua components made by `lua-demo`: component sizes, the
//! latency of a small export call and the throughput of a large one, each
//! printed against its target.
//!
//! `cargo bench -p wit-dylib-tests --bench lua` (after `cargo xtask build-wasm`)

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use lua_demo::runtime::{Running, engine, instantiate};
use lua_demo::{Script, componentize, load_world};
use wit_parser::Resolve;

const SIZE_TARGET: usize = 1_200_000;
const CALL_TARGET: Duration = Duration::from_micros(1);
const THROUGHPUT_TARGET: f64 = 1e9;
const ECHO_LEN: usize = 1 << 20;

/// The smallest useful component, and the calls to time.
const BENCH_WIT: &str = "package bench:lua;
world hello { export hello: func() -> string; }
world perf {
  export inc: func(x: u32) -> u32;
  export echo-bytes: func(b: list<u8>) -> list<u8>;
}";
const HELLO_LUA: &str = r#"return { hello = function() return "Hello, world!" end }"#;
const PERF_LUA: &str =
    "return { inc = function(x) return x + 1 end, echo_bytes = function(b) return b end }";

fn main() -> Result<()> {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../interpreters/lua-demo/example");
    let (resolve, world) = load_world(&example.join("app.wit"), Some("app"))?;
    let demo = componentize(&Script::read(&example.join("app.lua"))?, &resolve, world)?;
    let hello = componentize_str("hello", HELLO_LUA)?;
    let perf = componentize_str("perf", PERF_LUA)?;

    let engine = engine()?;
    let mut running = instantiate(&engine, &perf, |_, _| Ok(()))?;
    let call = time_inc(&mut running)?;
    let echo = time_echo(&mut running)?;
    let throughput = ECHO_LEN as f64 / echo.as_secs_f64();

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
        "{:<40} {:>14.2?} {:>14.2?}",
        "inc(u32) -> u32, median call", call, CALL_TARGET
    );
    println!(
        "{:<40} {:>10.3}GB/s {:>10.3}GB/s   ({echo:.2?} per call)",
        "echo-bytes(1 MiB list<u8>)",
        throughput / 1e9,
        THROUGHPUT_TARGET / 1e9
    );
    Ok(())
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

/// Componentizes a script for world `world` of [`BENCH_WIT`].
fn componentize_str(world: &str, source: &str) -> Result<Vec<u8>> {
    let mut resolve = Resolve::default();
    let package = resolve.push_str("bench.wit", BENCH_WIT)?;
    let world = resolve.select_world(&[package], Some(world))?;
    let script = Script {
        name: format!("{world:?}.lua"),
        source: source.as_bytes().to_vec(),
    };
    componentize(&script, &resolve, world)
}

/// The median wall time of a warm `inc` call, through a typed function (the
/// host's cheapest way to call).
fn time_inc(running: &mut Running) -> Result<Duration> {
    let inc = running
        .instance
        .get_typed_func::<(u32,), (u32,)>(&mut running.store, "inc")
        .map_err(anyhow::Error::from)
        .context("typing `inc`")?;
    ensure!(
        inc.call(&mut running.store, (41,))
            .map_err(anyhow::Error::from)?
            .0
            == 42,
        "inc(41) != 42"
    );
    median(200_000, Duration::from_secs(2), || {
        black_box(inc.call(&mut running.store, (black_box(7),)).unwrap());
    })
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
