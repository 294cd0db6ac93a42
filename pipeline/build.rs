//! Finds the prebuilt wasm artifacts (this crate embeds both libcs):
//! `$WIT_DYLIB_ARTIFACTS`, or `<target-dir>/wasm-artifacts` where
//! `cargo xtask build-wasm` puts them.

use std::path::PathBuf;

const ARTIFACTS: &[&str] = &["libc.so", "libc-full.so"];

fn main() {
    println!("cargo:rerun-if-env-changed=WIT_DYLIB_ARTIFACTS");
    let dir = match std::env::var_os("WIT_DYLIB_ARTIFACTS") {
        Some(dir) => PathBuf::from(dir),
        // OUT_DIR is <target-dir>/<profile>/build/<package>-<hash>/out.
        None => PathBuf::from(std::env::var_os("OUT_DIR").unwrap())
            .ancestors()
            .nth(4)
            .unwrap()
            .join("wasm-artifacts"),
    };
    for name in ARTIFACTS {
        let path = dir.join(name);
        if !path.exists() {
            eprintln!(
                "error: {} is missing: build the wasm artifacts first with `cargo xtask build-wasm`",
                path.display()
            );
            std::process::exit(1);
        }
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rustc-env=WIT_DYLIB_ARTIFACTS_DIR={}", dir.display());
    println!("cargo:dir={}", dir.display());
}
