//! Wall-clock limits. Fuel stops a guest that computes too long but not one
//! that waits (on a host call, a stream, a future): time is bounded twice,
//! by epoch interruption for running wasm (a ticker thread advances every
//! engine's epoch) and by a deadline on the host's wait for the call.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use anyhow::Result;
use wasmtime::{AsContextMut, Config, Engine};

use crate::runtime::LimitReached;

/// How often the epoch advances: the resolution of time limits.
const TICK: Duration = Duration::from_millis(10);

/// Turns on epoch interruption in `config`; the engine made from it needs
/// [`start_ticker`].
pub(crate) fn configure(config: &mut Config) {
    config.epoch_interruption(true);
}

/// Advances `engine`'s epoch every [`TICK`] for as long as the engine lives.
pub(crate) fn start_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(TICK);
            }
        })
        .expect("spawning the epoch thread");
}

/// Lets wasm in `store` run for `timeout` from now before it traps.
pub fn arm(mut store: impl AsContextMut, timeout: Duration) {
    let ticks = timeout.as_millis().div_ceil(TICK.as_millis()) + 1;
    store
        .as_context_mut()
        .set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX / 2));
}

/// Runs `future` on this thread until it completes, or fails with
/// [`LimitReached::Time`] once `timeout` has passed (the future is then
/// dropped, and the store it used must not be used again).
pub fn block_on_within<T>(future: impl Future<Output = T>, timeout: Duration) -> Result<T> {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let deadline = Instant::now().checked_add(timeout);
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return Ok(value);
        }
        match deadline {
            None => std::thread::park(),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(anyhow::Error::new(LimitReached::Time(timeout)));
                }
                std::thread::park_timeout(left);
            }
        }
    }
}
