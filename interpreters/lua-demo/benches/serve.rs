//! `lua-demo serve` throughput: requests per second and p50/p99 latency on
//! loopback for the Lua hello handlers, WASI 0.2 (`examples/http/hello.lua`,
//! a fresh instance per request) and WASI 0.3 (`examples/http-p3/hello.lua`,
//! instances reused), against a native Rust 0.2 handler giving the same
//! response (`benches/native-hello`, built here for wasm32-wasip2), all
//! served by the `lua-demo serve` binary with the same settings (default
//! limits, a log line per request).
//!
//! `cargo bench -p lua-demo --bench serve` (after `cargo xtask build-wasm`).
//! Targets: Lua 0.2 reaches at least 50 % of native requests per second;
//! Lua 0.3 at least 3 times Lua 0.2.

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
use lua_demo::{Options, Script, componentize_with, load_world};

/// Connections kept busy at once, each sending its next request as soon
/// as the previous one is answered.
const CONNECTIONS: usize = 16;
const WARM_UP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(4);
/// Measurements per handler, alternating, so that both see the same
/// machine load.
const ROUNDS: usize = 3;
const TARGET_RATIO: f64 = 0.5;
const TARGET_P3_OVER_P2: f64 = 3.0;
const BODY: &[u8] = b"Hello, world!\n";

fn main() -> Result<()> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lua = lua_hello(manifest, "http")?;
    let lua_p3 = lua_hello(manifest, "http-p3")?;
    let native = native_hello(manifest)?;
    let handlers = [
        ("Lua 0.2", lua),
        ("native Rust 0.2", native),
        ("Lua 0.3 (reused)", lua_p3),
    ];

    let mut results: Vec<Vec<Figures>> = vec![Vec::new(); handlers.len()];
    for _ in 0..ROUNDS {
        for (i, (name, component)) in handlers.iter().enumerate() {
            let figures = measure(component).with_context(|| format!("measuring {name}"))?;
            results[i].push(figures);
        }
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
    let ratio = medians[0].per_second / medians[1].per_second;
    println!(
        "Lua 0.2 / native 0.2 requests per second: {:.0} % (target >= {:.0} %: {})",
        ratio * 100.0,
        TARGET_RATIO * 100.0,
        met(ratio >= TARGET_RATIO)
    );
    let p3 = medians[2].per_second / medians[0].per_second;
    println!(
        "Lua 0.3 / Lua 0.2 requests per second: {p3:.2}x (target >= {TARGET_P3_OVER_P2:.0}x: {})",
        met(p3 >= TARGET_P3_OVER_P2)
    );
    Ok(())
}

/// `examples/EXAMPLE/hello.lua`, componentized as `lua-demo componentize`
/// does.
fn lua_hello(manifest: &Path, example: &str) -> Result<Vec<u8>> {
    let dir = manifest.join("examples").join(example);
    let (resolve, world) = load_world(&dir.join("wit"), None)?;
    let script = Script::read(&dir.join("hello.lua"))?;
    componentize_with(&script, &resolve, world, &Options::default())
}

/// Builds `benches/native-hello` for wasm32-wasip2 (release) and reads the
/// component.
fn native_hello(manifest: &Path) -> Result<Vec<u8>> {
    let target_dir = target_dir()?.join("native-hello");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--release", "--target", "wasm32-wasip2"])
        .arg("--manifest-path")
        .arg(manifest.join("benches/native-hello/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // The bench's own build settings are not the guest's.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .context("running cargo")?;
    ensure!(status.success(), "building benches/native-hello failed");
    let path = target_dir.join("wasm32-wasip2/release/native_hello.wasm");
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
/// on a thread) and loads it from this process.
fn measure(component: &[u8]) -> Result<Figures> {
    let path = std::env::temp_dir().join(format!("lua-demo-bench-{}.wasm", std::process::id()));
    std::fs::write(&path, component)?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_lua-demo"))
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
            .block_on(load(addr)),
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

/// Keeps [`CONNECTIONS`] connections busy for [`WARM_UP`] and then
/// [`MEASURE`], checking every response; latencies of the measured part.
async fn load(addr: SocketAddr) -> Result<Figures> {
    let start = Instant::now();
    let measure_from = start + WARM_UP;
    let end = measure_from + MEASURE;
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        tasks.push(tokio::spawn(async move {
            let mut client = client::Client::connect(addr).await?;
            let mut latencies = Vec::new();
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let reply = client.get("/").await?;
                ensure!(
                    reply.status == 200 && reply.body == BODY,
                    "unexpected response: {} {:?}",
                    reply.status,
                    reply.text()
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
