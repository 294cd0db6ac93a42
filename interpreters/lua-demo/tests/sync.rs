//! Sync worlds make sync components (`pipeline/src/sync_only.rs`): the
//! component imports no async built-in, runs on an engine with wasmtime's
//! concurrency support off (what `run` and `serve` pick for it) and on the
//! default engine alike. Async worlds keep what they need.

use std::path::PathBuf;

use lua_demo::{Script, componentize, concurrency, load_world, runtime};
use wasmtime::component::Val;

fn dir(path: &str) -> PathBuf {
    lua_demo::crate_dir().join(path)
}

fn build(script: &str, wit: &str) -> Vec<u8> {
    let (resolve, world) = load_world(&dir(wit), None).unwrap();
    componentize(&Script::read(&dir(script)).unwrap(), &resolve, world).unwrap()
}

/// `area(circle(2.0))` of the example's `demo:app/api`, on `engine`.
fn area(engine: &wasmtime::Engine, component: &[u8]) -> Vec<Val> {
    let sandbox = runtime::Sandbox::default();
    let mut running = runtime::instantiate_in(engine, component, &sandbox, |linker, component| {
        runtime::stub_imports(linker, component, "the test provides WASI only")
    })
    .unwrap();
    let circle = Val::Variant("circle".into(), Some(Box::new(Val::Float64(2.0))));
    running
        .call(Some("demo:app/api"), "area", &[circle])
        .unwrap()
}

#[test]
fn a_sync_world_runs_with_concurrency_off_and_on() {
    let component = build("example/app.lua", "example/app.wit");
    // No async type, lift, lower or built-in.
    assert!(!concurrency::needed_by(&component));
    let without = area(&runtime::cached_engine_for(&component).unwrap(), &component);
    let with = area(&runtime::engine().unwrap(), &component);
    assert_eq!(without, [Val::Float64(4.0 * std::f64::consts::PI)]);
    assert_eq!(with, without);
}

#[test]
fn async_worlds_keep_their_concurrency() {
    let words = build("examples/words/words.lua", "examples/words/words.wit");
    assert!(concurrency::needed_by(&words));
}
