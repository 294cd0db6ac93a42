//! Naming wasm functions in a native profiler's samples: wasmtime can tell
//! `perf` where it put each function it compiled (or loaded from the
//! cache), so that a profile of `run` or `serve` shows the interpreter's
//! functions rather than anonymous addresses.
//!
//! The choice holds for the whole process, as the files it writes do: every
//! engine made after [`profile_with`] reports its code.

use std::sync::OnceLock;

use anyhow::{Context, Result, ensure};
use wasmtime::{Config, Engine, ProfilingStrategy};

/// Where wasmtime reports the code it compiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profiler {
    /// `/tmp/perf-PID.map`: function names and addresses, which `perf
    /// report` reads by itself.
    PerfMap,
    /// `jit-PID.dump` in the working directory: the code too, for `perf
    /// inject --jit` (and then `perf annotate`).
    JitDump,
}

impl Profiler {
    fn strategy(self) -> ProfilingStrategy {
        match self {
            Profiler::PerfMap => ProfilingStrategy::PerfMap,
            Profiler::JitDump => ProfilingStrategy::JitDump,
        }
    }

    /// The file it writes, for messages.
    fn file(self) -> String {
        let pid = std::process::id();
        match self {
            Profiler::PerfMap => format!("/tmp/perf-{pid}.map"),
            Profiler::JitDump => format!("jit-{pid}.dump in the working directory"),
        }
    }
}

static PROFILER: OnceLock<Profiler> = OnceLock::new();

/// Makes every engine made from now on report its code to `profiler`.
/// A process reports to one profiler: asking for another one later is an
/// error, and so is a profiler file that cannot be written.
pub fn profile_with(profiler: Profiler) -> Result<()> {
    if PROFILER.get().is_none() {
        // wasmtime opens the file for the whole process with the first
        // engine that reports to it: here, so that failing names the file.
        let mut config = Config::new();
        config.profiler(profiler.strategy());
        Engine::new(&config)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot write {}", profiler.file()))?;
    }
    let chosen = *PROFILER.get_or_init(|| profiler);
    ensure!(
        chosen == profiler,
        "this process already reports its code to {chosen:?}, not {profiler:?}"
    );
    Ok(())
}

/// Sets `config`'s profiler to the one chosen, if any.
pub(crate) fn configure(config: &mut Config) {
    if let Some(profiler) = PROFILER.get() {
        config.profiler(profiler.strategy());
    }
}
