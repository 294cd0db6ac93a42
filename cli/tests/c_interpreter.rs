//! `examples/c-interpreter`, an interpreter written in C against
//! `wit_dylib.h` alone: built by `wit-dylib build --c` and by the clang line
//! its README documents, componentized, and run; its host-side harness runs
//! under the host's C compiler with sanitizers.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use common::{
    componentize_ok, copies_in, invoke, repo, scratch, show, take_perf_map, wit_dylib_err,
    wit_dylib_ok,
};

fn example(file: &str) -> PathBuf {
    repo("examples/c-interpreter").join(file)
}

/// The interpreter, built once by `wit-dylib build --c`.
fn interpreter() -> &'static PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = scratch("c-build").join("interp.so");
        let printed = wit_dylib_ok(&[
            "build",
            "--c",
            show(&example("interp.c")),
            "-o",
            show(&out),
            "--",
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
        ]);
        assert_eq!(printed.trim(), show(&out));
        out
    })
}

/// `app.rules` for `app.wit`, componentized once with `extra` flags.
fn component(name: &str, extra: &[&str]) -> PathBuf {
    let out = scratch(&format!("c-{name}")).join("app.wasm");
    let (rules, wit) = (example("app.rules"), example("app.wit"));
    componentize_ok(interpreter(), &rules, &wit, &out, extra);
    out
}

/// Runs `call` of interface `demo:app/api`.
fn run(component: &Path, call: &str) -> String {
    invoke(component, &format!("demo:app/api#{call}"))
}

/// Every rule of `app.rules`, with the results its README gives.
const CALLS: &[(&str, &str)] = &[
    (r#"greet("you")"#, r#""Hello, you!""#),
    (r#"words(" the quick  fox ")"#, r#"["the", "quick", "fox"]"#),
    (r#"shout(["one", "two", "three"])"#, r#""THREE TWO ONE!""#),
    (r#"count(["one", "two", "three"])"#, "3"),
    (r#"make-person("Ada", 36)"#, r#"{name: "Ada", age: 36}"#),
    (
        r#"describe({name: "Ada", age: 36})"#,
        r#""Ada is 36 years old""#,
    ),
    (
        r#"birthday({name: "Ada", age: 36})"#,
        r#"{name: "Ada", age: 37}"#,
    ),
];

#[test]
fn strings_lists_and_records_come_back_as_its_rules_say() {
    let app = component("app", &[]);
    for (call, expected) in CALLS {
        assert_eq!(run(&app, call), *expected, "{call}");
    }
}

#[test]
fn it_builds_pure_and_without_preinitialisation() {
    for (name, flags) in [
        ("pure", &["--stub-wasi"][..]),
        ("plain", &["--no-preinit"][..]),
    ] {
        let app = component(name, flags);
        assert_eq!(run(&app, r#"greet("C")"#), r#""Hello, C!""#, "{name}");
        // The rules' first comment is in the linked script only: the
        // interpreter releases the script once parsed, and a snapshot taken
        // after that holds zeros where it was.
        let copies = copies_in(&app, "One rule per export of demo:app/api");
        assert_eq!(copies, usize::from(name == "plain"), "{name}");
    }
}

#[test]
fn run_with_profile_writes_a_perf_map_or_a_jitdump() {
    let app = component("profiled", &[]);
    // Run in a directory of its own, where a jitdump goes.
    let dir = scratch("c-profiled-run");
    let run = |flags: &[&str]| {
        let child = Command::new(env!("CARGO_BIN_EXE_wit-dylib"))
            .args([
                "run",
                show(&app),
                "--invoke",
                r#"demo:app/api#greet("perf")"#,
            ])
            .args(flags)
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{flags:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            r#""Hello, perf!""#
        );
        pid
    };
    let plain = run(&[]);
    assert!(
        take_perf_map(plain).is_none(),
        "a perf map without --profile"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);

    let jitdump = run(&["--profile", "jitdump"]);
    let dump = std::fs::read(dir.join(format!("jit-{jitdump}.dump"))).unwrap();
    assert_eq!(&dump[..4], b"DTiJ", "a jitdump's magic, little-endian");
    assert!(take_perf_map(jitdump).is_none());

    // Where the dump cannot be written (nothing can be created in /proc),
    // the error names the file.
    let refused = Command::new(env!("CARGO_BIN_EXE_wit-dylib"))
        .args(["run", show(&app), "--invoke", "demo:app/api#count([])"])
        .args(["--profile", "jitdump"])
        .current_dir("/proc")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot write jit-") && stderr.contains(".dump in the working directory"),
        "{stderr}"
    );

    let map = take_perf_map(run(&["--profile", "perfmap"])).expect("a perf map");
    // interp.c's functions, by the names its name section gives them.
    for function in ["wit_dylib_export_call", "eval"] {
        assert!(
            map.lines()
                .any(|line| line.ends_with(&format!("::{function}"))),
            "{function} is not in the perf map"
        );
    }
}

#[test]
fn a_shrunk_build_is_smaller_and_answers_the_same() {
    let out = scratch("c-shrunk").join("interp.so");
    let source = example("interp.c");
    let printed = wit_dylib_ok(&["build", "--shrink", "--c", show(&source), "-o", show(&out)]);
    assert_eq!(printed.trim(), show(&out));
    let (shrunk, plain) = (
        std::fs::metadata(&out).unwrap().len(),
        std::fs::metadata(interpreter()).unwrap().len(),
    );
    assert!(shrunk < plain, "shrunk {shrunk} bytes, plain {plain}");
    let app = scratch("c-shrunk-app").join("app.wasm");
    let (rules, wit) = (example("app.rules"), example("app.wit"));
    componentize_ok(&out, &rules, &wit, &app, &[]);
    for (call, expected) in CALLS {
        assert_eq!(run(&app, call), *expected, "{call}");
    }
}

#[test]
fn the_documented_clang_line_builds_the_same_library() {
    let toolchain = wit_dylib_toolchain::locate().unwrap();
    let out = scratch("c-by-hand").join("interp.so");
    // examples/c-interpreter/README.md, "Building".
    let status = Command::new(&toolchain.clang)
        .current_dir(repo("examples/c-interpreter"))
        .args([
            "-std=c11",
            "-O2",
            "-Wall",
            "-Wextra",
            "-fPIC",
            "-shared",
            "-nostartfiles",
        ])
        .arg("-Wl,--skip-wit-component,--no-entry,--unresolved-symbols=import-dynamic")
        .args(["-I", "../../sdk", "-o"])
        .arg(&out)
        .arg("interp.c")
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(interpreter()).unwrap(),
        "the README's clang line and `wit-dylib build --c` disagree"
    );
}

#[test]
fn a_script_error_stops_componentize_naming_file_and_line() {
    let dir = scratch("c-broken");
    let rules = std::fs::read_to_string(example("app.rules"))
        .unwrap()
        .replace("p.name ++ \" is \"", "p.nam ++ \" is \"");
    let broken = dir.join("app.rules");
    std::fs::write(&broken, rules).unwrap();
    let stderr = wit_dylib_err(&[
        "componentize",
        "--interpreter",
        show(interpreter()),
        show(&broken),
        "--wit",
        show(&example("app.wit")),
        "-o",
        show(&dir.join("never.wasm")),
    ]);
    assert!(
        stderr.contains("c-interpreter: app.rules:") && stderr.contains("has no field `nam`"),
        "{stderr}"
    );
}

#[test]
fn an_out_of_range_result_traps_naming_the_export() {
    let app = component("range", &[]);
    let stderr = wit_dylib_err(&[
        "run",
        show(&app),
        "--invoke",
        r#"demo:app/api#birthday({name: "Old", age: 4294967295})"#,
    ]);
    assert!(
        stderr.contains("export `birthday`: 4294967296 is out of range for u32"),
        "{stderr}"
    );
}

/// `test/harness.c` plays the world library's side of the protocol on the
/// host, with AddressSanitizer and UBSan watching.
#[test]
fn the_host_side_harness_passes_under_sanitizers() {
    let dir = scratch("c-harness");
    let harness = dir.join("harness");
    let built = Command::new("cc")
        .current_dir(repo("examples/c-interpreter/test"))
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g"])
        .arg("-fsanitize=address,undefined")
        .args(["-I", "../../../sdk", "-o"])
        .arg(&harness)
        .arg("harness.c")
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let ran = Command::new(&harness)
        .arg(example("app.rules"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&ran.stdout);
    assert!(
        ran.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert!(stdout.trim_end().ends_with("all passed"), "{stdout}");
}
