//! The wasm artifacts `cargo xtask build-wasm` leaves in
//! `<target-dir>/wasm-artifacts`: interpreter dylibs, `libc.so` (trimmed to
//! what they import) and `libc-full.so`.

use std::path::PathBuf;

use anyhow::{Context, Result};

/// The artifacts directory: `$WIT_DYLIB_ARTIFACTS`, or the one in the
/// target directory.
pub fn dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("WIT_DYLIB_ARTIFACTS") {
        return Ok(PathBuf::from(dir));
    }
    Ok(target_dir()?.join("wasm-artifacts"))
}

/// The target directory the running test binary was built in
/// (`<target-dir>/<profile>/deps/<test>`).
pub fn target_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    exe.ancestors()
        .nth(3)
        .map(PathBuf::from)
        .context("cannot find the target directory from the test binary's path")
}

/// Reads one artifact, saying how to build it when it is missing.
pub fn read(name: &str) -> Result<Vec<u8>> {
    let path = dir()?.join(name);
    std::fs::read(&path).with_context(|| {
        format!(
            "cannot read {}; build the wasm artifacts first with `cargo xtask build-wasm`",
            path.display()
        )
    })
}
