//! `wit-dylib-generator`: WIT world → world dylib (a shared-everything wasm
//! library for `wit_dylib.h` interpreters).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use wit_parser::Resolve;

/// Generate the world dylib of a WIT world: a WebAssembly shared-everything
/// dynamic library that bridges the world's canonical ABI to an interpreter
/// implementing `wit_dylib.h`. Link it with the interpreter and `libc.so`
/// (e.g. `wasm-tools component link`) to get a component.
#[derive(Parser)]
#[command(name = "wit-dylib-generator", version)]
struct Cli {
    /// The WIT package: a `.wit` file, or a directory of them with an
    /// optional `deps/` folder.
    wit: PathBuf,

    /// The world to generate for; may be omitted when the package has
    /// exactly one world.
    #[arg(short, long, value_name = "WORLD")]
    world: Option<String>,

    /// Where to write the library; required for binary output unless stdout
    /// is not a terminal.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Name of the interpreter library to record as a `dylink.0` NEEDED
    /// dependency (e.g. `libinterp.so`).
    #[arg(long, value_name = "NAME")]
    interpreter: Option<String>,

    /// Print the WebAssembly text format instead of the binary.
    #[arg(short = 't', long)]
    wat: bool,

    /// Enable these `@unstable` features (comma-separated or repeated).
    #[arg(long, value_name = "FEATURE", value_delimiter = ',')]
    features: Vec<String>,

    /// Enable every `@unstable` feature.
    #[arg(long)]
    all_features: bool,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let mut resolve = Resolve {
        all_features: cli.all_features,
        ..Resolve::default()
    };
    resolve.features.extend(cli.features.iter().cloned());
    let package = wit_dylib_generator::push_wit(&mut resolve, &cli.wit)?;
    let world = wit_dylib_generator::select_world(&resolve, package, cli.world.as_deref())?;
    let opts = wit_dylib_generator::Options {
        interpreter: cli.interpreter,
    };
    let dylib = wit_dylib_generator::generate(&resolve, world, &opts)?;

    let output = if cli.wat {
        let mut text = wasmprinter::print_bytes(&dylib).context("printing the library as text")?;
        text.push('\n');
        text.into_bytes()
    } else {
        dylib
    };
    match &cli.output {
        Some(path) => {
            std::fs::write(path, &output).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            let stdout = std::io::stdout();
            if !cli.wat && stdout.is_terminal() {
                bail!("refusing to write binary output to a terminal; pass `-o FILE` or `--wat`");
            }
            stdout
                .lock()
                .write_all(&output)
                .context("writing to stdout")
        }
    }
}
