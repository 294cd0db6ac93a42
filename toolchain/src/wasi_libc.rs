//! wasi-libc's headers and crt objects for wasm32-wasip2.
//!
//! Debian 12's own wasi-libc predates wasip2, so we fetch Debian trixie's
//! `wasi-libc` binary package (architecture `all`) with a private apt
//! configuration that leaves the machine's package sources alone.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{Install, WASM_TARGET, build_once, command};

const SUITE: &str = "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] \
                     http://deb.debian.org/debian trixie main\n";

/// Files of the package's lib directory that go into the sysroot. Its static
/// `libc.a` (not PIC) and `libsetjmp.a` stay out: `libc.so` and our own
/// `libsetjmp.a` replace them, and the linker would otherwise pick these.
fn wanted_lib(name: &str) -> bool {
    name.ends_with(".o")
        || (name.ends_with(".a")
            && !matches!(name, "libc.a" | "libsetjmp.a")
            && !name.starts_with("libc-printscan"))
}

/// Puts the headers under `<sysroot>/include/wasm32-wasip2` and the crt objects
/// and stub archives under `<sysroot>/lib/wasm32-wasip2`.
pub(crate) fn ensure(download_dir: &Path, sysroot: &Path, allowed: Install) -> Result<()> {
    let include = sysroot.join("include").join(WASM_TARGET);
    let marker = include.join("stdio.h");
    build_once(&marker, SUITE, || match allowed {
        Install::Allowed => fetch(download_dir, sysroot),
        Install::Forbidden => bail!("wasi-libc is not in {}", sysroot.display()),
    })
    .context("could not fetch wasi-libc for wasm32-wasip2 from Debian trixie")
}

fn fetch(download_dir: &Path, sysroot: &Path) -> Result<()> {
    eprintln!("fetching wasi-libc (wasm32-wasip2) from Debian trixie");
    let lists = download_dir.join("lists");
    std::fs::create_dir_all(lists.join("partial"))?;
    std::fs::create_dir_all(download_dir.join("cache/archives/partial"))?;
    let sources = download_dir.join("sources.list");
    std::fs::write(&sources, SUITE)?;

    let apt = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        cmd.current_dir(download_dir)
            .arg("-q")
            .arg(format!("-oDir::Etc::sourcelist={}", sources.display()))
            .arg("-oDir::Etc::sourceparts=-")
            .arg(format!("-oDir::State::Lists={}", lists.display()))
            .arg(format!(
                "-oDir::Cache={}",
                download_dir.join("cache").display()
            ))
            // Downloads land in our own directory, which apt's unprivileged
            // sandbox user may not be able to write.
            .arg("-oAPT::Sandbox::User=root")
            .args(args);
        command::output(&mut cmd)
    };
    apt(&["update"])?;
    for old in std::fs::read_dir(download_dir)? {
        let path = old?.path();
        if path.extension().is_some_and(|e| e == "deb") {
            std::fs::remove_file(path)?;
        }
    }
    apt(&["download", "wasi-libc"])?;
    let deb = std::fs::read_dir(download_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .context("apt-get download left no .deb")?;

    let unpacked = download_dir.join("unpacked");
    let _ = std::fs::remove_dir_all(&unpacked);
    command::output(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked))?;

    let include = sysroot.join("include").join(WASM_TARGET);
    let _ = std::fs::remove_dir_all(&include);
    copy_tree(&unpacked.join("usr/include").join(WASM_TARGET), &include)?;

    let lib_dir = sysroot.join("lib").join(WASM_TARGET);
    std::fs::create_dir_all(&lib_dir)?;
    for entry in std::fs::read_dir(unpacked.join("usr/lib").join(WASM_TARGET))? {
        let entry = entry?;
        let name = entry.file_name();
        if wanted_lib(&name.to_string_lossy()) {
            std::fs::copy(entry.path(), lib_dir.join(&name))?;
        }
    }
    std::fs::remove_dir_all(&unpacked)?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}
