//! The wasm C toolchain and the shared libraries every component links.
//!
//! A linked component needs, besides the interpreter and world dylibs, a
//! position-independent `libc.so`; building an interpreter that contains C
//! (Lua) needs a clang for wasm32-wasip2 with a wasi-libc sysroot, and our
//! static `libsetjmp.a`. With `$WASI_SDK_PATH` set we use that SDK. Otherwise we assemble a
//! directory laid out like wasi-sdk (`bin/clang`, `share/wasi-sysroot/...`)
//! under the target directory from what the package registries offer:
//! Debian's clang-22, Debian trixie's wasi-libc headers and crt objects, and
//! Rust's own PIC `libc.a` linked into `libc.so` (see shared/toolchain.md).
//!
//! Every step checks its output first, so a second run does no work.

mod host_packages;
pub mod shared_libs;
mod wasi_libc;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::command;
use crate::workspace::Workspace;

/// The rustc target every interpreter dylib is built for.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// A ready wasm toolchain.
pub struct Toolchain {
    /// The wasi-sdk-like root (`$WASI_SDK_PATH` or ours).
    pub root: PathBuf,
    /// `clang` for wasm32-wasip2 with the sysroot set: the C compiler and the
    /// linker driver for interpreter dylibs.
    pub clang: PathBuf,
    /// An `ar` that writes wasm symbol indexes.
    pub ar: PathBuf,
    /// `wasm-ld`, for linking the libcs.
    pub wasm_ld: PathBuf,
    /// The full PIC libc (all of wasi-libc); components link a trimmed one
    /// made from it (see `wasm_build`).
    pub libc_so: PathBuf,
    /// The directory holding our `libsetjmp.a`, searched before the sysroot
    /// so that `-lsetjmp` (Lua's build asks for it) links it statically.
    pub libsetjmp_dir: PathBuf,
}

impl Toolchain {
    pub fn describe(&self) -> String {
        format!(
            "{} (clang: {}, libc.so: {}, libsetjmp.a in {})",
            self.root.display(),
            self.clang.display(),
            self.libc_so.display(),
            self.libsetjmp_dir.display()
        )
    }

    /// A `clang` invocation through this toolchain.
    pub fn clang(&self) -> Command {
        Command::new(&self.clang)
    }
}

/// Finds or assembles the toolchain; see the module docs.
pub fn provision(workspace: &Workspace) -> Result<Toolchain> {
    ensure_rust_target()?;
    match std::env::var_os("WASI_SDK_PATH") {
        Some(path) if !path.is_empty() => use_wasi_sdk(workspace, Path::new(&path)),
        _ => assemble(workspace),
    }
}

/// Uses a wasi-sdk the user already has; only libsetjmp.a is built by us.
fn use_wasi_sdk(workspace: &Workspace, root: &Path) -> Result<Toolchain> {
    let clang = root.join("bin/clang");
    let ar = root.join("bin/llvm-ar");
    let libc_so = root
        .join("share/wasi-sysroot/lib")
        .join(WASM_TARGET)
        .join("libc.so");
    for needed in [&clang, &ar, &root.join("bin/wasm-ld"), &libc_so] {
        if !needed.exists() {
            bail!(
                "WASI_SDK_PATH={} has no {}; use a wasi-sdk with wasm32-wasip2 shared \
                 libraries (25 or newer), or unset WASI_SDK_PATH to let `cargo xtask \
                 provision` assemble a toolchain",
                root.display(),
                needed.display()
            );
        }
    }
    let mut toolchain = Toolchain {
        root: root.to_path_buf(),
        clang,
        ar,
        wasm_ld: root.join("bin/wasm-ld"),
        libc_so,
        libsetjmp_dir: PathBuf::new(),
    };
    toolchain.libsetjmp_dir = shared_libs::build_libsetjmp(
        workspace,
        &toolchain,
        &workspace.target_dir.join("libsetjmp"),
    )?;
    Ok(toolchain)
}

/// Builds our wasi-sdk-like directory under the target directory.
fn assemble(workspace: &Workspace) -> Result<Toolchain> {
    host_packages::ensure()?;
    let root = workspace.target_dir.join("wasi-sdk");
    let sysroot = root.join("share/wasi-sysroot");
    let lib_dir = sysroot.join("lib").join(WASM_TARGET);
    wasi_libc::ensure(&root.join("downloads"), &sysroot)?;

    let bin = root.join("bin");
    std::fs::create_dir_all(&bin)?;
    let clang = bin.join("clang");
    write_if_changed(&clang, &clang_wrapper(&sysroot)?, true)?;
    let ar = bin.join("llvm-ar");
    write_if_changed(&ar, "#!/bin/sh\nexec llvm-ar-22 \"$@\"\n", true)?;

    let mut toolchain = Toolchain {
        root,
        clang,
        ar,
        wasm_ld: PathBuf::from("wasm-ld-22"),
        libc_so: lib_dir.join("libc.so"),
        libsetjmp_dir: PathBuf::new(),
    };
    shared_libs::build_libc(&toolchain, &toolchain.libc_so)?;
    // Earlier versions put a shared libsetjmp here, which `-lsetjmp` would
    // prefer to our static one.
    let _ = std::fs::remove_file(lib_dir.join("libsetjmp.so"));
    toolchain.libsetjmp_dir = shared_libs::build_libsetjmp(
        workspace,
        &toolchain,
        &workspace.target_dir.join("libsetjmp"),
    )?;
    Ok(toolchain)
}

/// The `bin/clang` script: Debian's clang-22 aimed at wasm32-wasip2 and our
/// sysroot. clang runs `wasm-component-ld` as the linker for this target, which
/// rustup ships next to rustc, so that directory goes on its PATH.
fn clang_wrapper(sysroot: &Path) -> Result<String> {
    let rust_bin = rust_sysroot()?
        .join("lib/rustlib")
        .join(host_triple()?)
        .join("bin");
    Ok(format!(
        "#!/bin/sh\n# Written by `cargo xtask provision`.\n\
         PATH='{}':\"$PATH\" exec clang-22 --target={WASM_TARGET} --sysroot='{}' \"$@\"\n",
        rust_bin.display(),
        sysroot.display()
    ))
}

/// `rustup target add wasm32-wasip2`, unless the target's std is there already.
fn ensure_rust_target() -> Result<()> {
    if rust_sysroot()?
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .join("lib")
        .is_dir()
    {
        return Ok(());
    }
    eprintln!("installing the Rust {WASM_TARGET} target");
    command::run(Command::new("rustup").args(["target", "add", WASM_TARGET])).with_context(|| {
        format!("could not add the {WASM_TARGET} target; run `rustup target add {WASM_TARGET}`")
    })
}

pub fn rust_sysroot() -> Result<PathBuf> {
    Ok(PathBuf::from(command::stdout(
        Command::new(rustc()).args(["--print", "sysroot"]),
    )?))
}

fn host_triple() -> Result<String> {
    command::stdout(Command::new(rustc()).args(["--print", "host-tuple"]))
}

fn rustc() -> std::ffi::OsString {
    std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into())
}

/// Writes `contents` to `path` unless it already holds exactly that, so that
/// re-provisioning leaves files (and their times) alone.
fn write_if_changed(path: &Path, contents: &str, executable: bool) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))?;
    if executable {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// Runs `build` unless `output` exists and was made from the same `inputs`
/// (a description of everything it depends on, kept in a file next to it).
fn build_once(output: &Path, inputs: &str, build: impl FnOnce() -> Result<()>) -> Result<()> {
    let stamp = output.with_file_name(format!(
        ".{}.inputs",
        output
            .file_name()
            .context("output has no file name")?
            .to_string_lossy()
    ));
    if output.exists() && std::fs::read_to_string(&stamp).is_ok_and(|old| old == inputs) {
        return Ok(());
    }
    build()?;
    std::fs::write(&stamp, inputs)?;
    Ok(())
}
