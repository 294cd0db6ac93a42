//! `serve` with a Lua `wasi:http/service@0.3.0` handler
//! (`examples/http-p3/app.lua`): instances reused for many requests,
//! several at once, a trapped instance thrown away, bodies streamed both
//! ways; asked by a real HTTP client on 127.0.0.1.

mod client;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::OnceLock;

use client::{Client, Reply, block_on, noise};
use hyper::Method;
use lua_demo::serve::{Options, Reuse, Server};
use lua_demo::{Limits, Script, componentize_with, load_world};

fn example() -> PathBuf {
    lua_demo::crate_dir().join("examples/http-p3")
}

/// The example app, as `componentize` builds it.
fn component() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let (resolve, world) = load_world(&example().join("wit"), None).unwrap();
        let script = Script::read(&example().join("app.lua")).unwrap();
        componentize_with(&script, &resolve, world, &lua_demo::Options::default())
            .unwrap_or_else(|err| panic!("building app.lua: {err:#}"))
    })
}

/// Serves the app with `reuse` on an ephemeral port, on a thread of its own
/// that lives as long as the test process.
fn start(reuse: Reuse) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let options = Options {
        reuse,
        ..Options::new(addr, Limits::default())
    };
    let server = Server::with_options(component(), &options).expect("the app can be served");
    std::thread::spawn(move || {
        block_on(server.serve(listener, std::future::pending())).unwrap();
    });
    addr
}

/// The app with the default reuse, shared by the tests that do not count
/// instances.
fn app() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| start(Reuse::default()))
}

fn get(addr: SocketAddr, path: &str) -> Reply {
    block_on(client::get(addr, path)).unwrap_or_else(|err| panic!("GET {path}: {err:#}"))
}

fn visits(addr: SocketAddr) -> String {
    let reply = get(addr, "/visits");
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.text()
}

#[test]
fn helpers_answer_text_json_and_404() {
    let addr = app();
    let reply = get(addr, "/");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(reply.text(), "Hello from Lua over WASI 0.3!\n");
    let reply = get(addr, "/nowhere");
    assert_eq!(reply.status, 404);
    assert_eq!(reply.text(), "no route for GET /nowhere\n");
}

#[test]
fn an_instance_is_reused_up_to_its_limit() {
    // Room for more than one at once, so that a request whose reply has
    // not yet been counted done does not keep the next one out.
    let addr = start(Reuse {
        max_reuse: 3,
        max_concurrent: 4,
        ..Reuse::default()
    });
    // Module state counts the requests one instance answered.
    assert_eq!(visits(addr), r#"{"visits":1}"#);
    assert_eq!(visits(addr), r#"{"visits":2}"#);
    assert_eq!(visits(addr), r#"{"visits":3}"#);
    // The fourth request needs a new instance.
    assert_eq!(visits(addr), r#"{"visits":1}"#);
}

#[test]
fn one_instance_runs_requests_concurrently() {
    let addr = start(Reuse {
        max_reuse: 100,
        max_concurrent: 4,
        ..Reuse::default()
    });
    // A first request makes the instance. Then two each wait until they
    // see the other in that instance; the second goes out once the first
    // waits: a worker takes a second request only when its first blocks (a
    // request arriving while it computes would start another instance).
    assert_eq!(visits(addr), r#"{"visits":1}"#);
    let replies = block_on(async move {
        let first = tokio::spawn(client::get(addr, "/together?n=2"));
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let second = tokio::spawn(client::get(addr, "/together?n=2"));
        [
            first.await.unwrap().unwrap(),
            second.await.unwrap().unwrap(),
        ]
    });
    for reply in replies {
        assert_eq!(reply.status, 200);
        assert_eq!(reply.text(), r#"{"most":2}"#);
    }
}

#[test]
fn a_trapped_instance_is_thrown_away_and_the_next_request_succeeds() {
    let addr = start(Reuse::default());
    assert_eq!(visits(addr), r#"{"visits":1}"#);
    assert_eq!(visits(addr), r#"{"visits":2}"#);
    let reply = get(addr, "/fail");
    assert_eq!(reply.status, 500);
    // A fresh instance: its count starts again.
    assert_eq!(visits(addr), r#"{"visits":1}"#);
}

#[test]
fn one_mib_bodies_stream_both_ways() {
    let addr = app();
    let body = noise(1 << 20, 7);
    let reply = block_on(async {
        let mut client = Client::connect(addr).await?;
        client
            .send(
                Method::POST,
                "/echo",
                &[("content-type", "application/x-noise")],
                body.clone(),
            )
            .await
    })
    .unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/x-noise"));
    assert!(reply.body == body, "the echoed body differs");
    let reply = get(addr, "/count?n=5");
    assert_eq!(reply.text(), "1\n2\n3\n4\n5\n");
}

#[test]
fn a_hundred_concurrent_clients_are_all_answered() {
    client::assert_concurrent_echoes(app(), "/echo", 100);
}

#[test]
fn reuse_flags_refuse_zero() {
    for flag in [
        "--max-instance-reuse-count",
        "--max-instance-concurrent-reuse-count",
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lua-demo"))
            .args(["serve", "app.wasm", flag, "0"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(flag) && stderr.contains("must be at least 1"),
            "{stderr}"
        );
    }
}
