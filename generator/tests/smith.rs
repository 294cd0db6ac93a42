//! Robustness against random WIT: `wit-smith` generates packages from seeded
//! bytes (with async functions, futures and streams; error-context on every
//! other group of four seeds, as upstream panics on most worlds passing it),
//! and for every world of every package our generator must not
//! panic and must return either a module that validates or an error. Where
//! upstream `wit-dylib` 0.263 also succeeds, the two libraries must import
//! and export the same names with the same types and have the same
//! `dylink.0` and metadata bytes.
//!
//! `WIT_SMITH_SEEDS` (default 500) sets how many seeds to try and
//! `WIT_SMITH_START` (default 0) the first one, for long runs by hand.

mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use anyhow::{Context, Result, bail};
use arbitrary::Unstructured;
use libtest_mimic::{Arguments, Trial};
use wasmparser::{Validator, WasmFeatures};
use wit_parser::decoding::{DecodedWasm, decode};
use wit_parser::{Resolve, WorldId};

use common::Summary;
use wit_dylib_generator::{ImportCall, Metadata, Options, StackPointer};

/// Bytes of input per seed: enough for wit-smith to build several packages
/// with a few worlds, few enough for 500 seeds to run in seconds.
const INPUT_LEN: usize = 65536;

fn main() {
    let args = Arguments::from_args();
    let start = env_u64("WIT_SMITH_START", 0);
    let count = env_u64("WIT_SMITH_SEEDS", 500);
    let name = format!("smith::seeds_{start}_to_{}", start + count);
    let trial = Trial::test(name, move || {
        run(start, count).map_err(|e| format!("{e:?}").into())
    });
    libtest_mimic::run(&args, vec![trial]).exit();
}

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a number")),
        Err(_) => default,
    }
}

/// What happened over all seeds; failures are collected, not fatal, so that
/// one run reports every failing seed.
#[derive(Default)]
struct Tally {
    seeds: u64,
    /// Seeds for which wit-smith gave up before producing WIT.
    smith_skipped: u64,
    /// Seeds on which wit-smith itself panicked (its own checks).
    smith_panicked: u64,
    /// Packages wit-parser could not decode.
    parser_rejected: u64,
    worlds: u64,
    ours_ok: u64,
    /// Worlds we generated with async functions, and with futures or streams.
    ours_async: u64,
    ours_payloads: u64,
    ours_err: u64,
    /// Our errors by reason (see `reason`).
    ours_err_reasons: BTreeMap<&'static str, u64>,
    upstream_panicked: u64,
    upstream_err: u64,
    /// Worlds upstream generates but we report an error for.
    only_upstream_ok: u64,
    compared: u64,
    /// Compared worlds whose `dylink.0` and metadata bytes also match.
    identical_metadata: u64,
    failures: Vec<String>,
}

fn run(start: u64, count: u64) -> Result<()> {
    // Upstream's panics are expected and counted: rather than printing each
    // one, the hook keeps the last message (with its location) for reports.
    std::panic::set_hook(Box::new(|info| {
        LAST_PANIC.with(|last| *last.borrow_mut() = info.to_string())
    }));
    let config = |error_context| wit_smith::Config {
        async_: true,
        futures: true,
        streams: true,
        error_context,
        // Not supported by either generator (upstream panics).
        fixed_length_lists: false,
        ..wit_smith::Config::default()
    };
    let configs = [config(false), config(true)];
    let began = std::time::Instant::now();
    let mut tally = Tally::default();
    for seed in start..start + count {
        tally.seeds += 1;
        let input = input(seed);
        let mut u = Unstructured::new(&input);
        let config = &configs[(seed / 4 % 2) as usize];
        let wasm = match catch_unwind(AssertUnwindSafe(|| wit_smith::smith(config, &mut u))) {
            Ok(Ok(wasm)) => wasm,
            Ok(Err(_)) => {
                tally.smith_skipped += 1;
                continue;
            }
            Err(_) => {
                tally.smith_panicked += 1;
                continue;
            }
        };
        let resolve = match decode(&wasm) {
            Ok(DecodedWasm::WitPackage(resolve, _)) => resolve,
            Ok(DecodedWasm::Component(..)) | Err(_) => {
                tally.parser_rejected += 1;
                continue;
            }
        };
        for (world, _) in resolve.worlds.iter() {
            if let Err(err) = check_world(&resolve, world, &mut tally) {
                let name = &resolve.worlds[world].name;
                tally
                    .failures
                    .push(format!("seed {seed}, world `{name}`: {err:?}"));
            }
        }
    }
    let _ = std::panic::take_hook();
    println!(
        "smith: {} seeds ({} skipped by wit-smith, {} panicked in it, {} rejected by wit-parser), {} worlds: \
         ours ok {} ({} with async functions, {} with futures/streams), ours err {} ({} of them upstream ok; by reason {:?}); upstream panicked {}, err {}; \
         compared {} ({} with identical metadata); {:.1?}",
        tally.seeds,
        tally.smith_skipped,
        tally.smith_panicked,
        tally.parser_rejected,
        tally.worlds,
        tally.ours_ok,
        tally.ours_async,
        tally.ours_payloads,
        tally.ours_err,
        tally.only_upstream_ok,
        tally.ours_err_reasons,
        tally.upstream_panicked,
        tally.upstream_err,
        tally.compared,
        tally.identical_metadata,
        began.elapsed(),
    );
    if !tally.failures.is_empty() {
        bail!(
            "{} failures (rerun one with WIT_SMITH_START=<seed> WIT_SMITH_SEEDS=1):\n{}",
            tally.failures.len(),
            tally.failures.join("\n")
        );
    }
    Ok(())
}

fn check_world(resolve: &Resolve, world: WorldId, tally: &mut Tally) -> Result<()> {
    tally.worlds += 1;
    let ours = catch_unwind(|| {
        wit_dylib_generator::generate_with_metadata(resolve, world, &Default::default())
    })
    .map_err(|_| anyhow::anyhow!("our generator panicked: {}", last_panic()))?;
    let mut ours_err = None;
    let ours = match ours {
        Ok((ours, metadata)) => {
            tally.ours_ok += 1;
            let is_async = |m: &Metadata| {
                m.export_funcs.iter().any(|f| f.task_return_elem.is_some())
                    || m.import_funcs
                        .iter()
                        .any(|f| matches!(f.call, ImportCall::Async { .. }))
            };
            tally.ours_async += u64::from(is_async(&metadata));
            let payloads = !metadata.futures.is_empty() || !metadata.streams.is_empty();
            tally.ours_payloads += u64::from(payloads);
            Validator::new_with_features(WasmFeatures::all())
                .validate_all(&ours)
                .context("our module does not validate")?;
            Some(ours)
        }
        Err(err) => {
            tally.ours_err += 1;
            *tally.ours_err_reasons.entry(reason(&err)).or_default() += 1;
            ours_err = Some(err);
            None
        }
    };
    let theirs = match catch_unwind(|| wit_dylib::create(resolve, world, None)) {
        Ok(Ok(theirs)) => theirs,
        Ok(Err(_)) => {
            tally.upstream_err += 1;
            return Ok(());
        }
        Err(_) => {
            tally.upstream_panicked += 1;
            return Ok(());
        }
    };
    let Some(ours) = ours else {
        tally.only_upstream_ok += 1;
        let err = ours_err.expect("ours failed");
        return match reason(&err) {
            "other" => Err(err.context("ours refused a world upstream accepts")),
            _ => Ok(()),
        };
    };
    tally.compared += 1;
    let (ours, theirs) = (Summary::of(&ours)?, Summary::of(&theirs)?);
    ours.same_imports_and_exports(&theirs)?;
    if ours.dylink != theirs.dylink || ours.data != theirs.data {
        bail!("dylink.0 or metadata bytes differ from upstream's");
    }
    tally.identical_metadata += 1;
    same_in_task_context(resolve, world).context("with the stack pointer in the task context")
}

/// The task-context mode imports the stack pointer differently, as upstream.
fn same_in_task_context(resolve: &Resolve, world: WorldId) -> Result<()> {
    let options = Options {
        stack_pointer: StackPointer::TaskContext,
        ..Default::default()
    };
    let ours = wit_dylib_generator::generate(resolve, world, &options)?;
    let mut upstream_options = wit_dylib::DylibOpts {
        stack_pointer: wit_dylib::StackPointer::TaskContext,
        ..Default::default()
    };
    let theirs = wit_dylib::create(resolve, world, Some(&mut upstream_options))?;
    Summary::of(&ours)?.same_imports_and_exports(&Summary::of(&theirs)?)
}

/// A short name for why our generator rejected a world. Every reason but
/// "other" is a documented refusal (generator/README.md) with a test of its
/// own in `tests/errors.rs`; a refusal for another reason, of a world
/// upstream generates, fails this test.
fn reason(err: &anyhow::Error) -> &'static str {
    let msg = format!("{err:#}");
    if msg.contains("error-context in a future or stream payload") {
        "error-context payload"
    } else if msg.contains("not passed by any function") {
        "unused future/stream"
    } else if msg.contains("fixed-length") {
        "fixed-length list"
    } else {
        "other"
    }
}

thread_local! {
    /// The message of the latest panic on this thread (see `run`'s hook).
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

fn last_panic() -> String {
    LAST_PANIC.with(|last| last.borrow().clone())
}

/// The bytes wit-smith builds seed `seed`'s WIT from. wit-smith decides
/// whether to add another item (package, world item, field, case, ...) from
/// a byte's low bit, so unbiased bytes give mostly tiny worlds. Seeds
/// cycle through four biases: the low bit is set in 1/2, 3/4, 7/8 or 15/16
/// of the bytes (the more, the larger the worlds, and the more inputs
/// wit-smith itself gives up on).
fn input(seed: u64) -> Vec<u8> {
    let mut bytes = splitmix64_bytes(seed, 2 * INPUT_LEN);
    let draws = bytes.split_off(INPUT_LEN);
    let bias = seed % 4;
    for (byte, draw) in bytes.iter_mut().zip(draws) {
        if bias > 0 && draw % (1 << bias) != 0 {
            *byte |= 1;
        }
    }
    bytes
}

/// `len` bytes of the splitmix64 stream seeded with `seed`: deterministic
/// and well mixed even for consecutive seeds.
fn splitmix64_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}
