//! Naming wasm functions in a native profiler's samples: wasmtime can tell
//! `perf` where it put each function it compiled (or loaded from the
//! cache), so that a profile of `run` or `serve` shows the interpreter's
//! functions rather than anonymous addresses.
//!
//! The choice holds for the whole process, as the files it writes do: every
//! engine made after [`profile_with`] reports its code.

use std::sync::OnceLock;

use anyhow::{Result, bail};
use wasmtime::{Config, ProfilingStrategy};

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

static PROFILER: OnceLock<Profiler> = OnceLock::new();

/// Makes every engine made from now on report its code to `profiler`.
/// A process reports to one profiler: asking for another one later is an
/// error.
pub fn profile_with(profiler: Profiler) -> Result<()> {
    let chosen = *PROFILER.get_or_init(|| profiler);
    if chosen != profiler {
        bail!("this process already reports its code to {chosen:?}, not {profiler:?}");
    }
    Ok(())
}

/// Sets `config`'s profiler to the one chosen, if any.
pub(crate) fn configure(config: &mut Config) {
    let strategy = match PROFILER.get() {
        None => return,
        Some(Profiler::PerfMap) => ProfilingStrategy::PerfMap,
        Some(Profiler::JitDump) => ProfilingStrategy::JitDump,
    };
    config.profiler(strategy);
}
