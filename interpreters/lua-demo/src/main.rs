//! `lua-demo`: turn a Lua (or toy) script plus a WIT world into a
//! WebAssembly component, and run components.
//!
//! With no arguments it builds the bundled example (`example/app.lua` with
//! `example/app.wit`) and runs it, playing the host.

mod bindings;
mod demo;
mod invoke;
mod words;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use lua_demo::{Limits, Options, Script, componentize_with, load_world, runtime};
use wasmtime::component::wasm_wave;

#[derive(Parser)]
#[command(name = "lua-demo", about, version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Build the bundled example (or SCRIPT, for the same world) and run it,
    /// playing the host. The default when no command is given.
    Demo {
        /// A Lua or toy script for `example/app.wit`, instead of `example/app.lua`
        /// (`example/app.toy` is the toy version).
        script: Option<PathBuf>,
    },
    /// Build a component from a script and a WIT world.
    ///
    /// A `.toy` script is a toy-language script, anything else Lua. The
    /// script is never run on this machine: its top level runs inside the
    /// component, under wasmtime, with no files, environment or network and
    /// within the limits below; there it must export every function of the
    /// world. The state it leaves is snapshotted into the component.
    Componentize {
        /// The Lua or toy script.
        script: PathBuf,
        /// The WIT file or directory (with `deps/`) that defines the world.
        #[arg(long)]
        wit: PathBuf,
        /// The world to target; may be left out when the WIT has one world.
        #[arg(short, long)]
        world: Option<String>,
        /// Where to write the component.
        #[arg(short, long)]
        output: PathBuf,
        /// Do not pre-initialise: every instance then runs the script's top
        /// level when it starts, instead of starting from a snapshot taken
        /// after the build-time run.
        #[arg(long)]
        no_preinit: bool,
        /// Make the component import exactly its world: WASI interfaces that
        /// libc uses but the world does not import are replaced by stubs
        /// that trap if called (e.g. `print` without `wasi:cli/stdout`).
        #[arg(long, conflicts_with = "no_preinit")]
        stub_wasi: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Write LuaLS/EmmyLua annotation files (`---@meta`) for a world.
    ///
    /// One file per module a script may `require` (`demo:app/host.lua`,
    /// `world.lua`), at the path its name gives, and `exports.lua` with the
    /// class of the table the script returns (annotate that table with
    /// `---@type <world>.Exports`). Add DIR to the language server's library
    /// folders (`workspace.library` in `.emmyrc.json` or `.luarc.json`).
    Bindings {
        /// The WIT file or directory (with `deps/`) that defines the world.
        #[arg(long)]
        wit: PathBuf,
        /// The world; may be left out when the WIT has one world.
        #[arg(short, long)]
        world: Option<String>,
        /// The directory to write the files into (created if missing).
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
    },
    /// Run a component's export with WASI: `run app.wasm --invoke 'greet("you")'`.
    Run {
        /// The component.
        component: PathBuf,
        /// The call: `name(args)` for a world-level export, or
        /// `interface#name(args)`, with arguments in WAVE syntax (e.g.
        /// `area(circle(2.0))`, `f("text", [1, 2], {x: 1, y: 2}, some(3))`);
        /// the results are printed in WAVE.
        #[arg(long)]
        invoke: String,
        #[command(flatten)]
        limits: LimitArgs,
    },
}

/// Limits on running a script: at build time its top level runs in a
/// sandbox (no files, environment or network) under these limits too.
#[derive(clap::Args)]
struct LimitArgs {
    /// wasmtime fuel for each call (and for start-up): roughly one unit per
    /// wasm instruction. A script that loops forever stops here.
    #[arg(long, default_value_t = Limits::DEFAULT_FUEL)]
    fuel: u64,
    /// The most linear memory the component may use, in MiB (up to 4096,
    /// all a 32-bit memory can address).
    #[arg(
        long,
        value_name = "MIB",
        default_value_t = (Limits::DEFAULT_MAX_MEMORY >> 20) as u32,
        value_parser = clap::value_parser!(u32).range(1..=4096),
    )]
    max_memory: u32,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            fuel: self.fuel,
            max_memory: (self.max_memory as usize) << 20,
        }
    }
}

fn main() {
    if let Err(err) = run(Cli::parse()) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => demo::run(None),
        Some(Command::Demo { script }) => demo::run(script.as_deref()),
        Some(Command::Componentize {
            script,
            wit,
            world,
            output,
            no_preinit,
            stub_wasi,
            limits,
        }) => {
            let script = Script::read(&script)?;
            let (resolve, world) = load_world(&wit, world.as_deref())?;
            let options = Options {
                preinit: !no_preinit,
                stub_wasi,
                limits: limits.limits(),
            };
            let component = componentize_with(&script, &resolve, world, &options)?;
            std::fs::write(&output, &component)
                .with_context(|| format!("cannot write {}", output.display()))?;
            println!(
                "componentized {} for world `{}` into {} ({} KiB)",
                script.name,
                resolve.worlds[world].name,
                output.display(),
                component.len() / 1024
            );
            Ok(())
        }
        Some(Command::Bindings { wit, world, output }) => {
            let (resolve, world) = load_world(&wit, world.as_deref())?;
            let files = bindings::write(&resolve, world, &output)?;
            println!(
                "wrote {} annotation files for world `{}` into {} (exports class `{}`)",
                files.len(),
                resolve.worlds[world].name,
                output.display(),
                bindings::exports_class(&resolve, world)
            );
            Ok(())
        }
        Some(Command::Run {
            component,
            invoke,
            limits,
        }) => {
            let bytes = std::fs::read(&component)
                .with_context(|| format!("cannot read {}", component.display()))?;
            runtime::check_component(&bytes).with_context(|| component.display().to_string())?;
            let engine = runtime::engine()?;
            let sandbox = runtime::Sandbox {
                limits: limits.limits(),
                inherit_stdout: true,
                ..runtime::Sandbox::default()
            };
            // Imports other than WASI fail if called: enough to run exports
            // that do not need them.
            let mut running =
                runtime::instantiate_in(&engine, &bytes, &sandbox, |linker, component| {
                    runtime::stub_imports(linker, component, "`lua-demo run` only provides WASI")
                })?;
            for result in invoke::invoke(&mut running, &invoke)? {
                println!("{}", wasm_wave::to_string(&result)?);
            }
            Ok(())
        }
    }
}
