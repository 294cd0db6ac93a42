//! The host of the async example (`examples/words`): sends a text through a
//! `stream<u8>` to the script's async export `count-words`, prints the lines
//! of the `stream<string>` it returns as they arrive, and answers the async
//! import `log.note`.

use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use anyhow::{Context as _, Result};
use lua_demo::runtime::{self, block_on};
use lua_demo::{Script, componentize, load_world};
use wasmtime::StoreContextMut;
use wasmtime::component::{Source, StreamConsumer, StreamReader, StreamResult, Val};

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

    let engine = runtime::engine()?;
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
    let lines = Lines::default();
    let seen = lines.clone();
    block_on(app.store.run_concurrent(async move |accessor| {
        let (counts,) = count_words.call_concurrent(accessor, (text,)).await?;
        accessor.with(|store| counts.pipe(store, seen.consumer()))?;
        seen.finished().await;
        wasmtime::Result::<()>::Ok(())
    }))
    .map_err(anyhow::Error::from)?
    .map_err(anyhow::Error::from)
    .context("calling `count-words` failed")?;
    println!("{} lines", lines.count());
    Ok(())
}

/// What the consumer of the `stream<string>` saw.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<LinesState>>);

#[derive(Default)]
struct LinesState {
    count: usize,
    done: bool,
    waker: Option<Waker>,
}

impl Lines {
    fn count(&self) -> usize {
        self.0.lock().unwrap().count
    }

    fn consumer(&self) -> PrintLines {
        PrintLines(self.clone())
    }

    /// Completes once the writer is done.
    async fn finished(&self) {
        std::future::poll_fn(|cx| {
            let mut state = self.0.lock().unwrap();
            match state.done {
                true => Poll::Ready(()),
                false => {
                    state.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// Prints each line as it arrives; wasmtime drops it when the stream ends.
struct PrintLines(Lines);

impl<D> StreamConsumer<D> for PrintLines {
    type Item = String;

    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        mut store: StoreContextMut<D>,
        mut source: Source<'_, String>,
        _finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let mut received = Vec::with_capacity(64);
        source.read(&mut store, &mut received)?;
        let mut state = self.0.0.lock().unwrap();
        for line in received {
            println!("  {line}");
            state.count += 1;
        }
        Poll::Ready(Ok(StreamResult::Completed))
    }
}

impl Drop for PrintLines {
    fn drop(&mut self) {
        let mut state = self.0.0.lock().unwrap();
        state.done = true;
        if let Some(waker) = state.waker.take() {
            waker.wake();
        }
    }
}
