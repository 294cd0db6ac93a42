//! `wasi:http/service@0.3.0` handlers, served by wasmtime-wasi-http's
//! [`ProxyHandler`] (the worker pool behind `wasmtime serve`).
//!
//! Unlike a 0.2 handler, whose instance answers one request, an instance of
//! a 0.3 handler is reused: for up to [`Reuse::max_reuse`] requests, up to
//! [`Reuse::max_concurrent`] of them at once (each request is an async call
//! of `handle`). What the handler keeps in its memory (a Lua module's
//! tables) survives from one request to the next in that instance.
//!
//! Limits: each request brings its own fuel (added to the instance's tank
//! when it starts) and its own time (it expires after `--timeout`, and the
//! instance then takes no more requests). Memory is the instance's. A trap
//! throws the instance away: its requests in flight fail, the next request
//! gets a new instance.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Result;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use hyper::{Request, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::component::{GuestTaskId, InstancePre};
use wasmtime::{Engine, Store, StoreContextMut};
use wasmtime_wasi_http::WasiBody;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::handler::{
    ExpirationError, HandlerState, Instance, Proxy, ProxyHandler, ShouldAccept, WorkerExpiration,
    WorkerState, WorkerStatus,
};
use wasmtime_wasi_http::p3::bindings::ServicePre;
use wit_dylib_pipeline::{LimitReached, Limits};

use super::admission::RequestBody;
use super::{Failure, RequestHost};

/// How many requests an instance of a 0.3 handler answers.
#[derive(Copy, Clone, Debug)]
pub struct Reuse {
    /// Requests per instance, in all.
    pub max_reuse: usize,
    /// Requests per instance at once.
    pub max_concurrent: usize,
    /// How long an instance with nothing to do is kept for the next request.
    pub idle: Duration,
}

impl Default for Reuse {
    fn default() -> Reuse {
        Reuse {
            max_reuse: 128,
            max_concurrent: 16,
            idle: Duration::from_secs(10),
        }
    }
}

/// Checks that `pre` is a `wasi:http/service@0.3.x` handler and makes the
/// worker pool for it; each instance takes one of `instances`' permits.
pub(super) fn handler(
    pre: InstancePre<RequestHost>,
    limits: Limits,
    reuse: Reuse,
    instances: Arc<Semaphore>,
) -> Result<ProxyHandler<Service>> {
    let pre = ServicePre::new(pre).map_err(anyhow::Error::from)?;
    Ok(ProxyHandler::new(Service {
        pre,
        limits,
        reuse,
        instances,
    }))
}

/// Has the handler answer `req`, in an instance of the pool; the request
/// stays in flight (`in_flight`) until its response body has gone out.
pub(super) async fn respond(
    handler: &ProxyHandler<Service>,
    req: Request<RequestBody>,
    in_flight: OwnedSemaphorePermit,
    timeout: Duration,
) -> Result<Response<WasiBody>, Failure> {
    match handler
        .handle((), req.map(|body| body.boxed_unsync()))
        .await
    {
        Ok(response) => Ok(response.map(|body| {
            InFlight {
                body,
                _permit: in_flight,
            }
            .boxed_unsync()
        })),
        Err(err) if err.downcast_ref::<ExpirationError>().is_some() => Err(Failure::internal(
            anyhow::Error::new(LimitReached::Time(timeout)),
        )),
        Err(err) => Err(Failure::internal(err.into())),
    }
}

/// A response body that holds its request's place among those in flight.
struct InFlight {
    body: WasiBody,
    _permit: OwnedSemaphorePermit,
}

impl Body for InFlight {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// What every worker (instance) of a 0.3 handler starts from.
pub(super) struct Service {
    pre: ServicePre<RequestHost>,
    limits: Limits,
    reuse: Reuse,
    instances: Arc<Semaphore>,
}

impl HandlerState for Service {
    type StoreData = RequestHost;
    type WorkerExpiration = Expiry;
    type WorkerState = Worker;

    async fn instantiate(&self) -> wasmtime::Result<Instance<RequestHost, Expiry, Worker>> {
        let permit = self
            .instances
            .clone()
            .acquire_owned()
            .await
            .map_err(wasmtime::Error::new)?;
        let engine: &Engine = self.pre.engine();
        let mut store =
            super::request_store(engine, &self.limits).map_err(wasmtime::Error::from_anyhow)?;
        let service = self.pre.instantiate_async(&mut store).await?;
        Ok(Instance {
            store,
            proxy: Proxy::P3(service),
            view: |host| host.http(),
            expiration: Expiry {
                timeout: self.limits.timeout,
                idle: self.reuse.idle,
                sleep: None,
            },
            state: Worker {
                limits: self.limits,
                reuse: self.reuse,
                _permit: permit,
            },
        })
    }
}

/// One instance's rules: how many requests, each with its fuel and time.
pub(super) struct Worker {
    limits: Limits,
    reuse: Reuse,
    /// The instance's place in the pool, freed when the worker ends.
    _permit: OwnedSemaphorePermit,
}

impl WorkerState for Worker {
    type StoreData = RequestHost;
    type RequestData = ();

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        if total >= self.reuse.max_reuse {
            ShouldAccept::Never
        } else if concurrent >= self.reuse.max_concurrent {
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        mut store: StoreContextMut<'_, RequestHost>,
        (): (),
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync>> {
        // The request's fuel joins what the ones in flight have left.
        let left = store.get_fuel().unwrap_or(0);
        let _ = store.set_fuel(left.saturating_add(self.limits.fuel));
        // Running wasm traps (and the instance goes) once the newest
        // request's time is up; the request itself expires at its own.
        wit_dylib_pipeline::deadline::arm(&mut store, self.limits.timeout);
        Box::pin(tokio::time::sleep(self.limits.timeout))
    }

    fn drop(&self, store: Store<RequestHost>, result: wasmtime::Result<()>) {
        if let Err(err) = result {
            let host = &store.data().host;
            let err = host.explain(err.into());
            eprintln!("an instance of the handler was discarded: {err:#}");
        }
    }
}

/// When an instance ends: idle for [`Reuse::idle`], or busy past the time
/// limit (its requests then have all expired).
pub(super) struct Expiry {
    timeout: Duration,
    idle: Duration,
    /// The timer for the deadline last asked about.
    sleep: Option<(Instant, Pin<Box<tokio::time::Sleep>>)>,
}

impl WorkerExpiration for Expiry {
    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        let this = self.get_mut();
        let limit = match status {
            WorkerStatus::Idle => this.idle,
            WorkerStatus::Requests | WorkerStatus::PostReturn => this.timeout,
        };
        let Some(deadline) = start.checked_add(limit) else {
            return Poll::Pending;
        };
        match &mut this.sleep {
            Some((at, _)) if *at == deadline => {}
            sleep => {
                *sleep = Some((
                    deadline,
                    Box::pin(tokio::time::sleep_until(deadline.into())),
                ))
            }
        }
        let (_, sleep) = this.sleep.as_mut().expect("set above");
        sleep.as_mut().poll(cx)
    }
}
