//! Shrinking built dylibs with Binaryen's `wasm-opt -Oz`.
//!
//! LLVM's output at `opt-level = "s"` still carries much that Binaryen's
//! whole-module passes remove (duplicate monomorphised functions, dead
//! branches, redundant locals): on the Lua interpreter `wasm-opt -Oz` cuts
//! the code by about a sixth, and the calls it makes cost slightly less
//! fuel. It keeps what dynamic linking needs: the `dylink.0` section, the
//! exports, the `env`/`GOT.*` imports and the `component-type` sections.
//!
//! Binaryen comes from the npm registry as `binaryen`, a build of the tools
//! for Node.js, installed under the toolchain's home. Shrinking is slow (tens
//! of seconds for an interpreter), so results are kept by the SHA-256 of
//! their input, Binaryen's version and the flags: a rebuild whose dylib did
//! not change, or a second build script shrinking the same dylib, copies the
//! kept result.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::{Install, command};

/// The npm release of Binaryen we use.
const BINARYEN_VERSION: &str = "132.0.0";

/// The wasm features our dylibs use, which Binaryen cannot read from them
/// (stripped dylibs have no `target_features` section). Naming them also
/// keeps `wasm-opt` from emitting any other.
const FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-call-indirect-overlong",
    "--enable-exception-handling",
    "--enable-extended-const",
    "--enable-multivalue",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
];

/// What `wasm-opt` does: optimise for size, and drop names and producers
/// (component tools neither need nor keep them).
const PASSES: &[&str] = &["-Oz", "--strip-debug", "--strip-producers"];

/// Binaryen's `wasm-opt`, ready to run.
pub struct WasmOpt {
    node: PathBuf,
    script: PathBuf,
    /// Where shrunk dylibs are kept by the hash of their input.
    kept: PathBuf,
}

/// Finds Binaryen under `home`, installing it from npm when allowed.
pub(crate) fn ensure(home: &Path, allowed: Install) -> Result<WasmOpt> {
    let node = command::which("node").context(
        "Binaryen's wasm-opt runs on Node.js, and this machine has no `node` on its PATH; \
         install Node.js 18 or newer (Debian: `apt-get install nodejs npm`)",
    )?;
    let dir = home.join(format!("binaryen-{BINARYEN_VERSION}"));
    let script = dir.join("node_modules/binaryen/bin/wasm-opt");
    if !script.exists() {
        if allowed == Install::Forbidden {
            bail!("Binaryen {BINARYEN_VERSION} is not in {}", dir.display());
        }
        install(&dir).with_context(|| {
            format!("could not install Binaryen {BINARYEN_VERSION} from the npm registry")
        })?;
    }
    Ok(WasmOpt {
        node,
        script,
        kept: home.join("shrunk"),
    })
}

/// `npm install binaryen@VERSION` into a fresh directory, renamed into place
/// when complete, so that a build never sees half an installation.
fn install(dir: &Path) -> Result<()> {
    eprintln!("installing Binaryen {BINARYEN_VERSION} (wasm-opt) from the npm registry");
    let partial = dir.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial)?;
    command::output(
        Command::new(
            command::which("npm").context("no `npm` on the PATH to install Binaryen with")?,
        )
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--no-package-lock",
            "--prefix",
        ])
        .arg(&partial)
        .arg(format!("binaryen@{BINARYEN_VERSION}")),
    )?;
    match std::fs::rename(&partial, dir) {
        Ok(()) => Ok(()),
        // Another build installed it meanwhile.
        Err(_) if dir.join("node_modules/binaryen/bin/wasm-opt").exists() => {
            std::fs::remove_dir_all(&partial)?;
            Ok(())
        }
        Err(err) => Err(err).with_context(|| format!("moving Binaryen to {}", dir.display())),
    }
}

impl WasmOpt {
    /// Writes `input`, shrunk, to `output` (left alone if it already holds
    /// exactly that).
    pub fn shrink(&self, input: &Path, output: &Path) -> Result<()> {
        let bytes = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
        let kept = self.kept.join(format!("{}.wasm", self.key(&bytes)));
        if !kept.exists() {
            self.run(input, &kept)
                .with_context(|| format!("could not shrink {} with wasm-opt", input.display()))?;
        }
        let shrunk = std::fs::read(&kept).with_context(|| format!("reading {}", kept.display()))?;
        if std::fs::read(output).is_ok_and(|old| old == shrunk) {
            return Ok(());
        }
        std::fs::write(output, shrunk).with_context(|| format!("writing {}", output.display()))
    }

    /// Runs `wasm-opt` into a file of this process's own, renamed to `kept`
    /// when whole: concurrent builds each write their own and the last
    /// rename wins with identical bytes.
    fn run(&self, input: &Path, kept: &Path) -> Result<()> {
        std::fs::create_dir_all(&self.kept)?;
        let partial = kept.with_extension(format!("partial-{}", std::process::id()));
        eprintln!("shrinking {} with wasm-opt -Oz", input.display());
        command::output(
            Command::new(&self.node)
                .arg(&self.script)
                .args(FEATURES)
                .args(PASSES)
                .arg(input)
                .arg("-o")
                .arg(&partial),
        )?;
        std::fs::rename(&partial, kept)?;
        Ok(())
    }

    /// The name a shrunk dylib is kept under: what it was made from and how.
    fn key(&self, input: &[u8]) -> String {
        let mut hash = Sha256::new();
        hash.update(format!(
            "binaryen {BINARYEN_VERSION}\n{FEATURES:?}\n{PASSES:?}\n"
        ));
        hash.update(input);
        hash.finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}
