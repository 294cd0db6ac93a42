//! `build`: an interpreter crate into a wasm32-wasip2 shared-everything
//! dylib, provisioning the wasm toolchain first.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use wit_dylib_toolchain::dylib;

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
}

/// Provisions, builds, and prints the path of each dylib (`<name>.so`, next
/// to the `.wasm` cargo wrote), one a line.
pub fn run(args: &BuildArgs) -> Result<()> {
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
        },
    )?;
    for dylib in built {
        let so = dylib.path.with_file_name(format!("{}.so", dylib.name));
        std::fs::copy(&dylib.path, &so)
            .with_context(|| format!("copying {} to {}", dylib.path.display(), so.display()))?;
        println!("{}", so.display());
    }
    Ok(())
}
