//! Cold and warm starts of the `lua-demo` command, whole processes: the
//! compilation cache (`pipeline/src/cache.rs`) at work. For each command, a
//! cold run has an empty cache directory of its own, a warm one the
//! directory the cold run filled:
//! * `componentize` of the bundled example, then again after an edit of the
//!   script (the interpreter and libc are found compiled);
//! * `run --invoke` of the example's component;
//! * `serve` of the 0.2 and 0.3 hello handlers, until the first answer.
//!
//! `cargo bench -p lua-demo --bench warm` (after `cargo xtask build-wasm`).
//! Targets (issue #27): an edited rebuild within 0.15 s, a warm `run` within
//! 0.05 s, a warm first answer within 0.1 s.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};

const ROUNDS: usize = 5;

fn main() -> Result<()> {
    let manifest = lua_demo::crate_dir();
    let scratch = std::env::temp_dir().join(format!("lua-demo-warm-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let example = manifest.join("example");
    let script = example.join("app.lua");
    let source = std::fs::read_to_string(&script)?;
    let edited = scratch.join("app.lua");
    let app = scratch.join("app.wasm");
    let wit = example.join("app.wit");
    let componentize = |script: &Path| -> Vec<String> {
        let out = app.display().to_string();
        let (script, wit) = (script.display().to_string(), wit.display().to_string());
        vec![
            "componentize".into(),
            script,
            "--wit".into(),
            wit,
            "-o".into(),
            out,
        ]
    };

    println!(
        "{:<44} {:>10} {:>10} {:>10}",
        "median of 5", "cold", "warm", "target"
    );
    let (cold, warm) = cold_and_warm(&scratch, |cache, round| match round {
        None => timed(cache, &componentize(&script)),
        // A new edit each round, so that each finds only what the cold
        // build compiled and the earlier edits.
        Some(round) => {
            std::fs::write(&edited, format!("{source}\n-- edit {round}\n"))?;
            timed(cache, &componentize(&edited))
        }
    })?;
    report(
        "componentize app.lua (warm: after an edit)",
        cold,
        warm,
        0.15,
    );

    let run = [
        "run".to_string(),
        app.display().to_string(),
        "--invoke".into(),
        "demo:app/api#area(circle(2.0))".into(),
    ];
    timed(Path::new("off"), &componentize(&script))?;
    let (cold, warm) = cold_and_warm(&scratch, |cache, _| timed(cache, &run))?;
    report("run --invoke, whole process", cold, warm, 0.05);

    for (name, dir, script) in [
        ("serve 0.2 hello, first answer", "http", "hello.lua"),
        ("serve 0.3 hello, first answer", "http-p3", "hello.lua"),
    ] {
        let dir = manifest.join("examples").join(dir);
        let component = scratch.join(format!(
            "{dir}.wasm",
            dir = dir.file_name().unwrap().display()
        ));
        let args = [
            "componentize".to_string(),
            dir.join(script).display().to_string(),
            "--wit".into(),
            dir.join("wit").display().to_string(),
            "-o".into(),
            component.display().to_string(),
        ];
        timed(Path::new("off"), &args)?;
        let (cold, warm) = cold_and_warm(&scratch, |cache, _| first_answer(cache, &component))?;
        report(name, cold, warm, 0.1);
    }
    std::fs::remove_dir_all(&scratch)?;
    Ok(())
}

/// Medians of [`ROUNDS`] cold runs (a fresh cache each; `measure` gets
/// `None`) and as many warm ones (the cache of the last cold run; `measure`
/// gets the round).
fn cold_and_warm(
    scratch: &Path,
    mut measure: impl FnMut(&Path, Option<usize>) -> Result<Duration>,
) -> Result<(Duration, Duration)> {
    let cache = scratch.join("cache");
    let mut cold = Vec::new();
    for _ in 0..ROUNDS {
        let _ = std::fs::remove_dir_all(&cache);
        cold.push(measure(&cache, None)?);
    }
    let mut warm = Vec::new();
    for round in 0..ROUNDS {
        warm.push(measure(&cache, Some(round))?);
    }
    Ok((median(cold), median(warm)))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn report(figure: &str, cold: Duration, warm: Duration, target: f64) {
    let met = if warm.as_secs_f64() <= target {
        "met"
    } else {
        "NOT met"
    };
    println!(
        "{figure:<44} {:>9.3}s {:>9.3}s {:>9.2}s {met}",
        cold.as_secs_f64(),
        warm.as_secs_f64(),
        target
    );
}

fn lua_demo(cache: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lua-demo"));
    command.env("WIT_DYLIB_CACHE", cache);
    command
}

/// How long `lua-demo ARGS` takes, start to exit.
fn timed(cache: &Path, args: &[String]) -> Result<Duration> {
    let start = Instant::now();
    let output = lua_demo(cache).args(args).output()?;
    let took = start.elapsed();
    ensure!(
        output.status.success(),
        "lua-demo {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(took)
}

/// From starting `lua-demo serve` until it answers `GET /`.
fn first_answer(cache: &Path, component: &Path) -> Result<Duration> {
    let port = free_port()?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let start = Instant::now();
    let mut child = lua_demo(cache)
        .arg("serve")
        .arg(component)
        .args(["--addr", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting lua-demo serve")?;
    let answered = loop {
        if answers(addr) {
            break Ok(start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(30) {
            break Err(anyhow::anyhow!("no answer within 30 s"));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    child.kill()?;
    child.wait()?;
    answered
}

/// Whether `GET /` gets a 200 (not yet listening: no).
fn answers(addr: SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let request = b"GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n";
    let mut reply = Vec::new();
    stream.write_all(request).is_ok()
        && stream.read_to_end(&mut reply).is_ok()
        && reply.starts_with(b"HTTP/1.1 200")
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
