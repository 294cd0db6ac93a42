//! Scripts are hostile: componentizing runs a script's top level only inside
//! wasmtime, with no host capabilities and limits on fuel and memory, and
//! the result is pre-initialised. These tests try to get out, to hang the
//! build or a call, and check what pre-initialisation captures.

use std::path::PathBuf;

use anyhow::Result;
use lua_demo::runtime::{self, Running, Sandbox};
use lua_demo::{Limits, Options, Script, componentize_with, load_world};
use wasmtime::component::Val;

/// Implements the `sandbox` world; `PRELUDE` is replaced by each test's
/// top-level code.
const SCRIPT: &str = r#"
local started_at = os.time()
starts = (starts or 0) + 1
PRELUDE
return {
  spin = function() SPIN end,
  started_at = function() return started_at end,
  starts = function() return starts end,
  draw = function() return math.random(0, math.maxinteger) end,
}
"#;

fn script(prelude: &str, spin: &str) -> Script {
    Script {
        name: "hostile.lua".into(),
        source: SCRIPT
            .replace("PRELUDE", prelude)
            .replace("SPIN", spin)
            .into_bytes(),
    }
}

fn build(script: &Script, options: &Options) -> Result<Vec<u8>> {
    let wit = lua_demo::crate_dir().join("tests/sandbox.wit");
    let (resolve, world) = load_world(&wit, Some("sandbox"))?;
    componentize_with(script, &resolve, world, options)
}

fn start(component: &[u8], limits: Limits) -> Result<Running> {
    let sandbox = Sandbox {
        limits,
        ..Sandbox::default()
    };
    runtime::instantiate_in(&runtime::engine()?, component, &sandbox, |_, _| Ok(()))
}

fn call(running: &mut Running, name: &str) -> Result<Val> {
    Ok(running
        .call(None, name, &[])?
        .pop()
        .unwrap_or(Val::Bool(false)))
}

/// A fresh directory on the host for a test's files.
fn host_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lua-sandbox-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn message(result: Result<Vec<u8>>) -> String {
    format!("{:#}", result.expect_err("must not componentize"))
}

#[test]
fn the_top_level_cannot_touch_host_files_or_run_commands() -> Result<()> {
    let dir = host_dir("files");
    let created = dir.join("created");
    let by_command = dir.join("by-command");
    let kept = dir.join("kept");
    std::fs::write(&kept, "still here")?;
    // Everything a script could try, its failures ignored.
    let prelude = format!(
        "os.execute('touch {cmd}')\n\
         local f = io.open('{created}', 'w') if f then f:write('x') f:close() end\n\
         os.remove('{kept}')\n\
         os.rename('{kept}', '{created}')",
        cmd = by_command.display(),
        created = created.display(),
        kept = kept.display(),
    );
    build(&script(&prelude, ""), &Options::default())?;
    assert!(
        !created.exists(),
        "the script created {}",
        created.display()
    );
    assert!(!by_command.exists(), "a command ran on the host");
    assert_eq!(std::fs::read_to_string(&kept)?, "still here");

    // A script that insists on writing fails to componentize, saying why.
    let insist = format!("assert(io.open('{}', 'w'))", created.display());
    let err = message(build(&script(&insist, ""), &Options::default()));
    assert!(err.contains("hostile.lua:4:"), "{err}");
    assert!(err.contains(&created.display().to_string()), "{err}");
    assert!(!created.exists());
    Ok(())
}

#[test]
fn a_top_level_that_loops_is_stopped_by_the_fuel_limit() {
    let options = Options {
        limits: Limits {
            fuel: 200_000_000,
            ..Limits::default()
        },
        ..Options::default()
    };
    for preinit in [true, false] {
        let options = Options {
            preinit,
            ..options.clone()
        };
        let err = message(build(&script("while true do end", ""), &options));
        assert!(
            err.contains("running the top level of hostile.lua"),
            "{err}"
        );
        assert!(
            err.contains("the fuel limit (200000000 units) ran out"),
            "{err}"
        );
    }
}

#[test]
fn a_top_level_that_allocates_without_bound_is_stopped_by_the_memory_limit() {
    let options = Options {
        limits: Limits {
            max_memory: 64 << 20,
            ..Limits::default()
        },
        ..Options::default()
    };
    let grow = "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1 << 16) .. i end";
    let err = message(build(&script(grow, ""), &options));
    assert!(
        err.contains("running the top level of hostile.lua"),
        "{err}"
    );
    assert!(
        err.contains("the memory limit (64 MiB) was reached"),
        "{err}"
    );
}

#[test]
fn an_export_that_loops_is_stopped_and_the_instance_reports_it() -> Result<()> {
    let component = build(&script("", "while true do end"), &Options::default())?;
    let limits = Limits {
        fuel: 100_000_000,
        ..Limits::default()
    };
    let mut running = start(&component, limits)?;
    let err = format!("{:#}", call(&mut running, "spin").expect_err("must stop"));
    assert!(err.contains("calling `spin` failed"), "{err}");
    assert!(
        err.contains("the fuel limit (100000000 units) ran out"),
        "{err}"
    );
    Ok(())
}

#[test]
fn a_preinitialised_top_level_does_not_run_again() -> Result<()> {
    let script = script("", "");
    // The build-time sandbox's clock reads 2000-01-01T00:00:00Z.
    const BUILD_CLOCK: i64 = 946_684_800;

    let snapshot = build(&script, &Options::default())?;
    let mut running = start(&snapshot, Limits::default())?;
    assert_eq!(call(&mut running, "started-at")?, Val::S64(BUILD_CLOCK));
    assert_eq!(call(&mut running, "starts")?, Val::U32(1));

    let plain = build(
        &script,
        &Options {
            preinit: false,
            ..Options::default()
        },
    )?;
    let mut running = start(&plain, Limits::default())?;
    let Val::S64(now) = call(&mut running, "started-at")? else {
        panic!("started-at returns s64")
    };
    // Ran again when this instance started, on the real clock.
    assert!(now > 1_700_000_000, "{now}");
    assert_eq!(call(&mut running, "starts")?, Val::U32(1));
    Ok(())
}

#[test]
fn instances_of_one_snapshot_draw_different_random_numbers() -> Result<()> {
    let component = build(&script("", ""), &Options::default())?;
    let draws = |component: &[u8]| -> Result<Vec<Val>> {
        let mut running = start(component, Limits::default())?;
        (0..4).map(|_| call(&mut running, "draw")).collect()
    };
    let first = draws(&component)?;
    let second = draws(&component)?;
    assert_ne!(first, second);
    Ok(())
}

#[test]
fn componentizing_twice_gives_identical_bytes() -> Result<()> {
    // The top level draws random numbers and reads the clock: the build
    // sandbox makes both fixed.
    let script = script("local noise = math.random() .. os.time()", "");
    let first = build(&script, &Options::default())?;
    let second = build(&script, &Options::default())?;
    assert!(first == second, "two builds differ");
    Ok(())
}

#[test]
fn what_a_failing_top_level_printed_is_shown() {
    let err = message(build(
        &script("print('loading the tables') error('no tables')", ""),
        &Options::default(),
    ));
    assert!(err.contains("it printed: loading the tables"), "{err}");
    assert!(err.contains("hostile.lua:4: no tables"), "{err}");
}

#[test]
fn binary_chunks_are_refused_at_build_and_at_run_time() -> Result<()> {
    // `string.dump` makes bytecode, which Lua would run unverified.
    let load_dumped =
        "local f, err = load(string.dump(function() end)) if not f then error(err) end";
    let err = message(build(&script(load_dumped, ""), &Options::default()));
    assert!(
        err.contains("attempt to load a binary chunk (mode is 't')"),
        "{err}"
    );

    let asks_for_binary = "local f, err = load('return 1', 'x', 'b') if not f then error(err) end";
    let err = message(build(&script(asks_for_binary, ""), &Options::default()));
    assert!(err.contains("binary chunks are refused"), "{err}");

    // The script itself must be text too.
    let bytecode = Script {
        name: "compiled.lua".into(),
        source: b"\x1bLua\x54\x00 not really bytecode".to_vec(),
    };
    let err = message(build(&bytecode, &Options::default()));
    assert!(err.contains("attempt to load a binary chunk"), "{err}");

    let component = build(&script("", load_dumped), &Options::default())?;
    let mut running = start(&component, Limits::default())?;
    let err = format!("{:#}", call(&mut running, "spin").expect_err("must refuse"));
    assert!(
        err.contains("attempt to load a binary chunk (mode is 't')"),
        "{err}"
    );
    Ok(())
}

#[test]
fn os_exit_is_reported_at_build_and_at_run_time() -> Result<()> {
    // Not even `pcall` keeps the script going.
    for preinit in [true, false] {
        let options = Options {
            preinit,
            ..Options::default()
        };
        let err = message(build(&script("pcall(os.exit, 3)", ""), &options));
        assert!(err.contains("the script called os.exit(3)"), "{err}");
    }
    let component = build(&script("", "os.exit(false)"), &Options::default())?;
    let mut running = start(&component, Limits::default())?;
    let err = format!("{:#}", call(&mut running, "spin").expect_err("must stop"));
    assert!(err.contains("the script called os.exit(1)"), "{err}");
    Ok(())
}
