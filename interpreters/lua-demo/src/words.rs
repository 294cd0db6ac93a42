//! The host of the async example (`examples/words`): sends a text through a
//! `stream<u8>` to the script's async export `count-words`, prints the lines
//! of the `stream<string>` it returns as they arrive, and answers the async
//! import `log.note`.

use std::path::Path;

use anyhow::{Context as _, Result};
use lua_demo::runtime::{self, block_on};
use lua_demo::streams::Collector;
use lua_demo::{Script, componentize, load_world};
use wasmtime::component::{StreamReader, Val};

const COUNTER: &str = "demo:words/counter";

/// The text the demo counts.
const TEXT: &str = "The quick brown fox jumps over the lazy dog. The dog sleeps; \
                    the fox runs, and the quick fox is gone.";

/// Componentizes `script` for `words.wit` next to it and runs it.
pub fn run(script: &Path, wit: &Path) -> Result<()> {
    let script = Script::read(script)?;
    let (resolve, world) = load_world(wit, Some("words"))?;
    let component = componentize(&script, &resolve, world)?;
    println!(
        "built {} for world `words` into a component of {} KiB",
        script.name,
        component.len() / 1024
    );

    let engine = runtime::cached_engine_for(&component)?;
    let mut app = runtime::instantiate(&engine, &component, |linker, _| {
        let mut log = linker.instance("demo:words/log")?;
        log.func_new_concurrent("note", |_, _, args, _| {
            Box::pin(async move {
                if let [Val::String(message)] = args {
                    println!("  [host] note: {message}");
                }
                Ok(())
            })
        })?;
        Ok(())
    })?;

    let count_words = app
        .export(Some(COUNTER), "count-words")?
        .typed::<(StreamReader<u8>,), (StreamReader<String>,)>(&app.store)
        .map_err(anyhow::Error::from)
        .context("`count-words` has an unexpected type")?;
    println!("count-words({TEXT:?}):");
    let text =
        StreamReader::new(&mut app.store, TEXT.as_bytes().to_vec()).map_err(anyhow::Error::from)?;
    // Each line is printed as it arrives.
    let lines = Collector::<String>::new(64).on_items(|lines| {
        for line in lines {
            println!("  {line}");
        }
    });
    let received = block_on(app.store.run_concurrent(async |accessor| {
        let (counts,) = count_words.call_concurrent(accessor, (text,)).await?;
        accessor.with(|store| counts.pipe(store, lines.consumer()))?;
        wasmtime::Result::<_>::Ok(lines.items().await)
    }))
    .and_then(|called| called)
    .map_err(|e| runtime::explain(&app.store, e.into()))
    .context("calling `count-words` failed")?;
    println!("{} lines", received.len());
    Ok(())
}
