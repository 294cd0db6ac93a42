//! Host tools the tests run, installed with `cargo install` at pinned
//! versions into `<target-dir>/tools`, only when missing or at another
//! version.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, bail};

use crate::command;
use crate::workspace::Workspace;

/// The LuaLS/EmmyLua checker that `lua-demo`'s binding tests run over the
/// annotation files `lua-demo bindings` writes.
pub const EMMYLUA_CHECK: Tool = Tool {
    krate: "emmylua_check",
    binary: "emmylua_check",
    version: "0.25.1",
    env: "EMMYLUA_CHECK",
};

pub struct Tool {
    /// The crates.io crate.
    pub krate: &'static str,
    /// The binary it installs.
    pub binary: &'static str,
    pub version: &'static str,
    /// The environment variable that hands the binary's path to the tests.
    pub env: &'static str,
}

impl Tool {
    /// Where the tool lives once installed.
    pub fn path(&self, workspace: &Workspace) -> PathBuf {
        tools_root(workspace).join("bin").join(format!(
            "{}{}",
            self.binary,
            std::env::consts::EXE_SUFFIX
        ))
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
            None => eprintln!("installing {} {}", self.krate, self.version),
        }
        let mut cargo = workspace.cargo();
        cargo
            .args(["install", self.krate, "--version", self.version, "--locked"])
            .arg("--root")
            .arg(tools_root(workspace))
            .arg("--force")
            // Build in cargo's own temporary directory, not among the
            // workspace's outputs.
            .env_remove("CARGO_TARGET_DIR");
        command::run(&mut cargo)?;
        match installed_version(&path) {
            Some(version) if version == self.version => Ok(path),
            found => bail!(
                "`cargo install {}` did not leave version {} at {} (found {found:?})",
                self.krate,
                self.version,
                path.display()
            ),
        }
    }
}

fn tools_root(workspace: &Workspace) -> PathBuf {
    workspace.target_dir.join("tools")
}

/// The version `binary --version` reports (its last word), if it runs.
fn installed_version(binary: &Path) -> Option<String> {
    if !binary.is_file() {
        return None;
    }
    let out = command::stdout(Command::new(binary).arg("--version")).ok()?;
    out.split_whitespace().last().map(str::to_string)
}
