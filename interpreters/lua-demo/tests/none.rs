//! `none` keeps its place: a `none` the host passes in a list or stream
//! element, a result payload, a map value, an option of an option or a
//! future's value reaches the script as the language's `none` (in Lua
//! `wit.none` where `nil` would leave a hole, in toy `nil`), and comes back
//! as `none`; a script writes `none` in each of those positions itself.
//! Lua (`none.lua`) and toy (`none.toy`) play the same world, `none.wit`.

use std::sync::OnceLock;

use anyhow::Result;
use lua_demo::runtime::{self, Running, block_on};
use lua_demo::streams::{Awaited, Collector};
use lua_demo::{Script, componentize, load_world};
use wasmtime::AsContextMut;
use wasmtime::component::{FutureReader, StreamReader, Val};

const API: &str = "test:none/api";

fn component(script: &str) -> Result<Vec<u8>> {
    let dir = lua_demo::crate_dir().join("tests");
    let (resolve, world) = load_world(&dir.join("none.wit"), Some("app"))?;
    componentize(&Script::read(&dir.join(script))?, &resolve, world)
}

fn lua() -> &'static [u8] {
    static COMPONENT: OnceLock<Vec<u8>> = OnceLock::new();
    COMPONENT.get_or_init(|| component("none.lua").unwrap())
}

fn toy() -> &'static [u8] {
    static COMPONENT: OnceLock<Vec<u8>> = OnceLock::new();
    COMPONENT.get_or_init(|| component("none.toy").unwrap())
}

fn start(component: &[u8]) -> Result<Running> {
    runtime::instantiate(&runtime::engine()?, component, |_, _| Ok(()))
}

/// Calls export `name` of the API inside the store's event loop.
fn call(running: &mut Running, name: &str, args: &[Val]) -> Result<Vec<Val>> {
    let func = running.export(Some(API), name)?;
    let mut results = vec![Val::Bool(false); func.ty(&running.store).results().len()];
    running.store.set_fuel(u64::MAX)?;
    block_on(
        running.store.run_concurrent(async |accessor| {
            func.call_concurrent(accessor, args, &mut results).await
        }),
    )
    .and_then(|called| called)
    .map_err(|e| runtime::explain(&running.store, e.into()))?;
    Ok(results)
}

fn none() -> Val {
    Val::Option(None)
}

fn some(value: Val) -> Val {
    Val::Option(Some(Box::new(value)))
}

/// A map's entries in key order: a Lua table has none of its own.
fn sorted(value: Val) -> Val {
    match value {
        Val::Map(mut entries) => {
            entries.sort_by_key(|(key, _)| format!("{key:?}"));
            Val::Map(entries)
        }
        other => other,
    }
}

/// Passes every value of a plain export through it, then a stream and a
/// future, asserting that each comes back as it went; returns how the
/// script saw the arguments (`seen`).
fn echoes(component: &[u8]) -> Result<Vec<String>> {
    let mut running = start(component)?;
    let passed = [
        (
            "in-list",
            Val::List(vec![some(Val::U32(1)), none(), some(Val::U32(3))]),
        ),
        ("in-result", Val::Result(Ok(Some(Box::new(none()))))),
        ("in-result", Val::Result(Err(Some(Box::new(none()))))),
        (
            "in-result",
            Val::Result(Ok(Some(Box::new(some(Val::U32(2)))))),
        ),
        (
            "in-map",
            Val::Map(vec![
                (Val::String("a".into()), some(Val::U32(1))),
                (Val::String("b".into()), none()),
            ]),
        ),
        ("in-option", none()),
        ("in-option", some(none())),
        ("in-option", some(some(Val::U32(7)))),
    ];
    for (name, value) in passed {
        let back = call(&mut running, name, std::slice::from_ref(&value))?;
        assert_eq!(
            back.into_iter().map(sorted).collect::<Vec<_>>(),
            std::slice::from_ref(&value),
            "`{name}` handed back another value than {value:?}"
        );
    }

    let in_stream = running
        .export(Some(API), "in-stream")?
        .typed::<(StreamReader<Option<u32>>,), (StreamReader<Option<u32>>,)>(&running.store)?;
    let sent = vec![None, Some(5), None];
    let input = StreamReader::new(running.store.as_context_mut(), sent.clone())?;
    let collect = Collector::<Option<u32>>::new(64);
    let received = block_on(running.store.run_concurrent(async |accessor| {
        let (output,) = in_stream.call_concurrent(accessor, (input,)).await?;
        accessor.with(|store| output.pipe(store, collect.consumer()))?;
        wasmtime::Result::<_>::Ok(collect.items().await)
    }))??;
    assert_eq!(received, sent, "the stream came back changed");

    let in_future = running
        .export(Some(API), "in-future")?
        .typed::<(FutureReader<Option<u32>>,), (FutureReader<Option<u32>>,)>(&running.store)?;
    let input = FutureReader::new(running.store.as_context_mut(), async {
        wasmtime::Result::<_>::Ok(None::<u32>)
    })?;
    let awaited = Awaited::<Option<u32>>::default();
    let received = block_on(running.store.run_concurrent(async |accessor| {
        let (output,) = in_future.call_concurrent(accessor, (input,)).await?;
        accessor.with(|store| output.pipe(store, awaited.consumer()))?;
        wasmtime::Result::<_>::Ok(awaited.value().await)
    }))??;
    assert_eq!(
        received,
        Some(None),
        "the future's `none` came back changed"
    );

    match &call(&mut running, "seen", &[])?[..] {
        [Val::List(seen)] => Ok(seen
            .iter()
            .map(|s| match s {
                Val::String(s) => s.clone(),
                other => panic!("seen: {other:?}"),
            })
            .collect()),
        other => panic!("seen returned {other:?}"),
    }
}

/// What `made` must return: `none` in every position.
fn made() -> Val {
    let field = |name: &str, value: Val| (name.to_string(), value);
    Val::Record(vec![
        field(
            "items",
            Val::List(vec![some(Val::U32(1)), none(), some(Val::U32(3))]),
        ),
        field("ok-none", Val::Result(Ok(Some(Box::new(none()))))),
        field("err-none", Val::Result(Err(Some(Box::new(none()))))),
        field(
            "entries",
            Val::Map(vec![
                (Val::String("a".into()), some(Val::U32(1))),
                (Val::String("b".into()), none()),
            ]),
        ),
        field(
            "nested",
            Val::List(vec![none(), some(none()), some(some(Val::U32(7)))]),
        ),
        field("plain", none()),
        field("sentinel", none()),
        field("loose", some(none())),
    ])
}

/// `made`'s record with its map in key order.
fn made_by(component: &[u8]) -> Result<Val> {
    let mut running = start(component)?;
    let [Val::Record(fields)] = &call(&mut running, "made", &[])?[..] else {
        panic!("made returned no record")
    };
    Ok(Val::Record(
        fields
            .iter()
            .map(|(name, value)| (name.clone(), sorted(value.clone())))
            .collect(),
    ))
}

#[test]
fn lua_sees_wit_none_where_nil_would_leave_a_hole() -> Result<()> {
    assert_eq!(
        echoes(lua())?,
        [
            "{1, wit.none, 3}",
            "{ok = wit.none}",
            "{err = wit.none}",
            "{ok = 2}",
            "{a = 1, b = wit.none}",
            "nil",
            "{some = wit.none}",
            "{some = 7}",
            "{wit.none, 5, wit.none}",
            "wit.none",
        ]
    );
    Ok(())
}

#[test]
fn lua_writes_none_in_every_position() -> Result<()> {
    assert_eq!(made_by(lua())?, made());
    Ok(())
}

#[test]
fn toy_sees_nil_in_every_position() -> Result<()> {
    assert_eq!(
        echoes(toy())?,
        [
            "((some 1) nil (some 3))",
            "(ok)",
            "(err)",
            "(ok (some 2))",
            "{\"a\" (some 1), \"b\" nil}",
            "nil",
            // `show` leaves out a `nil` payload: this is `(some nil)`.
            "(some)",
            "(some (some 7))",
            "(nil (some 5) nil)",
            "(some)",
        ]
    );
    Ok(())
}

#[test]
fn toy_writes_none_in_every_position() -> Result<()> {
    assert_eq!(made_by(toy())?, made());
    Ok(())
}
