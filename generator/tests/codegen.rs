//! Static checks of generated code and metadata: the checks we add over
//! upstream are present, and the tables are ordered as docs/abi.md §4.11 says.

use anyhow::Result;
use wasmparser::{Parser, Payload};
use wit_dylib_generator::{ImportCall, Metadata, Options, TypeRef, generate_with_metadata};
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
        ..Default::default()
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

#[test]
fn async_paths_normalise_bools() -> Result<()> {
    // `lift results` of the import, the async export's argument and the
    // `task.return` lowering of its result.
    let (wasm, _) = build(
        "package a:b; world w { import f: async func() -> bool; export g: async func(b: bool) -> bool; }",
    )?;
    let ops = operators(&wasm)?;
    assert_eq!(count(&ops, |o| o == "I32Ne"), 3);
    Ok(())
}

#[test]
fn payload_chars_are_validated_both_ways() -> Result<()> {
    // The future's one-element lift and lower functions.
    let (wasm, _) = build("package a:b; world w { import f: func(x: future<char>); }")?;
    let ops = operators(&wasm)?;
    assert_eq!(count(&ops, |o| o == "I32Const { value: 1114112 }"), 2);
    Ok(())
}

#[test]
fn payload_discriminants_are_range_checked() -> Result<()> {
    // Lift and lower of the stream's `option<u8>` elements.
    let (wasm, _) = build("package a:b; world w { export f: func() -> stream<option<u8>>; }")?;
    let ops = operators(&wasm)?;
    let checks = ops
        .windows(2)
        .filter(|w| w[0] == "I32Const { value: 2 }" && w[1].starts_with("Call"))
        .count();
    assert_eq!(checks, 2);
    Ok(())
}

#[test]
fn async_import_abi_areas() -> Result<()> {
    let (_, m) = build(
        "package a:b; world w {
          import none: async func();
          import four: async func(a: u32, b: u32, c: u32, d: u32) -> u8;
          import five: async func(a: u32, b: u32, c: u32, d: u32, e: u8) -> u64;
          import sync: func();
        }",
    )?;
    let area = |name: &str| {
        let f = m.import_funcs.iter().find(|f| f.name == name).unwrap();
        match f.call {
            ImportCall::Async {
                area_size,
                area_align,
                ..
            } => Some((area_size, area_align)),
            ImportCall::Sync { .. } => None,
        }
    };
    // Nothing in the area: size 0, alignment 1.
    assert_eq!(area("none"), Some((0, 1)));
    // Flat parameters; only the result lives in the area.
    assert_eq!(area("four"), Some((1, 1)));
    // More than four flat values: the parameters (20 bytes) come first, then
    // the result at offset 24.
    assert_eq!(area("five"), Some((32, 8)));
    assert_eq!(area("sync"), None);
    Ok(())
}

#[test]
fn future_and_stream_entries() -> Result<()> {
    let (_, m) = build(
        "package a:b; world w {
          import f: func(a: future, b: stream<string>, c: future<future<u32>>);
          export g: async func() -> stream<u64>;
        }",
    )?;
    let unit = &m.futures[0];
    assert_eq!((unit.ty, unit.lift_lower_elems), (None, None));
    assert_eq!((unit.abi_payload_size, unit.abi_payload_align), (0, 1));
    // `future<u32>` is registered before the `future<future<u32>>` holding it.
    assert_eq!(m.futures[1].ty, Some(TypeRef::U32));
    assert_eq!(m.futures[2].ty, Some(TypeRef::Future(1)));
    assert_eq!(m.futures[2].abi_payload_size, 4);
    let strings = &m.streams[0];
    assert_eq!(strings.ty, Some(TypeRef::String));
    assert!(strings.lift_lower_elems.is_some());
    assert_eq!(
        (strings.abi_payload_size, strings.abi_payload_align),
        (8, 4)
    );
    assert_eq!(m.streams[1].ty, Some(TypeRef::U64));
    assert!(m.export_funcs[0].task_return_elem.is_some());
    Ok(())
}

#[test]
fn error_context_in_unused_type_matches_upstream() -> Result<()> {
    // Described in the metadata, never lifted or lowered.
    let wit = "package a:b; interface c { record r { e: error-context } f: func(); } world w { import c; }";
    let mut resolve = Resolve::default();
    let pkg = resolve.push_str("test.wit", wit)?;
    let world = resolve.select_world(&[pkg], Some("w"))?;
    let (ours, m) = generate_with_metadata(&resolve, world, &Options::default())?;
    assert_eq!(m.records[0].fields[0].1, TypeRef::ErrorContext);
    let theirs = wit_dylib::create(&resolve, world, None)?;
    assert_eq!(data(&ours)?, data(&theirs)?);
    Ok(())
}

/// The `module.name` of every function import.
fn function_imports(wasm: &[u8]) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::ImportSection(reader) = payload? {
            for import in reader.into_imports() {
                let import = import?;
                if let wasmparser::TypeRef::Func(_) = import.ty {
                    names.push(format!("{}.{}", import.module, import.name));
                }
            }
        }
    }
    Ok(names)
}

const ERROR_CONTEXT_IMPORTS: [&str; 6] = [
    "env.wit_dylib_pop_error_context",
    "env.wit_dylib_push_error_context",
    "env.wit_dylib_error_context_builtins",
    "$root.[error-context-new-utf8]",
    "$root.[error-context-debug-message-utf8]",
    "$root.[error-context-drop]",
];

#[test]
fn passing_error_context_imports_the_extension() -> Result<()> {
    // Nested, and in an async export's result.
    let wit = "package a:b;
        interface c { f: func(x: list<option<error-context>>) -> error-context; }
        world w {
            import c;
            export run: async func(s: future<u8>) -> result<_, error-context>;
        }";
    let (wasm, m) = build(wit)?;
    let imports = function_imports(&wasm)?;
    for name in ERROR_CONTEXT_IMPORTS {
        assert_eq!(imports.iter().filter(|i| *i == name).count(), 1, "{name}");
    }
    assert_eq!(m.futures[0].ty, Some(TypeRef::U8));
    let ops = operators(&wasm)?;
    // The built-ins are registered before `wit_dylib_initialize`.
    let register = imports
        .iter()
        .position(|i| i == "env.wit_dylib_error_context_builtins")
        .unwrap();
    let initialize = format!("Call {{ function_index: {} }}", 0);
    let register = format!("Call {{ function_index: {register} }}");
    let at = |call: &str| ops.iter().position(|o| *o == call);
    assert!(at(&register).is_some_and(|r| at(&initialize).is_some_and(|i| r < i)));
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&wasm)?;
    Ok(())
}

#[test]
fn other_worlds_keep_upstreams_imports() -> Result<()> {
    let (wasm, _) = build(
        "package a:b; interface c { record r { e: error-context } f: func(); } world w { import c; }",
    )?;
    let imports = function_imports(&wasm)?;
    assert!(
        !imports
            .iter()
            .any(|i| i.contains("error-context") || i.contains("error_context"))
    );
    Ok(())
}

fn data(wasm: &[u8]) -> Result<Vec<u8>> {
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::DataSection(reader) = payload? {
            let segment = reader.into_iter().next().unwrap()?;
            return Ok(segment.data.to_vec());
        }
    }
    anyhow::bail!("no data section")
}

/// The names this library exports.
fn export_names(wasm: &[u8]) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::ExportSection(reader) = payload? {
            for export in reader {
                names.push(export?.name.to_string());
            }
        }
    }
    Ok(names)
}

#[test]
fn only_exports_whose_result_outlives_the_call_have_a_post_return() -> Result<()> {
    let (wasm, _) = build(
        "package a:b;
         interface i { resource r; }
         world w {
           use i.{r};
           enum e { a, b }
           flags f { x, y }
           export none: func(s: string);
           export scalar: func() -> u32;
           export wide: func() -> f64;
           export an-enum: func() -> e;
           export some-flags: func() -> f;
           export pair: func() -> tuple<u32, u32>;
           export text: func() -> string;
           export maybe: func() -> option<u8>;
           export handle: func() -> r;
           export one-future: func() -> future<u32>;
           export one-stream: func() -> stream;
           export an-error: func() -> error-context;
         }",
    )?;
    let names = export_names(&wasm)?;
    let post_returns: Vec<_> = names
        .iter()
        .filter_map(|n| n.strip_prefix("cabi_post_"))
        .collect();
    // More than one flat value (a return area), or a handle the caller
    // lifts after the export returns.
    let expected = [
        "pair",
        "text",
        "maybe",
        "handle",
        "one-future",
        "one-stream",
        "an-error",
    ];
    assert_eq!(post_returns, expected);
    for export in ["none", "scalar", "wide", "an-enum", "some-flags"] {
        assert!(
            names.iter().any(|n| n == export),
            "{export} is not exported"
        );
    }
    Ok(())
}

/// For each function body, the names of the functions it calls (imports
/// as `module.name`, defined functions by their export name or index).
fn calls_by_body(wasm: &[u8]) -> Result<Vec<Vec<String>>> {
    let imports = function_imports(wasm)?;
    let mut bodies = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::CodeSectionEntry(body) = payload? {
            let mut calls = Vec::new();
            for op in body.get_operators_reader()? {
                if let wasmparser::Operator::Call { function_index } = op? {
                    let name = imports
                        .get(function_index as usize)
                        .cloned()
                        .unwrap_or_else(|| format!("function {function_index}"));
                    calls.push(name);
                }
            }
            bodies.push(calls);
        }
    }
    Ok(bodies)
}

#[test]
fn only_functions_that_need_stack_space_move_the_stack_pointer() -> Result<()> {
    let mut resolve = Resolve::default();
    let pkg = resolve.push_str(
        "test.wit",
        "package a:b;
         world w {
           import log: func(n: u32);
           import say: func(s: string);
           import ask: func() -> string;
           export inc: func(x: u32) -> u32;
           export name: func() -> string;
           export take: func(s: string);
           export inc-async: async func(x: u32) -> u32;
           export name-async: async func() -> string;
         }",
    )?;
    let world = resolve.select_world(&[pkg], Some("w"))?;
    let options = Options {
        stack_pointer: wit_dylib_generator::StackPointer::TaskContext,
        ..Options::default()
    };
    let (wasm, _) = generate_with_metadata(&resolve, world, &options)?;
    let bodies = calls_by_body(&wasm)?;
    // The body that calls `callee`, and whether it moves the stack pointer
    // (in this mode, through context slot 0).
    let moves_stack = |callee: &str| -> bool {
        let calls = bodies
            .iter()
            .find(|calls| calls.iter().any(|c| c == callee))
            .unwrap_or_else(|| panic!("no function calls {callee}"));
        calls.iter().any(|c| c == "$root.[context-set-0]")
    };
    // Scalars only: no frame.
    assert!(!moves_stack("$root.log"), "log");
    assert!(
        !moves_stack("[export]$root.[task-return]inc-async"),
        "task.return of inc-async"
    );
    // A string popped (its address comes back through the frame's slot) or
    // a return area: a frame.
    assert!(moves_stack("$root.say"), "say");
    assert!(moves_stack("$root.ask"), "ask (a return area)");
    assert!(
        moves_stack("[export]$root.[task-return]name-async"),
        "task.return of name-async"
    );
    // Exports call `wit_dylib_export_call` with their own `which`; the sync
    // export of scalars has no frame, the one returning a string has one.
    let exports_moving_stack = bodies
        .iter()
        .filter(|calls| calls.iter().any(|c| c == "env.wit_dylib_export_call"))
        .filter(|calls| calls.iter().any(|c| c == "$root.[context-set-0]"))
        .count();
    // `name` (its return area) only: `take` lifts its string, which needs
    // no slot, and `inc` passes scalars.
    assert_eq!(exports_moving_stack, 1);
    Ok(())
}
