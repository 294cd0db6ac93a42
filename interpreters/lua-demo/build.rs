//! Finds the prebuilt wasm artifacts (Lua and toy interpreters, libc.so, libsetjmp.so)
//! that the tool embeds, so that its users need no wasm toolchain.

use std::path::PathBuf;

const ARTIFACTS: &[&str] = &[
    "lua_interpreter.so",
    "toy_interpreter.so",
    "libc.so",
    "libsetjmp.so",
];

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
