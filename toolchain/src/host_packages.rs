//! Debian packages the toolchain is made of.

use std::process::Command;

use anyhow::{Result, bail};

use crate::{Install, command};

/// clang/lld/llvm-ar for wasm, compiler-rt's wasm32 builtins, and libclang
/// (bindgen regenerates the FFI bindings from our C header with it).
const PACKAGES: &[&str] = &[
    "clang-22",
    "lld-22",
    "llvm-22",
    "libclang-rt-22-dev-wasm32",
    "libclang-22-dev",
];

/// Installs whichever of [`PACKAGES`] are missing, with apt, where allowed.
pub(crate) fn ensure(allowed: Install) -> Result<()> {
    let missing = missing_packages()?;
    if missing.is_empty() {
        return Ok(());
    }
    if allowed == Install::Forbidden {
        bail!("missing Debian packages: {}", missing.join(" "));
    }
    let install = format!("apt-get update && apt-get install -y {}", missing.join(" "));
    if !is_root()? {
        bail!(
            "missing Debian packages: {}; install them as root with:\n    sudo sh -c '{install}'",
            missing.join(" ")
        );
    }
    eprintln!("installing Debian packages: {}", missing.join(" "));
    command::run(Command::new("apt-get").args(["update", "-q"])).map_err(|e| {
        e.context(format!(
            "could not update apt's package lists; try `{install}`"
        ))
    })?;
    command::run(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing),
    )
    .map_err(|e| e.context(format!("could not install the packages; try `{install}`")))?;
    Ok(())
}

fn missing_packages() -> Result<Vec<&'static str>> {
    if command::which("dpkg-query").is_none() {
        bail!(
            "this machine has no dpkg/apt; install clang 22, lld 22, llvm-ar 22 and \
             compiler-rt's wasm32 builtins yourself and point WASI_SDK_PATH at a \
             wasi-sdk (25 or newer), or use a Debian 12 machine"
        );
    }
    // `dpkg-query` exits non-zero when a package is unknown; its output still
    // lists the installed ones, which is all we need.
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${Package} ${db:Status-Abbrev}\n"])
        .args(PACKAGES)
        .output()?;
    let listing = String::from_utf8_lossy(&out.stdout);
    let installed = |pkg: &str| {
        listing.lines().any(|line| {
            let mut words = line.split_whitespace();
            words.next() == Some(pkg) && words.next() == Some("ii")
        })
    };
    Ok(PACKAGES
        .iter()
        .copied()
        .filter(|pkg| !installed(pkg))
        .collect())
}

fn is_root() -> Result<bool> {
    Ok(command::stdout(Command::new("id").arg("-u"))? == "0")
}
