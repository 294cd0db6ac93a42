//! Building the workspace's wasm32-wasip2 dylibs (interpreters) in one place
//! with one set of flags (`wit_dylib_toolchain::dylib`), and collecting them
//! in the artifacts directory that the tests and tools read, shrunk by
//! `wasm-opt` as the shipped ones are, with two libcs:
//! `libc.so`, trimmed to what these interpreters and world libraries import,
//! and `libc-full.so`, all of wasi-libc, for interpreters built elsewhere.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use wit_dylib_toolchain::{Toolchain, dylib, libc_symbols, shared_libs};

use crate::workspace::Workspace;

/// The workspace packages that are built only for wasm32-wasip2.
pub const WASM_PACKAGES: &[&str] = &[
    "greeter-interpreter",
    "val-interpreter",
    "echo-interpreter",
    "lua-interpreter",
    "toy-interpreter",
];

/// The cargo profile for interpreter dylibs (release with LTO; see Cargo.toml).
const PROFILE: &str = "wasm";

pub fn build_all(workspace: &Workspace, toolchain: &Toolchain) -> Result<()> {
    let manifest = workspace.root.join("Cargo.toml");
    let build_dir = dylib::workspace_build_dir(&workspace.target_dir);
    let built = dylib::build(
        toolchain,
        &dylib::Build {
            manifest_path: &manifest,
            packages: WASM_PACKAGES,
            profile: PROFILE,
            target_dir: Some(&build_dir),
            extra_rustflags: dylib::SHIPPED_RUSTFLAGS,
        },
    )
    .context("building the wasm32-wasip2 dylibs")?;

    let artifacts = workspace.artifacts_dir();
    std::fs::create_dir_all(&artifacts)?;
    let mut dylibs = Vec::new();
    for built in built {
        let so = artifacts.join(format!("{}.so", built.name));
        toolchain.wasm_opt.shrink(&built.path, &so)?;
        dylibs.push(so);
    }
    let full_libc = artifacts.join("libc-full.so");
    toolchain.wasm_opt.shrink(&toolchain.libc_so, &full_libc)?;
    let dylibs: Vec<&Path> = dylibs.iter().map(PathBuf::as_path).collect();
    let symbols = libc_symbols::needed(&full_libc, &dylibs)?;
    shared_libs::build_trimmed_libc(toolchain, &symbols, &artifacts.join("libc.so"))
}
