//! No input to any `lua-demo` subcommand ends in a Rust panic: bad scripts,
//! WIT and paths each fail with `error: ...` (exit 1) or a usage message
//! (exit 2). `wit-dylib`'s corpus (`cli/tests/no_panic.rs`) covers the
//! `run` and `serve` code both binaries share.

use std::path::{Path, PathBuf};
use std::process::Command;

fn assert_clean_failure(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_lua-demo"))
        .args(args)
        .output()
        .expect("lua-demo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    assert!(
        matches!(code, Some(1 | 2)),
        "lua-demo {args:?} exited with {code:?}:\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "lua-demo {args:?} panicked:\n{stderr}"
    );
}

fn example(file: &str) -> String {
    lua_demo::crate_dir()
        .join("example")
        .join(file)
        .display()
        .to_string()
}

fn scratch() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lua-demo-no-panic");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn bad_scripts_wit_and_paths_fail_cleanly() {
    let dir = scratch();
    let file = |name: &str, contents: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path.display().to_string()
    };
    let scripts = [
        file("syntax.lua", b"return {"),
        file("binary.lua", &[0x1b, b'L', b'u', b'a', 0x54, 0, 0xff, 0xfe]),
        file("throws.lua", b"error('at the top level')"),
        file("nothing.lua", b"return 42"),
        file("exit.lua", b"os.exit(3)"),
        file("syntax.toy", b"(export \"x\""),
        file("empty.lua", b""),
        dir.join("missing.lua").display().to_string(),
    ];
    let bad_wit = file(
        "bad.wit",
        b"package a:b;\nworld w { import f: func(x: u32 -> string; }\n",
    );
    let out = dir.join("out.wasm").display().to_string();
    let wit = example("app.wit");
    for script in &scripts {
        assert_clean_failure(&["componentize", script, "--wit", &wit, "-o", &out]);
        assert_clean_failure(&["demo", script]);
    }
    let app = example("app.lua");
    for (wit, world) in [(bad_wit.as_str(), None), (wit.as_str(), Some("nope"))] {
        let mut args = vec!["componentize", &app, "--wit", wit, "-o", &out];
        let mut bindings = vec!["bindings", "--wit", wit, "-o", &out];
        if let Some(world) = world {
            args.extend(["--world", world]);
            bindings.extend(["--world", world]);
        }
        assert_clean_failure(&args);
        assert_clean_failure(&bindings);
    }
    // Bindings into a path that is a file.
    let a_file = file("a-file", b"");
    assert_clean_failure(&["bindings", "--wit", &wit, "-o", &a_file]);
    assert_clean_failure(&["componentize", &app, "--wit", &wit]);
    assert_clean_failure(&["no-such-command"]);
}
