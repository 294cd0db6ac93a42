//! A callee that returns a value of the wrong shape traps with a message that
//! names the function and the expected type, and a fresh instance of the
//! same component works afterwards.

use anyhow::Result;
use wasmtime::component::Val;
use wit_dylib_tests::component::{self, World};
use wit_dylib_tests::host::Instance;

const API: &str = "test:failures/api";

fn callee() -> Result<Vec<u8>> {
    let wit = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("worlds/failures.wit");
    let world = World::load(&wit, "callee")?;
    component::link(
        "val_interpreter.so",
        &component::upstream_world_dylib(&world)?,
    )
}

/// Calls `function`, expects a trap whose message contains `expected`, then
/// checks that a fresh instance still answers `ok`.
fn assert_traps(function: &str, expected: &str) -> Result<()> {
    let component = callee()?;
    let mut instance = Instance::new(&component, vec![])?;
    let err = instance
        .call_in(Some(API), function, &[])
        .expect_err("the call must trap");
    let message = format!("{err:#}");
    assert!(
        message.contains(expected),
        "`{function}` failed with:\n{message}\nexpected it to mention:\n{expected}"
    );

    let mut fresh = Instance::new(&component, vec![])?;
    let results = fresh.call_in(Some(API), "ok", &[])?;
    assert!(
        matches!(results[..], [Val::U32(_)]),
        "`ok` returned {results:?}"
    );
    Ok(())
}

#[test]
fn a_value_of_the_wrong_type_names_function_and_type() -> Result<()> {
    assert_traps(
        "fail-wrong-type",
        "export `test:failures/api#fail-wrong-type`: expected a value of type u32, found string \"not a number\"",
    )
}

#[test]
fn an_out_of_range_enum_case_traps() -> Result<()> {
    assert_traps(
        "fail-enum",
        "enum case 7 is out of range for `color` in export `test:failures/api#fail-enum`",
    )
}

#[test]
fn an_out_of_range_variant_case_traps() -> Result<()> {
    assert_traps(
        "fail-variant",
        "variant case 9 is out of range for `shape` in export `test:failures/api#fail-variant`",
    )
}

#[test]
fn undefined_flags_bits_trap() -> Result<()> {
    assert_traps(
        "fail-flags",
        "flags value 0xffffffff has bits outside `perms` in export `test:failures/api#fail-flags`",
    )
}

#[test]
fn a_record_with_missing_fields_traps() -> Result<()> {
    assert_traps(
        "fail-record",
        "export `test:failures/api#fail-record`: expected a value of type record point, found record of 0 fields",
    )
}
