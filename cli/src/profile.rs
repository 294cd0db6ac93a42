//! `--profile`: wasm functions named in a native profiler's samples.

use anyhow::Result;
use wit_dylib_pipeline::profile::{Profiler, profile_with};

#[derive(clap::Args, Clone, Debug)]
pub struct ProfileArgs {
    /// Tell `perf` where wasmtime put each wasm function, so that `perf
    /// record -g` of this process names them: `perfmap` writes
    /// /tmp/perf-PID.map, which `perf report` reads; `jitdump` writes
    /// jit-PID.dump here, for `perf inject --jit`.
    #[arg(long, value_enum, value_name = "PROFILER")]
    pub profile: Option<ProfilerName>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ProfilerName {
    Perfmap,
    Jitdump,
}

impl ProfileArgs {
    /// Makes the engines this command makes report to the profiler asked
    /// for, if any.
    pub fn apply(&self) -> Result<()> {
        match self.profile {
            None => Ok(()),
            Some(ProfilerName::Perfmap) => profile_with(Profiler::PerfMap),
            Some(ProfilerName::Jitdump) => profile_with(Profiler::JitDump),
        }
    }
}
