//! What the `wit-dylib` command-line tests share: running the binary, a
//! scratch directory per test, and the prebuilt artifacts and tools that
//! `cargo xtask test` provides.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// A path in the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

pub fn show(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}
