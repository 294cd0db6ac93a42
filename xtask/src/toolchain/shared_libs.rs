//! `libc.so`, the shared C library every component links next to the
//! interpreter and the world dylib, and `libsetjmp.a`, the setjmp/longjmp
//! runtime linked statically into interpreters whose C code needs it (Lua).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use super::{Toolchain, WASM_TARGET, build_once, rust_sysroot};
use crate::command;
use crate::workspace::Workspace;

const SETJMP_C: &str = include_str!("../../csrc/setjmp.c");
const LONGJMP_TAG_S: &str = include_str!("../../csrc/c_longjmp_tag.s");

/// Links Rust's self-contained `libc.a` (wasi-libc, built PIC for this
/// target) into a shared library. Symbols it does not define, such as
/// `__heap_base`, stay imports for the component linker to provide.
pub fn build_libc(output: &Path) -> Result<()> {
    let libc_a = rust_sysroot()?
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .join("lib/self-contained/libc.a");
    let builtins = Path::new(&command::stdout(
        Command::new("clang-22")
            .arg(format!("--target={WASM_TARGET}"))
            .arg("-print-libgcc-file-name"),
    )?)
    .to_path_buf();
    let mut link = Command::new("wasm-ld-22");
    link.arg("-shared")
        .arg("--whole-archive")
        .arg(&libc_a)
        .arg("--no-whole-archive")
        .arg(&builtins)
        .args([
            "--unresolved-symbols=import-dynamic",
            "--export-all",
            "--strip-all",
            "-o",
        ])
        .arg(output);
    let inputs = format!("{}\n{}\n", command::show(&link), file_identity(&libc_a)?);
    build_once(output, &inputs, || {
        eprintln!("linking {}", output.display());
        command::output(&mut link).map(drop)
    })
    .context("could not link libc.so")
}

/// Builds `libsetjmp.a` from our C and assembly sources into `dir`.
///
/// Static, with every symbol hidden: the interpreter that links it defines
/// the `__c_longjmp` tag itself and imports no tag from another library, as
/// `wasmtime-wizer` (pre-initialisation) requires of every module.
pub fn build_libsetjmp(
    workspace: &Workspace,
    toolchain: &Toolchain,
    dir: &Path,
) -> Result<PathBuf> {
    let output = dir.join("libsetjmp.a");
    let sources = workspace.target_dir.join("libsetjmp-src");
    let inputs = format!(
        "{}\n{}\n{SETJMP_C}{LONGJMP_TAG_S}",
        toolchain.clang.display(),
        toolchain.ar.display()
    );
    build_once(&output, &inputs, || {
        eprintln!("building {}", output.display());
        std::fs::create_dir_all(&sources)?;
        std::fs::create_dir_all(dir)?;
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
    Ok(dir.to_path_buf())
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
