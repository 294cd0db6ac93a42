//! The compilation cache across processes (`pipeline/src/cache.rs`): a second
//! `run` of a component compiles nothing, a rebuild of an edited script
//! finds most functions compiled, the cache never changes what a build
//! makes, and `WIT_DYLIB_CACHE=off` turns it off. Each test has a cache
//! directory of its own; `WIT_DYLIB_CACHE_STATS` makes the command print what
//! the cache did.

use std::path::{Path, PathBuf};
use std::process::Output;

fn example(file: &str) -> PathBuf {
    lua_demo::crate_dir().join("example").join(file)
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lua-demo-cache-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `lua-demo ARGS` with the cache in `cache` (a directory or `off`).
fn lua_demo(cache: &Path, args: &[&str]) -> Output {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lua-demo"))
        .args(args)
        .env("WIT_DYLIB_CACHE", cache)
        .env("WIT_DYLIB_CACHE_STATS", "1")
        .output()
        .expect("lua-demo runs");
    assert!(
        output.status.success(),
        "lua-demo {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The numbers of the cache report on stderr: components found and
/// compiled, functions found and compiled.
fn report(output: &Output) -> [u64; 4] {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .find(|line| line.starts_with("compilation cache "))
        .unwrap_or_else(|| panic!("no cache report in {stderr:?}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|word| word.parse().ok())
        .collect();
    let tail = &numbers[numbers.len() - 4..];
    [tail[0], tail[1], tail[2], tail[3]]
}

fn componentize(cache: &Path, script: &Path, out: &Path) -> Output {
    lua_demo(
        cache,
        &[
            "componentize",
            script.to_str().unwrap(),
            "--wit",
            example("app.wit").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    )
}

#[test]
fn a_second_run_compiles_nothing() {
    let dir = scratch("run");
    let cache = dir.join("cache");
    let component = dir.join("app.wasm");
    componentize(Path::new("off"), &example("app.lua"), &component);
    let run = |cache: &Path| {
        lua_demo(
            cache,
            &[
                "run",
                component.to_str().unwrap(),
                "--invoke",
                "demo:app/api#area(circle(2.0))",
            ],
        )
    };
    let first = run(&cache);
    let [found, compiled, ..] = report(&first);
    assert_eq!(
        (found, compiled),
        (0, 1),
        "the first run compiles the component"
    );
    let second = run(&cache);
    assert_eq!(
        report(&second),
        [1, 0, 0, 0],
        "the second run finds it whole"
    );
    assert_eq!(first.stdout, second.stdout);
    assert_eq!(
        String::from_utf8_lossy(&second.stdout).trim(),
        "12.566370614359172"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// The component compiled for the build-time run holds no script (the
/// pre-initialisation library fetches it), so an edited script's build
/// finds it whole and compiles nothing.
#[test]
fn an_edited_script_compiles_nothing() {
    let dir = scratch("edit");
    let cache = dir.join("cache");
    let first = componentize(&cache, &example("app.lua"), &dir.join("first.wasm"));
    // Identical functions (in libc and the interpreter) are found even in
    // an empty cache, once compiled.
    let [found_whole, compiled_whole, _, compiled_first] = report(&first);
    assert_eq!(
        (found_whole, compiled_whole),
        (0, 1),
        "the first build compiles"
    );
    assert!(
        compiled_first > 1000,
        "the interpreter and libc are compiled: {compiled_first}"
    );

    let mut edited = std::fs::read_to_string(example("app.lua")).unwrap();
    edited.push_str("\n-- an edit\n");
    let script = dir.join("app.lua");
    std::fs::write(&script, edited).unwrap();
    let second = componentize(&cache, &script, &dir.join("second.wasm"));
    assert_eq!(
        report(&second),
        [1, 0, 0, 0],
        "the rebuild finds the build-time component whole"
    );
    assert_ne!(
        std::fs::read(dir.join("first.wasm")).unwrap(),
        std::fs::read(dir.join("second.wasm")).unwrap(),
        "the edit is in the result"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_cache_never_changes_what_a_build_makes() {
    let dir = scratch("same");
    let cache = dir.join("cache");
    let [off, cold, warm] = ["off.wasm", "cold.wasm", "warm.wasm"].map(|name| dir.join(name));
    let output = componentize(Path::new("off"), &example("app.lua"), &off);
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("compilation cache"),
        "no report when the cache is off"
    );
    componentize(&cache, &example("app.lua"), &cold);
    componentize(&cache, &example("app.lua"), &warm);
    let bytes = |path: &Path| std::fs::read(path).unwrap();
    assert_eq!(bytes(&off), bytes(&cold));
    assert_eq!(bytes(&cold), bytes(&warm));
    std::fs::remove_dir_all(dir).unwrap();
}
