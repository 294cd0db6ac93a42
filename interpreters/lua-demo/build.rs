//! Builds the interpreters the tool embeds (Lua and toy) for wasm32-wasip2,
//! and the `libc.so` trimmed to what they and world libraries import, with
//! the provisioned wasm toolchain. The dylibs are built by a cargo of their
//! own in `<target-dir>/wasm-build`, which `cargo xtask build-wasm` shares,
//! and shrunk with `wasm-opt` (`wit_dylib_toolchain::shrink`).

use std::path::{Path, PathBuf};

use wit_dylib_toolchain::{dylib, libc_symbols, shared_libs};

const PACKAGES: &[&str] = &["lua-interpreter", "toy-interpreter"];

/// What the dylibs are built from, besides the lock file.
const SOURCES: &[&str] = &[
    "interpreters/lua",
    "interpreters/lua-mapping",
    "interpreters/toy",
    "interpreters/toy-lang",
    "sdk",
];

fn main() {
    if let Err(err) = build() {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn build() -> anyhow::Result<()> {
    println!("cargo:rerun-if-env-changed=WASI_SDK_PATH");
    println!("cargo:rerun-if-env-changed=WIT_DYLIB_HOME");
    // Read at run time: a build script compiled in another checkout of the
    // workspace (cargo may reuse it) must still build this one.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR")?;
    let root = Path::new(&manifest_dir).join("../..");
    for source in SOURCES {
        println!("cargo:rerun-if-changed={}", root.join(source).display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        root.join("Cargo.lock").display()
    );

    let toolchain = wit_dylib_toolchain::locate()?;
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // OUT_DIR is <target-dir>/<profile>/build/<package>-<hash>/out.
    let target_dir = out_dir.ancestors().nth(4).expect("OUT_DIR is deep enough");
    let built = dylib::build(
        &toolchain,
        &dylib::Build {
            manifest_path: &root.join("Cargo.toml"),
            packages: PACKAGES,
            profile: "wasm",
            target_dir: Some(&dylib::workspace_build_dir(target_dir)),
            extra_rustflags: dylib::SHIPPED_RUSTFLAGS,
        },
    )?;
    let mut dylibs = Vec::new();
    for dylib in &built {
        let so = out_dir.join(format!("{}.so", dylib.name));
        toolchain.wasm_opt.shrink(&dylib.path, &so)?;
        dylibs.push(so);
    }
    let dylibs: Vec<&Path> = dylibs.iter().map(PathBuf::as_path).collect();
    let symbols = libc_symbols::needed(&toolchain.libc_so, &dylibs)?;
    shared_libs::build_trimmed_libc(&toolchain, &symbols, &out_dir.join("libc.so"))?;
    println!("cargo:rustc-env=LUA_DEMO_WASM_DIR={}", out_dir.display());
    Ok(())
}
