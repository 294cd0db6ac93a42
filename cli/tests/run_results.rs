//! `wit-dylib run` prints every kind of result: streams read to their end
//! (or cut at `--max-items`, said so), futures awaited, resources described,
//! and a clear one-line error for what it cannot read, never a panic.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::{scratch, show, wit_dylib_err, wit_dylib_ok};

/// `tests/results/results.lua` componentized once with the Lua dylib.
fn component() -> &'static PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let here = std::path::PathBuf::from(
            std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
        )
        .join("tests/results");
        let out = scratch("run-results").join("results.wasm");
        common::componentize_lua_ok(&here.join("results.lua"), &here.join("results.wit"), &out);
        out
    })
}

fn run(call: &str, extra: &[&str]) -> String {
    let call = format!("test:results/api#{call}");
    let mut args = vec!["run", show(component()), "--invoke", &call];
    args.extend_from_slice(extra);
    wit_dylib_ok(&args).trim_end().to_string()
}

#[test]
fn a_stream_is_read_to_its_end() {
    assert_eq!(run("numbers(3)", &[]), "[1, 2, 3] (stream ended)");
    assert_eq!(run("numbers(0)", &[]), "[] (stream ended)");
    assert_eq!(run("words()", &[]), r#"["a", "b c"] (stream ended)"#);
}

#[test]
fn a_long_stream_is_cut_at_the_limit_and_says_so() {
    assert_eq!(
        run("numbers(5)", &["--max-items", "2"]),
        "[1, 2] (stream cut after 2 items; raise --max-items)"
    );
}

#[test]
fn a_future_is_awaited() {
    assert_eq!(run("answer()", &[]), r#"future("forty-two")"#);
}

#[test]
fn handles_inside_other_values_are_printed() {
    assert_eq!(run("maybe-stream(true)", &[]), "ok([1, 2] (stream ended))");
    assert_eq!(run("maybe-stream(false)", &[]), r#"err("no stream")"#);
    assert_eq!(run("pair()", &[]), r#"(7, "seven")"#);
}

#[test]
fn a_resource_is_described() {
    assert_eq!(
        run("make-counter()", &[]),
        "own<resource> (a handle `run` cannot call)"
    );
}

#[test]
fn a_stream_it_cannot_read_is_a_one_line_error() {
    let call = "test:results/api#points()";
    let stderr = wit_dylib_err(&["run", show(component()), "--invoke", call]);
    assert_eq!(
        stderr.trim_end(),
        "error: `run` can read streams of numbers, bools, chars and strings, not of tuple<u32, u32>"
    );
}
