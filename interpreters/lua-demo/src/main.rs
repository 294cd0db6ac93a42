//! `lua-demo`: turn a Lua (or toy) script plus a WIT world into a
//! WebAssembly component, and run components.
//!
//! With no arguments it builds the bundled example (`example/app.lua` with
//! `example/app.wit`) and runs it, playing the host.

mod bindings;
mod demo;
mod words;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};
use lua_demo::load_world;
use wit_dylib_cli::componentize::ComponentizeArgs;
use wit_dylib_cli::run::RunArgs;
use wit_dylib_cli::serve::ServeArgs;

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
    Componentize(ComponentizeArgs),
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
    // The help of `serve` and `run` is on their arguments (the same as
    // `wit-dylib`'s).
    Serve(ServeArgs),
    Run(RunArgs),
}

fn main() {
    let result = run(Cli::parse());
    wit_dylib_pipeline::cache::report_if_asked();
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => demo::run(None),
        Some(Command::Demo { script }) => demo::run(script.as_deref()),
        Some(Command::Componentize(args)) => {
            wit_dylib_cli::componentize::run(&args, |script| Ok(lua_demo::interpreter_for(script)))
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
        Some(Command::Serve(args)) => wit_dylib_cli::serve::command(&args),
        Some(Command::Run(args)) => wit_dylib_cli::run::run(&args),
    }
}
