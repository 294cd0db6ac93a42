//! Static checks of generated code and metadata: the checks we add over
//! upstream are present, and the tables are ordered as abi.md §1.8 says.

use anyhow::Result;
use wasmparser::{Parser, Payload};
use wit_dylib_generator::{Metadata, Options, TypeRef, generate_with_metadata};
use wit_parser::Resolve;

fn build(wit: &str) -> Result<(Vec<u8>, Metadata)> {
    let mut resolve = Resolve::default();
    let pkg = resolve.push_str("test.wit", wit)?;
    let world = resolve.select_world(&[pkg], Some("w"))?;
    generate_with_metadata(&resolve, world, &Options::default())
}

/// Every operator of every function body, in order, as debug strings.
fn operators(wasm: &[u8]) -> Result<Vec<String>> {
    let mut ops = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::CodeSectionEntry(body) = payload? {
            for op in body.get_operators_reader()? {
                ops.push(format!("{:?}", op?));
            }
        }
    }
    Ok(ops)
}

fn count(ops: &[String], f: impl Fn(&str) -> bool) -> usize {
    ops.iter().filter(|o| f(o)).count()
}

#[test]
fn narrow_signed_loads_sign_extend() -> Result<()> {
    for (ty, load) in [("s8", "I32Load8S"), ("s16", "I32Load16S")] {
        let (wasm, _) = build(&format!(
            "package a:b; world w {{ export f: func(v: list<{ty}>); }}"
        ))?;
        let ops = operators(&wasm)?;
        assert!(count(&ops, |o| o.starts_with(load)) > 0, "{ty}: no {load}");
    }
    Ok(())
}

#[test]
fn flat_narrow_ints_are_normalised() -> Result<()> {
    let (wasm, _) = build("package a:b; world w { export f: func(a: s8, b: s16); }")?;
    let ops = operators(&wasm)?;
    assert!(count(&ops, |o| o == "I32Extend8S") > 0);
    assert!(count(&ops, |o| o == "I32Extend16S") > 0);
    Ok(())
}

#[test]
fn chars_are_validated_both_ways() -> Result<()> {
    let (wasm, _) = build("package a:b; world w { export f: func(c: char) -> char; }")?;
    let ops = operators(&wasm)?;
    // Lift of the parameter and lower of the result.
    assert_eq!(count(&ops, |o| o == "I32Const { value: 1114112 }"), 2);
    Ok(())
}

#[test]
fn two_case_variants_are_range_checked() -> Result<()> {
    // Lift of the option parameter, lower of the result: both pass the
    // discriminant through the `check_below` helper with limit 2, which traps
    // on anything not below it.
    let (wasm, _) =
        build("package a:b; world w { export f: func(o: option<u32>) -> result<u8, u16>; }")?;
    let ops = operators(&wasm)?;
    let checks = ops
        .windows(2)
        .filter(|w| w[0] == "I32Const { value: 2 }" && w[1].starts_with("Call"))
        .count();
    assert_eq!(checks, 2);
    let helper = ["I32GeU", "If { blockty: Empty }", "Unreachable"];
    assert!(ops.windows(3).any(|w| w == helper));
    Ok(())
}

#[test]
fn bools_are_normalised() -> Result<()> {
    let (wasm, _) = build("package a:b; world w { export f: func(b: bool) -> bool; }")?;
    let ops = operators(&wasm)?;
    assert_eq!(count(&ops, |o| o == "I32Ne"), 2);
    Ok(())
}

#[test]
fn enums_are_range_checked() -> Result<()> {
    let (wasm, _) = build(
        "package a:b; interface c { enum e { x, y, z } f: func(v: e) -> e; } world w { export c; }",
    )?;
    let ops = operators(&wasm)?;
    assert_eq!(count(&ops, |o| o == "I32Const { value: 3 }"), 2);
    Ok(())
}

#[test]
fn metadata_order_follows_upstream() -> Result<()> {
    let (_, m) = build(
        "package a:b;
        interface i { resource r { constructor(); } f: func(x: own<r>) -> string; }
        world w {
          import i;
          export i;
          export top: func(x: u32);
        }",
    )?;
    // World-level exports come first.
    let exports: Vec<_> = m
        .export_funcs
        .iter()
        .map(|f| (f.interface.clone(), f.name.clone()))
        .collect();
    assert_eq!(exports[0], (None, "top".to_string()));
    assert_eq!(exports[1].1, "[constructor]r");
    // One resource entry for the import, one for the export.
    assert_eq!(m.resources.len(), 2);
    assert!(m.resources[0].new_rep_elems.is_none());
    assert!(m.resources[1].new_rep_elems.is_some());
    // The imported `f` takes the imported resource, the exported one the
    // exported resource.
    let f_import = m.import_funcs.iter().find(|f| f.name == "f").unwrap();
    assert_eq!(f_import.params, [TypeRef::Own(0)]);
    let f_export = m.export_funcs.iter().find(|f| f.name == "f").unwrap();
    assert_eq!(f_export.params, [TypeRef::Own(1)]);
    Ok(())
}

#[test]
fn needed_matches_upstream() -> Result<()> {
    let mut resolve = Resolve::default();
    let pkg = resolve.push_str(
        "test.wit",
        "package a:b; world w { import f: func(); export g: func(); }",
    )?;
    let world = resolve.select_world(&[pkg], Some("w"))?;
    let opts = Options {
        interpreter: Some("libinterp.so".to_string()),
    };
    let ours = wit_dylib_generator::generate(&resolve, world, &opts)?;
    let mut upstream_opts = wit_dylib::DylibOpts {
        interpreter: Some("libinterp.so".to_string()),
        ..Default::default()
    };
    let theirs = wit_dylib::create(&resolve, world, Some(&mut upstream_opts))?;
    let dylink = |wasm: &[u8]| -> Result<Vec<u8>> {
        for payload in Parser::new(0).parse_all(wasm) {
            if let Payload::CustomSection(c) = payload?
                && c.name() == "dylink.0"
            {
                return Ok(c.data().to_vec());
            }
        }
        anyhow::bail!("no dylink.0")
    };
    assert_eq!(dylink(&ours)?, dylink(&theirs)?);
    Ok(())
}

#[test]
fn env_imports_are_all_present() -> Result<()> {
    let (wasm, _) = build("package a:b; world w { export g: func(); }")?;
    let mut env = 0;
    for payload in Parser::new(0).parse_all(&wasm) {
        if let Payload::ImportSection(reader) = payload? {
            for import in reader.into_imports() {
                let import = import?;
                if import.module == "env" && matches!(import.ty, wasmparser::TypeRef::Func(_)) {
                    env += 1;
                }
            }
        }
    }
    assert_eq!(env, 67);
    Ok(())
}
