//! `wit-dylib`: the language-neutral command line for interpreter authors.
//! Scaffold an interpreter crate, build it into a wasm dylib, turn a script
//! plus a WIT world into a component with it, run and serve components, and
//! generate world libraries.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};
use wit_dylib_cli::build::BuildArgs;
use wit_dylib_cli::componentize::ComponentizeArgs;
use wit_dylib_cli::generate::GenerateArgs;
use wit_dylib_cli::new::NewArgs;
use wit_dylib_cli::run::RunArgs;
use wit_dylib_cli::serve::ServeArgs;
use wit_dylib_pipeline::Interpreter;

#[derive(Parser)]
#[command(name = "wit-dylib", about, version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a new interpreter crate: a small working language on
    /// `wit-dylib-sdk`, a sample world and script, a README and tests.
    New(NewArgs),
    /// Build an interpreter crate (Rust, with or without C through `cc`)
    /// into a wasm32-wasip2 shared-everything dylib; prints its path.
    ///
    /// Provisions the wasm toolchain first (clang, wasi-libc, libc.so,
    /// libsetjmp.a), installing what is missing; `$WASI_SDK_PATH` points at
    /// a wasi-sdk to use instead.
    Build(BuildArgs),
    /// Build a component from a script, a WIT world and an interpreter dylib.
    ///
    /// The script is never run on this machine: its top level runs inside
    /// the component, under wasmtime, with no files, environment or network
    /// and within the limits below; there it must export every function of
    /// the world. The state it leaves is snapshotted into the component.
    Componentize {
        /// The interpreter: a wasm32-wasip2 dylib implementing `wit_dylib.h`
        /// (from `wit-dylib build`, or C built as its README says).
        #[arg(long, value_name = "DYLIB")]
        interpreter: PathBuf,
        /// The `libc.so` to link (default: all of wasi-libc, built in).
        #[arg(long, value_name = "SO")]
        libc: Option<PathBuf>,
        #[command(flatten)]
        args: ComponentizeArgs,
    },
    Run(RunArgs),
    // The help of `serve` and `run` is on their arguments (shared with
    // lua-demo).
    Serve(ServeArgs),
    /// Generate the world library of a WIT world: a shared-everything wasm
    /// library that bridges the world's canonical ABI to an interpreter
    /// implementing `wit_dylib.h`, with the world's type embedded.
    ///
    /// Link it after the interpreter and before `libc.so` into a component,
    /// e.g. `wasm-tools component link interp.so world.so libc.so -o app.wasm`
    /// (an interpreter that reads a linked script also needs the script
    /// library, which `componentize` builds for you).
    Generate(GenerateArgs),
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
        Command::New(args) => wit_dylib_cli::new::run(&args),
        Command::Build(args) => wit_dylib_cli::build::run(&args),
        Command::Componentize {
            interpreter,
            libc,
            args,
        } => wit_dylib_cli::componentize::run(&args, |_| {
            let libc = match &libc {
                Some(path) => std::fs::read(path)
                    .map(Into::into)
                    .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", path.display()))?,
                None => wit_dylib_cli::libc_full(),
            };
            Interpreter::read(&interpreter, libc)
        }),
        Command::Run(args) => wit_dylib_cli::run::run(&args),
        Command::Serve(args) => wit_dylib_cli::serve::command(&args),
        Command::Generate(args) => wit_dylib_cli::generate::run(&args),
    }
}
