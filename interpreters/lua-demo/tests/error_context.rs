//! Error-context values in Lua, against the host: a string a script returns
//! becomes an error-context, and a value that is not a string is refused
//! with a message naming the export. (Error-contexts going both ways between
//! components run in the test matrix: wasmtime 48 does not count the
//! references a host keeps, bytecodealliance/wasmtime#13652, so the host
//! here only receives them.)

use anyhow::Result;
use lua_demo::runtime::{self, Running};
use lua_demo::{Script, componentize};
use wasmtime::component::Val;
use wit_parser::Resolve;

const WIT: &str = "package test:lua-errors;
world app {
  export wrap: func(message: string) -> result<u32, error-context>;
  export wrap-all: func(messages: list<string>) -> list<option<error-context>>;
  export bad: func() -> error-context;
  export bad-nested: func() -> list<error-context>;
}
";

const SCRIPT: &str = r#"
return {
  wrap = function(message) return { err = message } end,
  wrap_all = function(messages)
    local out = {}
    for i = 1, #messages do out[i] = messages[i] end
    return out
  end,
  bad = function() return 42 end,
  bad_nested = function() return { "fine", {} } end,
}
"#;

fn start() -> Result<Running> {
    let mut resolve = Resolve::default();
    let package = resolve.push_str("errors.wit", WIT)?;
    let world = resolve.select_world(&[package], Some("app"))?;
    let script = Script {
        name: "errors.lua".into(),
        source: SCRIPT.as_bytes().to_vec(),
    };
    let component = componentize(&script, &resolve, world)?;
    runtime::instantiate(&runtime::engine()?, &component, |_, _| Ok(()))
}

fn call(running: &mut Running, name: &str, args: &[Val]) -> Result<Val> {
    Ok(running.call(None, name, args)?.remove(0))
}

#[test]
fn strings_become_error_contexts() -> Result<()> {
    let mut running = start()?;
    let got = call(&mut running, "wrap", &[Val::String("disk full".into())])?;
    assert!(
        matches!(&got, Val::Result(Err(Some(e))) if matches!(**e, Val::ErrorContext(_))),
        "{got:?}"
    );
    let messages = ["a", "b"].map(|s| Val::String(s.into())).to_vec();
    let Val::List(got) = call(&mut running, "wrap-all", &[Val::List(messages)])? else {
        panic!("wrap-all returns a list")
    };
    assert_eq!(got.len(), 2);
    for e in got {
        assert!(
            matches!(&e, Val::Option(Some(e)) if matches!(**e, Val::ErrorContext(_))),
            "{e:?}"
        );
    }
    Ok(())
}

#[test]
fn a_value_that_is_not_a_message_names_the_export_and_the_value() -> Result<()> {
    let mut running = start()?;
    let err = format!("{:?}", call(&mut running, "bad", &[]).unwrap_err());
    assert!(err.contains("`bad`"), "{err}");
    assert!(
        err.contains("expected error-context (its message, a string), found integer 42"),
        "{err}"
    );
    let mut running = start()?;
    let err = format!("{:?}", call(&mut running, "bad-nested", &[]).unwrap_err());
    assert!(err.contains("`bad-nested`"), "{err}");
    assert!(err.contains("found table"), "{err}");
    Ok(())
}
