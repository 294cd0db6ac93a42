//! Where the workspace and its build outputs live.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

pub struct Workspace {
    /// The directory holding the workspace's `Cargo.toml`.
    pub root: PathBuf,
    /// Cargo's target directory (`$CARGO_TARGET_DIR` or `<root>/target`).
    pub target_dir: PathBuf,
}

impl Workspace {
    pub fn locate() -> Result<Workspace> {
        // At run time first: a binary built in another checkout that shares
        // the target directory would otherwise work on that checkout.
        let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = manifest
            .parent()
            .context("xtask is not inside the workspace")?
            .to_path_buf();
        let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => {
                let dir = PathBuf::from(dir);
                if dir.is_absolute() {
                    dir
                } else {
                    root.join(dir)
                }
            }
            None => root.join("target"),
        };
        Ok(Workspace { root, target_dir })
    }

    /// A `cargo` command run from the workspace root.
    pub fn cargo(&self) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(&self.root);
        cmd
    }

    /// The directory holding the wasm artifacts the tests and tools link:
    /// interpreter dylibs, `libc.so` (trimmed) and `libc-full.so`.
    pub fn artifacts_dir(&self) -> PathBuf {
        self.target_dir.join("wasm-artifacts")
    }
}
