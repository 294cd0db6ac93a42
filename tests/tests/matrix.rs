//! The test matrix: every world of `worlds/matrix` × world-library generator
//! × caller interpreter × callee interpreter, as one trial named
//! `{world}::{generator}::{caller}->{callee}`.
//!
//! A trial builds the world's `caller` and `callee` worlds into components
//! (plus `proxy`, when the world has one, placed between them), composes them
//! with wac-graph, and calls the caller's `run(iteration)` export under
//! wasmtime for several iterations. The interpreters check every value on
//! both sides and trap on a mismatch or a leak, failing the trial.
//!
//! Select trials by substring, e.g. `cargo test --test matrix -- records::`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use libtest_mimic::{Arguments, Failed, Trial};
use wasmtime::component::Val;
use wit_dylib_tests::component::{self, World};
use wit_dylib_tests::compose;
use wit_dylib_tests::host::Instance;

/// How many times each trial calls `run`; iteration 3 sends 1 MiB strings.
const ITERATIONS: u32 = 4;

/// World-library generators, by the name trials use.
const GENERATORS: &[&str] = &["upstream", "ours"];

/// Interpreters, by the name trials use, with their dylib artifacts.
const INTERPRETERS: &[(&str, &str)] = &[("val", "val_interpreter.so")];

fn main() {
    let args = Arguments::from_args();
    let trials = match worlds() {
        Ok(worlds) => trials(&worlds),
        Err(err) => vec![Trial::test("matrix::discover-worlds", move || {
            Err(format!("{err:#}").into())
        })],
    };
    libtest_mimic::run(&args, trials).exit();
}

fn worlds() -> Result<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("worlds/matrix");
    let mut worlds = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "wit") {
            worlds.push(path);
        }
    }
    worlds.sort();
    Ok(worlds)
}

fn trials(worlds: &[PathBuf]) -> Vec<Trial> {
    let mut trials = Vec::new();
    for wit in worlds {
        let world = wit.file_stem().unwrap().to_string_lossy().into_owned();
        for &generator in GENERATORS {
            for &(caller, caller_so) in INTERPRETERS {
                for &(callee, callee_so) in INTERPRETERS {
                    let name = format!("{world}::{generator}::{caller}->{callee}");
                    let case = Case {
                        wit: wit.clone(),
                        generator,
                        caller_so,
                        callee_so,
                    };
                    trials.push(Trial::test(name, move || case.run().map_err(failed)));
                }
            }
        }
    }
    trials
}

fn failed(err: anyhow::Error) -> Failed {
    format!("{err:?}").into()
}

struct Case {
    wit: PathBuf,
    generator: &'static str,
    caller_so: &'static str,
    callee_so: &'static str,
}

impl Case {
    fn run(&self) -> Result<()> {
        let callee = self.build("callee", self.callee_so)?;
        let caller = self.build("caller", self.caller_so)?;
        let proxy = match self.has_world("proxy")? {
            // The proxy runs the callee's interpreter: each role is played by
            // the interpreter of the side it stands for.
            true => Some(self.build("proxy", self.callee_so)?),
            false => None,
        };
        let mut chain: Vec<(&str, &[u8])> = vec![("callee", &callee)];
        if let Some(proxy) = &proxy {
            chain.push(("proxy", proxy));
        }
        chain.push(("caller", &caller));
        let composed = compose::chain(&chain, &["run"])?;

        let mut instance = Instance::new(&composed, vec![])?;
        for iteration in 0..ITERATIONS {
            instance
                .call("run", &[Val::U32(iteration)])
                .with_context(|| format!("iteration {iteration}"))?;
        }
        Ok(())
    }

    fn has_world(&self, name: &str) -> Result<bool> {
        let world = World::load(&self.wit, "callee")?;
        let package = world.resolve.worlds[world.world]
            .package
            .context("world without a package")?;
        Ok(world.resolve.packages[package].worlds.contains_key(name))
    }

    /// The component for one of the file's worlds.
    fn build(&self, world: &str, interpreter: &str) -> Result<Vec<u8>> {
        let world = World::load(&self.wit, world)?;
        let dylib = match self.generator {
            "upstream" => component::upstream_world_dylib(&world)?,
            "ours" => component::ours_world_dylib(&world)?,
            other => anyhow::bail!("unknown generator {other}"),
        };
        component::link(interpreter, &dylib)
    }
}
