//! The wasm C toolchain, the shared libraries every component links, and
//! building interpreter crates into wasm32-wasip2 shared-everything dylibs.
//!
//! A linked component needs, besides the interpreter and world dylibs, a
//! position-independent `libc.so`; building an interpreter that contains C
//! (Lua, or any crate using `cc`) needs a clang for wasm32-wasip2 with a
//! wasi-libc sysroot, and our static `libsetjmp.a`. With `$WASI_SDK_PATH` set
//! we use that SDK. Otherwise we assemble a directory laid out like wasi-sdk
//! (`bin/clang`, `share/wasi-sysroot/...`) from what the package registries
//! offer: Debian's clang-22, Debian trixie's wasi-libc headers and crt
//! objects, and Rust's own PIC `libc.a` linked into `libc.so`.
//!
//! The dylibs we ship are shrunk with Binaryen's `wasm-opt` ([`shrink`]).
//!
//! Everything lives under one directory per user, [`home`], so that `cargo
//! xtask`, the `wit-dylib` command line and build scripts share it whatever
//! their target directory. Every step checks its output first, so a second
//! run does no work. [`provision`] installs what is missing (Debian packages,
//! the Rust target, wasi-libc, Binaryen); [`locate`] installs nothing and says which
//! command does.

pub mod command;
pub mod dylib;
mod host_packages;
pub mod libc_symbols;
pub mod shared_libs;
pub mod shrink;
mod wasi_libc;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The rustc target every interpreter dylib is built for.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// What to tell someone whose toolchain is not there yet.
pub const PROVISION_HINT: &str = "run `cargo xtask provision` in a wit-dylib checkout (or \
     `wit-dylib build`, which provisions first), or point WASI_SDK_PATH at a wasi-sdk";

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
    /// The full PIC libc (all of wasi-libc); components may link a trimmed
    /// one made from it ([`shared_libs::build_trimmed_libc`]).
    pub libc_so: PathBuf,
    /// The directory holding our `libsetjmp.a`, searched before the sysroot
    /// so that `-lsetjmp` (Lua's build asks for it) links it statically.
    pub libsetjmp_dir: PathBuf,
    /// Binaryen's `wasm-opt`, which shrinks the dylibs we ship.
    pub wasm_opt: shrink::WasmOpt,
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

/// Whether provisioning may install what is missing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Install {
    /// Debian packages, the Rust target and wasi-libc are installed.
    Allowed,
    /// Nothing is installed or downloaded; only local files are made.
    Forbidden,
}

/// Finds or assembles the toolchain, installing what is missing; see the
/// module docs.
pub fn provision() -> Result<Toolchain> {
    prepare(Install::Allowed, &home()?, wasi_sdk_path())
}

/// The toolchain as provisioned before, for build scripts: installs and
/// downloads nothing, and fails with one line naming the command that
/// provisions when something is missing.
pub fn locate() -> Result<Toolchain> {
    locate_in(&home()?, wasi_sdk_path())
}

fn locate_in(home: &Path, wasi_sdk: Option<PathBuf>) -> Result<Toolchain> {
    prepare(Install::Forbidden, home, wasi_sdk).map_err(|err| {
        anyhow::anyhow!("the wasm toolchain is not ready ({err:#}); {PROVISION_HINT}")
    })
}

fn wasi_sdk_path() -> Option<PathBuf> {
    std::env::var_os("WASI_SDK_PATH")
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
}

fn prepare(install: Install, home: &Path, wasi_sdk: Option<PathBuf>) -> Result<Toolchain> {
    ensure_rust_target(install)?;
    match wasi_sdk {
        Some(path) => use_wasi_sdk(&path, install, home),
        None => assemble(install, home),
    }
}

/// The per-user directory holding the assembled toolchain and `libsetjmp.a`:
/// `$WIT_DYLIB_HOME`, else `$XDG_CACHE_HOME/wit-dylib`, else
/// `~/.cache/wit-dylib`.
pub fn home() -> Result<PathBuf> {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(home) = var("WIT_DYLIB_HOME") {
        return Ok(home);
    }
    let cache = match var("XDG_CACHE_HOME") {
        Some(cache) => cache,
        None => var("HOME")
            .context("neither WIT_DYLIB_HOME nor HOME is set")?
            .join(".cache"),
    };
    Ok(cache.join("wit-dylib"))
}

/// Uses a wasi-sdk the user already has; only libsetjmp.a is built by us.
fn use_wasi_sdk(root: &Path, install: Install, home: &Path) -> Result<Toolchain> {
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
                 libraries (25 or newer), or unset WASI_SDK_PATH to let provisioning \
                 assemble a toolchain",
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
        wasm_opt: shrink::ensure(home, install)?,
    };
    toolchain.libsetjmp_dir = shared_libs::build_libsetjmp(&toolchain, home)?;
    Ok(toolchain)
}

/// Builds our wasi-sdk-like directory under `home`.
fn assemble(install: Install, home: &Path) -> Result<Toolchain> {
    host_packages::ensure(install)?;
    let root = home.join("wasi-sdk");
    let sysroot = root.join("share/wasi-sysroot");
    let lib_dir = sysroot.join("lib").join(WASM_TARGET);
    wasi_libc::ensure(&root.join("downloads"), &sysroot, install)?;

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
        wasm_opt: shrink::ensure(home, install)?,
    };
    shared_libs::build_libc(&toolchain, &toolchain.libc_so)?;
    toolchain.libsetjmp_dir = shared_libs::build_libsetjmp(&toolchain, home)?;
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
        "#!/bin/sh\n# Written by wit-dylib's toolchain provisioning.\n\
         PATH='{}':\"$PATH\" exec clang-22 --target={WASM_TARGET} --sysroot='{}' \"$@\"\n",
        rust_bin.display(),
        sysroot.display()
    ))
}

/// `rustup target add wasm32-wasip2`, unless the target's std is there already.
fn ensure_rust_target(install: Install) -> Result<()> {
    if rust_sysroot()?
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .join("lib")
        .is_dir()
    {
        return Ok(());
    }
    if install == Install::Forbidden {
        bail!("the Rust {WASM_TARGET} target is not installed");
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A build script on a machine whose toolchain was never provisioned
    /// fails in one line that names the command to run, and installs or
    /// downloads nothing.
    #[test]
    fn an_unprovisioned_home_is_one_line_naming_the_command() {
        let home =
            std::env::temp_dir().join(format!("wit-dylib-empty-home-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();
        let err = match locate_in(&home, None) {
            Ok(_) => panic!("an empty home holds no toolchain"),
            Err(err) => format!("{err:#}"),
        };
        assert!(err.contains("cargo xtask provision"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        let left: Vec<_> = std::fs::read_dir(&home).unwrap().collect();
        assert!(left.is_empty(), "locate wrote into the home: {left:?}");
        std::fs::remove_dir_all(&home).unwrap();
    }

    #[test]
    fn a_wasi_sdk_without_its_files_is_refused_by_name() {
        let sdk = std::env::temp_dir().join(format!("wit-dylib-empty-sdk-{}", std::process::id()));
        std::fs::create_dir_all(&sdk).unwrap();
        let err = match locate_in(&sdk, Some(sdk.clone())) {
            Ok(_) => panic!("an empty directory is no wasi-sdk"),
            Err(err) => format!("{err:#}"),
        };
        assert!(err.contains("has no") && err.contains("bin/clang"), "{err}");
        std::fs::remove_dir_all(&sdk).unwrap();
    }
}
