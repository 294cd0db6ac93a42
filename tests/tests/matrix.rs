//! The test matrix: every world of `worlds/matrix` × world-library generator
//! × caller interpreter × callee interpreter, as one trial named
//! `{world}::{generator}::{caller}->{callee}`.
//!
//! Worlds with async functions, futures or streams also play with both sides
//! built by one generator in the mode the pipeline picks for them, the stack
//! pointer in the task context, as `{world}::{generator}+task-context::…`.
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
use wit_dylib_generator::StackPointer;
use wit_dylib_pipeline::Script;
use wit_dylib_tests::component::{self, World};
use wit_dylib_tests::host::Instance;
use wit_dylib_tests::{compose, interpreters, lua_scripts};

/// How many times each trial calls `run`; iteration 3 sends 1 MiB strings.
const ITERATIONS: u32 = 4;

/// World-library generators: a trial's generator is one of these for both
/// sides, or `caller-callee` when the two sides use different ones.
const GENERATORS: &[&str] = &["upstream", "ours"];

/// The interpreters, by the name trials use.
#[derive(Copy, Clone)]
enum Interpreter {
    /// `interpreters/val`: seeded values through the SDK's `Val`.
    Val,
    /// `interpreters/lua` running a script from `lua_scripts`.
    Lua,
    /// `interpreters/toy` running `toy/matrix.toy`, which reads the world
    /// through the toy interpreter's reflection builtins.
    Toy,
}

const INTERPRETERS: &[(&str, Interpreter)] = &[
    ("val", Interpreter::Val),
    ("toy", Interpreter::Toy),
    ("lua", Interpreter::Lua),
];

/// Worlds only `val` plays: `world-resources` (the Lua and toy matrix
/// scripts find a resource's functions through its interface) and
/// `big-elements` (the Lua and toy matrix scripts cannot create a stream of
/// fixed-length lists).
const VAL_ONLY_WORLDS: &[&str] = &["world-resources", "big-elements"];

/// Worlds with a resource type at world level (row 33): wac-graph cannot
/// compose them, so the harness instantiates the two sides itself
/// ([`Instance::pair`]).
const PAIRED_WORLDS: &[&str] = &["world-resources"];

/// Worlds upstream wit-dylib 0.263 cannot generate (it panics on
/// fixed-length lists and on functions passing error-contexts): only our
/// generator builds them.
const OURS_ONLY_WORLDS: &[&str] = &["fixed-lists", "big-elements", "error-context"];

fn plays(world: &str, interpreter: Interpreter) -> bool {
    match interpreter {
        Interpreter::Val => true,
        Interpreter::Lua | Interpreter::Toy => !VAL_ONLY_WORLDS.contains(&world),
    }
}

/// The toy script of every matrix component.
const TOY_SCRIPT: &str = include_str!("../toy/matrix.toy");

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
    let dir = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("worlds/matrix");
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
        let mut pairs = Vec::new();
        for &caller in GENERATORS {
            for &callee in GENERATORS {
                if !OURS_ONLY_WORLDS.contains(&world.as_str()) || [caller, callee] == ["ours"; 2] {
                    pairs.push((caller, callee, StackPointer::Global));
                }
            }
        }
        let task_context = match pipeline_mode(wit) {
            Ok(mode) => mode,
            Err(err) => {
                let message = format!("{err:#}");
                trials.push(Trial::test(format!("{world}::mode"), move || {
                    Err(message.into())
                }));
                continue;
            }
        };
        if task_context == StackPointer::TaskContext {
            for (caller, callee, _) in pairs.clone().into_iter().filter(|(a, b, _)| a == b) {
                pairs.push((caller, callee, StackPointer::TaskContext));
            }
        }
        for (caller_generator, callee_generator, stack_pointer) in pairs {
            let mut generator = if caller_generator == callee_generator {
                caller_generator.to_string()
            } else {
                format!("{caller_generator}-{callee_generator}")
            };
            if stack_pointer == StackPointer::TaskContext {
                generator.push_str("+task-context");
            }
            for &(caller_name, caller) in INTERPRETERS {
                for &(callee_name, callee) in INTERPRETERS {
                    if !plays(&world, caller) || !plays(&world, callee) {
                        continue;
                    }
                    let name = format!("{world}::{generator}::{caller_name}->{callee_name}");
                    let case = Case {
                        wit: wit.clone(),
                        stack_pointer,
                        caller: Side {
                            generator: caller_generator,
                            interpreter: caller,
                        },
                        callee: Side {
                            generator: callee_generator,
                            interpreter: callee,
                        },
                    };
                    trials.push(Trial::test(name, move || case.run().map_err(failed)));
                }
            }
        }
    }
    trials
}

/// Where the pipeline keeps the stack pointer for the file's callee world,
/// with an interpreter that receives the task hook (as all of ours do).
fn pipeline_mode(wit: &Path) -> Result<StackPointer> {
    let world = World::load(wit, "callee")?;
    Ok(wit_dylib_pipeline::stack_pointer_for(
        &world.resolve,
        world.world,
        true,
    ))
}

/// Checks a script on the host and links it, with its interpreter, to a
/// world library (picked by the file name).
fn link_script(name: &str, source: Vec<u8>, glue: &[u8]) -> Result<Vec<u8>> {
    let script = Script {
        name: name.into(),
        source,
    };
    interpreters::check(&script)?;
    interpreters::link(&script, glue)
}

fn failed(err: anyhow::Error) -> Failed {
    format!("{err:?}").into()
}

/// Calls `run(0)` to `run(ITERATIONS - 1)`.
fn run_iterations(mut instance: Instance) -> Result<()> {
    for iteration in 0..ITERATIONS {
        instance
            .call("run", &[Val::U32(iteration)])
            .with_context(|| format!("iteration {iteration}"))?;
    }
    Ok(())
}

/// How one side of a trial is built.
#[derive(Copy, Clone)]
struct Side {
    generator: &'static str,
    interpreter: Interpreter,
}

struct Case {
    wit: PathBuf,
    /// Where both sides' world libraries keep the stack pointer.
    stack_pointer: StackPointer,
    caller: Side,
    callee: Side,
}

impl Case {
    fn run(&self) -> Result<()> {
        let callee = self.build("callee", self.callee)?;
        let caller = self.build("caller", self.caller)?;
        let world = self.wit.file_stem().unwrap_or_default().to_string_lossy();
        if PAIRED_WORLDS.contains(&world.as_ref()) {
            return run_iterations(Instance::pair(&callee, &caller)?);
        }
        let proxy = match self.has_world("proxy")? {
            // The proxy stands in for the callee, so it is built like it.
            true => Some(self.build("proxy", self.callee)?),
            false => None,
        };
        let mut chain: Vec<(&str, &[u8])> = vec![("callee", &callee)];
        if let Some(proxy) = &proxy {
            chain.push(("proxy", proxy));
        }
        chain.push(("caller", &caller));
        let composed = compose::chain(&chain, &["run"])?;
        run_iterations(Instance::new(&composed, vec![])?)
    }

    fn has_world(&self, name: &str) -> Result<bool> {
        let world = World::load(&self.wit, "callee")?;
        let package = world.resolve.worlds[world.world]
            .package
            .context("world without a package")?;
        Ok(world.resolve.packages[package].worlds.contains_key(name))
    }

    /// The component for one of the file's worlds.
    fn build(&self, world: &str, side: Side) -> Result<Vec<u8>> {
        let world = World::load(&self.wit, world)?;
        let glue = match side.generator {
            "upstream" => component::upstream_world_dylib_in(&world, self.stack_pointer)?,
            "ours" => component::ours_world_dylib_in(&world, self.stack_pointer)?,
            other => anyhow::bail!("unknown generator {other}"),
        };
        match side.interpreter {
            Interpreter::Val => component::link("val_interpreter.so", &glue),
            Interpreter::Lua => {
                let source = lua_scripts::script(&world.resolve, world.world)?;
                link_script("matrix.lua", source.into_bytes(), &glue)
            }
            Interpreter::Toy => link_script("matrix.toy", TOY_SCRIPT.into(), &glue),
        }
    }
}
