//! `run`: call one export of a component under wasmtime, with WASI but no
//! host capabilities, and print its results in WAVE.

use std::path::PathBuf;

use anyhow::{Context, Result};
use wit_dylib_pipeline::runtime;

use crate::limits::{LimitArgs, name_the_flag};
use crate::profile::ProfileArgs;

/// Run a component's export with WASI: `run app.wasm --invoke 'greet("you")'`.
#[derive(clap::Args, Clone, Debug)]
pub struct RunArgs {
    /// The component.
    pub component: PathBuf,
    /// The call: `name(args)` for a world-level export, or
    /// `interface#name(args)`, with arguments in WAVE syntax (e.g.
    /// `area(circle(2.0))`, `f("text", [1, 2], {x: 1, y: 2}, some(3))`);
    /// the results are printed in WAVE.
    #[arg(long)]
    pub invoke: String,
    /// Read at most this many items of a returned stream (then drop it).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_items: usize,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// Runs the call `args` describes and prints each result on a line.
pub fn run(args: &RunArgs) -> Result<()> {
    args.profile.apply()?;
    let bytes = std::fs::read(&args.component)
        .with_context(|| format!("cannot read {}", args.component.display()))?;
    runtime::check_component(&bytes).with_context(|| args.component.display().to_string())?;
    let engine = runtime::cached_engine_for(&bytes)?;
    let sandbox = runtime::Sandbox {
        limits: args.limits.limits(),
        inherit_stdout: true,
        ..runtime::Sandbox::default()
    };
    let printed = (|| {
        // Imports other than WASI fail if called: enough to run exports
        // that do not need them.
        let mut running =
            runtime::instantiate_in(&engine, &bytes, &sandbox, |linker, component| {
                runtime::stub_imports(linker, component, "`run` only provides WASI")
            })?;
        let results = crate::invoke::invoke(&mut running, &args.invoke)?;
        results
            .into_iter()
            .map(|(ty, val)| crate::results::render(&mut running, &ty, val, args.max_items))
            .collect::<Result<Vec<_>>>()
    })()
    .map_err(name_the_flag)?;
    for line in printed {
        println!("{line}");
    }
    Ok(())
}
