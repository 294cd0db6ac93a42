//! The Lua interpreter end to end: scripts componentized by `lua-demo`'s
//! library and run under wasmtime; the error cases of componentize and of
//! scripts that misbehave at run time.

use anyhow::Result;
use lua_demo::runtime::{self, Running};
use lua_demo::{Options, Script, componentize_with, load_world};
use wasmtime::component::{Resource, ResourceType, Val};

/// A script that implements the `checks` world of tests/lua.wit.
const GOOD: &str = r#"
local host = require("test:lua/host")
local calls = 0
return {
  echo_string = function(s) return s end,
  echo_bytes = function(b) return b end,
  small = function(n) return n end,
  count = function()
    -- error/pcall unwind with setjmp/longjmp (wasm exceptions)
    local ok, err = pcall(error, "caught")
    assert(not ok and err == "caught")
    -- a wrong argument to an import is a Lua error the script can catch
    local ok2, err2 = pcall(host.log, 42)
    assert(not ok2 and tostring(err2):find("argument 1 of `test:lua/host#log`: expected string, found integer 42", 1, true), tostring(err2))
    calls = calls + 1
    host.log("count " .. calls)
    return calls
  end,
  shapes = function(p, c, f)
    return { { x = p.y, y = p.x, label_text = p.label_text .. "!" }, c, f }
  end,
  nested = function(o) return o end,
  outcome = function(ok)
    if ok then return { ok = "fine" } else return { err = 7 } end
  end,
  lookup = function(m, key) return m[key] end,
  use_blobs = function()
    local a = host.blob.new(1)
    local total = a:size()
    a:drop()
    local ok, err = pcall(a.size, a)
    assert(not ok and tostring(err):find("already dropped", 1, true), tostring(err))
    do
      local b <close> = host.blob.new(2)
      total = total + b:size()
    end
    local c = host.blob.new(3)
    total = total + c:size()
    c = nil
    collectgarbage()
    return total
  end,
}
"#;

fn build(source: &str) -> Result<Vec<u8>> {
    build_with(source, &Options::default())
}

/// The pre-initialised component [`build`] makes, and one that runs the
/// script's top level when it starts: both must behave the same.
fn both_builds(source: &str) -> Result<[Vec<u8>; 2]> {
    let plain = Options {
        preinit: false,
        ..Options::default()
    };
    Ok([build(source)?, build_with(source, &plain)?])
}

fn build_with(source: &str, options: &Options) -> Result<Vec<u8>> {
    let wit = lua_demo::crate_dir().join("tests/lua.wit");
    let (resolve, world) = load_world(&wit, Some("checks"))?;
    let script = Script {
        name: "test.lua".into(),
        source: source.as_bytes().to_vec(),
    };
    componentize_with(&script, &resolve, world, options)
}

/// The host's `blob`: its rep is its size.
struct Blob;

fn start(component: &[u8], log: std::sync::Arc<std::sync::Mutex<Vec<String>>>) -> Result<Running> {
    let engine = runtime::engine()?;
    runtime::instantiate(&engine, component, move |linker, _| {
        let mut host = linker.instance("test:lua/host")?;
        let dropped = std::sync::Arc::clone(&log);
        host.resource("blob", ResourceType::host::<Blob>(), move |_, rep| {
            dropped.lock().unwrap().push(format!("dropped blob {rep}"));
            Ok(())
        })?;
        host.func_new("[constructor]blob", |mut store, _, args, results| {
            let [Val::U32(size)] = args else {
                wasmtime::bail!("blob takes a size")
            };
            results[0] =
                Val::Resource(Resource::<Blob>::new_own(*size).try_into_resource_any(&mut store)?);
            Ok(())
        })?;
        host.func_new("[method]blob.size", |mut store, _, args, results| {
            let [Val::Resource(blob)] = args else {
                wasmtime::bail!("size takes self")
            };
            results[0] = Val::U32(blob.try_into_resource::<Blob>(&mut store)?.rep());
            Ok(())
        })?;
        host.func_new("log", move |_, _, args, _| {
            if let [Val::String(message)] = args {
                log.lock().unwrap().push(message.clone());
            }
            Ok(())
        })
    })
}

fn call(running: &mut Running, name: &str, args: &[Val]) -> Result<Val> {
    Ok(running.call(None, name, args)?.remove(0))
}

#[test]
fn values_cross_in_both_directions() -> Result<()> {
    for component in both_builds(GOOD)? {
        values_cross(&component)?;
    }
    Ok(())
}

fn values_cross(component: &[u8]) -> Result<()> {
    let log = Default::default();
    let mut app = start(component, std::sync::Arc::clone(&log))?;

    let text = "ünïcødé ✓ and \"quotes\"";
    assert_eq!(
        call(&mut app, "echo-string", &[Val::String(text.into())])?,
        Val::String(text.into())
    );
    assert_eq!(
        call(&mut app, "echo-string", &[Val::String(String::new())])?,
        Val::String(String::new())
    );

    let bytes: Vec<Val> = (0..=255u8).chain([0, 0, 255]).map(Val::U8).collect();
    assert_eq!(
        call(&mut app, "echo-bytes", &[Val::List(bytes.clone())])?,
        Val::List(bytes)
    );

    assert_eq!(call(&mut app, "count", &[])?, Val::U32(1));
    assert_eq!(call(&mut app, "count", &[])?, Val::U32(2));
    assert_eq!(*log.lock().unwrap(), ["count 1", "count 2"]);

    let point = Val::Record(vec![
        ("x".into(), Val::S32(-3)),
        ("y".into(), Val::S32(9)),
        ("label-text".into(), Val::String("p".into())),
    ]);
    let flags = Val::Flags(vec!["read".into(), "exec".into()]);
    let result = call(
        &mut app,
        "shapes",
        &[point, Val::Enum("green".into()), flags.clone()],
    )?;
    let swapped = Val::Record(vec![
        ("x".into(), Val::S32(9)),
        ("y".into(), Val::S32(-3)),
        ("label-text".into(), Val::String("p!".into())),
    ]);
    assert_eq!(
        result,
        Val::Tuple(vec![swapped, Val::Enum("green".into()), flags])
    );

    for nested in [
        Val::Option(None),
        Val::Option(Some(Box::new(Val::Option(None)))),
        Val::Option(Some(Box::new(Val::Option(Some(Box::new(Val::U32(5))))))),
    ] {
        assert_eq!(
            call(&mut app, "nested", std::slice::from_ref(&nested))?,
            nested
        );
    }

    assert_eq!(
        call(&mut app, "outcome", &[Val::Bool(true)])?,
        Val::Result(Ok(Some(Box::new(Val::String("fine".into())))))
    );
    assert_eq!(
        call(&mut app, "outcome", &[Val::Bool(false)])?,
        Val::Result(Err(Some(Box::new(Val::U32(7)))))
    );

    let map = Val::Map(vec![
        (Val::String("a".into()), Val::U32(1)),
        (Val::String("b".into()), Val::U32(2)),
    ]);
    assert_eq!(
        call(&mut app, "lookup", &[map.clone(), Val::String("b".into())])?,
        Val::Option(Some(Box::new(Val::U32(2))))
    );
    assert_eq!(
        call(&mut app, "lookup", &[map, Val::String("z".into())])?,
        Val::Option(None)
    );
    Ok(())
}

#[test]
fn imported_handles_are_released_by_drop_close_and_the_collector() -> Result<()> {
    for component in both_builds(GOOD)? {
        let log = Default::default();
        let mut app = start(&component, std::sync::Arc::clone(&log))?;
        assert_eq!(call(&mut app, "use-blobs", &[])?, Val::U32(6));
        assert_eq!(
            *log.lock().unwrap(),
            ["dropped blob 1", "dropped blob 2", "dropped blob 3"]
        );
    }
    Ok(())
}

#[test]
fn a_syntax_error_names_file_and_line() {
    let err = build("local x = = 1\nreturn {}").expect_err("must not componentize");
    let message = format!("{err:#}");
    assert!(
        message.contains("syntax error: test.lua:1: unexpected symbol near '='"),
        "{message}"
    );
}

#[test]
fn a_missing_export_is_named() {
    let script = GOOD.replace("  lookup = function(m, key) return m[key] end,\n", "");
    let err = build(&script).expect_err("must not componentize");
    let message = format!("{err:#}");
    assert!(
        message.contains("missing export: `lookup` (expected a function at exports.lookup)"),
        "{message}"
    );
}

#[test]
fn a_lua_error_traps_with_message_and_traceback() -> Result<()> {
    let script = GOOD.replace(
        "small = function(n) return n end",
        "small = function(n) error(\"boom \" .. n) end",
    );
    let mut app = start(&build(&script)?, Default::default())?;
    let err = app
        .call(None, "small", &[Val::U32(3)])
        .expect_err("must trap");
    let message = format!("{err:#}");
    assert!(message.contains("lua: export `small` failed"), "{message}");
    assert!(message.contains("test.lua:7: boom 3"), "{message}");
    assert!(message.contains("stack traceback"), "{message}");
    Ok(())
}

/// Every kind of error object, from a function of one argument and of none:
/// the trap names the export and gives the error's text and a traceback.
#[test]
fn every_kind_of_lua_error_traps_with_its_text_and_traceback() -> Result<()> {
    let cases = [
        // A Rust function's error (mlua raises it as userdata).
        (
            "small",
            "small = function(n) return host.log(n) end",
            "argument 1 of `test:lua/host#log`: expected string, found integer 3",
        ),
        (
            "count",
            "count = function() return host.log(4) end",
            "expected string, found integer 4",
        ),
        // A table, with and without `__tostring`.
        ("small", "small = function(n) error({}) end", "table: 0x"),
        (
            "count",
            "count = function() error(setmetatable({}, { __tostring = function() return 'custom' end })) end",
            "custom",
        ),
        // Userdata that is no mlua error, named by its `__tostring`.
        (
            "small",
            "small = function(n) error(wit.none) end",
            "failed: runtime error: wit.none",
        ),
        // Lua's own runtime error.
        (
            "count",
            "count = function() local t; return t.x end",
            "attempt to index a nil value",
        ),
    ];
    for (export, function, text) in cases {
        // The original `count` spans lines: it stays, under another name.
        let script = match export {
            "small" => GOOD.replace("small = function(n) return n end", function),
            _ => GOOD.replace(
                "  count = function()\n",
                &format!("  {function},\n  replaced_count = function()\n"),
            ),
        };
        let mut app = start(&build(&script)?, Default::default())?;
        let args: &[Val] = if export == "small" {
            &[Val::U32(3)]
        } else {
            &[]
        };
        let err = app.call(None, export, args).expect_err("must trap");
        let message = format!("{err:#}");
        assert!(
            message.contains(&format!("lua: export `{export}` failed")),
            "{message}"
        );
        assert!(message.contains(text), "{export}: {message}");
        assert!(message.contains("stack traceback"), "{export}: {message}");
    }
    Ok(())
}

#[test]
fn a_result_of_the_wrong_type_traps_naming_function_type_and_value() -> Result<()> {
    let script = GOOD.replace(
        "echo_string = function(s) return s end",
        "echo_string = function(s) return 42 end",
    );
    let mut app = start(&build(&script)?, Default::default())?;
    let err = app
        .call(None, "echo-string", &[Val::String("x".into())])
        .expect_err("must trap");
    let message = format!("{err:#}");
    assert!(
        message
            .contains("export `echo-string` must return string: expected string, found integer 42"),
        "{message}"
    );
    Ok(())
}

#[test]
fn an_out_of_range_integer_traps() -> Result<()> {
    let mut app = start(&build(GOOD)?, Default::default())?;
    let err = app
        .call(None, "small", &[Val::U32(300)])
        .expect_err("must trap");
    let message = format!("{err:#}");
    assert!(
        message.contains(
            "export `small` must return u8: expected u8, found 300, which is out of range"
        ),
        "{message}"
    );
    // A fresh instance of the same component still works.
    let mut fresh = start(&build(GOOD)?, Default::default())?;
    assert_eq!(call(&mut fresh, "small", &[Val::U32(200)])?, Val::U8(200));
    Ok(())
}

/// Case, flag and field names may be spelt as in the WIT or the Lua way;
/// what the glue hands to Lua uses the Lua spelling.
#[test]
fn names_spelt_as_in_the_wit_are_accepted() -> Result<()> {
    let wit = lua_demo::crate_dir().join("tests/names.wit");
    let (resolve, world) = load_world(&wit, Some("names"))?;
    let script = Script {
        name: "names.lua".into(),
        source: br#"
local wit = { { tag = "not-found" }, "read-write", { ["admin-mode"] = true },
              { ["key-name"] = "k", ["hit-count"] = 3 } }
local lua = { { tag = "not_found" }, "read_write", { admin_mode = true },
              { key_name = "k", hit_count = 3 } }
local misspelt = { { tag = "not-fund" }, "read_only", {}, { key_name = "k", hit_count = 0 } }
return { pick = function(which) return ({ [0] = wit, lua, misspelt })[which] end }
"#
        .to_vec(),
    };
    let component = componentize_with(&script, &resolve, world, &Options::default())?;
    let mut app = runtime::instantiate(&runtime::engine()?, &component, |_, _| Ok(()))?;
    let expected = Val::Tuple(vec![
        Val::Variant("not-found".into(), None),
        Val::Enum("read-write".into()),
        Val::Flags(vec!["admin-mode".into()]),
        Val::Record(vec![
            ("key-name".into(), Val::String("k".into())),
            ("hit-count".into(), Val::U32(3)),
        ]),
    ]);
    assert_eq!(call(&mut app, "pick", &[Val::U32(0)])?, expected);
    assert_eq!(call(&mut app, "pick", &[Val::U32(1)])?, expected);
    let err = format!(
        "{:#}",
        call(&mut app, "pick", &[Val::U32(2)]).expect_err("a misspelt case")
    );
    assert!(
        err.contains(
            "`not-fund` is not a case of variant kv-error (cases: not_found, access_denied)"
        ),
        "{err}"
    );
    Ok(())
}
