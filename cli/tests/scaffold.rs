//! From nothing to a running component with a scaffolded interpreter, as
//! the README's five commands do: `wit-dylib new` into a directory outside
//! this workspace (on this checkout's SDK), `wit-dylib build`, `wit-dylib
//! componentize --interpreter`, `wit-dylib run`; and the scaffolded crate's
//! own tests pass with plain `cargo test`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{
    componentize_ok, copies_in, invoke, repo, scratch, show, target_dir, wit_dylib, wit_dylib_err,
    wit_dylib_ok,
};

/// The cargo target directory of the scaffolded crate's builds: kept
/// between runs, so that its dependencies are built once.
fn crate_target_dir() -> PathBuf {
    target_dir().join("scaffold")
}

/// `wit-dylib new my-vm`, then `wit-dylib build`: the crate and its dylib.
fn scaffolded() -> &'static (PathBuf, PathBuf) {
    static BUILT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = scratch("scaffold").join("my-vm");
        let sdk = repo("sdk");
        let created = wit_dylib_ok(&[
            "new",
            "my-vm",
            "--path",
            show(&dir),
            "--sdk-path",
            show(&sdk),
        ]);
        assert!(
            created.starts_with("created interpreter crate `my-vm`"),
            "{created}"
        );
        let out = Command::new(env!("CARGO_BIN_EXE_wit-dylib"))
            .args(["build", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", crate_target_dir())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dylib = PathBuf::from(stdout.trim());
        assert_eq!(dylib.file_name().unwrap(), "my_vm.so", "{stdout}");
        assert!(dylib.is_file());
        (dir, dylib)
    })
}

fn componentize(dir: &Path, dylib: &Path, extra: &[&str]) -> PathBuf {
    let out = dir.join(format!("app{}.wasm", extra.join("")));
    componentize_ok(dylib, &dir.join("app.calc"), &dir.join("wit"), &out, extra);
    out
}

#[test]
fn a_scaffolded_interpreter_builds_componentizes_and_runs() {
    let (dir, dylib) = scaffolded();
    let app = componentize(dir, dylib, &[]);
    assert_eq!(invoke(&app, r#"greet("you")"#), r#""Hello, you!""#);
    assert_eq!(invoke(&app, "add(2, 3)"), "5");
    assert_eq!(invoke(&app, "add(-5, 3)"), "-2");
    assert_eq!(invoke(&app, "fact(20)"), "2432902008176640000");
    assert_eq!(invoke(&app, "is-leap(2024)"), "true");
    assert_eq!(invoke(&app, "is-leap(1900)"), "false");
    // A result out of range for its WIT type traps, naming the export.
    let stderr = wit_dylib_err(&["run", show(&app), "--invoke", "add(2147483647, 1)"]);
    assert!(
        stderr.contains("2147483648 is out of range for s32"),
        "{stderr}"
    );
    // Pure components work too: the world imports only `log`.
    let pure = componentize(dir, dylib, &["--stub-wasi"]);
    assert_eq!(invoke(&pure, "fact(5)"), "120");
    // The template releases the script once parsed: its first comment is in
    // a component that links the script, not in a snapshot.
    let plain = componentize(dir, dylib, &["--no-preinit"]);
    assert_eq!(invoke(&plain, "fact(5)"), "120");
    for (component, expected) in [(&app, 0), (&pure, 0), (&plain, 1)] {
        let copies = copies_in(component, "A calc script for the world in wit/world.wit");
        assert_eq!(copies, expected, "{}", component.display());
    }
}

#[test]
fn a_script_missing_an_export_is_refused_at_componentize() {
    let (dir, dylib) = scaffolded();
    let broken = scratch("scaffold-broken");
    std::fs::write(broken.join("app.calc"), "add(a, b) = a + b\n").unwrap();
    let stderr = wit_dylib_err(&[
        "componentize",
        "--interpreter",
        show(dylib),
        show(&broken.join("app.calc")),
        "--wit",
        show(&dir.join("wit")),
        "-o",
        show(&broken.join("never.wasm")),
    ]);
    assert!(
        stderr.contains("export `greet` has no definition"),
        "{stderr}"
    );
}

#[test]
fn the_scaffolded_crates_own_tests_pass() {
    let (dir, _) = scaffolded();
    let out = Command::new(env!("CARGO"))
        .arg("test")
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", crate_target_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("test result: ok."), "{stdout}");
    assert!(!stdout.contains(" 0 passed"), "{stdout}");
}

#[test]
fn new_refuses_what_would_break_the_crate() {
    let dir = scratch("scaffold-refusals");
    let out = wit_dylib(&["new", "1st", "--path", show(&dir.join("x"))]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a crate name"));
    std::fs::write(dir.join("taken"), "").unwrap();
    let out = wit_dylib(&["new", "vm", "--path", show(&dir)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists and is not empty"));
}
