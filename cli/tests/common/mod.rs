//! What the `wit-dylib` command-line tests share: running the binary, a
//! scratch directory per test, and the prebuilt artifacts and tools that
//! `cargo xtask test` provides.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;

/// Runs `wit-dylib` with `args`.
pub fn wit_dylib(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wit-dylib"))
        .args(args)
        .output()
        .expect("wit-dylib runs")
}

/// Runs `wit-dylib` with `args` and returns its stdout; panics with its
/// stderr when it fails.
pub fn wit_dylib_ok(args: &[&str]) -> String {
    let out = wit_dylib(args);
    assert!(
        out.status.success(),
        "wit-dylib {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `wit-dylib` with `args`, which must fail with exit code 1 (an
/// error, not a usage message or a crash); returns its stderr.
pub fn wit_dylib_err(args: &[&str]) -> String {
    let out = wit_dylib(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "wit-dylib {}: {stderr}",
        args.join(" ")
    );
    stderr
}

/// A new, empty directory for one test.
pub fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The target directory this test binary was built in.
pub fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A wasm artifact `cargo xtask build-wasm` made (an interpreter dylib or a
/// libc). Missing is a failure, not a skip.
pub fn artifact(name: &str) -> PathBuf {
    let dir = match std::env::var_os("WIT_DYLIB_ARTIFACTS") {
        Some(dir) => PathBuf::from(dir),
        None => target_dir().join("wasm-artifacts"),
    };
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run the tests with `cargo xtask test`, or `cargo xtask build-wasm` first",
        path.display()
    );
    path
}

/// The arguments of `wit-dylib componentize --interpreter INTERPRETER
/// SCRIPT --wit WIT -o OUT EXTRA...`.
fn componentize_args<'a>(
    interpreter: &'a Path,
    script: &'a Path,
    wit: &'a Path,
    out: &'a Path,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "componentize",
        "--interpreter",
        show(interpreter),
        show(script),
        "--wit",
        show(wit),
        "-o",
        show(out),
    ];
    args.extend_from_slice(extra);
    args
}

/// `wit-dylib componentize` of `script` for `wit` into `out` with the
/// `interpreter` dylib and `extra` flags, which must succeed; returns what
/// it printed.
pub fn componentize_ok(
    interpreter: &Path,
    script: &Path,
    wit: &Path,
    out: &Path,
    extra: &[&str],
) -> String {
    wit_dylib_ok(&componentize_args(interpreter, script, wit, out, extra))
}

/// `wit-dylib componentize` of `script` for `wit` into `out` with the Lua
/// interpreter dylib and its trimmed libc, plus `extra` flags.
pub fn componentize_lua(script: &Path, wit: &Path, out: &Path, extra: &[&str]) -> Output {
    let (lua, libc) = (artifact("lua_interpreter.so"), artifact("libc.so"));
    let mut flags = vec!["--libc", show(&libc)];
    flags.extend_from_slice(extra);
    wit_dylib(&componentize_args(&lua, script, wit, out, &flags))
}

/// `wit-dylib run COMPONENT --invoke CALL`, which must succeed: what it
/// printed, without the final newline.
pub fn invoke(component: &Path, call: &str) -> String {
    wit_dylib_ok(&["run", show(component), "--invoke", call])
        .trim_end()
        .to_string()
}

/// [`componentize_lua`] that must succeed.
pub fn componentize_lua_ok(script: &Path, wit: &Path, out: &Path) {
    let built = componentize_lua(script, wit, out, &[]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
}

/// A path in the repository.
pub fn repo(path: &str) -> PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("..")
    .join(path)
}

pub fn show(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// How many times `text` occurs in the file at `path`.
pub fn copies_in(path: &Path, text: &str) -> usize {
    let bytes = std::fs::read(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    bytes
        .windows(text.len())
        .filter(|w| *w == text.as_bytes())
        .count()
}

/// The perf map (`--profile perfmap`) that process `pid` wrote, removed
/// once read, or `None` if it wrote none. Each line must be an address, a
/// size in hex and a function's name.
pub fn take_perf_map(pid: u32) -> Option<String> {
    let path = PathBuf::from(format!("/tmp/perf-{pid}.map"));
    let text = std::fs::read_to_string(&path).ok()?;
    std::fs::remove_file(&path).unwrap();
    for line in text.lines() {
        let mut fields = line.splitn(3, ' ');
        let (address, size, name) = (fields.next(), fields.next(), fields.next());
        let hex = |field: Option<&str>| field.is_some_and(|f| u64::from_str_radix(f, 16).is_ok());
        assert!(
            hex(address.and_then(|a| a.strip_prefix("0x"))) && hex(size) && name.is_some(),
            "not a perf map line: {line:?}"
        );
    }
    Some(text)
}

/// A `wit-dylib serve` process on a free loopback port.
pub struct Server {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Server {
    /// Starts `wit-dylib serve ARGS --addr 127.0.0.1:0` and waits for its
    /// banner.
    pub fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wit-dylib"))
            .arg("serve")
            .args(args)
            .args(["--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut banner = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut banner)
            .unwrap();
        let addr = banner
            .trim()
            .strip_prefix("serving on http://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("unexpected banner {banner:?}"))
            .to_string();
        Server { child, addr }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server and returns its log (stderr).
    pub fn stop(mut self) -> String {
        self.child.kill().unwrap();
        let mut log = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        self.child.wait().unwrap();
        log
    }
}

/// GETs `path` from `addr` with hyper's client: status, content type, body.
pub fn get(addr: &str, path: &str) -> (u16, Option<String>, String) {
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
