//! `--timeout` stops a guest that runs too long even when fuel would not,
//! in `componentize` (the build-time run), `run` (a call) and `serve` (a
//! request), and the message names the limit and the flag.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{componentize_lua, repo, scratch, show, wit_dylib};

/// Fuel for a minute or more of Lua: only the clock stops these scripts.
const PLENTY_OF_FUEL: &str = "1000000000000000";

fn here(file: &str) -> PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("tests/timeout")
    .join(file)
}

fn assert_timed_out(out: &std::process::Output, started: Instant) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the time limit (1s) ran out"), "{stderr}");
    assert!(
        stderr.trim_end().ends_with("(raise it with --timeout)"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // One second of limit, plus start-up and compilation.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn componentize_stops_a_top_level_that_never_ends() {
    let dir = scratch("timeout-componentize");
    let started = Instant::now();
    let out = componentize_lua(
        &here("stuck.lua"),
        &here("spin.wit"),
        &dir.join("never.wasm"),
        &["--fuel", PLENTY_OF_FUEL, "--timeout", "1"],
    );
    assert_timed_out(&out, started);
}

#[test]
fn run_stops_a_call_that_never_returns() {
    let dir = scratch("timeout-run");
    let component = dir.join("spin.wasm");
    let built = componentize_lua(&here("spin.lua"), &here("spin.wit"), &component, &[]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let started = Instant::now();
    let out = wit_dylib(&[
        "run",
        show(&component),
        "--invoke",
        "spin()",
        "--fuel",
        PLENTY_OF_FUEL,
        "--timeout",
        "1",
    ]);
    assert_timed_out(&out, started);
}

#[test]
fn timeouts_must_be_positive_seconds() {
    for bad in ["0", "-1", "soon", "100000"] {
        let flag = format!("--timeout={bad}");
        let out = wit_dylib(&["run", "x.wasm", "--invoke", "f()", &flag]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("is not a number of seconds"), "{stderr}");
    }
}

/// A handler that loops with fuel to spare is cut off by the per-request
/// time limit: the client gets a 500 and the log names the limit.
#[test]
fn serve_stops_a_request_that_runs_too_long() {
    let dir = scratch("timeout-serve");
    let component = dir.join("faulty.wasm");
    let built = componentize_lua(
        &repo("interpreters/lua-demo/tests/serve/faulty.lua"),
        &repo("interpreters/lua-demo/examples/http/wit"),
        &component,
        &[],
    );
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let server =
        common::Server::start(&[show(&component), "--fuel", PLENTY_OF_FUEL, "--timeout", "1"]);
    let started = Instant::now();
    let (status, _, _) = common::get(&server.addr, "/loop");
    assert_eq!(status, 500);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let (status, _, body) = common::get(&server.addr, "/ok");
    assert_eq!((status, body.is_empty()), (200, false));
    let log = server.stop();
    assert!(log.contains("GET /loop 500"), "{log}");
    assert!(log.contains("the time limit (1s) ran out"), "{log}");
}
