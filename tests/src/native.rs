//! Native guests: plain Rust components (`wit-bindgen`, `wasm32-wasip2`)
//! doing what an interpreter does in a benchmark, as the floor to compare
//! against. Each is a crate of its own under `tests/native`, outside the
//! workspace, built here with cargo into `<target-dir>/native`.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::artifacts;

/// Builds the native guest crate `tests/native/<name>` (package
/// `native-<name>`, release) and returns its component.
pub fn build(name: &str) -> Result<Vec<u8>> {
    let manifest = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("native")
    .join(name)
    .join("Cargo.toml");
    let target_dir = artifacts::target_dir()?.join("native");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        .output()
        .context("could not run cargo")?;
    if !output.status.success() {
        bail!(
            "building the native guest {} failed:\n{}",
            manifest.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let wasm = target_dir
        .join("wasm32-wasip2/release")
        .join(format!("native_{}.wasm", name.replace('-', "_")));
    std::fs::read(&wasm).with_context(|| format!("reading {}", wasm.display()))
}
