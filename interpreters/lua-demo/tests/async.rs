//! Async in Lua: async exports as coroutines, an async import, and futures
//! and streams as userdata, driven from the host through wasmtime's
//! concurrent API (`async.lua` for world `app` of `async.wit`).

use std::future::Future;
use std::sync::OnceLock;
use std::task::Poll;

use anyhow::Result;
use lua_demo::runtime::{self, Running, block_on};
use lua_demo::streams::Collector;
use lua_demo::{Script, componentize, load_world};
use wasmtime::AsContextMut;
use wasmtime::component::{ResourceAny, StreamReader, Val};

const API: &str = "test:lua-async/api";

fn component() -> &'static [u8] {
    static COMPONENT: OnceLock<Vec<u8>> = OnceLock::new();
    COMPONENT.get_or_init(|| {
        let dir = lua_demo::crate_dir().join("tests");
        let (resolve, world) = load_world(&dir.join("async.wit"), Some("app")).unwrap();
        let script = Script::read(&dir.join("async.lua")).unwrap();
        componentize(&script, &resolve, world).unwrap()
    })
}

/// An instance whose `host.pause` returns after yielding once.
fn start() -> Result<Running> {
    runtime::instantiate(&runtime::engine()?, component(), |linker, _| {
        linker
            .instance("test:lua-async/host")?
            .func_new_concurrent("pause", |_, _, _, _| {
                Box::pin(async {
                    yield_once().await;
                    Ok(())
                })
            })
    })
}

/// Pending once, then ready: lets the store run other tasks.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| match std::mem::replace(&mut yielded, true) {
        true => Poll::Ready(()),
        false => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

fn text(err: anyhow::Error) -> String {
    format!("{err:?}")
}

/// Calls export `name` of the API inside the store's event loop.
fn call(running: &mut Running, name: &str, args: Vec<Val>) -> Result<Vec<Val>> {
    let func = running.export(Some(API), name)?;
    let mut results = vec![Val::Bool(false); func.ty(&running.store).results().len()];
    running.store.set_fuel(u64::MAX)?;
    block_on(running.store.run_concurrent(async |accessor| {
        func.call_concurrent(accessor, &args, &mut results).await
    }))
    .and_then(|called| called)
    .map_err(|e| runtime::explain(&running.store, e.into()))?;
    Ok(results)
}

fn string(values: Vec<Val>) -> String {
    match &values[..] {
        [Val::String(s)] => s.clone(),
        other => panic!("expected a string, got {other:?}"),
    }
}

#[test]
fn a_mebibyte_goes_through_a_lua_stream_and_back() -> Result<()> {
    let mut running = start()?;
    let echo = running
        .export(Some(API), "echo")?
        .typed::<(StreamReader<u8>,), (StreamReader<u8>,)>(&running.store)?;
    let sent: Vec<u8> = (0..(1 << 20) + 17).map(|i| (i % 251) as u8).collect();
    let input = StreamReader::new(running.store.as_context_mut(), sent.clone())?;
    let collect = Collector::<u8>::new(64 * 1024);
    let received = block_on(running.store.run_concurrent(async |accessor| {
        let (output,) = echo.call_concurrent(accessor, (input,)).await?;
        accessor.with(|store| output.pipe(store, collect.consumer()))?;
        wasmtime::Result::<_>::Ok(collect.items().await)
    }))??;
    assert_eq!(received.len(), sent.len());
    assert!(received == sent, "the echoed bytes differ");
    Ok(())
}

/// A `stream<u8>` read without a count asks for 256 KiB (other streams:
/// 64 Ki items), so that a large body takes few rounds through the task.
#[test]
fn a_byte_read_without_a_count_takes_up_to_256_kib() -> Result<()> {
    let mut running = start()?;
    let sizes = running
        .export(Some(API), "chunk-sizes")?
        .typed::<(StreamReader<u8>,), (Vec<u32>,)>(&running.store)?;
    let sent = vec![7u8; (1 << 20) + 17];
    let input = StreamReader::new(running.store.as_context_mut(), sent)?;
    let (sizes,) = block_on(
        running
            .store
            .run_concurrent(async |accessor| sizes.call_concurrent(accessor, (input,)).await),
    )??;
    assert_eq!(sizes, [262_144, 262_144, 262_144, 262_144, 17]);
    Ok(())
}

#[test]
fn two_calls_in_flight_interleave() -> Result<()> {
    let mut running = start()?;
    let work = running.export(Some(API), "work")?;
    block_on(running.store.run_concurrent(async |accessor| {
        let (a, b) = (
            [Val::String("a".into()), Val::U32(3)],
            [Val::String("b".into()), Val::U32(3)],
        );
        let first = work.call_concurrent(accessor, &a, &mut []);
        let second = work.call_concurrent(accessor, &b, &mut []);
        let (first, second) = join(first, second).await;
        first.and(second)
    }))??;
    let journal = match &call(&mut running, "journal", vec![])?[..] {
        [Val::List(items)] => items
            .iter()
            .map(|item| match item {
                Val::String(s) => s.clone(),
                other => panic!("journal entry {other:?}"),
            })
            .collect::<Vec<_>>(),
        other => panic!("journal returned {other:?}"),
    };
    let mut sorted = journal.clone();
    sorted.sort();
    assert_eq!(sorted, ["a1", "a2", "a3", "b1", "b2", "b3"]);
    let position = |entry: &str| journal.iter().position(|e| e == entry).unwrap();
    assert!(
        position("b1") < position("a3") && position("a1") < position("b3"),
        "the calls ran one after the other: {journal:?}"
    );
    Ok(())
}

#[test]
fn a_finished_calls_coroutine_runs_a_later_call() -> Result<()> {
    let mut running = start()?;
    let whose = |running: &mut Running| -> Result<String> {
        Ok(string(call(running, "whose-coroutine", vec![])?))
    };
    // Each call waits once, in its coroutine: a reused one may still wait.
    let first = whose(&mut running)?;
    assert_eq!(whose(&mut running)?, first);
    // Calls in flight at once each have their own.
    let func = running.export(Some(API), "whose-coroutine")?;
    let (a, b) = block_on(running.store.run_concurrent(async |accessor| {
        let (mut a, mut b) = ([Val::Bool(false)], [Val::Bool(false)]);
        let (first, second) = join(
            func.call_concurrent(accessor, &[], &mut a),
            func.call_concurrent(accessor, &[], &mut b),
        )
        .await;
        first.and(second).map(|()| (a, b))
    }))??;
    let (a, b) = (string(a.to_vec()), string(b.to_vec()));
    assert_ne!(a, b, "two calls in flight shared a coroutine");
    assert!(a == first || b == first, "{first} was not reused: {a}, {b}");
    Ok(())
}

/// Both futures to completion, polled in turn.
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(value) = a.as_mut().poll(cx)
        {
            ra = Some(value);
        }
        if rb.is_none()
            && let Poll::Ready(value) = b.as_mut().poll(cx)
        {
            rb = Some(value);
        }
        match (ra.is_some(), rb.is_some()) {
            (true, true) => Poll::Ready((ra.take().unwrap(), rb.take().unwrap())),
            _ => Poll::Pending,
        }
    })
    .await
}

/// Reads one number, drops the stream, and waits until the writer saw it.
fn read_one_and_drop(running: &mut Running) -> Result<(Vec<u32>, String)> {
    let numbers = running
        .export(Some(API), "numbers")?
        .typed::<(u32,), (StreamReader<u32>,)>(&running.store)?;
    let outcome = running
        .export(Some(API), "outcome")?
        .typed::<(), (String,)>(&running.store)?;
    let collect = Collector::<u32>::new(64).stop_after(1);
    block_on(running.store.run_concurrent(async |accessor| {
        let (stream,) = numbers.call_concurrent(accessor, (1000,)).await?;
        accessor.with(|store| stream.pipe(store, collect.consumer()))?;
        let items = collect.items().await;
        loop {
            let (seen,) = outcome.call_concurrent(accessor, ()).await?;
            if seen != "none" && seen != "all written" {
                return wasmtime::Result::<_>::Ok((items, seen));
            }
            yield_once().await;
        }
    }))?
    .map_err(Into::into)
}

#[test]
fn a_reader_dropped_early_stops_the_writer_without_leaking() -> Result<()> {
    let mut running = start()?;
    let (items, outcome) = read_one_and_drop(&mut running)?;
    assert_eq!(items, [1]);
    assert_eq!(outcome, "closed after 1");
    for _ in 0..5 {
        read_one_and_drop(&mut running)?;
    }
    let heap = |running: &mut Running| -> Result<u32> {
        match &call(running, "heap-kib", vec![])?[..] {
            [Val::U32(kib)] => Ok(*kib),
            other => panic!("heap-kib returned {other:?}"),
        }
    };
    let before = heap(&mut running)?;
    for _ in 0..40 {
        read_one_and_drop(&mut running)?;
    }
    let after = heap(&mut running)?;
    assert!(
        after <= before + 4,
        "the Lua heap grew from {before} KiB to {after} KiB over 40 dropped streams"
    );
    Ok(())
}

/// The elements a reader never took stay with the writer: the handles in
/// them must be dropped, or the script's objects stay alive for good.
#[test]
fn tokens_the_reader_never_took_are_released() -> Result<()> {
    let mut running = start()?;
    let tokens = running
        .export(Some(API), "tokens")?
        .typed::<(u32,), (StreamReader<ResourceAny>,)>(&running.store)?;
    let outcome = running
        .export(Some(API), "outcome")?
        .typed::<(), (String,)>(&running.store)?;
    // One token per read, and the stream dropped after the first.
    let collect = Collector::<ResourceAny>::new(1).stop_after(1);
    let (taken, seen) = block_on(running.store.run_concurrent(async |accessor| {
        let (stream,) = tokens.call_concurrent(accessor, (5,)).await?;
        accessor.with(|store| stream.pipe(store, collect.consumer()))?;
        let taken = collect.items().await;
        loop {
            let (seen,) = outcome.call_concurrent(accessor, ()).await?;
            if seen.starts_with("tokens:") {
                return wasmtime::Result::<_>::Ok((taken, seen));
            }
            yield_once().await;
        }
    }))??;
    assert_eq!(taken.len(), 1);
    assert_eq!(seen, "tokens: 1 written, closed");
    // The host still holds the token it took; the other four are gone.
    assert_eq!(call(&mut running, "live-tokens", vec![])?, [Val::U32(1)]);
    Ok(())
}

#[test]
fn a_lua_error_after_suspending_traps_with_its_traceback() -> Result<()> {
    let mut running = start()?;
    let err = text(call(&mut running, "fail-later", vec![]).unwrap_err());
    assert!(err.contains("boom after pausing"), "{err}");
    assert!(err.contains("stack traceback"), "{err}");
    assert!(err.contains("async.lua:"), "{err}");
    Ok(())
}

#[test]
fn writing_a_wrong_value_names_the_stream_or_future_type() -> Result<()> {
    let mut running = start()?;
    let err = text(call(&mut running, "bad-stream", vec![]).unwrap_err());
    assert!(
        err.contains("writing to the writable end of a stream<u32>: element 2: expected u32"),
        "{err}"
    );
    let mut running = start()?;
    let err = text(call(&mut running, "bad-future", vec![]).unwrap_err());
    assert!(
        err.contains("writing to the writable end of a future<string>: expected string"),
        "{err}"
    );
    Ok(())
}

#[test]
fn an_end_of_another_type_is_refused_naming_both() -> Result<()> {
    let mut running = start()?;
    let err = text(call(&mut running, "wrong-end", vec![]).unwrap_err());
    assert!(
        err.contains(
            "expected the readable end of a stream<u8>, got the readable end of a stream<u32>"
        ),
        "{err}"
    );
    Ok(())
}

#[test]
fn waiting_outside_an_async_export_is_a_lua_error() -> Result<()> {
    let mut running = start()?;
    let message = string(call(&mut running, "sync-calls-async", vec![])?);
    assert!(
        message.contains(
            "async import `test:lua-async/host#pause` waits, so it must run inside an async export"
        ),
        "{message}"
    );
    Ok(())
}

#[test]
fn reading_more_than_a_read_may_hold_is_a_lua_error() -> Result<()> {
    let mut running = start()?;
    let message = string(call(&mut running, "huge-read", vec![])?);
    assert!(
        message.contains(&format!(
            "cannot read {} elements from the readable end of a stream<u8> at once: read at most 16777216",
            i64::MAX
        )),
        "{message}"
    );
    assert!(
        message.contains(
            "cannot read 1073741824 elements from the readable end of a stream<u32> at once: read at most 4194304"
        ),
        "{message}"
    );
    Ok(())
}

#[test]
fn a_type_name_of_two_interfaces_must_be_qualified() -> Result<()> {
    let mut running = start()?;
    let message = string(call(&mut running, "ambiguous-future", vec![])?);
    assert!(
        message.contains(
            "cannot create a future<tag>: its names are the types of more than one interface \
             (test:lua-async/left; test:lua-async/right); name the interface: \
             wit.future(\"tag\", \"test:lua-async/left\")"
        ),
        "{message}"
    );
    assert!(
        message.contains("cannot create a future<tag> of test:lua-async/api"),
        "{message}"
    );
    Ok(())
}

#[test]
fn an_unknown_stream_type_lists_the_worlds_streams() -> Result<()> {
    let mut running = start()?;
    let message = string(call(&mut running, "unknown-stream", vec![])?);
    assert!(
        message.contains(
            "cannot create a stream<u64>: the world's streams are stream<u8>, stream<u32>"
        ),
        "{message}"
    );
    Ok(())
}
