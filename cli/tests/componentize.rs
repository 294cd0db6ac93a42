//! `wit-dylib componentize --interpreter`, `run` and `serve` with
//! interpreter dylibs read at run time, and their errors.

mod common;

use common::{artifact, componentize_ok, invoke, repo, scratch, show, take_perf_map, wit_dylib};

/// Componentizes the toy version of the lua-demo example with the toy
/// interpreter dylib and runs an export that needs no import.
#[test]
fn a_dylib_read_at_run_time_componentizes_and_runs() {
    let dir = scratch("componentize-toy");
    let out = dir.join("app.wasm");
    let printed = componentize_ok(
        &artifact("toy_interpreter.so"),
        &repo("interpreters/lua-demo/example/app.toy"),
        &repo("interpreters/lua-demo/example/app.wit"),
        &out,
        &[],
    );
    assert!(
        printed.starts_with("componentized app.toy for world `app`"),
        "{printed}"
    );
    let ran = invoke(&out, "demo:app/api#area(circle(2.0))");
    assert_eq!(ran, (4.0 * std::f64::consts::PI).to_string());
}

#[test]
fn limits_are_named_with_their_flags() {
    let dir = scratch("componentize-fuel");
    let out = common::componentize_lua(
        &repo("interpreters/lua-demo/example/app.lua"),
        &repo("interpreters/lua-demo/example/app.wit"),
        &dir.join("app.wasm"),
        &["--fuel", "1000"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the fuel limit (1000 units) ran out"),
        "{stderr}"
    );
    assert!(
        stderr.trim_end().ends_with("(raise it with --fuel)"),
        "{stderr}"
    );
}

#[test]
fn a_missing_or_broken_interpreter_is_a_one_line_error() {
    let dir = scratch("componentize-bad-interpreter");
    let not_wasm = dir.join("vm.so");
    std::fs::write(&not_wasm, "not wasm").unwrap();
    for interpreter in [dir.join("missing.so"), not_wasm] {
        let out = wit_dylib(&[
            "componentize",
            "--interpreter",
            show(&interpreter),
            show(&repo("interpreters/lua-demo/example/app.toy")),
            "--wit",
            show(&repo("interpreters/lua-demo/example/app.wit")),
            "-o",
            show(&dir.join("app.wasm")),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
}

/// `wit-dylib serve` answers a real HTTP client for a handler built with
/// `wit-dylib componentize` (Lua, read at run time, with its trimmed libc).
#[test]
fn serve_answers_a_client_and_logs_the_request() {
    let dir = scratch("serve");
    let component = dir.join("hello.wasm");
    common::componentize_lua_ok(
        &repo("interpreters/lua-demo/examples/http/hello.lua"),
        &repo("interpreters/lua-demo/examples/http/wit"),
        &component,
    );
    let server = common::Server::start(&[show(&component)]);
    let (status, content_type, body) = common::get(&server.addr, "/hi");
    assert_eq!(status, 200);
    assert_eq!(content_type.as_deref(), Some("text/plain"));
    assert_eq!(body, "Hello, world!\n");
    let pid = server.pid();
    let log = server.stop();
    assert!(log.contains("GET /hi 200"), "{log}");
    assert!(take_perf_map(pid).is_none(), "a perf map without --profile");

    // With a profiler, the same server tells it where the handler's code is.
    let server = common::Server::start(&[show(&component), "--profile", "perfmap"]);
    assert_eq!(common::get(&server.addr, "/hi").0, 200);
    let pid = server.pid();
    server.stop();
    let map = take_perf_map(pid).expect("a perf map");
    let wasm = map.lines().filter(|line| line.contains(" wasm[")).count();
    assert!(wasm > 1000, "{wasm} wasm functions in the perf map");
}
