//! The `lua-demo` command line: one short line on success, `error: ...` and a
//! non-zero exit (never a panic) on bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lua_demo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lua-demo"))
        .args(args)
        .output()
        .expect("lua-demo runs")
}

fn example(file: &str) -> String {
    lua_demo::crate_dir()
        .join("example")
        .join(file)
        .display()
        .to_string()
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lua-demo-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// `lua-demo componentize SCRIPT --wit WIT [EXTRA...] -o OUT`.
fn componentize(script: &str, wit: &str, extra: &[&str], out: &Path) -> Output {
    let mut args = vec!["componentize", script, "--wit", wit];
    args.extend_from_slice(extra);
    args.extend(["-o", out.to_str().unwrap()]);
    lua_demo(&args)
}

/// `lua-demo componentize` of a broken `script` for the example's world,
/// which must fail: its exit code and stderr.
fn componentize_broken(script: &Path) -> (Option<i32>, String) {
    let out = temp_file("never.wasm", "");
    let result = componentize(script.to_str().unwrap(), &example("app.wit"), &[], &out);
    (
        result.status.code(),
        String::from_utf8_lossy(&result.stderr).into_owned(),
    )
}

#[test]
fn componentize_then_run() {
    let out = temp_file("app.wasm", "");
    let built = componentize(&example("app.lua"), &example("app.wit"), &[], &out);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let stdout = String::from_utf8_lossy(&built.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with("componentized app.lua for world `app`"),
        "{stdout}"
    );

    let run = |call: &str| lua_demo(&["run", out.to_str().unwrap(), "--invoke", call]);
    // Arguments and results in WAVE.
    let ran = run("demo:app/api#area(circle(2.0))");
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&ran.stdout), "12.566370614359172\n");
    let ran = run("demo:app/api#area(rectangle((3.0, 4.5)))");
    assert_eq!(String::from_utf8_lossy(&ran.stdout), "13.5\n");

    // An argument of the wrong type: one line naming the parameter and type.
    let ran = run("demo:app/api#area(\"not a shape\")");
    assert_eq!(ran.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert!(
        stderr.starts_with("error: argument `s` of `demo:app/api#area` must be a variant"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");

    // Resources cannot be written on a command line.
    let ran = run("demo:app/api#[method]counter.value(1)");
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert!(
        stderr.contains("parameter `self` of `demo:app/api#[method]counter.value` is a resource"),
        "{stderr}"
    );

    let ran = run("demo:app/api#area()");
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert!(
        stderr.contains("`demo:app/api#area` takes 1 argument (s), got 0"),
        "{stderr}"
    );
}

#[test]
fn run_on_a_file_that_is_not_a_component_says_so() {
    let not_wasm = temp_file("notes.txt", "hello");
    let result = lua_demo(&["run", not_wasm.to_str().unwrap(), "--invoke", "f()"]);
    assert_eq!(result.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.ends_with("notes.txt: not a WebAssembly component\n"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // A core module (the smallest there is) is not a component either.
    let module = temp_file("module.wasm", "");
    std::fs::write(&module, b"\0asm\x01\0\0\0").unwrap();
    let result = lua_demo(&["run", module.to_str().unwrap(), "--invoke", "f()"]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("module.wasm: a core WebAssembly module, not a component"),
        "{stderr}"
    );
}

#[test]
fn a_syntax_error_is_one_line_with_file_and_line() {
    let script = temp_file("broken.lua", "return {\n  greet = function( end\n}\n");
    let (code, stderr) = componentize_broken(&script);
    assert_eq!(code, Some(1));
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains("syntax error: broken.lua:2: <name> or '...' expected near 'end'"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_unknown_world_lists_the_worlds() {
    let out = temp_file("never.wasm", "");
    let result = componentize(
        &example("app.lua"),
        &example("app.wit"),
        &["--world", "nope"],
        &out,
    );
    assert_eq!(result.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("`nope` not found")
            && stderr.contains("worlds in")
            && stderr.contains(": app)"),
        "{stderr}"
    );
}

#[test]
fn malformed_wit_names_file_and_line() {
    let wit = temp_file(
        "bad.wit",
        "package a:b;\nworld w {\n  export f: func(x: nosuchtype);\n}\n",
    );
    let out = temp_file("never.wasm", "");
    let result = componentize(&example("app.lua"), wit.to_str().unwrap(), &[], &out);
    assert_eq!(result.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("bad.wit:3:"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn the_default_run_builds_and_runs_the_bundled_example() {
    let result = lua_demo(&[]);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&result.stderr)
    );
    for expected in [
        "[host] log: greeting WebAssembly",
        "greet(\"WebAssembly\") = \"Hello, WebAssembly!\"",
        "area(rectangle(3, 4.5)) = 13.500",
        "counter: new(10), increment(5) = 15, value() = 15, dropped",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}

#[test]
fn the_toy_example_behaves_like_the_lua_one() {
    let lua = lua_demo(&[]);
    let toy = lua_demo(&["demo", &example("app.toy")]);
    let toy_stdout = String::from_utf8_lossy(&toy.stdout);
    assert!(
        toy.status.success(),
        "{toy_stdout}{}",
        String::from_utf8_lossy(&toy.stderr)
    );
    // Everything but the first line (which names the script) is the same.
    let lua_stdout = String::from_utf8_lossy(&lua.stdout);
    let calls = |stdout: &str| {
        stdout
            .lines()
            .skip(1)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert!(
        toy_stdout.starts_with("built app.toy for world `app`"),
        "{toy_stdout}"
    );
    assert_eq!(calls(&toy_stdout), calls(&lua_stdout));
    assert_eq!(calls(&toy_stdout).len(), 6, "{toy_stdout}");
}

#[test]
fn a_toy_script_is_componentized_and_run() {
    let wit = temp_file(
        "add.wit",
        "package a:b;\nworld adder {\n  export add: func(a: s32, b: s32) -> s32;\n}\n",
    );
    let script = temp_file("add.toy", "(export \"add\" (fn (a b) (+ a b)))\n");
    let out = temp_file("add.wasm", "");
    let built = componentize(script.to_str().unwrap(), wit.to_str().unwrap(), &[], &out);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let ran = lua_demo(&["run", out.to_str().unwrap(), "--invoke", "add(40, -2)"]);
    let stdout = String::from_utf8_lossy(&ran.stdout);
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert_eq!(stdout.trim(), "38");
}

#[test]
fn a_toy_syntax_error_is_one_line_with_file_line_and_column() {
    let script = temp_file(
        "broken.toy",
        "(export \"demo:app/api#greet\"\n  (fn (name) \"hi))\n",
    );
    let (code, stderr) = componentize_broken(&script);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr.trim_end(),
        "error: broken.toy:2:14: unterminated string"
    );
}

#[test]
fn run_stops_an_export_that_loops_at_the_fuel_limit() {
    let wit = temp_file(
        "spin.wit",
        "package test:spin;\nworld spin { export spin: func(); }\n",
    );
    let script = temp_file(
        "spin.lua",
        "return { spin = function() while true do end end }\n",
    );
    let out = temp_file("spin.wasm", "");
    let built = componentize(script.to_str().unwrap(), wit.to_str().unwrap(), &[], &out);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let ran = lua_demo(&[
        "run",
        out.to_str().unwrap(),
        "--invoke",
        "spin()",
        "--fuel",
        "50000000",
    ]);
    assert_eq!(ran.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert!(
        stderr.contains("calling `spin` failed")
            && stderr.contains("the fuel limit (50000000 units) ran out")
            && stderr.contains("--fuel"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_async_world_is_componentized_and_run_for_lua_and_toy() {
    let wit = temp_file(
        "async.wit",
        "package test:streaming;\n\
         interface api { fetch: async func(url: string) -> string; }\n\
         world app { export api; }\n",
    );
    for (name, source) in [
        (
            "fetch.lua",
            "return { [\"test:streaming/api\"] = { fetch = function(url) wit.yield() return \"got \" .. url end } }\n",
        ),
        (
            "fetch.toy",
            "(export \"test:streaming/api#fetch\" (fn (url) (str \"got \" url)))\n",
        ),
    ] {
        let script = temp_file(name, source);
        let out = temp_file(&format!("{name}.wasm"), "");
        let built = componentize(script.to_str().unwrap(), wit.to_str().unwrap(), &[], &out);
        assert!(
            built.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        let call = "test:streaming/api#fetch(\"x\")";
        let ran = lua_demo(&["run", out.to_str().unwrap(), "--invoke", call]);
        assert!(
            ran.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&ran.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&ran.stdout).trim(),
            "\"got x\"",
            "{name}"
        );
    }
}

#[test]
fn stub_wasi_needs_preinitialisation() {
    let out = temp_file("never.wasm", "");
    let result = componentize(
        &example("app.lua"),
        &example("app.wit"),
        &["--stub-wasi", "--no-preinit"],
        &out,
    );
    assert_eq!(result.status.code(), Some(2), "clap refuses the pair");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("--no-preinit"), "{stderr}");
}

#[test]
fn a_memory_limit_out_of_range_is_refused() {
    let result = lua_demo(&[
        "run",
        "app.wasm",
        "--invoke",
        "f()",
        "--max-memory",
        "99999999999",
    ]);
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("--max-memory"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn run_takes_and_prints_wave_values_of_every_kind() {
    let wit = lua_demo::crate_dir().join("tests/lua.wit");
    let script = temp_file(
        "wave.lua",
        r#"return {
  echo_string = function(s) return s end,
  echo_bytes = function(b) return b end,
  small = function(n) return n end,
  count = function() return 0 end,
  shapes = function(p, c, f)
    return { { x = p.y, y = p.x, label_text = p.label_text .. "!" }, c, f }
  end,
  nested = function(o) return o end,
  outcome = function(ok) if ok then return { ok = "fine" } else return { err = 7 } end end,
  lookup = function(m, key) return m[key] end,
  use_blobs = function() return 0 end,
}
"#,
    );
    let out = temp_file("wave.wasm", "");
    let built = componentize(
        script.to_str().unwrap(),
        wit.to_str().unwrap(),
        &["--world", "checks"],
        &out,
    );
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    for (call, printed) in [
        (r#"echo-string("tab\t\"q\" \u{2713}")"#, r#""tab\t\"q\" ✓""#),
        ("echo-bytes([1, 2, 255])", "[1, 2, 255]"),
        (
            r#"shapes({x: 1, y: -2, label-text: "p"}, green, {read, exec})"#,
            r#"({x: -2, y: 1, label-text: "p!"}, green, {read, exec})"#,
        ),
        ("nested(some(none))", "some(none)"),
        ("nested(none)", "none"),
        ("outcome(false)", "err(7)"),
        ("outcome(true)", r#"ok("fine")"#),
    ] {
        let ran = lua_demo(&["run", out.to_str().unwrap(), "--invoke", call]);
        assert!(
            ran.status.success(),
            "{call}: {}",
            String::from_utf8_lossy(&ran.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&ran.stdout).trim_end(),
            printed,
            "{call}"
        );
    }
}
