//! The run-time limits every command that runs a script takes, and the
//! flags that raise them named in the errors they cause.

use wit_dylib_pipeline::{LimitReached, Limits, PreinitUnsupported};

/// Limits on running a script: at build time its top level runs in a
/// sandbox (no files, environment or network) under these limits too.
#[derive(clap::Args, Clone, Debug)]
pub struct LimitArgs {
    /// wasmtime fuel for each call (and for start-up): roughly one unit per
    /// wasm instruction. A script that loops forever stops here.
    #[arg(long, default_value_t = Limits::DEFAULT_FUEL)]
    pub fuel: u64,
    /// The most linear memory the component may use, in MiB (up to 4096,
    /// all a 32-bit memory can address).
    #[arg(
        long,
        value_name = "MIB",
        default_value_t = (Limits::DEFAULT_MAX_MEMORY >> 20) as u32,
        value_parser = clap::value_parser!(u32).range(1..=4096),
    )]
    pub max_memory: u32,
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            fuel: self.fuel,
            max_memory: (self.max_memory as usize) << 20,
        }
    }
}

/// Ends the message of `err` with the flag that would have avoided it, when
/// it is a limit reached or a component that cannot be pre-initialised. For
/// the error a command finally reports.
pub fn name_the_flag(err: anyhow::Error) -> anyhow::Error {
    let hint = if let Some(limit) = err.downcast_ref::<LimitReached>() {
        match limit {
            LimitReached::Fuel(_) => "raise it with --fuel",
            LimitReached::Memory(_) => "raise it with --max-memory",
        }
    } else if err.downcast_ref::<PreinitUnsupported>().is_some() {
        "build it with --no-preinit"
    } else {
        return err;
    };
    anyhow::anyhow!("{err:#} ({hint})")
}
