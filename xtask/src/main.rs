//! Project tooling, run as `cargo xtask <command>`.
//!
//! Everything that needs more than plain `cargo` lives here, so that the README's
//! commands work on a fresh machine: provisioning the wasm C toolchain and the
//! shared libc, building the wasm32-wasip2 interpreter dylibs with the right
//! linker and flags, and then running the demo or the test suite.

mod command;
mod tools;
mod wasm_build;
mod workspace;

use anyhow::Result;
use clap::{Parser, Subcommand};
use wit_dylib_toolchain as toolchain;

use crate::workspace::Workspace;

#[derive(Parser)]
#[command(name = "cargo xtask", about, disable_version_flag = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install (or find) the wasm toolchain: clang, wasi-libc, libc.so, libsetjmp.a,
    /// and Binaryen's wasm-opt.
    ///
    /// Uses `$WASI_SDK_PATH` when it is set; otherwise builds a wasi-sdk-like
    /// directory under `$WIT_DYLIB_HOME` (default `~/.cache/wit-dylib`) from
    /// Debian and rustup packages. Binaryen comes from the npm registry and
    /// runs on the machine's Node.js.
    /// A second run with nothing to do changes nothing.
    Provision,
    /// Provision, then build every wasm32-wasip2 dylib into the artifacts directory.
    BuildWasm,
    /// Provision, build the wasm artifacts, then run `lua-demo` (with no
    /// arguments: the bundled example).
    Demo {
        /// Extra arguments passed to `lua-demo` (e.g. `componentize ...`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Install the pinned host tools the tests run (`emmylua_check`,
    /// `wasm-tools`, the `wasmtime` and `wash` command lines) into
    /// `<target-dir>/tools`, unless they are there at that version.
    Tools,
    /// Provision, build the wasm artifacts and install the test tools, then
    /// run the whole test suite.
    Test {
        /// Extra arguments passed to `cargo test` (e.g. a filter after `--`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn main() {
    if let Err(err) = run(Cli::parse()) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let workspace = Workspace::locate()?;
    match cli.command {
        Command::Provision => {
            let toolchain = toolchain::provision()?;
            println!("wasm toolchain ready: {}", toolchain.describe());
        }
        Command::BuildWasm => {
            let toolchain = toolchain::provision()?;
            wasm_build::build_all(&workspace, &toolchain)?;
        }
        Command::Demo { args } => {
            let toolchain = toolchain::provision()?;
            wasm_build::build_all(&workspace, &toolchain)?;
            let mut cargo = workspace.cargo();
            cargo.args(["run", "--quiet", "-p", "lua-demo", "--"]);
            cargo.args(args);
            toolchain::command::run(&mut cargo)?;
        }
        Command::Tools => {
            for tool in tools::ALL {
                let path = tool.ensure(&workspace)?;
                println!("{} ready: {}", tool.binary, path.display());
            }
        }
        Command::Test { args } => {
            let toolchain = toolchain::provision()?;
            wasm_build::build_all(&workspace, &toolchain)?;
            let mut cargo = workspace.cargo();
            for tool in tools::ALL {
                cargo.env(tool.env, tool.ensure(&workspace)?);
            }
            // The compilation cache of the components the tests build lives
            // with the build, not in the user's home, and is reused by the
            // next run.
            if std::env::var_os("WIT_DYLIB_CACHE").is_none() {
                cargo.env(
                    "WIT_DYLIB_CACHE",
                    workspace.target_dir.join("wit-dylib-cache"),
                );
            }
            // The workspace's default members are exactly the host crates.
            cargo.arg("test");
            cargo.args(args);
            command::run_tests(&mut cargo)?;
        }
    }
    Ok(())
}
