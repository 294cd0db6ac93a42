//! Lean snapshots: garbage the top level frees does not ship in a
//! pre-initialised component (`interpreters/lua/src/heap.rs`).

use lua_demo::{Script, componentize};
use wit_parser::Resolve;

fn build(source: &str) -> Vec<u8> {
    let mut resolve = Resolve::default();
    let package = resolve
        .push_str(
            "w.wit",
            "package t:snap; world w { export f: func() -> u32; }",
        )
        .unwrap();
    let world = resolve.select_world(&[package], None).unwrap();
    let script = Script {
        name: "snap.lua".into(),
        source: source.as_bytes().to_vec(),
    };
    componentize(&script, &resolve, world).unwrap()
}

#[test]
fn garbage_of_the_top_level_is_not_in_the_snapshot() {
    let clean = build("return { f = function() return 1 end }");
    // Two megabytes of garbage: the string and the buffer it was built in,
    // collected before the snapshot.
    let garbage = build(
        "local s = string.rep('y', 1000000)\n\
         s = nil\n\
         collectgarbage()\n\
         return { f = function() return 1 end }",
    );
    let y_run = vec![b'y'; 4096];
    assert!(
        !garbage.windows(y_run.len()).any(|w| w == y_run.as_slice()),
        "the freed string's bytes are in the component"
    );
    assert!(
        garbage.len() < clean.len() + 64 * 1024,
        "{} bytes with garbage, {} without",
        garbage.len(),
        clean.len()
    );
}

/// A sentence of `helpers.http`'s source, which its bytecode holds as a
/// string constant.
const HTTP_HELPER_TEXT: &[u8] =
    b"helpers.http needs a world that imports wasi:http/types@0.2.x (e.g. wasi:http/proxy)";

fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
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
