//! No input to any `wit-dylib` subcommand ends in a Rust panic: a corpus of
//! bad inputs, each of which must fail with `error: ...` (exit 1) or a usage
//! message (exit 2), never "panicked" or a signal.

mod common;

use std::path::{Path, PathBuf};

use common::{artifact, componentize_ok, repo, scratch, show, wit_dylib};

/// Bad files, made once in `dir`.
struct Corpus {
    missing: PathBuf,
    empty: PathBuf,
    garbage: PathBuf,
    core_module: PathBuf,
    bad_wit: PathBuf,
    bad_c: PathBuf,
    not_a_crate: PathBuf,
}

impl Corpus {
    fn new(dir: &Path) -> Corpus {
        let file = |name: &str, contents: &[u8]| {
            let path = dir.join(name);
            std::fs::write(&path, contents).unwrap();
            path
        };
        let not_a_crate = dir.join("not-a-crate");
        std::fs::create_dir_all(&not_a_crate).unwrap();
        std::fs::write(not_a_crate.join("Cargo.toml"), "this is [not toml").unwrap();
        Corpus {
            missing: dir.join("missing"),
            empty: file("empty.wasm", b""),
            garbage: file("garbage.wasm", &[0xff; 64]),
            core_module: file("core.wasm", b"\0asm\x01\0\0\0"),
            bad_wit: file(
                "bad.wit",
                b"package a:b;\nworld w { export f: func(x: nope); }\n",
            ),
            bad_c: file("bad.c", b"int main( { return }\n"),
            not_a_crate: not_a_crate.join("Cargo.toml"),
        }
    }
}

fn assert_clean_failure(args: &[&str]) {
    let out = wit_dylib(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    assert!(
        matches!(code, Some(1 | 2)),
        "wit-dylib {args:?} exited with {code:?} (a crash?):\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "wit-dylib {args:?} panicked:\n{stderr}"
    );
    assert!(
        !stderr.contains("RUST_BACKTRACE"),
        "wit-dylib {args:?}:\n{stderr}"
    );
}

#[test]
fn run_and_serve_refuse_bad_components_and_calls() {
    let dir = scratch("no-panic-run");
    let corpus = Corpus::new(&dir);
    let app = dir.join("app.wasm");
    componentize_ok(
        &artifact("toy_interpreter.so"),
        &repo("interpreters/lua-demo/example/app.toy"),
        &repo("interpreters/lua-demo/example/app.wit"),
        &app,
        &[],
    );
    for component in [
        &corpus.missing,
        &corpus.empty,
        &corpus.garbage,
        &corpus.core_module,
    ] {
        assert_clean_failure(&["run", show(component), "--invoke", "f()"]);
        assert_clean_failure(&["serve", show(component), "--addr", "127.0.0.1:0"]);
    }
    // A valid component that is no HTTP handler.
    assert_clean_failure(&["serve", show(&app), "--addr", "127.0.0.1:0"]);
    for call in [
        "",
        "f(",
        "(1)",
        "nope()",
        "demo:app/nope#greet(\"x\")",
        "demo:app/api#greet()",
        "demo:app/api#greet(1, 2)",
        "demo:app/api#greet(42)",
        "demo:app/api#greet(\"unterminated)",
        "demo:app/api#area(triangle(1.0))",
        "demo:app/api#summarize([\"a\", 1])",
        "demo:app/api#area(circle(2.0)) trailing",
        "demo:app/api#[constructor]counter(99999999999)",
        "demo:app/api#[method]counter.value(0)",
    ] {
        assert_clean_failure(&["run", show(&app), "--invoke", call]);
    }
    for flags in [
        &["--fuel", "-1"][..],
        &["--max-memory", "0"],
        &["--max-memory", "5000"],
        &["--timeout", "nan"],
        &["--max-items", "-3"],
    ] {
        let mut args = vec!["run", show(&app), "--invoke", "demo:app/api#greet(\"x\")"];
        args.extend_from_slice(flags);
        assert_clean_failure(&args);
    }
    assert_clean_failure(&["serve", show(&app), "--addr", "not-an-address"]);
    assert_clean_failure(&[
        "serve",
        show(&app),
        "--addr",
        "127.0.0.1:0",
        "--max-requests",
        "0",
    ]);
}

#[test]
fn componentize_and_generate_refuse_bad_inputs() {
    let dir = scratch("no-panic-componentize");
    let corpus = Corpus::new(&dir);
    let toy = artifact("toy_interpreter.so");
    let script = repo("interpreters/lua-demo/example/app.toy");
    let wit = repo("interpreters/lua-demo/example/app.wit");
    let out = dir.join("out.wasm");
    for interpreter in [
        &corpus.missing,
        &corpus.empty,
        &corpus.garbage,
        &corpus.core_module,
    ] {
        assert_clean_failure(&[
            "componentize",
            "--interpreter",
            show(interpreter),
            show(&script),
            "--wit",
            show(&wit),
            "-o",
            show(&out),
        ]);
    }
    for (script, wit, world) in [
        (&corpus.missing, &wit, None),
        (&corpus.garbage, &wit, None),
        (&script, &corpus.missing, None),
        (&script, &corpus.bad_wit, None),
        (&script, &wit, Some("nope")),
    ] {
        let mut args = vec![
            "componentize",
            "--interpreter",
            show(&toy),
            show(script),
            "--wit",
            show(wit),
            "-o",
            show(&out),
        ];
        if let Some(world) = world {
            args.extend(["--world", world]);
        }
        assert_clean_failure(&args);
    }
    assert_clean_failure(&[
        "componentize",
        "--interpreter",
        show(&toy),
        show(&script),
        "--wit",
        show(&wit),
        "-o",
        show(&dir.join("no/such/dir/out.wasm")),
    ]);
    assert_clean_failure(&[
        "componentize",
        "--interpreter",
        show(&toy),
        "--libc",
        show(&corpus.garbage),
        show(&script),
        "--wit",
        show(&wit),
        "-o",
        show(&out),
    ]);
    for wit in [&corpus.missing, &corpus.empty, &corpus.bad_wit] {
        assert_clean_failure(&["generate", show(wit), "-o", show(&out)]);
    }
    assert_clean_failure(&["generate", show(&wit), "-w", "nope", "-o", show(&out)]);
}

#[test]
fn new_and_build_refuse_bad_inputs() {
    let dir = scratch("no-panic-new");
    let corpus = Corpus::new(&dir);
    for name in ["", "1abc", "has space", "-dash", "a/b", "ü"] {
        let path = dir.join("new-target");
        assert_clean_failure(&["new", name, "--path", show(&path)]);
    }
    // Into a directory that is not empty, or with an SDK that is not one.
    assert_clean_failure(&["new", "vm", "--path", show(&dir)]);
    assert_clean_failure(&[
        "new",
        "vm",
        "--path",
        show(&dir.join("vm")),
        "--sdk-path",
        show(&dir),
    ]);
    assert_clean_failure(&["build", "--manifest-path", show(&corpus.missing)]);
    assert_clean_failure(&["build", "--manifest-path", show(&corpus.not_a_crate)]);
    assert_clean_failure(&[
        "build",
        "--c",
        show(&corpus.missing),
        "-o",
        show(&dir.join("x.so")),
    ]);
    assert_clean_failure(&[
        "build",
        "--c",
        show(&corpus.bad_c),
        "-o",
        show(&dir.join("x.so")),
    ]);
    assert_clean_failure(&["build", "--c", show(&corpus.bad_c)]);
    assert_clean_failure(&["bogus-subcommand"]);
}
