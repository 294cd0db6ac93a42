//! `lua-demo bindings`: the annotation files it writes, checked by a real
//! checker, `emmylua_check` (pinned; `cargo xtask test` installs it and
//! passes its path in `EMMYLUA_CHECK`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The version `xtask/src/tools.rs` installs.
const EMMYLUA_CHECK_VERSION: &str = "0.25.1";

/// The checker: `$EMMYLUA_CHECK`, or where `cargo xtask test` installs it
/// (`<target-dir>/tools/bin`). Missing is a failure, not a skip.
fn emmylua_check() -> PathBuf {
    let path = match std::env::var_os("EMMYLUA_CHECK") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .unwrap()
            .join("tools/bin/emmylua_check"),
    };
    assert!(
        path.is_file(),
        "emmylua_check {EMMYLUA_CHECK_VERSION} is missing at {}: run the tests with `cargo xtask \
         test`, which installs it, or install it yourself (`cargo install emmylua_check \
         --version {EMMYLUA_CHECK_VERSION} --locked --root DIR`) and set EMMYLUA_CHECK to \
         DIR/bin/emmylua_check",
        path.display()
    );
    path
}

fn example(file: &str) -> String {
    lua_demo::crate_dir()
        .join("example")
        .join(file)
        .display()
        .to_string()
}

fn test_file(file: &str) -> String {
    lua_demo::crate_dir()
        .join("tests")
        .join(file)
        .display()
        .to_string()
}

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("lua-demo-bindings-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `lua-demo bindings --wit WIT [--world WORLD] -o DIR`, which must succeed.
fn bindings(wit: &str, world: Option<&str>, dir: &Path) {
    let mut args = vec!["bindings", "--wit", wit];
    if let Some(world) = world {
        args.extend(["--world", world]);
    }
    args.extend(["-o", dir.to_str().unwrap()]);
    let out = Command::new(env!("CARGO_BIN_EXE_lua-demo"))
        .args(&args)
        .output()
        .expect("lua-demo runs");
    assert!(
        out.status.success(),
        "lua-demo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs the checker over `workspace` (with `library` as a library folder,
/// if any): every diagnostic, as `code: message` lines.
fn check(workspace: &Path, library: Option<&Path>) -> Vec<String> {
    let mut config = serde_json::json!({ "runtime": { "version": "Lua5.4" } });
    if let Some(library) = library {
        config["workspace"] = serde_json::json!({ "library": [library] });
    }
    std::fs::write(workspace.join(".emmyrc.json"), config.to_string()).unwrap();
    let report = workspace.with_extension("json");
    let out = Command::new(emmylua_check())
        .arg(workspace)
        .args(["--output-format", "json", "--output"])
        .arg(&report)
        .output()
        .expect("emmylua_check runs");
    let text = std::fs::read_to_string(&report).unwrap_or_else(|_| {
        panic!(
            "emmylua_check wrote no report: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let files: Value = serde_json::from_str(&text).unwrap();
    let mut diagnostics = Vec::new();
    for file in files.as_array().unwrap() {
        for d in file["diagnostics"].as_array().unwrap() {
            diagnostics.push(format!(
                "{}:{}: {}: {}",
                file["file"].as_str().unwrap_or("?"),
                d["range"]["start"]["line"].as_u64().unwrap_or(0) + 1,
                d["code"].as_str().unwrap_or("?"),
                d["message"].as_str().unwrap_or("?")
            ));
        }
    }
    diagnostics
}

/// Bindings for the example's world, then the checker over one script.
fn check_example_script(name: &str, script: &str) -> Vec<String> {
    let dir = temp_dir(name);
    let stubs = dir.join("stubs");
    bindings(&example("app.wit"), None, &stubs);
    let workspace = dir.join("script");
    std::fs::create_dir_all(&workspace).unwrap();
    std::fs::write(workspace.join("main.lua"), script).unwrap();
    check(&workspace, Some(&stubs))
}

/// The one diagnostic of a broken script, which must mention `what`.
fn assert_one_diagnostic(diagnostics: &[String], what: &str) {
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert!(
        diagnostics[0].contains(what),
        "expected a diagnostic naming `{what}`: {diagnostics:#?}"
    );
}

#[test]
fn files_follow_the_require_names() {
    let dir = temp_dir("files");
    bindings(&example("app.wit"), None, &dir);
    let host = std::fs::read_to_string(dir.join("demo:app/host.lua")).unwrap();
    assert!(host.starts_with("---@meta\n"), "{host}");
    assert!(host.contains("---What the host provides to the script."));
    assert!(
        host.contains("function M.current_weather(city) end"),
        "{host}"
    );
    let exports = std::fs::read_to_string(dir.join("exports.lua")).unwrap();
    assert!(
        exports.contains("---@field [\"demo:app/api\"] demo.app.api.Exports"),
        "{exports}"
    );
    assert!(!dir.join("world.lua").exists());
}

#[test]
fn the_example_checks_clean() {
    let script = std::fs::read_to_string(example("app.lua")).unwrap();
    let diagnostics = check_example_script("example", &script);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
}

#[test]
fn misspelt_record_field() {
    let diagnostics = check_example_script(
        "field",
        r#"local host = require("demo:app/host")
local weather = host.current_weather("Oslo")
host.log(weather.city .. tostring(weather.celsuis))
"#,
    );
    assert_one_diagnostic(&diagnostics, "celsuis");
}

#[test]
fn argument_of_the_wrong_type() {
    let diagnostics = check_example_script(
        "argument",
        r#"local host = require("demo:app/host")
host.log(42)
"#,
    );
    // `log(message: string)`: the checker names the expected type.
    assert_one_diagnostic(&diagnostics, "expected `string` but found `42`");
}

#[test]
fn function_the_module_does_not_have() {
    let diagnostics = check_example_script(
        "function",
        r#"local host = require("demo:app/host")
host.current_wether("Oslo")
"#,
    );
    assert_one_diagnostic(&diagnostics, "current_wether");
}

#[test]
fn exports_table_of_the_wrong_shape() {
    let diagnostics = check_example_script(
        "exports",
        r#"---@type demo.app.app.Exports
local exports = { ["demo:app/api"] = { greet = 42 } }
return exports
"#,
    );
    // Missing exports are named; `greet` is not a function.
    assert!(
        diagnostics
            .iter()
            .any(|d| d.contains("missing-fields") && d.contains("`summarize`")),
        "{diagnostics:#?}"
    );
    assert!(
        diagnostics
            .iter()
            .any(|d| d.contains("Cannot assign `integer` to `fun(name: string) -> string`")),
        "{diagnostics:#?}"
    );
}

#[test]
fn the_async_example_checks_clean_and_misuse_of_wit_is_reported() {
    let example = lua_demo::crate_dir().join("examples/words");
    let dir = temp_dir("words");
    let stubs = dir.join("stubs");
    bindings(example.join("words.wit").to_str().unwrap(), None, &stubs);
    let script = std::fs::read_to_string(example.join("words.lua")).unwrap();
    let workspace = dir.join("script");
    std::fs::create_dir_all(&workspace).unwrap();
    std::fs::write(workspace.join("main.lua"), &script).unwrap();
    let diagnostics = check(&workspace, Some(&stubs));
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");

    let broken = script.replace("wit.spawn(function()", "wit.spawn(42, function()");
    std::fs::write(workspace.join("main.lua"), broken).unwrap();
    assert_one_diagnostic(&check(&workspace, Some(&stubs)), "expected `fun(...)");
}

#[test]
fn every_kind_of_type_checks_clean() {
    let dir = temp_dir("kinds");
    let stubs = dir.join("stubs");
    bindings(&test_file("bindings.wit"), None, &stubs);
    let workspace = dir.join("script");
    std::fs::create_dir_all(&workspace).unwrap();
    std::fs::write(
        workspace.join("main.lua"),
        std::fs::read_to_string(test_file("bindings.lua")).unwrap(),
    )
    .unwrap();
    let diagnostics = check(&workspace, Some(&stubs));
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let diagnostics = check(&stubs, None);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
}

#[test]
fn wasi_http_proxy() {
    let wit = lua_demo::crate_dir().join("../../generator/tests/wasi-wit");
    let dir = temp_dir("proxy");
    let stubs = dir.join("stubs");
    bindings(
        wit.to_str().unwrap(),
        Some("wasi:http/proxy@0.2.12"),
        &stubs,
    );
    assert!(stubs.join("wasi:http/types@0.2.12.lua").is_file());
    let diagnostics = check(&stubs, None);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
}

/// Bindings for example `name`'s world (`examples/NAME/wit`), then the
/// checker over the example's scripts, which must check clean.
fn assert_example_checks_clean(name: &str) {
    let example = lua_demo::crate_dir().join("examples").join(name);
    let dir = temp_dir(name);
    let stubs = dir.join("stubs");
    bindings(example.join("wit").to_str().unwrap(), None, &stubs);
    let workspace = dir.join("scripts");
    std::fs::create_dir_all(&workspace).unwrap();
    let mut scripts = 0;
    for entry in std::fs::read_dir(&example).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "lua") {
            std::fs::copy(&path, workspace.join(path.file_name().unwrap())).unwrap();
            scripts += 1;
        }
    }
    assert!(scripts > 0, "no scripts in {}", example.display());
    let diagnostics = check(&workspace, Some(&stubs));
    assert!(diagnostics.is_empty(), "{name}: {diagnostics:#?}");
}

#[test]
fn the_http_examples_check_clean_helpers_included() {
    for name in ["http", "http-p3", "cli-p3"] {
        assert_example_checks_clean(name);
    }
}

#[test]
fn errors_are_one_line() {
    let dir = temp_dir("errors");
    let out = Command::new(env!("CARGO_BIN_EXE_lua-demo"))
        .args(["bindings", "--wit", &example("app.wit"), "--world", "nope"])
        .arg("-o")
        .arg(&dir)
        .output()
        .expect("lua-demo runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.lines().count() == 1 && stderr.contains("nope"),
        "{stderr}"
    );
}
