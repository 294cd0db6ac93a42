//! Building interpreter crates (Rust, with or without C through `cc`) into
//! wasm32-wasip2 shared-everything dynamic libraries.
//!
//! A shared-everything dylib has no private copy of libc (it comes from the
//! component's `libc.so`), no entry point, exports every symbol another
//! library may need (`cabi_realloc` among them), and is position-independent
//! (wasm32-wasip2 is PIC by default, so stable Rust builds it as is).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::{Toolchain, WASM_TARGET, command};

/// What to build.
pub struct Build<'a> {
    /// The `Cargo.toml` of the crate or workspace.
    pub manifest_path: &'a Path,
    /// The packages to build (`-p`); none builds the manifest's own package.
    pub packages: &'a [&'a str],
    /// The cargo profile, e.g. `release`.
    pub profile: &'a str,
    /// Cargo's target directory, when not the crate's default. A build
    /// started from a build script must give one of its own: the outer
    /// cargo holds the lock on its own target directory.
    pub target_dir: Option<&'a Path>,
    /// rustc flags beyond [`rustflags`] (e.g. [`SHIPPED_RUSTFLAGS`]).
    pub extra_rustflags: &'a [&'a str],
}

/// The extra rustc flags of the dylibs this workspace ships, with its `wasm`
/// profile's `opt-level = "z"`: LLVM's inlining threshold back at `-Os`'s
/// level. Measured on the Lua interpreter (shrunk by `wasm-opt` in each
/// case): `"s"` gives 622 KB and 2,614 fuel per `inc(u32)` call, `"z"` 547 KB
/// and 2,930 fuel, `"z"` with this flag 604 KB and 2,510 fuel.
pub const SHIPPED_RUSTFLAGS: &[&str] = &["-Cllvm-args=-inline-threshold=75"];

/// One dylib cargo wrote.
#[derive(Debug, Clone)]
pub struct Dylib {
    /// The library's crate name (`my_vm`).
    pub name: String,
    /// The file, `<target-dir>/wasm32-wasip2/<profile>/<name>.wasm`.
    pub path: PathBuf,
}

/// The rustc flags of a shared-everything dylib: no self-contained libc, a
/// shared library without an entry point, plain wasm-ld behaviour from
/// `wasm-component-ld`, and `-lsetjmp` finding our static runtime.
pub fn rustflags(toolchain: &Toolchain) -> Vec<String> {
    vec![
        "-Clink-self-contained=n".into(),
        "-Clink-arg=-shared".into(),
        "-Clink-arg=-Wl,--skip-wit-component,--no-entry,--export=cabi_realloc".into(),
        format!("-Lnative={}", toolchain.libsetjmp_dir.display()),
    ]
}

/// What a C file compiled into (part of) an interpreter dylib needs:
/// position-independent code.
pub const C_FLAGS: &[&str] = &["-fPIC"];

/// How `toolchain.clang` links C objects into an interpreter dylib: a shared
/// library importing libc from the component's `libc.so`, without a start
/// file (a reactor's would export `_initialize`), as a core module (not a
/// component), without an entry point, and with symbols that other
/// libraries define (`wit_dylib_script`) imported. The header's
/// `WIT_DYLIB_EXPORT` makes the interpreter's functions visible.
pub const C_LINK_FLAGS: &[&str] = &[
    "-shared",
    "-nostartfiles",
    "-Wl,--skip-wit-component,--no-entry,--unresolved-symbols=import-dynamic",
];

/// Compiles and links C `sources` into the interpreter dylib `output`, at
/// `-O2`, with `include` directories and `extra` clang arguments.
pub fn build_c(
    toolchain: &Toolchain,
    sources: &[PathBuf],
    include: &[PathBuf],
    extra: &[String],
    output: &Path,
) -> Result<()> {
    let mut clang = toolchain.clang();
    clang
        .arg("-O2")
        .args(C_FLAGS)
        .args(C_LINK_FLAGS)
        .args(include.iter().map(|dir| format!("-I{}", dir.display())))
        .args(extra)
        .arg("-o")
        .arg(output)
        .args(sources);
    command::run(&mut clang)
}

/// Builds `build` with `cargo` for wasm32-wasip2 and returns the dylibs it
/// wrote, one per `cdylib` target. Cargo's diagnostics go to stderr.
pub fn build(toolchain: &Toolchain, build: &Build) -> Result<Vec<Dylib>> {
    let mut cargo = cargo();
    cargo
        .arg("build")
        .arg("--manifest-path")
        .arg(build.manifest_path)
        .args(["--target", WASM_TARGET, "--profile", build.profile])
        .args(build.packages.iter().flat_map(|p| ["-p", p]))
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped());
    if let Some(dir) = build.target_dir {
        cargo.arg("--target-dir").arg(dir);
    }
    configure(toolchain, &mut cargo);
    if !build.extra_rustflags.is_empty() {
        let mut flags = rustflags(toolchain);
        flags.extend(build.extra_rustflags.iter().map(|flag| flag.to_string()));
        cargo.env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"));
    }

    let shown = command::show(&cargo);
    let mut child = cargo
        .spawn()
        .with_context(|| format!("failed to start {shown}"))?;
    let mut dylibs = Vec::new();
    for line in BufReader::new(child.stdout.take().expect("piped stdout")).lines() {
        if let Some(dylib) = cdylib_artifact(&line?) {
            dylibs.push(dylib);
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    if dylibs.is_empty() {
        bail!(
            "{} has no `cdylib` target to build: add `[lib] crate-type = [\"cdylib\"]`",
            build.manifest_path.display()
        );
    }
    Ok(dylibs)
}

/// `cargo`, the one running us when there is one.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Points a cargo command at `toolchain` for wasm32-wasip2: linker, rustc
/// flags and the C compiler for crates using `cc`. Also clears what an outer
/// cargo hands to a build script, so that a build started from one is a
/// build of its own.
pub fn configure(toolchain: &Toolchain, cargo: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if is_build_script_var(&name) {
            cargo.env_remove(&*name);
        }
    }
    // The encoded form wins over every other source of flags, and with
    // `--target` it applies to the target's crates only.
    cargo
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags(toolchain).join("\x1f"))
        .env("CARGO_TARGET_WASM32_WASIP2_LINKER", &toolchain.clang)
        .env("CC_wasm32_wasip2", &toolchain.clang)
        .env("AR_wasm32_wasip2", &toolchain.ar)
        .env("CFLAGS_wasm32_wasip2", C_FLAGS.join(" "));
}

/// Variables cargo sets for a build script (or that would override our
/// flags), never meant for a cargo run inside it.
fn is_build_script_var(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "TARGET",
        "HOST",
        "OUT_DIR",
        "OPT_LEVEL",
        "PROFILE",
        "DEBUG",
        "NUM_JOBS",
        "RUSTC_LINKER",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_CRATE_NAME",
    ];
    const PREFIXES: &[&str] = &["CARGO_PKG_", "CARGO_CFG_", "CARGO_FEATURE_", "DEP_"];
    EXACT.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The dylib a `compiler-artifact` message names, if it is a `cdylib`.
fn cdylib_artifact(line: &str) -> Option<Dylib> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message["reason"] != "compiler-artifact" {
        return None;
    }
    let target = &message["target"];
    let kinds = target["kind"].as_array()?;
    if !kinds.iter().any(|k| k == "cdylib") {
        return None;
    }
    let path = message["filenames"]
        .as_array()?
        .iter()
        .filter_map(|f| f.as_str())
        .find(|f| f.ends_with(".wasm"))?;
    Some(Dylib {
        name: target["name"].as_str()?.replace('-', "_"),
        path: PathBuf::from(path),
    })
}

/// Where a workspace builds its interpreter dylibs, inside its target
/// directory: `cargo xtask build-wasm` and build scripts that embed dylibs
/// share this one build, which is not the outer cargo's (whose lock a build
/// script's cargo would wait for).
pub fn workspace_build_dir(target_dir: &Path) -> PathBuf {
    target_dir.join("wasm-build")
}
