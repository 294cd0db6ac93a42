//! The shared C libraries components link next to the interpreter and the
//! world dylib (all of wasi-libc, or only what the interpreters import), and
//! `libsetjmp.a`, the setjmp/longjmp runtime linked statically into
//! interpreters whose C code needs it (Lua).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::{Toolchain, WASM_TARGET, build_once, command, rust_sysroot};

const SETJMP_C: &str = include_str!("../csrc/setjmp.c");
const LONGJMP_TAG_S: &str = include_str!("../csrc/c_longjmp_tag.s");

/// Links Rust's self-contained `libc.a` (wasi-libc, built PIC for this
/// target) whole into a shared library: the full libc, for interpreters
/// built outside this workspace. Symbols it does not define, such as
/// `__heap_base`, stay imports for the component linker to provide.
pub fn build_libc(toolchain: &Toolchain, output: &Path) -> Result<()> {
    let mut link = libc_link(toolchain, output);
    link.arg("--whole-archive")
        .arg(rust_libc_a()?)
        .arg("--no-whole-archive")
        .arg(builtins(toolchain)?)
        .arg("--export-all");
    run_libc_link(link, output).context("could not link libc.so")
}

/// Links only the members of Rust's `libc.a` that define `symbols` (and what
/// they need in turn) into a shared library exporting just `symbols`, shrunk
/// with `wasm-opt` (see [`crate::shrink`]). Fails, naming the symbol, if one
/// of them is not in the archive.
pub fn build_trimmed_libc(
    toolchain: &Toolchain,
    symbols: &BTreeSet<String>,
    output: &Path,
) -> Result<()> {
    let name = output.file_name().context("output has no file name")?;
    let linked = output.with_file_name(format!(".{}.linked", name.to_string_lossy()));
    let mut link = libc_link(toolchain, &linked);
    // `--export` makes wasm-ld pull the defining archive member in.
    link.args(symbols.iter().map(|symbol| format!("--export={symbol}")))
        .arg(rust_libc_a()?)
        .arg(builtins(toolchain)?);
    run_libc_link(link, &linked).context("could not link the trimmed libc.so")?;
    toolchain.wasm_opt.shrink(&linked, output)
}

/// The wasm-ld command both libcs share: a PIC shared library whose
/// undefined symbols become imports, without names.
fn libc_link(toolchain: &Toolchain, output: &Path) -> Command {
    let mut link = Command::new(&toolchain.wasm_ld);
    link.args([
        "-shared",
        "--unresolved-symbols=import-dynamic",
        "--strip-all",
        "-o",
    ])
    .arg(output);
    link
}

/// Runs `link` unless `output` was linked by the same command from the same
/// `libc.a`.
fn run_libc_link(mut link: Command, output: &Path) -> Result<()> {
    let inputs = format!(
        "{}\n{}\n",
        command::show(&link),
        file_identity(&rust_libc_a()?)?
    );
    build_once(output, &inputs, || {
        eprintln!("linking {}", output.display());
        command::output(&mut link).map(drop)
    })
}

/// Rust's PIC wasi-libc archive for wasm32-wasip2. Also used with a
/// wasi-sdk, whose static `libc.a` is not PIC.
fn rust_libc_a() -> Result<PathBuf> {
    Ok(rust_sysroot()?
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .join("lib/self-contained/libc.a"))
}

/// compiler-rt's builtins (128-bit arithmetic that Rust code imports).
fn builtins(toolchain: &Toolchain) -> Result<PathBuf> {
    Ok(PathBuf::from(command::stdout(
        toolchain
            .clang()
            .arg(format!("--target={WASM_TARGET}"))
            .arg("-print-libgcc-file-name"),
    )?))
}

/// Builds `libsetjmp.a` from our C and assembly sources into
/// `<home>/libsetjmp`, returning that directory.
///
/// Static, with every symbol hidden: the interpreter that links it defines
/// the `__c_longjmp` tag itself and imports no tag from another library, as
/// `wasmtime-wizer` (pre-initialisation) requires of every module.
pub(crate) fn build_libsetjmp(toolchain: &Toolchain, home: &Path) -> Result<PathBuf> {
    let dir = home.join("libsetjmp");
    let output = dir.join("libsetjmp.a");
    let sources = home.join("libsetjmp-src");
    let inputs = format!(
        "{}\n{}\n{SETJMP_C}{LONGJMP_TAG_S}",
        toolchain.clang.display(),
        toolchain.ar.display()
    );
    build_once(&output, &inputs, || {
        eprintln!("building {}", output.display());
        std::fs::create_dir_all(&sources)?;
        std::fs::create_dir_all(&dir)?;
        let mut objects = Vec::new();
        for (name, source) in [("setjmp.c", SETJMP_C), ("c_longjmp_tag.s", LONGJMP_TAG_S)] {
            let path = sources.join(name);
            std::fs::write(&path, source)?;
            let object = sources.join(format!("{name}.o"));
            let mut cc = toolchain.clang();
            cc.args(["-O2", "-fPIC", "-mexception-handling", "-c"])
                .args([
                    "-mllvm",
                    "-wasm-enable-sjlj",
                    "-mllvm",
                    "-wasm-use-legacy-eh=false",
                ])
                .arg("-o")
                .arg(&object)
                .arg(&path);
            command::output(&mut cc)?;
            objects.push(object);
        }
        let _ = std::fs::remove_file(&output);
        let mut ar = Command::new(&toolchain.ar);
        ar.arg("rcs").arg(&output).args(&objects);
        command::output(&mut ar).map(drop)
    })
    .context("could not build libsetjmp.a")?;
    Ok(dir)
}

/// Identifies a file by path, size and modification time: enough to notice a
/// new Rust toolchain or SDK.
fn file_identity(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("{} is missing", path.display()))?;
    let modified = meta
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    Ok(format!("{} {} {modified}", path.display(), meta.len()))
}
