//! Lean snapshots: garbage the top level frees does not ship in a
//! pre-initialised component (`interpreters/lua/src/heap.rs`), nor does the
//! script's source, which the interpreter releases (docs/abi.md §10.1).

use lua_demo::{Options, Script, componentize_with};
use wasmparser::{ExternalKind, Parser, Payload};
use wit_parser::Resolve;

fn build(source: &str) -> Vec<u8> {
    build_with(source, &Options::default())
}

fn build_with(source: &str, options: &Options) -> Vec<u8> {
    build_named("snap.lua", source, options)
}

fn build_named(name: &str, source: &str, options: &Options) -> Vec<u8> {
    let mut resolve = Resolve::default();
    let package = resolve
        .push_str(
            "w.wit",
            "package t:snap; world w { export f: func() -> u32; }",
        )
        .unwrap();
    let world = resolve.select_world(&[package], None).unwrap();
    let script = Script {
        name: name.into(),
        source: source.as_bytes().to_vec(),
    };
    componentize_with(&script, &resolve, world, options).unwrap()
}

/// Asserts that the snapshot of `top_level` (which ends by returning the
/// exports) holds none of the garbage it made from runs of `byte`.
fn assert_no_garbage(top_level: &str, byte: u8) {
    const EXPORTS: &str = "return { f = function() return 1 end }";
    let clean = build(EXPORTS);
    let garbage = build(&format!("{top_level}\n{EXPORTS}"));
    let run = vec![byte; 4096];
    assert!(
        !garbage.windows(run.len()).any(|w| w == run.as_slice()),
        "the garbage's bytes are in the component"
    );
    assert!(
        garbage.len() < clean.len() + 64 * 1024,
        "{} bytes with garbage, {} without",
        garbage.len(),
        clean.len()
    );
}

#[test]
fn garbage_of_the_top_level_is_not_in_the_snapshot() {
    // Two megabytes of garbage: the string and the buffer it was built in,
    // collected before the snapshot.
    assert_no_garbage(
        "local s = string.rep('y', 1000000)\n\
         s = nil\n\
         collectgarbage()",
        b'y',
    );
}

#[test]
fn a_large_heap_is_collected_before_the_snapshot() {
    // Two megabytes of garbage the script leaves to the collector: above
    // `COLLECT_ABOVE`, the interpreter collects it before the snapshot.
    assert_no_garbage("local s = string.rep('z', 2000000)\ns = nil", b'z');
}

/// A sentence of `helpers.http`'s source, which its bytecode holds as a
/// string constant.
const HTTP_HELPER_TEXT: &[u8] =
    b"helpers.http needs a world that imports wasi:http/types@0.2.x (e.g. wasi:http/proxy)";

fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

#[test]
fn the_script_source_is_not_in_the_snapshot() {
    // A comment: neither language keeps one, so only the source holds it.
    const MARK: &str = "a sentence that only the source holds";
    let scripts = [
        (
            "snap.lua",
            format!("-- {MARK}\nreturn {{ f = function() return 1 end }}"),
        ),
        ("snap.toy", format!("; {MARK}\n(export \"f\" (fn () 1))")),
    ];
    for (name, source) in scripts {
        let plain = Options {
            preinit: false,
            ..Options::default()
        };
        let plain = build_named(name, &source, &plain);
        assert_eq!(occurrences(&plain, MARK.as_bytes()), 1, "{name}: linked");
        let snapshot = build_named(name, &source, &Options::default());
        assert_eq!(
            occurrences(&snapshot, MARK.as_bytes()),
            0,
            "{name}: released"
        );
    }
}

#[test]
fn http_helpers_are_compiled_only_when_required() {
    // The interpreter's copy of the source is in every component; compiled,
    // the helper would add its constants to the snapshot's heap.
    let plain = build("return { f = function() return 1 end }");
    assert_eq!(occurrences(&plain, HTTP_HELPER_TEXT), 1);

    // Required (here in a world without wasi:http, so the helper refuses),
    // it runs then, and its error reaches the script as the string it raised.
    let required = build(
        "local ok, err = pcall(require, 'helpers.http')\n\
         assert(not ok, 'the helper loaded without wasi:http')\n\
         assert(err == 'helpers.http needs a world that imports wasi:http/types@0.2.x \
         (e.g. wasi:http/proxy)', tostring(err))\n\
         return { f = function() return 1 end }",
    );
    assert!(occurrences(&required, HTTP_HELPER_TEXT) > 1);
}

/// The bodies of the functions the interpreter's core module (the one that
/// exports `wit_dylib_export_call`) exports under `names`, in that order.
fn exported_bodies(component: &[u8], names: &[&str]) -> Vec<Vec<u8>> {
    let mut modules = Vec::new();
    for payload in Parser::new(0).parse_all(component) {
        if let Payload::ModuleSection {
            unchecked_range, ..
        } = payload.unwrap()
        {
            modules.push(&component[unchecked_range.start as usize..unchecked_range.end as usize]);
        }
    }
    for module in modules {
        let (mut imported, mut exports, mut bodies) = (0, Vec::new(), Vec::new());
        for payload in Parser::new(0).parse_all(module) {
            match payload.unwrap() {
                Payload::ImportSection(imports) => {
                    for import in imports.into_imports() {
                        if let wasmparser::TypeRef::Func(_) = import.unwrap().ty {
                            imported += 1;
                        }
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export.unwrap();
                        if export.kind == ExternalKind::Func {
                            exports.push((export.name.to_string(), export.index));
                        }
                    }
                }
                Payload::CodeSectionEntry(body) => bodies
                    .push(module[body.range().start as usize..body.range().end as usize].to_vec()),
                _ => {}
            }
        }
        if !exports
            .iter()
            .any(|(name, _)| name == "wit_dylib_export_call")
        {
            continue;
        }
        return names
            .iter()
            .map(|name| {
                let (_, index) = exports.iter().find(|(n, _)| n == name).unwrap();
                bodies[(index - imported) as usize].clone()
            })
            .collect();
    }
    panic!("no core module exports wit_dylib_export_call");
}

#[test]
fn a_snapshot_keeps_no_start_up_code() {
    const SCRIPT: &str = "return { f = function() return 1 end }";
    let start_up = ["wit_dylib_initialize", "__wasm_apply_data_relocs"];
    let trap = [0, 0x00, 0x0b]; // no locals, `unreachable`, `end`
    // Pre-initialised, start-up has run at build time: what only it
    // reaches is a trap.
    let snapshot = build(SCRIPT);
    let plain = build_with(
        SCRIPT,
        &Options {
            preinit: false,
            ..Options::default()
        },
    );
    for body in exported_bodies(&snapshot, &start_up) {
        assert_eq!(body, trap);
    }
    // Every instance of a plain component runs start-up.
    for body in exported_bodies(&plain, &start_up) {
        assert!(body.len() > 100, "{} bytes", body.len());
    }
    // Export calls are untouched.
    assert_eq!(
        exported_bodies(&snapshot, &["wit_dylib_export_call"]),
        exported_bodies(&plain, &["wit_dylib_export_call"])
    );
}
