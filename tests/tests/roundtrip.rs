//! Roundtrip property test: random worlds from `wit-smith` (see
//! `wit_dylib_tests::smith_world`), a caller and a callee component built
//! for each, composed and run under wasmtime. The interpreters derive every
//! argument and result from seeds and compare them on both sides, and check
//! at every quiescent point that nothing leaked (heap bytes, resources,
//! future and stream ends).
//!
//! One trial per seed, named `roundtrip::seed_{n}`. A seed whose input
//! gives no world to play tries its next inputs (see [`ATTEMPTS`]), and a
//! run fails when too few seeds play (see [`MIN_PLAYED`]). `ROUNDTRIP_CASES`
//! (default [`CI_CASES`]) sets how many seeds, `ROUNDTRIP_SEED` (default 0)
//! the first one; [`REGRESSION_SEEDS`] always run too; a failure names its seed, so `ROUNDTRIP_SEED=n
//! ROUNDTRIP_CASES=1` reruns it alone. `ROUNDTRIP_INTERPRETER` (`val`,
//! `lua` or `toy`) makes every side that can play it use that interpreter,
//! to soak one. A failing case keeps its WIT and
//! components in the directory it names and reports which single function
//! still fails on its own.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result};
use libtest_mimic::{Arguments, Trial};
use wasmtime::component::Val;
use wit_dylib_pipeline::Script;
use wit_dylib_tests::component::{self, World};
use wit_dylib_tests::host::Instance;
use wit_dylib_tests::smith_world::{self, Features, Keep, NoWorld, SmithWorlds};
use wit_dylib_tests::{compose, interpreters, lua_scripts};

/// Seeds `cargo xtask test` runs: within its 5-minute budget on 2 cores.
const CI_CASES: u64 = 200;

/// Seeds that once failed, run with every range: 1029 (the Lua generator
/// turned a `false` result payload into `true`), 10370 (an interface named
/// `u8` needs escaping in the derived worlds), 20038 (the Lua caller called
/// `settle` while its async calls were still running), 100253 and 101417
/// (Lua played a stream of options, whose `none` elements it lost before
/// `wit.none`), 101746
/// (the Lua script spelt a fixed-length list payload `fixed-length list`),
/// 102670 (it spelt a resource renamed by `use` by its new name), 205410
/// (a list became a map whose values hold an error-context, which the
/// component model forbids), 207123 (the Lua script wrote a resource named
/// `if` as `t.if`, and, with a Lua caller, as `require(...).if`).
const REGRESSION_SEEDS: &[u64] = &[
    1029, 10370, 20038, 100253, 101417, 101746, 102670, 205410, 207123,
];

/// Rounds per case: `run(0)` to `run(ROUNDS - 1)`, each calling every
/// function once with fresh values.
const ROUNDS: u32 = 3;

/// The scripted interpreters that play worlds with async functions,
/// futures or streams; the others play only sync worlds. Add toy here once
/// it serves async worlds; nothing else changes.
const ASYNC_SCRIPTED: &[Interpreter] = &[Interpreter::Lua];

/// Every WIT feature the random worlds may use. (wit-smith 0.263 writes no
/// maps; some lists become maps, see `smith_world`.)
const FEATURES: Features = Features {
    async_: true,
    futures: true,
    streams: true,
    fixed_length_lists: true,
    error_context: true,
};

/// Every [`SYNC_EVERY`]th seed gets a world without async functions,
/// futures or streams, which every scripted interpreter can play (see
/// [`ASYNC_SCRIPTED`]).
const SYNC_EVERY: u64 = 3;

/// The features of seed `seed`'s world. Odd seeds have no fixed-length
/// lists and no error-contexts, so that upstream, which cannot generate
/// them, builds sides too.
fn features(seed: u64) -> Features {
    let sync = seed.is_multiple_of(SYNC_EVERY);
    let even = seed.is_multiple_of(2);
    Features {
        async_: FEATURES.async_ && !sync,
        futures: FEATURES.futures && !sync,
        streams: FEATURES.streams && !sync,
        fixed_length_lists: FEATURES.fixed_length_lists && even,
        error_context: FEATURES.error_context && even,
    }
}

/// Inputs tried per seed before it counts as without a world (see
/// [`worlds_for`]).
const ATTEMPTS: u32 = 6;

/// The least share of a run's seeds that must play (have a world with
/// functions), checked for runs of at least [`SHARE_CHECKED_FROM`] seeds:
/// a derivation that quietly stops producing worlds fails the test.
const MIN_PLAYED: f64 = 0.70;
const SHARE_CHECKED_FROM: u64 = 50;

/// At most this many functions are tried alone when shrinking a failure.
const SHRINK_LIMIT: usize = 24;

const TOY_SCRIPT: &str = include_str!("../toy/matrix.toy");

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Interpreter {
    Val,
    Lua,
    Toy,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Generator {
    Ours,
    Upstream,
}

/// How one side of a case is built.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Side {
    generator: Generator,
    interpreter: Interpreter,
}

/// Counts over every case of the run, printed at the end.
#[derive(Default)]
struct Tally {
    cases: u64,
    smith_gave_up: u64,
    no_functions: u64,
    /// Cases with a world, by the input that made it.
    attempts: BTreeMap<u32, u64>,
    passed: u64,
    failed: u64,
    functions: u64,
    calls: u64,
    skipped: BTreeMap<&'static str, u64>,
    /// Cases using each WIT feature in a played function.
    features: BTreeMap<&'static str, u64>,
    /// Passed cases by (caller, callee).
    sides: BTreeMap<(Side, Side), u64>,
    /// Sides built with ours because upstream refused (by reason).
    upstream_refused: BTreeMap<String, u64>,
    /// Scripted sides played by val because the script could not be written.
    script_refused: BTreeMap<String, u64>,
}

static TALLY: Mutex<Option<Tally>> = Mutex::new(None);

fn tally(f: impl FnOnce(&mut Tally)) {
    f(TALLY.lock().unwrap().get_or_insert_with(Tally::default));
}

fn main() {
    let args = Arguments::from_args();
    let start = env_u64("ROUNDTRIP_SEED", 0);
    let count = env_u64("ROUNDTRIP_CASES", CI_CASES);
    let range = start..start + count;
    let regressions = REGRESSION_SEEDS.iter().filter(|s| !range.contains(s));
    let trials = range
        .clone()
        .chain(regressions.copied())
        .map(|seed| {
            Trial::test(format!("roundtrip::seed_{seed}"), move || {
                run_case(seed).map_err(|e| format!("seed {seed}: {e:#}").into())
            })
        })
        .collect();
    let began = Instant::now();
    let conclusion = libtest_mimic::run(&args, trials);
    let mut conclusion = conclusion;
    if let Some(tally) = TALLY.lock().unwrap().take() {
        report(&tally, began.elapsed());
        if !played_enough(&tally) {
            conclusion.num_failed += 1;
        }
    }
    conclusion.exit();
}

/// `ROUNDTRIP_INTERPRETER`, if set: the interpreter every side plays where
/// it can (see [`plan`]).
fn forced_interpreter() -> Option<Interpreter> {
    static FORCED: std::sync::OnceLock<Option<Interpreter>> = std::sync::OnceLock::new();
    *FORCED.get_or_init(|| {
        let value = std::env::var("ROUNDTRIP_INTERPRETER").ok()?;
        Some(match value.as_str() {
            "val" => Interpreter::Val,
            "lua" => Interpreter::Lua,
            "toy" => Interpreter::Toy,
            _ => panic!("ROUNDTRIP_INTERPRETER={value:?} is not val, lua or toy"),
        })
    })
}

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a number")),
        Err(_) => default,
    }
}

/// Whether enough of the run's seeds played (see [`MIN_PLAYED`]), saying
/// so either way.
fn played_enough(t: &Tally) -> bool {
    let without = t.smith_gave_up + t.no_functions;
    let played = t.cases - without;
    let share = played as f64 / t.cases.max(1) as f64;
    let checked = t.cases >= SHARE_CHECKED_FROM;
    let enough = !checked || share >= MIN_PLAYED;
    println!(
        "roundtrip: {played} of {} seeds played ({:.1} %; the minimum is {:.0} %{}){}",
        t.cases,
        share * 100.0,
        MIN_PLAYED * 100.0,
        if checked {
            String::new()
        } else {
            format!(", checked from {SHARE_CHECKED_FROM} seeds")
        },
        if enough {
            ""
        } else {
            ": TOO FEW, the world derivation has regressed"
        },
    );
    enough
}

fn report(t: &Tally, elapsed: std::time::Duration) {
    println!(
        "roundtrip: {} cases in {elapsed:.1?}: {} passed, {} failed, {} without a world \
         ({} wit-smith gave up, {} no function left); {} functions played, {} calls",
        t.cases,
        t.passed,
        t.failed,
        t.smith_gave_up + t.no_functions,
        t.smith_gave_up,
        t.no_functions,
        t.functions,
        t.calls,
    );
    println!(
        "  cases with a world, by the input that made it: {:?}",
        t.attempts
    );
    println!("  functions skipped, by reason: {:?}", t.skipped);
    println!("  cases using each feature: {:?}", t.features);
    for ((caller, callee), n) in &t.sides {
        println!("  {caller:?} -> {callee:?}: {n} cases");
    }
    println!(
        "  upstream refused (ours used instead): {:?}",
        t.upstream_refused
    );
    println!(
        "  scripts refused (val used instead): {:?}",
        t.script_refused
    );
}

fn run_case(seed: u64) -> Result<()> {
    tally(|t| t.cases += 1);
    derive_and_run(seed).inspect_err(|_| tally(|t| t.failed += 1))
}

/// A failure to derive the worlds: its first line, and all of it (with the
/// WIT) in the case's failure directory.
fn derivation_failed(seed: u64, err: anyhow::Error) -> anyhow::Error {
    let dir = failure_dir(seed);
    let kept = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("error.txt"), format!("{err:#}")));
    let place = match kept {
        Ok(()) => format!("details and WIT in {}", dir.display()),
        Err(e) => format!("(could not keep the details: {e})"),
    };
    anyhow::anyhow!("{}; {place}", first_line(&format!("{err:#}")))
}

fn derive_and_run(seed: u64) -> Result<()> {
    let Some(worlds) = worlds_for(seed)? else {
        return Ok(());
    };
    let Plan(caller, callee) = plan(seed, worlds.is_async);
    let outcome = Case::new(&worlds, caller, callee).and_then(|case| case.run().map(|()| case));
    match outcome {
        Ok(case) => {
            tally(|t| {
                t.passed += 1;
                t.functions += worlds.functions.len() as u64;
                t.calls += worlds.functions.len() as u64 * u64::from(ROUNDS);
                for (_, reason) in &worlds.skipped {
                    *t.skipped.entry(reason).or_default() += 1;
                }
                for feature in features_used(&worlds) {
                    *t.features.entry(feature).or_default() += 1;
                }
                *t.sides.entry((case.caller, case.callee)).or_default() += 1;
            });
            Ok(())
        }
        Err(err) => Err(failure(seed, &worlds, caller, callee, err)),
    }
}

/// The worlds of the first of `seed`'s inputs (at most [`ATTEMPTS`]) that
/// leaves functions to play, for the sides the seed plans; `None`, counted,
/// when none does.
fn worlds_for(seed: u64) -> Result<Option<SmithWorlds>> {
    let mut why = NoWorld::SmithGaveUp;
    for attempt in 0..ATTEMPTS {
        let derive = |keep| {
            smith_world::derive(seed, attempt, features(seed), keep)
                .map_err(|e| derivation_failed(seed, e))
        };
        let worlds = match derive(Keep::default())? {
            // With a Lua side, the world loses what the Lua script cannot play.
            Ok(worlds) if plan(seed, worlds.is_async).lua() => derive(Keep {
                lua: true,
                ..Keep::default()
            })?,
            derived => derived,
        };
        match worlds {
            Ok(worlds) => {
                tally(|t| *t.attempts.entry(attempt).or_default() += 1);
                return Ok(Some(worlds));
            }
            Err(no_world) => why = no_world,
        }
    }
    tally(|t| match why {
        NoWorld::SmithGaveUp => t.smith_gave_up += 1,
        NoWorld::NoFunctions => t.no_functions += 1,
    });
    Ok(None)
}

/// The caller's and the callee's side of a case.
#[derive(Copy, Clone)]
struct Plan(Side, Side);

impl Plan {
    fn lua(self) -> bool {
        [self.0, self.1]
            .iter()
            .any(|side| side.interpreter == Interpreter::Lua)
    }
}

/// The sides of case `seed`: generators vary freely; Lua and toy play a
/// share of the sync cases, val the rest, unless [`forced_interpreter`]
/// names one that can play the world.
fn plan(seed: u64, is_async: bool) -> Plan {
    let mut bits = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
    let mut take = |n: u64| {
        let value = bits % n;
        bits /= n;
        value
    };
    let plays = |i: Interpreter| i == Interpreter::Val || !is_async || ASYNC_SCRIPTED.contains(&i);
    let side = |take: &mut dyn FnMut(u64) -> u64| {
        let generator = [Generator::Ours, Generator::Upstream][take(2) as usize];
        let drawn = match take(6) {
            4 if plays(Interpreter::Lua) => Interpreter::Lua,
            5 if plays(Interpreter::Toy) => Interpreter::Toy,
            _ => Interpreter::Val,
        };
        Side {
            generator,
            interpreter: forced_interpreter().filter(|&i| plays(i)).unwrap_or(drawn),
        }
    };
    Plan(side(&mut take), side(&mut take))
}

/// One built case: the caller and callee components.
struct Case {
    caller: Side,
    callee: Side,
    caller_component: Vec<u8>,
    callee_component: Vec<u8>,
}

impl Case {
    fn new(worlds: &SmithWorlds, caller: Side, callee: Side) -> Result<Case> {
        let (callee, callee_component) = build(worlds, worlds.callee, callee).context("callee")?;
        let (caller, caller_component) = build(worlds, worlds.caller, caller).context("caller")?;
        Ok(Case {
            caller,
            callee,
            caller_component,
            callee_component,
        })
    }

    fn composed(&self) -> Result<Vec<u8>> {
        compose::chain(
            &[
                ("callee", &self.callee_component),
                ("caller", &self.caller_component),
            ],
            &["run"],
        )
    }

    fn run(&self) -> Result<()> {
        let mut instance = Instance::new(&self.composed()?, vec![])?;
        for round in 0..ROUNDS {
            instance
                .call("run", &[Val::U32(round)])
                .with_context(|| format!("round {round}"))?;
        }
        Ok(())
    }
}

/// Builds one side; the side actually built may differ from `side` when
/// upstream refuses the world (ours builds it) or a script cannot be
/// written for it (val plays it), which is counted.
fn build(worlds: &SmithWorlds, world: wit_parser::WorldId, side: Side) -> Result<(Side, Vec<u8>)> {
    let world = World {
        resolve: worlds.resolve.clone(),
        world,
    };
    let mut side = side;
    let glue = match side.generator {
        Generator::Ours => component::ours_world_dylib(&world)?,
        Generator::Upstream => match upstream(worlds, &world) {
            Ok(glue) => glue,
            Err(reason) => {
                tally(|t| *t.upstream_refused.entry(reason).or_default() += 1);
                side.generator = Generator::Ours;
                component::ours_world_dylib(&world)?
            }
        },
    };
    let script = match side.interpreter {
        Interpreter::Val => None,
        Interpreter::Lua if worlds.lua_blocked.is_some() => {
            let reason = format!("lua: {}", worlds.lua_blocked.unwrap_or_default());
            tally(|t| *t.script_refused.entry(reason).or_default() += 1);
            side.interpreter = Interpreter::Val;
            None
        }
        Interpreter::Lua => match lua_scripts::script(&world.resolve, world.world) {
            Ok(source) => Some(("roundtrip.lua", source)),
            Err(err) => {
                let reason = format!("lua: {err:#}");
                tally(|t| *t.script_refused.entry(reason).or_default() += 1);
                side.interpreter = Interpreter::Val;
                None
            }
        },
        Interpreter::Toy => Some(("roundtrip.toy", TOY_SCRIPT.to_string())),
    };
    let component = match script {
        None => component::link("val_interpreter.so", &glue)?,
        Some((name, source)) => {
            let script = Script {
                name: name.into(),
                source: source.into_bytes(),
            };
            interpreters::check(&script)?;
            interpreters::link(&script, &glue)?
        }
    };
    Ok((side, component))
}

/// Upstream's world library, or why it cannot make one. It is not asked for
/// worlds with fixed-length lists: it panics on them (`todo!`), after
/// printing noise from a destructor.
fn upstream(worlds: &SmithWorlds, world: &World) -> std::result::Result<Vec<u8>, String> {
    if features_used(worlds).contains("fixed-length list") {
        return Err("fixed-length lists (upstream panics: todo!)".into());
    }
    quietly(|| component::upstream_world_dylib(world))
}

thread_local! {
    /// Set while upstream's generator runs on this thread: its panics are
    /// expected and counted, not printed.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs upstream's generator, turning its errors and panics into a short
/// reason (its first line) without printing the panic.
fn quietly(f: impl FnOnce() -> Result<Vec<u8>>) -> std::result::Result<Vec<u8>, String> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let print = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|quiet| quiet.get()) {
                print(info);
            }
        }));
    });
    QUIET.with(|quiet| quiet.set(true));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|quiet| quiet.set(false));
    match outcome {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(err)) => Err(format!("error: {}", first_line(&format!("{err:#}")))),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            Err(format!("panic: {}", first_line(message)))
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(120)
        .collect()
}

/// The WIT features the played functions of a case use.
fn features_used(worlds: &SmithWorlds) -> std::collections::BTreeSet<&'static str> {
    use wit_parser::{Type, TypeDefKind, WorldItem};
    let resolve = &worlds.resolve;
    let mut found = std::collections::BTreeSet::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<Type> = Vec::new();
    for item in resolve.worlds[worlds.callee].exports.values() {
        let WorldItem::Interface { id, .. } = item else {
            continue;
        };
        for func in resolve.interfaces[*id].functions.values() {
            if func.kind.is_async() {
                found.insert("async function");
            }
            stack.extend(func.params.iter().map(|p| p.ty).chain(func.result));
        }
    }
    while let Some(ty) = stack.pop() {
        let Type::Id(id) = ty else {
            match ty {
                Type::String => _ = found.insert("string"),
                Type::ErrorContext => _ = found.insert("error-context"),
                _ => {}
            }
            continue;
        };
        if !seen.insert(id) {
            continue;
        }
        let kind = &resolve.types[id].kind;
        found.insert(match kind {
            TypeDefKind::Record(_) => "record",
            TypeDefKind::Resource => "resource",
            TypeDefKind::Handle(_) => "handle",
            TypeDefKind::Flags(_) => "flags",
            TypeDefKind::Tuple(_) => "tuple",
            TypeDefKind::Variant(_) => "variant",
            TypeDefKind::Enum(_) => "enum",
            TypeDefKind::Option(_) => "option",
            TypeDefKind::Result(_) => "result",
            TypeDefKind::List(_) => "list",
            TypeDefKind::Map(..) => "map",
            TypeDefKind::FixedLengthList(..) => "fixed-length list",
            TypeDefKind::Future(_) => "future",
            TypeDefKind::Stream(_) => "stream",
            TypeDefKind::Type(_) => "alias",
            TypeDefKind::Unknown => "unknown",
        });
        match kind {
            TypeDefKind::Record(r) => stack.extend(r.fields.iter().map(|f| f.ty)),
            TypeDefKind::Tuple(t) => stack.extend(t.types.iter().copied()),
            TypeDefKind::Variant(v) => stack.extend(v.cases.iter().filter_map(|c| c.ty)),
            TypeDefKind::Option(t)
            | TypeDefKind::List(t)
            | TypeDefKind::Type(t)
            | TypeDefKind::FixedLengthList(t, _) => stack.push(*t),
            TypeDefKind::Result(r) => stack.extend(r.ok.into_iter().chain(r.err)),
            TypeDefKind::Map(k, v) => stack.extend([*k, *v]),
            TypeDefKind::Future(t) | TypeDefKind::Stream(t) => stack.extend(*t),
            _ => {}
        }
    }
    found
}

/// The error of a failed case: its seed, sides, artifacts directory and,
/// where one function fails on its own, that function and its error.
fn failure(
    seed: u64,
    worlds: &SmithWorlds,
    caller: Side,
    callee: Side,
    err: anyhow::Error,
) -> anyhow::Error {
    let dir = failure_dir(seed);
    let kept = keep_artifacts(&dir, worlds, caller, callee, &err).map_or_else(
        |e| format!("(could not keep the artifacts: {e:#})"),
        |()| dir.display().to_string(),
    );
    let shrunk = shrink(seed, worlds, caller, callee);
    let forced = std::env::var("ROUNDTRIP_INTERPRETER")
        .map(|i| format!("ROUNDTRIP_INTERPRETER={i} "))
        .unwrap_or_default();
    anyhow::anyhow!(
        "caller {caller:?}, callee {callee:?}; artifacts in {kept}\n{shrunk}\n\
         rerun: {forced}ROUNDTRIP_SEED={seed} ROUNDTRIP_CASES=1 cargo test -p wit-dylib-tests --test roundtrip\n\
         error: {err:#}"
    )
}

/// Where case `seed` keeps what it knows about its failure.
fn failure_dir(seed: u64) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("roundtrip-failures")
        .join(format!("seed-{seed}"))
}

fn keep_artifacts(
    dir: &std::path::Path,
    worlds: &SmithWorlds,
    caller: Side,
    callee: Side,
    err: &anyhow::Error,
) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("roundtrip.wit"), &worlds.wit)?;
    std::fs::write(dir.join("error.txt"), format!("{err:?}"))?;
    for (name, world, side) in [
        ("caller", worlds.caller, caller),
        ("callee", worlds.callee, callee),
    ] {
        if side.interpreter == Interpreter::Lua
            && let Ok(source) = lua_scripts::script(&worlds.resolve, world)
        {
            std::fs::write(dir.join(format!("{name}.lua")), source)?;
        }
    }
    if let Ok(case) = Case::new(worlds, caller, callee) {
        std::fs::write(dir.join("caller.wasm"), &case.caller_component)?;
        std::fs::write(dir.join("callee.wasm"), &case.callee_component)?;
        if let Ok(composed) = case.composed() {
            std::fs::write(dir.join("composed.wasm"), composed)?;
        }
    }
    Ok(())
}

/// The first function (of at most [`SHRINK_LIMIT`]) that fails alone.
fn shrink(seed: u64, worlds: &SmithWorlds, caller: Side, callee: Side) -> String {
    for name in worlds.functions.iter().take(SHRINK_LIMIT) {
        let keep = Keep {
            only: Some(name),
            lua: [caller, callee]
                .iter()
                .any(|s| s.interpreter == Interpreter::Lua),
        };
        let alone = match smith_world::derive(seed, worlds.attempt, features(seed), keep) {
            Ok(Ok(alone)) => alone,
            _ => continue,
        };
        if let Err(err) = Case::new(&alone, caller, callee).and_then(|case| case.run()) {
            return format!("fails alone: `{name}`: {err:#}\nits WIT:\n{}", alone.wit);
        }
    }
    if worlds.functions.len() > SHRINK_LIMIT {
        return format!("no function of the first {SHRINK_LIMIT} fails alone");
    }
    "no single function fails alone".into()
}
