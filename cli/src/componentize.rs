//! `componentize`: a script plus a WIT world into a component, through the
//! whole pipeline (check, generate, link, sandboxed run, snapshot, stubs).

use std::path::PathBuf;

use anyhow::{Context, Result};
use wit_dylib_pipeline::{Interpreter, Options, Script, load_world};

use crate::limits::{LimitArgs, name_the_flag};

/// The arguments every `componentize` takes, whatever picks the interpreter.
#[derive(clap::Args, Clone, Debug)]
pub struct ComponentizeArgs {
    /// The script.
    pub script: PathBuf,
    /// The WIT file or directory (with `deps/`) that defines the world.
    #[arg(long)]
    pub wit: PathBuf,
    /// The world to target; may be left out when the WIT has one world.
    #[arg(short, long)]
    pub world: Option<String>,
    /// Where to write the component.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Do not pre-initialise: every instance then runs the script's top
    /// level when it starts, instead of starting from a snapshot taken
    /// after the build-time run.
    #[arg(long)]
    pub no_preinit: bool,
    /// Make the component import exactly its world: WASI interfaces that
    /// libc uses but the world does not import are replaced by stubs
    /// that trap if called (e.g. `print` without `wasi:cli/stdout`).
    #[arg(long, conflicts_with = "no_preinit")]
    pub stub_wasi: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

impl ComponentizeArgs {
    pub fn options(&self) -> Options {
        Options {
            preinit: !self.no_preinit,
            stub_wasi: self.stub_wasi,
            limits: self.limits.limits(),
        }
    }
}

/// Builds the component `args` describe with the interpreter `pick` chooses
/// for the script, writes it and prints one line saying so.
pub fn run(
    args: &ComponentizeArgs,
    pick: impl FnOnce(&Script) -> Result<Interpreter>,
) -> Result<()> {
    let script = Script::read(&args.script)?;
    let interpreter = pick(&script)?;
    let (resolve, world) = load_world(&args.wit, args.world.as_deref())?;
    let component =
        wit_dylib_pipeline::componentize(&interpreter, &script, &resolve, world, &args.options())
            .map_err(name_the_flag)?;
    std::fs::write(&args.output, &component)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    println!(
        "componentized {} for world `{}` into {} ({} KiB)",
        script.name,
        resolve.worlds[world].name,
        args.output.display(),
        component.len() / 1024
    );
    Ok(())
}
