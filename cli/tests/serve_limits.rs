//! `serve`'s limits against hostile clients, with real HTTP clients on
//! loopback: a cap on requests in flight (503), on body size (413), on the
//! time headers (connection closed) and a body (408) may take, and hundreds
//! of clients trickling bodies into a handler that reads them while a normal
//! request is still answered at once and the server's memory stays bounded.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Frame};
use tokio::sync::mpsc;

use common::{Server, repo, scratch, show};

/// The HTTP example (`POST /echo` reads the whole body), built once.
fn app() -> &'static PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = scratch("serve-limits").join("app.wasm");
        common::componentize_lua_ok(
            &repo("interpreters/lua-demo/examples/http/app.lua"),
            &repo("interpreters/lua-demo/examples/http/wit"),
            &out,
        );
        out
    })
}

fn serve(flags: &[&str]) -> Server {
    let mut args = vec![show(app())];
    args.extend_from_slice(flags);
    Server::start(&args)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Opens a connection to `addr` with hyper's client.
async fn connect(addr: &str) -> hyper::client::conn::http1::SendRequest<TrickleBody> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (sender, connection) =
        hyper::client::conn::http1::handshake(wasmtime_wasi_http::io::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    sender
}

type TrickleBody = http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>;

/// A POST whose body of `len` bytes arrives one byte per `every`; the sender
/// stops when the returned handle is dropped.
fn trickling_post(
    addr: &str,
    len: usize,
    every: Duration,
) -> (hyper::Request<TrickleBody>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(1);
    let feeder = tokio::spawn(async move {
        for _ in 0..len {
            if tx.send(Bytes::from_static(b"x")).await.is_err() {
                return;
            }
            tokio::time::sleep(every).await;
        }
    });
    let body = Trickle(rx).boxed();
    let request = hyper::Request::post("/echo")
        .header("host", addr)
        .header("content-length", len.to_string())
        .body(body)
        .unwrap();
    (request, feeder)
}

/// A request body made of the chunks a channel delivers.
struct Trickle(mpsc::Receiver<Bytes>);

impl hyper::body::Body for Trickle {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.get_mut()
            .0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|data| Ok(Frame::data(data))))
    }
}

async fn post(addr: &str, body: Vec<u8>, length: bool) -> u16 {
    let mut sender = connect(addr).await;
    let mut request = hyper::Request::post("/echo").header("host", addr);
    if !length {
        request = request.header("transfer-encoding", "chunked");
    }
    let request = request
        .body(
            Full::new(Bytes::from(body))
                .map_err(|never| match never {})
                .boxed(),
        )
        .unwrap();
    match sender.send_request(request).await {
        Ok(response) => response.status().as_u16(),
        Err(err) => panic!("POST failed: {err}"),
    }
}

async fn get_status(addr: &str) -> u16 {
    let mut sender = connect(addr).await;
    let request = hyper::Request::get("/")
        .header("host", addr)
        .body(
            Full::new(Bytes::new())
                .map_err(|never| match never {})
                .boxed(),
        )
        .unwrap();
    sender
        .send_request(request)
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn bodies_over_the_size_limit_get_413() {
    let server = serve(&["--max-body-size", "1000"]);
    let rt = runtime();
    assert_eq!(rt.block_on(post(&server.addr, vec![b'a'; 1000], true)), 200);
    assert_eq!(rt.block_on(post(&server.addr, vec![b'a'; 1001], true)), 413);
    assert_eq!(
        rt.block_on(post(&server.addr, vec![b'a'; 5000], false)),
        413
    );
    let log = server.stop();
    assert!(log.contains("POST /echo 413"), "{log}");
    assert!(log.contains("--max-body-size (1000 bytes)"), "{log}");
}

#[test]
fn requests_past_the_cap_get_503() {
    let server = serve(&["--max-requests", "1"]);
    let rt = runtime();
    rt.block_on(async {
        // One request in flight, its body still arriving...
        let mut slow = connect(&server.addr).await;
        let (request, feeder) = trickling_post(&server.addr, 20, Duration::from_millis(200));
        let pending = tokio::spawn(async move {
            slow.send_request(request)
                .await
                .map(|r| r.status().as_u16())
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        // ...so the next one is refused at once.
        assert_eq!(get_status(&server.addr).await, 503);
        // Once it is answered, there is room again: the slot is freed when
        // the handler has written the body, a moment after the client has
        // the status line, so the next request may briefly still see 503.
        assert_eq!(pending.await.unwrap().unwrap(), 200);
        drop(feeder);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match get_status(&server.addr).await {
                200 => break,
                503 if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                status => panic!("no room after the slow request was answered: {status}"),
            }
        }
    });
    let log = server.stop();
    assert!(log.contains("GET / 503"), "{log}");
}

#[test]
fn a_body_that_does_not_arrive_in_time_gets_408() {
    let server = serve(&["--timeout", "1"]);
    let rt = runtime();
    let status = rt.block_on(async {
        let mut sender = connect(&server.addr).await;
        let (request, _feeder) = trickling_post(&server.addr, 100, Duration::from_millis(500));
        sender
            .send_request(request)
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 408);
    let log = server.stop();
    assert!(
        log.contains("did not arrive within the time limit"),
        "{log}"
    );
}

/// Headers that never end: the connection is closed after
/// `--header-timeout` (no HTTP client sends half a header, so a socket does).
#[test]
fn headers_that_never_end_close_the_connection() {
    let server = serve(&["--header-timeout", "1"]);
    let mut socket = TcpStream::connect(&server.addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    socket.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n").unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    // The server closes the connection (possibly after a 408).
    let _ = socket.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    server.stop();
}

/// The VmRSS of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn three_hundred_trickling_clients_leave_room_for_a_normal_request() {
    const CLIENTS: usize = 300;
    let server = serve(&[]);
    let rt = runtime();
    rt.block_on(async {
        assert_eq!(get_status(&server.addr).await, 200);
        let before = rss_kib(server.pid());
        let mut clients = Vec::new();
        for _ in 0..CLIENTS {
            let mut sender = connect(&server.addr).await;
            let (request, feeder) = trickling_post(&server.addr, 3600, Duration::from_secs(1));
            let response = tokio::spawn(async move {
                sender
                    .send_request(request)
                    .await
                    .map(|r| r.status().as_u16())
            });
            clients.push((response, feeder));
        }
        // Every client has started its body; each sends a byte a second.
        tokio::time::sleep(Duration::from_secs(3)).await;
        for _ in 0..3 {
            let started = Instant::now();
            assert_eq!(get_status(&server.addr).await, 200);
            let took = started.elapsed();
            assert!(
                took < Duration::from_secs(1),
                "a normal request took {took:?}"
            );
        }
        let grown = rss_kib(server.pid()).saturating_sub(before);
        assert!(
            grown < 128 << 10,
            "the server grew by {grown} KiB for {CLIENTS} clients"
        );
        let unanswered = clients.iter().filter(|(r, _)| !r.is_finished()).count();
        assert_eq!(unanswered, CLIENTS, "trickling clients were answered early");
        for (response, feeder) in clients {
            feeder.abort();
            response.abort();
        }
    });
    server.stop();
}
