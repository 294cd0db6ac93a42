//! `generate`: the world library of a WIT world, with the world's component
//! type embedded, ready for a component linker.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use wit_component::StringEncoding;
use wit_dylib_generator::StackPointer;
use wit_parser::Resolve;

#[derive(clap::Args, Clone, Debug)]
pub struct GenerateArgs {
    /// The WIT package: a `.wit` file, or a directory of them with an
    /// optional `deps/` folder.
    pub wit: PathBuf,
    /// The world to generate for; may be omitted when the package has
    /// exactly one world.
    #[arg(short, long, value_name = "WORLD")]
    pub world: Option<String>,
    /// Where to write the library; required for binary output unless stdout
    /// is not a terminal.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Name of the interpreter library to record as a `dylink.0` NEEDED
    /// dependency (e.g. `libinterp.so`).
    #[arg(long, value_name = "NAME")]
    pub interpreter: Option<String>,
    /// Where the library keeps its shadow stack pointer: the
    /// `__stack_pointer` global (WASI 0.2) or context slot 0 of the task
    /// (WASI 0.3; the interpreter must receive the task hook, docs/abi.md
    /// §8.7).
    #[arg(long, value_name = "WHERE", default_value = "global")]
    pub stack_pointer: StackPointerArg,
    /// Print the WebAssembly text format instead of the binary.
    #[arg(short = 't', long)]
    pub wat: bool,
    /// Enable these `@unstable` features (comma-separated or repeated).
    #[arg(long, value_name = "FEATURE", value_delimiter = ',')]
    pub features: Vec<String>,
    /// Enable every `@unstable` feature.
    #[arg(long)]
    pub all_features: bool,
}

/// The values of `--stack-pointer`, upstream's spelling.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum StackPointerArg {
    Global,
    TaskContext,
}

/// Generates the library `args` describe and writes it.
pub fn run(args: &GenerateArgs) -> Result<()> {
    let mut resolve = Resolve {
        all_features: args.all_features,
        ..Resolve::default()
    };
    resolve.features.extend(args.features.iter().cloned());
    let package = wit_dylib_generator::push_wit(&mut resolve, &args.wit)?;
    let world = wit_dylib_generator::select_world(&resolve, package, args.world.as_deref())?;
    let opts = wit_dylib_generator::Options {
        interpreter: args.interpreter.clone(),
        stack_pointer: match args.stack_pointer {
            StackPointerArg::Global => StackPointer::Global,
            StackPointerArg::TaskContext => StackPointer::TaskContext,
        },
    };
    let mut library = wit_dylib_generator::generate(&resolve, world, &opts)?;
    // The linker builds the component's type from the worlds its libraries
    // carry: without this one, the component would export nothing.
    wit_component::embed_component_metadata(
        &mut library,
        &resolve,
        world,
        StringEncoding::UTF8,
        false,
    )
    .context("embedding the world's component type")?;

    let output = if args.wat {
        let mut text =
            wasmprinter::print_bytes(&library).context("printing the library as text")?;
        text.push('\n');
        text.into_bytes()
    } else {
        library
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, &output).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            let stdout = std::io::stdout();
            if !args.wat && stdout.is_terminal() {
                bail!("refusing to write binary output to a terminal; pass `-o FILE` or `--wat`");
            }
            stdout
                .lock()
                .write_all(&output)
                .context("writing to stdout")
        }
    }
}
