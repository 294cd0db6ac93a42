//! `lua-demo serve` throughput: requests per second and p50/p99 latency on
//! loopback for the Lua hello handlers, WASI 0.2 (`examples/http/hello.lua`,
//! a fresh instance per request) and WASI 0.3 (`examples/http-p3/hello.lua`,
//! instances reused), against native Rust handlers giving the same response
//! (`benches/native-hello` on `wasip2`, `benches/native-hello-p3` on
//! `wasip3`, built here for wasm32-wasip2); then the Lua 0.3 example's
//! `POST /echo` with 1 MiB bodies; and the 0.2 hello built with
//! `--stub-wasi` against the same unstubbed. All are served by the `lua-demo serve`
//! binary with the same settings (default limits, a log line per request).
//!
//! `cargo bench -p lua-demo --bench serve` (after `cargo xtask build-wasm`).
//! Targets: Lua 0.2 reaches at least 50 % of native 0.2 requests per
//! second, Lua 0.3 at least 60 % of native 0.3 and 3 times Lua 0.2, the
//! echo at least 200 MB/s of request body, and the stubbed 0.2 hello as
//! fast and as small as the unstubbed one.

// Shared with the tests, which use the rest of it.
#[allow(dead_code)]
#[path = "../tests/client/mod.rs"]
mod client;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use hyper::Method;
use lua_demo::{Options, Script, componentize_with, load_world};

/// Connections kept busy at once, each sending its next request as soon
/// as the previous one is answered.
const CONNECTIONS: usize = 16;
/// The same for the echo, whose requests are each 1 MiB.
const ECHO_CONNECTIONS: usize = 4;
const ECHO_BYTES: usize = 1 << 20;
const WARM_UP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(4);
/// Measurements per handler, alternating, so that all see the same
/// machine load.
const ROUNDS: usize = 3;
const TARGET_P2_OVER_NATIVE: f64 = 0.5;
const TARGET_P3_OVER_NATIVE: f64 = 0.6;
const TARGET_P3_OVER_P2: f64 = 3.0;
const TARGET_ECHO_MB_PER_SECOND: f64 = 200.0;
const BODY: &[u8] = b"Hello, world!\n";

/// What the clients send.
#[derive(Clone, Copy)]
enum Workload {
    /// `GET /`, expecting [`BODY`].
    Hello,
    /// `POST /echo` with [`ECHO_BYTES`], expecting them back.
    Echo,
}

fn main() -> Result<()> {
    let manifest = lua_demo::crate_dir();
    let stubbed = Options {
        stub_wasi: true,
        ..Options::default()
    };
    let handlers = [
        (
            "Lua 0.2",
            lua_example(&manifest, "http", "hello.lua", &Options::default())?,
        ),
        ("native Rust 0.2", native(&manifest, "native-hello")?),
        (
            "Lua 0.3 (reused)",
            lua_example(&manifest, "http-p3", "hello.lua", &Options::default())?,
        ),
        ("native Rust 0.3", native(&manifest, "native-hello-p3")?),
        (
            "Lua 0.2 --stub-wasi",
            lua_example(&manifest, "http", "hello.lua", &stubbed)?,
        ),
    ];
    let echo = lua_example(&manifest, "http-p3", "app.lua", &Options::default())?;

    let mut results: Vec<Vec<Figures>> = vec![Vec::new(); handlers.len()];
    let mut echoes = Vec::new();
    for _ in 0..ROUNDS {
        for (i, (name, component)) in handlers.iter().enumerate() {
            let figures =
                measure(component, Workload::Hello).with_context(|| format!("measuring {name}"))?;
            results[i].push(figures);
        }
        echoes.push(measure(&echo, Workload::Echo).context("measuring the echo")?);
    }

    println!(
        "{CONNECTIONS} connections, {MEASURE:?} per round, median of {ROUNDS} rounds \
         (0.2: a fresh instance per request)"
    );
    println!(
        "{:<20} {:>10} {:>10} {:>10} {:>10}",
        "handler", "req/s", "p50", "p99", "requests"
    );
    let medians: Vec<Figures> = results.iter().map(|rounds| median(rounds)).collect();
    for ((name, _), figures) in handlers.iter().zip(&medians) {
        println!(
            "{name:<20} {:>10.0} {:>10.2?} {:>10.2?} {:>10}",
            figures.per_second, figures.p50, figures.p99, figures.requests
        );
    }
    let met = |met: bool| if met { "met" } else { "NOT met" };
    let [lua_p2, native_p2, lua_p3, native_p3, stubbed_p2] =
        [0, 1, 2, 3, 4].map(|i| medians[i].per_second);
    let ratio = lua_p2 / native_p2;
    println!(
        "Lua 0.2 / native 0.2 requests per second: {:.0} % (target >= {:.0} %: {})",
        ratio * 100.0,
        TARGET_P2_OVER_NATIVE * 100.0,
        met(ratio >= TARGET_P2_OVER_NATIVE)
    );
    let ratio = lua_p3 / native_p3;
    println!(
        "Lua 0.3 / native 0.3 requests per second: {:.0} % (target >= {:.0} %: {})",
        ratio * 100.0,
        TARGET_P3_OVER_NATIVE * 100.0,
        met(ratio >= TARGET_P3_OVER_NATIVE)
    );
    let ratio = lua_p3 / lua_p2;
    println!(
        "Lua 0.3 / Lua 0.2 requests per second: {ratio:.2}x (target >= {TARGET_P3_OVER_P2:.0}x: {})",
        met(ratio >= TARGET_P3_OVER_P2)
    );
    // Issue #27: a stubbed component no bigger and no slower than the same
    // component unstubbed.
    let ratio = stubbed_p2 / lua_p2;
    println!(
        "Lua 0.2 --stub-wasi / Lua 0.2 requests per second: {:.0} % (target >= 100 %: {})",
        ratio * 100.0,
        met(ratio >= 1.0)
    );
    let (plain, stubbed) = (handlers[0].1.len(), handlers[4].1.len());
    println!(
        "Lua 0.2 --stub-wasi / Lua 0.2 size: {stubbed} / {plain} bytes, {:+.1} % (target <= 0 %: {})",
        (stubbed as f64 / plain as f64 - 1.0) * 100.0,
        met(stubbed <= plain)
    );
    let echo = median(&echoes);
    let mb_per_second = echo.per_second * ECHO_BYTES as f64 / 1e6;
    println!(
        "Lua 0.3 echo of 1 MiB bodies, {ECHO_CONNECTIONS} connections: {mb_per_second:.0} MB/s \
         of request body, p50 {:.2?}, p99 {:.2?} (target >= {TARGET_ECHO_MB_PER_SECOND:.0} MB/s: {})",
        echo.p50,
        echo.p99,
        met(mb_per_second >= TARGET_ECHO_MB_PER_SECOND)
    );
    Ok(())
}

/// `examples/EXAMPLE/SCRIPT`, componentized as `lua-demo componentize`
/// does with `options`.
fn lua_example(manifest: &Path, example: &str, script: &str, options: &Options) -> Result<Vec<u8>> {
    let dir = manifest.join("examples").join(example);
    let (resolve, world) = load_world(&dir.join("wit"), None)?;
    let script = Script::read(&dir.join(script))?;
    componentize_with(&script, &resolve, world, options)
}

/// Builds `benches/CRATE` for wasm32-wasip2 (release) and reads the
/// component.
fn native(manifest: &Path, krate: &str) -> Result<Vec<u8>> {
    let target_dir = target_dir()?.join(krate);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--release", "--target", "wasm32-wasip2"])
        .arg("--manifest-path")
        .arg(manifest.join("benches").join(krate).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // The bench's own build settings are not the guest's.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .context("running cargo")?;
    ensure!(status.success(), "building benches/{krate} failed");
    let file = format!("{}.wasm", krate.replace('-', "_"));
    let path = target_dir.join("wasm32-wasip2/release").join(file);
    std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, or where this benchmark's
/// executable lies (`<target>/release/deps/serve-...`).
fn target_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe()?;
    match exe.ancestors().nth(3) {
        Some(dir) => Ok(dir.to_path_buf()),
        None => bail!("cannot tell the target directory from {}", exe.display()),
    }
}

#[derive(Clone, Debug)]
struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    requests: usize,
}

/// The round with the median requests per second.
fn median(rounds: &[Figures]) -> Figures {
    let mut sorted = rounds.to_vec();
    sorted.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    sorted[sorted.len() / 2].clone()
}

/// Serves `component` with the `lua-demo serve` binary (its log drained
/// on a thread) and loads it from this process. The server runs with
/// `RUST_BACKTRACE=1`, as many Rust developers' shells do: were wasmtime's
/// errors to capture backtraces again, each Lua coroutine yield would pay
/// for one, and the Lua figures would show it.
fn measure(component: &[u8], workload: Workload) -> Result<Figures> {
    let path = std::env::temp_dir().join(format!("lua-demo-bench-{}.wasm", std::process::id()));
    std::fs::write(&path, component)?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_lua-demo"))
        .env("RUST_BACKTRACE", "1")
        .arg("serve")
        .arg(&path)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting lua-demo serve")?;
    let mut log = child.stderr.take().expect("piped");
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = log.read_to_string(&mut text);
        text
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut first = String::new();
    stdout.read_line(&mut first)?;
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let addr: Option<SocketAddr> = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|addr| addr.parse().ok());
    let figures = match addr {
        Some(addr) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(load(addr, workload)),
        None => Err(anyhow::anyhow!(
            "lua-demo serve printed no address: {first:?}"
        )),
    };
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()?;
    let status = child.wait()?;
    let log = log.join().expect("the log thread ends");
    let _ = std::fs::remove_file(&path);
    let figures = figures.with_context(|| format!("the server's log ends with: {}", tail(&log)))?;
    ensure!(status.success(), "lua-demo serve failed: {}", tail(&log));
    Ok(figures)
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}

/// Keeps the workload's connections busy for [`WARM_UP`] and then
/// [`MEASURE`], checking every response; latencies of the measured part.
async fn load(addr: SocketAddr, workload: Workload) -> Result<Figures> {
    let start = Instant::now();
    let measure_from = start + WARM_UP;
    let end = measure_from + MEASURE;
    let connections = match workload {
        Workload::Hello => CONNECTIONS,
        Workload::Echo => ECHO_CONNECTIONS,
    };
    let mut tasks = Vec::new();
    for connection in 0..connections {
        tasks.push(tokio::spawn(async move {
            let mut client = client::Client::connect(addr).await?;
            let body = match workload {
                Workload::Hello => BODY.to_vec(),
                Workload::Echo => client::noise(ECHO_BYTES, connection as u64),
            };
            let mut latencies = Vec::new();
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let reply = match workload {
                    Workload::Hello => client.get("/").await?,
                    Workload::Echo => {
                        let headers = [("content-type", "application/octet-stream")];
                        client
                            .send(Method::POST, "/echo", &headers, body.clone())
                            .await?
                    }
                };
                ensure!(
                    reply.status == 200 && reply.body == body,
                    "unexpected response: {} of {} bytes",
                    reply.status,
                    reply.body.len()
                );
                if sent >= measure_from {
                    latencies.push(sent.elapsed());
                }
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    ensure!(!latencies.is_empty(), "no request was answered");
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    Ok(Figures {
        per_second: latencies.len() as f64 / MEASURE.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        requests: latencies.len(),
    })
}
