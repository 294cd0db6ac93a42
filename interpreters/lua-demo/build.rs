//! Finds the prebuilt interpreters (Lua and toy) that the tool embeds, in the
//! wasm artifacts directory that `wit-dylib-pipeline` found.

use std::path::PathBuf;

const INTERPRETERS: &[&str] = &["lua_interpreter.so", "toy_interpreter.so"];

fn main() {
    let dir = PathBuf::from(std::env::var_os("DEP_WIT_DYLIB_ARTIFACTS_DIR").unwrap());
    for name in INTERPRETERS {
        let path = dir.join(name);
        if !path.exists() {
            eprintln!(
                "error: {} is missing: build the wasm artifacts first with `cargo xtask build-wasm` \
                 (or run the demo with `cargo xtask demo`)",
                path.display()
            );
            std::process::exit(1);
        }
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rustc-env=WIT_DYLIB_ARTIFACTS_DIR={}", dir.display());
}
