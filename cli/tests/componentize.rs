//! `wit-dylib componentize --interpreter`, `run` and `serve` with
//! interpreter dylibs read at run time, and their errors.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;

use common::{artifact, repo, scratch, show, wit_dylib, wit_dylib_ok};

/// Componentizes the toy version of the lua-demo example with the toy
/// interpreter dylib and runs an export that needs no import.
#[test]
fn a_dylib_read_at_run_time_componentizes_and_runs() {
    let dir = scratch("componentize-toy");
    let out = dir.join("app.wasm");
    let printed = wit_dylib_ok(&[
        "componentize",
        "--interpreter",
        show(&artifact("toy_interpreter.so")),
        show(&repo("interpreters/lua-demo/example/app.toy")),
        "--wit",
        show(&repo("interpreters/lua-demo/example/app.wit")),
        "-o",
        show(&out),
    ]);
    assert!(
        printed.starts_with("componentized app.toy for world `app`"),
        "{printed}"
    );
    let ran = wit_dylib_ok(&[
        "run",
        show(&out),
        "--invoke",
        "demo:app/api#area(circle(2.0))",
    ]);
    assert_eq!(ran.trim(), (4.0 * std::f64::consts::PI).to_string());
}

#[test]
fn limits_are_named_with_their_flags() {
    let dir = scratch("componentize-fuel");
    let out = wit_dylib(&[
        "componentize",
        "--interpreter",
        show(&artifact("lua_interpreter.so")),
        "--libc",
        show(&artifact("libc.so")),
        show(&repo("interpreters/lua-demo/example/app.lua")),
        "--wit",
        show(&repo("interpreters/lua-demo/example/app.wit")),
        "--fuel",
        "1000",
        "-o",
        show(&dir.join("app.wasm")),
    ]);
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
    wit_dylib_ok(&[
        "componentize",
        "--interpreter",
        show(&artifact("lua_interpreter.so")),
        "--libc",
        show(&artifact("libc.so")),
        show(&repo("interpreters/lua-demo/examples/http/hello.lua")),
        "--wit",
        show(&repo("interpreters/lua-demo/examples/http/wit")),
        "-o",
        show(&component),
    ]);
    let mut server = Command::new(env!("CARGO_BIN_EXE_wit-dylib"))
        .args(["serve", show(&component), "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let addr = banner
        .trim()
        .strip_prefix("serving on http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("unexpected banner {banner:?}"))
        .to_string();

    let (status, content_type, body) = get(&addr, "/hi");
    assert_eq!(status, 200);
    assert_eq!(content_type.as_deref(), Some("text/plain"));
    assert_eq!(body, "Hello, world!\n");

    server.kill().unwrap();
    let mut log = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    server.wait().unwrap();
    assert!(log.contains("GET /hi 200"), "{log}");
}

/// GETs `path` from `addr` with hyper's client: status, content type, body.
fn get(addr: &str, path: &str) -> (u16, Option<String>, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(wasmtime_wasi_http::io::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(connection);
        let request = hyper::Request::get(path)
            .header("host", addr)
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            content_type,
            String::from_utf8_lossy(&body).into_owned(),
        )
    })
}
