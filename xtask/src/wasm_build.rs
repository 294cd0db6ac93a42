//! Building the wasm32-wasip2 dylibs (interpreters) in one place with one set
//! of flags, and collecting them in the artifacts directory that the tests
//! and tools read, with two libcs: `libc.so`, trimmed to what these
//! interpreters and world libraries import, which components link, and
//! `libc-full.so`, all of wasi-libc, for interpreters built elsewhere.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::command;
use crate::libc_symbols;
use crate::toolchain::{Toolchain, WASM_TARGET, shared_libs};
use crate::workspace::Workspace;

/// A workspace package that is built only for wasm32-wasip2.
pub struct WasmPackage {
    /// The cargo package name.
    pub name: &'static str,
    /// The file name of its dylib, as cargo writes it.
    pub dylib: &'static str,
}

pub const WASM_PACKAGES: &[WasmPackage] = &[
    WasmPackage {
        name: "greeter-interpreter",
        dylib: "greeter_interpreter.wasm",
    },
    WasmPackage {
        name: "val-interpreter",
        dylib: "val_interpreter.wasm",
    },
    WasmPackage {
        name: "echo-interpreter",
        dylib: "echo_interpreter.wasm",
    },
    WasmPackage {
        name: "lua-interpreter",
        dylib: "lua_interpreter.wasm",
    },
    WasmPackage {
        name: "toy-interpreter",
        dylib: "toy_interpreter.wasm",
    },
];

/// The cargo profile for interpreter dylibs (release with LTO; see Cargo.toml).
const PROFILE: &str = "wasm";

pub fn build_all(workspace: &Workspace, toolchain: &Toolchain) -> Result<()> {
    let mut cargo = workspace.cargo();
    cargo
        .args(["build", "--target", WASM_TARGET, "--profile", PROFILE])
        .args(WASM_PACKAGES.iter().flat_map(|p| ["-p", p.name]))
        .env("CARGO_TARGET_WASM32_WASIP2_LINKER", &toolchain.clang)
        .env(
            "CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS",
            // A shared-everything dylib: no private copy of libc (it comes
            // from libc.so), no entry point, and the plain wasm-ld behaviour
            // of wasm-component-ld; `-lsetjmp` finds our static runtime.
            format!(
                "-Clink-self-contained=n -Clink-arg=-shared \
                 -Clink-arg=-Wl,--skip-wit-component,--no-entry,--export=cabi_realloc \
                 -Lnative={}",
                toolchain.libsetjmp_dir.display()
            ),
        )
        .env("CC_wasm32_wasip2", &toolchain.clang)
        .env("AR_wasm32_wasip2", &toolchain.ar)
        .env("CFLAGS_wasm32_wasip2", "-fPIC");
    command::run(&mut cargo).context("building the wasm32-wasip2 dylibs")?;

    let built = workspace.target_dir.join(WASM_TARGET).join(PROFILE);
    let artifacts = workspace.artifacts_dir();
    std::fs::create_dir_all(&artifacts)?;
    let mut dylibs = Vec::new();
    for package in WASM_PACKAGES {
        let so = artifacts.join(package.dylib.replace(".wasm", ".so"));
        copy_if_changed(&built.join(package.dylib), &so)?;
        dylibs.push(so);
    }
    let full_libc = artifacts.join("libc-full.so");
    copy_if_changed(&toolchain.libc_so, &full_libc)?;
    let dylibs: Vec<&Path> = dylibs.iter().map(PathBuf::as_path).collect();
    let symbols = libc_symbols::needed(&full_libc, &dylibs)?;
    shared_libs::build_trimmed_libc(toolchain, &symbols, &artifacts.join("libc.so"))
}

fn copy_if_changed(from: &Path, to: &Path) -> Result<()> {
    let new = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    if std::fs::read(to).is_ok_and(|old| old == new) {
        return Ok(());
    }
    std::fs::write(to, new).with_context(|| format!("writing {}", to.display()))
}
