//! Generation speed and output size, ours against upstream `wit-dylib`
//! 0.263, for `wasi:cli/command` and `wasi:http/proxy` (vendored WIT).
//! Parsing is done once, outside the timed calls.
//!
//! `cargo bench -p wit-dylib-generator --bench generate`

use std::hint::black_box;
use std::time::{Duration, Instant};

use wit_parser::{Resolve, WorldId};

/// Each generator is timed for about this long (and at least `MIN_CALLS`).
const BUDGET: Duration = Duration::from_secs(2);
const MIN_CALLS: usize = 20;

fn main() -> anyhow::Result<()> {
    let mut resolve = Resolve::default();
    let dir = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("tests/wasi-wit");
    let (pkg, _) = resolve.push_path(&dir)?;
    println!(
        "{:<24} {:>12} {:>12} {:>7}   {:>9} {:>9} {:>7}",
        "world", "ours", "upstream", "ratio", "ours B", "upstr. B", "ratio"
    );
    for name in ["wasi:cli/command@0.2.12", "wasi:http/proxy@0.2.12"] {
        let world = resolve.select_world(&[pkg], Some(name))?;
        let (ours_time, ours_size) = measure(|| generate_ours(&resolve, world));
        let (theirs_time, theirs_size) = measure(|| generate_upstream(&resolve, world));
        println!(
            "{name:<24} {:>12.1?} {:>12.1?} {:>6.2}x   {ours_size:>9} {theirs_size:>9} {:>6.2}x",
            ours_time,
            theirs_time,
            ours_time.as_secs_f64() / theirs_time.as_secs_f64(),
            ours_size as f64 / theirs_size as f64,
        );
    }
    println!("targets: time <= 0.50x upstream, size <= 1.00x upstream");
    Ok(())
}

fn generate_ours(resolve: &Resolve, world: WorldId) -> Vec<u8> {
    wit_dylib_generator::generate(resolve, world, &Default::default()).expect("ours generates")
}

fn generate_upstream(resolve: &Resolve, world: WorldId) -> Vec<u8> {
    wit_dylib::create(resolve, world, None).expect("upstream generates")
}

/// The median time of one call of `generate`, and the size of its output.
fn measure(generate: impl Fn() -> Vec<u8>) -> (Duration, usize) {
    let size = generate().len(); // also warms up caches
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < MIN_CALLS || start.elapsed() < BUDGET {
        let call = Instant::now();
        black_box(generate());
        samples.push(call.elapsed());
    }
    samples.sort();
    (samples[samples.len() / 2], size)
}
