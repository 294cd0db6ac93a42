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
    /// Wall-clock seconds for each call (and for start-up), waiting on the
    /// host included: a script that waits forever stops here.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = Limits::DEFAULT_TIMEOUT.as_secs_f64(),
        value_parser = parse_seconds,
    )]
    pub timeout: f64,
}

/// A positive number of seconds, at most a day.
fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 86_400.0 => Ok(seconds),
        _ => Err(format!(
            "`{text}` is not a number of seconds between 0 and 86400"
        )),
    }
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            fuel: self.fuel,
            max_memory: (self.max_memory as usize) << 20,
            timeout: std::time::Duration::from_secs_f64(self.timeout),
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
            LimitReached::Time(_) => "raise it with --timeout",
        }
    } else if err.downcast_ref::<PreinitUnsupported>().is_some() {
        "build it with --no-preinit"
    } else {
        return err;
    };
    anyhow::anyhow!("{err:#} ({hint})")
}
