//! `build`: an interpreter crate, or C sources written against
//! `wit_dylib.h`, into a wasm32-wasip2 shared-everything dylib, provisioning
//! the wasm toolchain first.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use wit_dylib_toolchain::{Toolchain, dylib};

/// The header C interpreters include, as this binary was built with it.
const HEADER: &str = include_str!("../../sdk/wit_dylib.h");

#[derive(clap::Args, Clone, Debug)]
pub struct BuildArgs {
    /// The crate's `Cargo.toml` (default: the one in the current directory).
    #[arg(long, value_name = "PATH", default_value = "Cargo.toml")]
    pub manifest_path: PathBuf,
    /// Build these packages of a workspace (default: the manifest's own).
    #[arg(short, long = "package", value_name = "SPEC")]
    pub packages: Vec<String>,
    /// The cargo profile. Interpreters want `lto = true` in it: without LTO
    /// a dylib may keep references to libc symbols nothing defines.
    #[arg(long, default_value = "release")]
    pub profile: String,
    /// Compile these C files (an interpreter written against `wit_dylib.h`,
    /// which is on the include path) into a dylib instead of building a
    /// crate.
    #[arg(long = "c", value_name = "FILE", num_args = 1.., conflicts_with = "packages")]
    pub c_sources: Vec<PathBuf>,
    /// Where to write the dylib built from `--c` sources.
    #[arg(short, long, value_name = "FILE", requires = "c_sources")]
    pub output: Option<PathBuf>,
    /// More clang arguments for `--c`, after `--` (e.g. `-- -DNDEBUG -Iinclude`).
    #[arg(last = true, requires = "c_sources")]
    pub clang_args: Vec<String>,
    /// Shrink each dylib with Binaryen's `wasm-opt -Oz`, as the interpreters
    /// wit-dylib ships are (needs Node.js; results are kept by the hash of
    /// their input, so an unchanged dylib is not shrunk twice).
    #[arg(long)]
    pub shrink: bool,
}

/// Provisions, builds, and prints the path of each dylib (for a crate,
/// `<name>.so` next to the `.wasm` cargo wrote), one a line.
pub fn run(args: &BuildArgs) -> Result<()> {
    if !args.c_sources.is_empty() {
        let Some(output) = &args.output else {
            bail!("--c needs -o FILE, the dylib to write");
        };
        let toolchain = wit_dylib_toolchain::provision()?;
        build_c(&toolchain, args, output)?;
        if args.shrink {
            toolchain.wasm_opt.shrink(output, output)?;
        }
        println!("{}", output.display());
        return Ok(());
    }
    if !args.manifest_path.is_file() {
        bail!(
            "{} not found: run `wit-dylib build` in an interpreter crate or pass --manifest-path",
            args.manifest_path.display()
        );
    }
    let toolchain = wit_dylib_toolchain::provision()?;
    let packages: Vec<&str> = args.packages.iter().map(String::as_str).collect();
    let built = dylib::build(
        &toolchain,
        &dylib::Build {
            manifest_path: &args.manifest_path,
            packages: &packages,
            profile: &args.profile,
            target_dir: None,
            extra_rustflags: &[],
        },
    )?;
    for dylib in built {
        let so = dylib.path.with_file_name(format!("{}.so", dylib.name));
        match args.shrink {
            true => toolchain.wasm_opt.shrink(&dylib.path, &so)?,
            false => std::fs::copy(&dylib.path, &so)
                .map(drop)
                .with_context(|| format!("copying {} to {}", dylib.path.display(), so.display()))?,
        }
        println!("{}", so.display());
    }
    Ok(())
}

/// Compiles `--c` sources with the header, written next to the toolchain.
fn build_c(toolchain: &Toolchain, args: &BuildArgs, output: &Path) -> Result<()> {
    for source in &args.c_sources {
        if !source.is_file() {
            bail!("{} not found", source.display());
        }
    }
    let include = wit_dylib_toolchain::home()?.join("include");
    std::fs::create_dir_all(&include)
        .with_context(|| format!("cannot create {}", include.display()))?;
    let header = include.join("wit_dylib.h");
    if std::fs::read_to_string(&header).ok().as_deref() != Some(HEADER) {
        std::fs::write(&header, HEADER)
            .with_context(|| format!("cannot write {}", header.display()))?;
    }
    dylib::build_c(
        toolchain,
        &args.c_sources,
        &[include],
        &args.clang_args,
        output,
    )
}
