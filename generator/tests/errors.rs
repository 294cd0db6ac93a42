//! Unsupported features and bad input produce errors that name the item; the
//! library never panics on them.

use std::path::Path;

use anyhow::Result;
use wit_dylib_generator::{Options, generate, push_wit, select_world};
use wit_parser::Resolve;

/// Generates for world `w` of `wit` and returns the error message.
fn error_of(wit: &str) -> Result<String> {
    let mut resolve = Resolve {
        all_features: true,
        ..Resolve::default()
    };
    let pkg = resolve.push_str("test.wit", wit)?;
    let world = resolve.select_world(&[pkg], Some("w"))?;
    match generate(&resolve, world, &Options::default()) {
        Ok(_) => anyhow::bail!("generation succeeded"),
        Err(err) => Ok(format!("{err:#}")),
    }
}

#[test]
fn unused_future_in_record_is_named() -> Result<()> {
    // The record's future has no function to name its built-ins after.
    let msg = error_of(
        "package a:b; interface c { record r { f: future<u32> } g: func(); } world w { export c; }",
    )?;
    assert!(msg.contains("type `r` in interface `a:b/c`"), "{msg}");
    assert!(msg.contains("future"), "{msg}");
    Ok(())
}

#[test]
fn error_context_payload_is_named() -> Result<()> {
    // wasmtime 48 miscounts error-contexts copied through futures and streams.
    let msg = error_of(
        "package a:b; interface c { f: async func(s: stream<option<error-context>>); } world w { import c; }",
    )?;
    assert!(msg.contains("function `f` in interface `a:b/c`"), "{msg}");
    assert!(
        msg.contains("error-context in a future or stream payload"),
        "{msg}"
    );
    assert!(msg.contains("wasmtime#13652"), "{msg}");
    Ok(())
}

#[test]
fn unused_stream_type_is_named() -> Result<()> {
    // Upstream panics on this one.
    let msg = error_of("package a:b; interface c { type s = stream<u8>; } world w { import c; }")?;
    assert!(msg.contains("type `s` in interface `a:b/c`"), "{msg}");
    assert!(msg.contains("stream"), "{msg}");
    Ok(())
}

#[test]
fn long_fixed_length_list_is_named() -> Result<()> {
    let wit = "package a:b; interface c { record r { x: list<u8, 4097> } } world w { export c; }";
    let mut resolve = Resolve {
        all_features: true,
        ..Resolve::default()
    };
    // Older parsers gate the syntax; only a parsed world has to be rejected.
    if resolve.push_str("test.wit", wit).is_ok() {
        let msg = error_of(wit)?;
        assert!(msg.contains("type `r` in interface `a:b/c`"), "{msg}");
        assert!(msg.contains("fixed-length list of more than 4096"), "{msg}");
    }
    Ok(())
}

#[test]
fn nested_fixed_length_lists_past_the_unrolled_cap_are_named() -> Result<()> {
    // Each list is short, but together they unroll to 4096 * 4096 values.
    let msg = error_of(
        "package a:b; interface c { f: func(x: list<list<u8, 4096>, 4096>); } world w { export c; }",
    )?;
    assert!(msg.contains("function `f` in interface `a:b/c`"), "{msg}");
    assert!(msg.contains("unrolls to 16777216 values"), "{msg}");
    assert!(msg.contains("more than the 65536 supported"), "{msg}");
    Ok(())
}

#[test]
fn a_type_that_doubles_at_every_level_is_refused_at_once() -> Result<()> {
    // 64 levels of `tuple<t, t>`: 2^64 values, which neither the check nor
    // the glue may walk one by one.
    let mut wit = String::from("package a:b; interface c { type t0 = u8;");
    for level in 1..=64 {
        let below = level - 1;
        wit.push_str(&format!(" type t{level} = tuple<t{below}, t{below}>;"));
    }
    wit.push_str(" f: func(x: t64); } world w { import c; }");
    let msg = error_of(&wit)?;
    assert!(msg.contains("function `f` in interface `a:b/c`"), "{msg}");
    assert!(msg.contains("unrolls to too many values"), "{msg}");
    Ok(())
}

#[test]
fn unknown_world_lists_worlds() -> Result<()> {
    let mut resolve = Resolve::default();
    let pkg = resolve.push_str(
        "test.wit",
        "package a:b; world one { export f: func(); } world two { import f: func(); }",
    )?;
    let err = select_world(&resolve, pkg, Some("three")).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("`one`") && msg.contains("`two`"), "{msg}");
    assert!(msg.contains("three"), "{msg}");
    Ok(())
}

#[test]
fn malformed_wit_reports_file_and_line() -> Result<()> {
    let dir =
        std::env::temp_dir().join(format!("wit-dylib-generator-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("bad.wit");
    std::fs::write(
        &path,
        "package a:b;\n\nworld w {\n  import f: func() -> strin;\n}\n",
    )?;
    let mut resolve = Resolve::default();
    let err = push_wit(&mut resolve, &path).unwrap_err();
    let msg = format!("{err:#}");
    std::fs::remove_dir_all(&dir)?;
    assert!(msg.contains("bad.wit:4"), "{msg}");
    assert!(msg.contains("strin"), "{msg}");
    Ok(())
}

#[test]
fn missing_path_is_an_error() {
    let mut resolve = Resolve::default();
    assert!(push_wit(&mut resolve, Path::new("/nonexistent/world.wit")).is_err());
}
