//! `wit-dylib generate`: outputs, errors and exit codes.

use std::path::PathBuf;
use std::process::{Command, Output};

use anyhow::Result;
use wasmparser::{Parser, Payload, Validator, WasmFeatures};

const BIN: &str = env!("CARGO_BIN_EXE_wit-dylib");

fn records_wit() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("../tests/worlds/matrix/records.wit")
}

/// A scratch directory for one test.
fn scratch(name: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "wit-dylib-generate-cli-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn run(args: &[&std::ffi::OsStr]) -> Result<Output> {
    Ok(Command::new(BIN).arg("generate").args(args).output()?)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Fails unless the run failed cleanly: non-zero exit, `error:` and no panic.
fn assert_clean_failure(out: &Output) {
    let err = stderr(out);
    assert!(!out.status.success(), "unexpected success");
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn writes_a_valid_library() -> Result<()> {
    let dir = scratch("ok")?;
    let out_path = dir.join("world.so");
    let out = run(&[
        records_wit().as_os_str(),
        "-w".as_ref(),
        "callee".as_ref(),
        "-o".as_ref(),
        out_path.as_os_str(),
    ])?;
    assert!(out.status.success(), "{}", stderr(&out));
    let wasm = std::fs::read(&out_path)?;
    Validator::new_with_features(WasmFeatures::all()).validate_all(&wasm)?;
    // The world's type rides along, so that a component linker sees it.
    let component_type = Parser::new(0).parse_all(&wasm).any(|payload| {
        matches!(payload, Ok(Payload::CustomSection(s)) if s.name().starts_with("component-type"))
    });
    assert!(component_type, "no component-type section");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn prints_text() -> Result<()> {
    let out = run(&[
        records_wit().as_os_str(),
        "-w".as_ref(),
        "caller".as_ref(),
        "--wat".as_ref(),
    ])?;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout)?;
    assert!(text.starts_with("(module"), "{text}");
    assert!(text.contains("wit_dylib_initialize"));
    Ok(())
}

#[test]
fn interpreter_becomes_needed() -> Result<()> {
    let out = run(&[
        records_wit().as_os_str(),
        "-w".as_ref(),
        "caller".as_ref(),
        "--interpreter".as_ref(),
        "libinterp.so".as_ref(),
        "--wat".as_ref(),
    ])?;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout)?;
    assert!(text.contains("(needed \"libinterp.so\")"), "{text}");
    Ok(())
}

#[test]
fn malformed_wit_fails_with_location() -> Result<()> {
    let dir = scratch("malformed")?;
    let wit = dir.join("bad.wit");
    std::fs::write(
        &wit,
        "package a:b;\n\nworld w {\n  import f: func(x: u32 -> string;\n}\n",
    )?;
    let out = run(&[wit.as_os_str(), "--wat".as_ref()])?;
    assert_clean_failure(&out);
    assert!(stderr(&out).contains("bad.wit:4:"), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).trim_end().lines().count(),
        1,
        "{}",
        stderr(&out)
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn unknown_world_lists_worlds() -> Result<()> {
    let out = run(&[
        records_wit().as_os_str(),
        "-w".as_ref(),
        "nope".as_ref(),
        "--wat".as_ref(),
    ])?;
    assert_clean_failure(&out);
    let err = stderr(&out);
    assert!(
        err.contains("`caller`") && err.contains("`callee`"),
        "{err}"
    );
    Ok(())
}

#[test]
fn unsupported_feature_fails_cleanly() -> Result<()> {
    let dir = scratch("unused-stream")?;
    let wit = dir.join("unused-stream.wit");
    std::fs::write(
        &wit,
        "package a:b;\ninterface c { type s = stream<u8>; foo: func(); }\nworld w { import c; }\n",
    )?;
    let out = run(&[wit.as_os_str(), "--wat".as_ref()])?;
    assert_clean_failure(&out);
    assert!(stderr(&out).contains("type `s` in interface `a:b/c` uses a stream"));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn unstable_features_are_gated() -> Result<()> {
    let dir = scratch("features")?;
    let wit = dir.join("gated.wit");
    std::fs::write(
        &wit,
        "package a:b@1.0.0;\nworld w {\n  @unstable(feature = shiny)\n  import f: func();\n  export g: func();\n}\n",
    )?;
    // Without the feature `f` does not exist; with it, it is imported.
    let without = run(&[wit.as_os_str(), "--wat".as_ref()])?;
    assert!(without.status.success(), "{}", stderr(&without));
    assert!(!String::from_utf8(without.stdout)?.contains("(import \"$root\" \"f\""));
    for flag in [&["--features", "shiny"][..], &["--all-features"][..]] {
        let mut args = vec![wit.as_os_str(), "--wat".as_ref()];
        args.extend(flag.iter().map(std::ffi::OsStr::new));
        let with = run(&args)?;
        assert!(with.status.success(), "{}", stderr(&with));
        assert!(String::from_utf8(with.stdout)?.contains("(import \"$root\" \"f\""));
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
