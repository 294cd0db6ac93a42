//! `lua-demo serve`: Lua `wasi:http/proxy` handlers under the real server
//! (wasmtime-wasi-http on hyper), asked by a real HTTP client on 127.0.0.1.
//!
//! The servers run in this process on ephemeral ports, one per component,
//! started on first use; one test runs the `lua-demo serve` binary and stops
//! it with SIGINT.

mod client;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use client::{Client, Reply, block_on, noise};
use hyper::Method;
use lua_demo::serve::Server;
use lua_demo::{Limits, Options, Script, componentize_with, load_world};

fn manifest_dir() -> PathBuf {
    lua_demo::crate_dir()
}

fn http_wit() -> PathBuf {
    manifest_dir().join("examples/http/wit")
}

/// Builds `script` for the example's `wasi:http/proxy` world.
fn build(script: &Path, stub_wasi: bool) -> Vec<u8> {
    let (resolve, world) = load_world(&http_wit(), None).unwrap();
    let options = Options {
        stub_wasi,
        ..Options::default()
    };
    componentize_with(&Script::read(script).unwrap(), &resolve, world, &options)
        .unwrap_or_else(|err| panic!("building {}: {err:#}", script.display()))
}

/// Serves `component` on an ephemeral port, on a thread of its own that
/// lives as long as the test process.
fn start(component: Vec<u8>, limits: Limits) -> SocketAddr {
    let server = Server::new(&component, limits).expect("the component can be served");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime
            .block_on(server.serve(listener, std::future::pending()))
            .unwrap();
    });
    addr
}

/// The example handler (`examples/http/app.lua`), as `componentize` builds it.
fn plain_component() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| build(&manifest_dir().join("examples/http/app.lua"), false))
}

fn app() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| start(plain_component().to_vec(), Limits::default()))
}

/// The example handler built with `--stub-wasi`: it imports only the proxy
/// world.
fn pure_component() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| build(&manifest_dir().join("examples/http/app.lua"), true))
}

fn pure_app() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| start(pure_component().to_vec(), Limits::default()))
}

/// Limits of the faulty handler: a loop runs out of fuel in well under a
/// second; a handler may grow to 32 MiB.
const FAULTY_LIMITS: Limits = Limits {
    fuel: 500_000_000,
    max_memory: 32 << 20,
    ..Limits::DEFAULT
};

/// `tests/serve/faulty.lua`: routes that fail in every way.
fn faulty_component() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| build(&manifest_dir().join("tests/serve/faulty.lua"), false))
}

fn faulty() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| start(faulty_component().to_vec(), FAULTY_LIMITS))
}

fn get(addr: SocketAddr, path: &str) -> Reply {
    block_on(client::get(addr, path)).unwrap_or_else(|err| panic!("GET {path}: {err:#}"))
}

fn post(addr: SocketAddr, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
    block_on(async {
        let mut client = Client::connect(addr).await?;
        client
            .send(Method::POST, path, &[("content-type", content_type)], body)
            .await
    })
    .unwrap_or_else(|err| panic!("POST {path}: {err:#}"))
}

#[test]
fn get_routes_on_method_and_path_with_status_headers_and_body() {
    let addr = app();
    let root = get(addr, "/");
    assert_eq!(root.status, 200, "{}", root.text());
    assert_eq!(
        root.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(root.text(), "Hello from Lua!\n");

    let hello = get(addr, "/hello/ada%20l");
    assert_eq!(hello.status, 200);
    assert_eq!(hello.header("x-greeted"), Some("ada%20l"));
    assert_eq!(hello.text(), "Hello, ada%20l!\n");

    let missing = get(addr, "/nowhere?x=1");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.text(), "no route for GET /nowhere\n");
    let vary: Vec<&str> = missing
        .headers
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(vary, ["accept", "origin"]);

    // The route exists for POST only.
    assert_eq!(get(addr, "/echo").status, 404);

    let failing = get(addr, "/fail");
    assert_eq!(failing.status, 500);
    assert_eq!(failing.text(), "internal error\n");
}

#[test]
fn post_echoes_the_body_with_its_content_type() {
    let body = b"{\"name\": \"Ada\"}".to_vec();
    let reply = post(app(), "/echo", "application/json", body.clone());
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.header("x-body-length"),
        Some(body.len().to_string().as_str())
    );
    assert_eq!(reply.body, body);
}

#[test]
fn a_streamed_body_arrives_whole_and_in_order() {
    let reply = get(app(), "/count?n=2000");
    assert_eq!(reply.status, 200);
    let lines: Vec<String> = reply.text().lines().map(str::to_string).collect();
    let expected: Vec<String> = (1..=2000).map(|i| i.to_string()).collect();
    assert_eq!(lines, expected);
}

#[test]
fn one_mib_request_and_response_bodies() {
    const MIB: usize = 1 << 20;
    let body = noise(MIB, 1);
    let echoed = post(app(), "/echo", "application/octet-stream", body.clone());
    assert_eq!(echoed.status, 200);
    assert_eq!(echoed.body.len(), MIB);
    assert!(echoed.body == body, "the echoed body differs");

    let bytes = get(app(), &format!("/bytes?n={MIB}"));
    assert_eq!(bytes.status, 200);
    assert_eq!(
        bytes.header("content-length"),
        Some(MIB.to_string().as_str())
    );
    let pattern = b"0123456789abcdef";
    assert_eq!(bytes.body.len(), MIB);
    assert!(
        bytes
            .body
            .iter()
            .enumerate()
            .all(|(i, b)| *b == pattern[i % 16])
    );
}

#[test]
fn a_hundred_concurrent_requests_are_all_answered() {
    client::assert_concurrent_echoes(app(), "/echo", 100);
}

#[test]
fn a_pure_component_imports_only_the_proxy_world_and_serves_the_same() {
    let (resolve, world) = load_world(&http_wit(), None).unwrap();
    let world_imports: Vec<String> = resolve.worlds[world]
        .imports
        .keys()
        .map(|key| resolve.name_world_key(key))
        .collect();
    let imports = imports_of(pure_component());
    assert!(!imports.is_empty());
    for import in &imports {
        assert!(
            world_imports.contains(import),
            "{import} is not in the proxy world"
        );
    }

    let addr = pure_app();
    assert_eq!(get(addr, "/").text(), "Hello from Lua!\n");
    let echoed = post(addr, "/echo", "text/plain", b"pure".to_vec());
    assert_eq!((echoed.status, echoed.text().as_str()), (200, "pure"));
    assert_eq!(get(addr, "/fail").status, 500);
}

/// The names `component` imports.
fn imports_of(component: &[u8]) -> Vec<String> {
    let engine = wasmtime::Engine::default();
    let component = wasmtime::component::Component::new(&engine, component).unwrap();
    component
        .component_type()
        .imports(&engine)
        .map(|(name, _)| name.to_string())
        .collect()
}

/// libc and Rust's std import WASI 0.2.4; the world is 0.2.12, and its WIT
/// defines every interface they use, so all of it is imported at 0.2.12.
#[test]
fn a_plain_component_imports_one_wasi_release_the_worlds() {
    let imports = imports_of(plain_component());
    // Beyond the proxy world: what libc and std use.
    for libc_only in ["wasi:cli/environment", "wasi:filesystem/types"] {
        assert!(
            imports.iter().any(|import| import.starts_with(libc_only)),
            "{libc_only} missing from {imports:?}"
        );
    }
    for import in &imports {
        assert!(import.ends_with("@0.2.12"), "{import} among {imports:?}");
    }
}

#[test]
fn a_lua_error_gets_500_and_the_next_request_succeeds() {
    let addr = faulty();
    let failed = get(addr, "/error");
    assert_eq!(failed.status, 500);
    // The details stay in the server's log.
    assert!(!failed.text().contains("boom"), "{}", failed.text());
    assert_eq!(get(addr, "/ok").text(), "ok\n");
}

#[test]
fn a_looping_handler_is_cut_off_by_fuel_and_the_server_keeps_serving() {
    let addr = faulty();
    for _ in 0..3 {
        assert_eq!(get(addr, "/loop").status, 500);
        assert_eq!(get(addr, "/ok").status, 200);
    }
}

#[test]
fn a_handler_that_allocates_without_bound_is_stopped_by_the_memory_limit() {
    let addr = faulty();
    assert_eq!(get(addr, "/hog").status, 500);
    assert_eq!(get(addr, "/ok").status, 200);
}

#[test]
fn outgoing_requests_are_refused() {
    let reply = get(faulty(), "/fetch");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "HTTP_request_denied");
}

#[test]
fn a_handler_that_never_answers_gets_500() {
    assert_eq!(get(faulty(), "/silent").status, 500);
}

#[test]
fn a_failure_after_the_status_cuts_the_body_short() {
    let addr = faulty();
    let cut = block_on(client::get(addr, "/late"));
    assert!(cut.is_err(), "the client got a whole body");
    assert_eq!(get(addr, "/ok").status, 200);
}

#[test]
fn a_request_without_host_is_a_bad_request() {
    let mut stream = TcpStream::connect(faulty()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
        .write_all(b"GET /ok HTTP/1.1\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
}

/// Runs `lua-demo serve` with `args`: the child, its address, and its
/// stderr (the log) collected on a thread.
fn serve_binary(
    args: &[&str],
) -> (
    std::process::Child,
    SocketAddr,
    std::thread::JoinHandle<String>,
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lua-demo"))
        .arg("serve")
        .args(args)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut log = String::new();
        stderr.read_to_string(&mut log).unwrap();
        log
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no address in {first:?}"));
    // Keep reading stdout so that the server never blocks on it.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (child, addr, log)
}

fn interrupt(child: &std::process::Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn the_binary_logs_each_request_and_stops_on_ctrl_c() {
    let dir = std::env::temp_dir().join(format!("lua-demo-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("faulty.wasm");
    std::fs::write(&path, faulty_component()).unwrap();

    let (mut child, addr, log) = serve_binary(&[
        path.to_str().unwrap(),
        "--fuel",
        &FAULTY_LIMITS.fuel.to_string(),
        "--max-memory",
        "32",
    ]);
    assert_eq!(get(addr, "/ok").status, 200);
    assert_eq!(get(addr, "/error").status, 500);
    assert_eq!(get(addr, "/loop").status, 500);
    interrupt(&child);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let log = log.join().unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("GET /ok 200 ")), "{log}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("GET /error 500 ") && l.contains("boom from Lua")),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("GET /loop 500 ")
                && l.contains("the fuel limit (500000000 units)")),
        "{log}"
    );
}

#[test]
fn a_component_of_many_core_instances_is_served() {
    // Sixty instances of an empty core module, composed beside the handler:
    // more than a pool sized for a typical linked component holds.
    let padding = format!(
        "(component (core module $empty) {})",
        "(core instance (instantiate $empty))".repeat(60)
    );
    let padding = wat::parse_str(padding).unwrap();
    let composed = lua_demo::compose::chain(
        &[("padding", &padding), ("handler", pure_component())],
        &["wasi:http/incoming-handler@0.2.12"],
    )
    .unwrap();
    let footprint = lua_demo::runtime::Footprint::of(&composed).unwrap();
    assert!(footprint.core_instances > 60, "{footprint:?}");
    let addr = start(composed, Limits::default());
    let reply = get(addr, "/hello/ada");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("x-greeted"), Some("ada"));
}

#[test]
fn serving_what_is_not_an_http_handler_fails_in_one_line() {
    let example = manifest_dir().join("example");
    let (resolve, world) = load_world(&example.join("app.wit"), None).unwrap();
    let other = componentize_with(
        &Script::read(&example.join("app.lua")).unwrap(),
        &resolve,
        world,
        &Options::default(),
    )
    .unwrap();
    let dir = std::env::temp_dir().join(format!("lua-demo-serve-not-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_http = dir.join("app.wasm");
    std::fs::write(&not_http, other).unwrap();
    let not_wasm = dir.join("notes.txt");
    std::fs::write(&not_wasm, "hello").unwrap();

    for (path, cause) in [
        (
            &not_http,
            "provides WASI 0.2 and 0.3 and wasi:http, nothing else",
        ),
        (&not_wasm, "not a WebAssembly component"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_lua-demo"))
            .arg("serve")
            .arg(path)
            .args(["--addr", "127.0.0.1:0"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("error: ") && stderr.contains(cause) && stderr.lines().count() == 1,
            "{stderr}"
        );
    }
}
