//! The host's end of a component's streams and futures: [`Collector`] takes
//! what a stream the component writes delivers, [`Awaited`] the value of a
//! future, for hosts, tests and benchmarks.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use wasmtime::StoreContextMut;
use wasmtime::component::{FutureConsumer, Lift, Source, StreamConsumer, StreamResult};

/// What a stream delivered so far, shared between the consumer wasmtime
/// holds and the host.
struct Received<T> {
    items: Vec<T>,
    /// Items received, kept or not.
    count: usize,
    /// The writer is done, or the collector stopped reading.
    done: bool,
    waker: Option<Waker>,
}

/// A callback for each batch of items a [`Collector`] receives.
type OnItems<T> = Arc<dyn Fn(&[T]) + Send + Sync>;

/// Collects the items of a stream (`StreamReader::pipe` it a
/// [`Collector::consumer`]), optionally dropping its end after a number of
/// items, and tells when the stream has ended.
pub struct Collector<T> {
    received: Arc<Mutex<Received<T>>>,
    stop_after: Option<usize>,
    /// Items per read.
    chunk: usize,
    /// Called with each batch of items as it arrives.
    on_items: Option<OnItems<T>>,
    /// Whether the items are kept for [`Collector::items`].
    keep: bool,
}

impl<T> Clone for Collector<T> {
    fn clone(&self) -> Collector<T> {
        Collector {
            received: self.received.clone(),
            stop_after: self.stop_after,
            chunk: self.chunk,
            on_items: self.on_items.clone(),
            keep: self.keep,
        }
    }
}

impl<T: Send + 'static> Collector<T> {
    /// A collector reading up to `chunk` items at a time.
    pub fn new(chunk: usize) -> Collector<T> {
        Collector {
            received: Arc::new(Mutex::new(Received {
                items: Vec::new(),
                count: 0,
                done: false,
                waker: None,
            })),
            stop_after: None,
            chunk: chunk.max(1),
            on_items: None,
            keep: true,
        }
    }

    /// Drops the stream once `count` items arrived.
    pub fn stop_after(mut self, count: usize) -> Collector<T> {
        self.stop_after = Some(count);
        self.chunk = self.chunk.min(count.max(1));
        self
    }

    /// Calls `f` with each batch of items as it arrives.
    pub fn on_items(mut self, f: impl Fn(&[T]) + Send + Sync + 'static) -> Collector<T> {
        self.on_items = Some(Arc::new(f));
        self
    }

    /// Keeps no items, for streams too long to hold: [`Collector::items`]
    /// then completes with none, and [`Collector::on_items`] sees them.
    pub fn discard_items(mut self) -> Collector<T> {
        self.keep = false;
        self
    }

    /// The consumer to hand to `StreamReader::pipe`.
    pub fn consumer(&self) -> Consumer<T> {
        Consumer(self.clone())
    }

    /// Completes with the items once the stream has ended (the writer
    /// dropped its end) or the collector stopped.
    pub async fn items(&self) -> Vec<T> {
        std::future::poll_fn(|cx| {
            let mut received = self.received.lock().unwrap();
            match received.done {
                true => Poll::Ready(std::mem::take(&mut received.items)),
                false => {
                    received.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// The consumer wasmtime holds; dropping it (when the stream ends) marks
/// the collector done.
pub struct Consumer<T>(Collector<T>);

impl<D, T: Lift + Send + Sync + 'static> StreamConsumer<D> for Consumer<T> {
    type Item = T;

    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        mut store: StoreContextMut<D>,
        mut source: Source<'_, T>,
        _finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let collector = &self.0;
        let mut batch = Vec::with_capacity(collector.chunk);
        source.read(&mut store, &mut batch)?;
        if let Some(on_items) = &collector.on_items {
            on_items(&batch);
        }
        let mut received = collector.received.lock().unwrap();
        received.count += batch.len();
        if collector.keep {
            received.items.append(&mut batch);
        }
        Poll::Ready(Ok(match collector.stop_after {
            Some(limit) if received.count >= limit => StreamResult::Dropped,
            _ => StreamResult::Completed,
        }))
    }
}

impl<T> Drop for Consumer<T> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

impl<T> Collector<T> {
    /// Marks what was received complete and wakes whoever waits for it.
    fn finish(&self) {
        let mut received = self.received.lock().unwrap();
        received.done = true;
        if let Some(waker) = received.waker.take() {
            waker.wake();
        }
    }
}

/// The value of a future the component writes (`FutureReader::pipe` it
/// [`Awaited::consumer`]), or `None` when the writer dropped its end
/// without writing.
pub struct Awaited<T> {
    state: Arc<Mutex<Received<T>>>,
}

impl<T> Clone for Awaited<T> {
    fn clone(&self) -> Awaited<T> {
        Awaited {
            state: self.state.clone(),
        }
    }
}

impl<T: Send + 'static> Default for Awaited<T> {
    fn default() -> Awaited<T> {
        Awaited {
            state: Arc::new(Mutex::new(Received {
                items: Vec::new(),
                count: 0,
                done: false,
                waker: None,
            })),
        }
    }
}

impl<T: Send + 'static> Awaited<T> {
    /// The consumer to hand to `FutureReader::pipe`.
    pub fn consumer(&self) -> FutureValue<T> {
        FutureValue(self.collector())
    }

    /// Completes with the value once the future is written or dropped.
    pub async fn value(&self) -> Option<T> {
        self.collector().items().await.pop()
    }

    /// A one-item collector over the shared state.
    fn collector(&self) -> Collector<T> {
        Collector {
            received: self.state.clone(),
            stop_after: Some(1),
            chunk: 1,
            on_items: None,
            keep: true,
        }
    }
}

/// The future consumer wasmtime holds; dropping it marks the value done.
pub struct FutureValue<T>(Collector<T>);

impl<D, T: Lift + Send + Sync + 'static> FutureConsumer<D> for FutureValue<T> {
    type Item = T;

    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        mut store: StoreContextMut<D>,
        mut source: Source<'_, T>,
        _finish: bool,
    ) -> Poll<wasmtime::Result<()>> {
        let mut value = None;
        source.read(&mut store, &mut value)?;
        self.0.received.lock().unwrap().items.extend(value);
        Poll::Ready(Ok(()))
    }
}

impl<T> Drop for FutureValue<T> {
    fn drop(&mut self) {
        self.0.finish();
    }
}
