//! `serve`: an HTTP server for components that export
//! `wasi:http/incoming-handler@0.2.x` or `wasi:http/handler@0.3.x` (which
//! one is read from the component), on `wasmtime-wasi-http` (the host code
//! behind `wasmtime serve`), hyper and tokio.
//!
//! A 0.2 request gets a fresh instance, from a pool, in a store of its own
//! with the run-time limits (fuel, memory, time) and WASI without
//! capabilities; outgoing HTTP requests are refused. A 0.3 handler's
//! instances are reused, several requests at once ([`p3`]). Every request
//! first passes
//! [`admission`]: a cap on requests in flight (503), on body size (413),
//! and on the time its headers (the connection closes) and the first part
//! of its body (408) may take. A handler that fails before it sets
//! a response (a script error, a trap, a limit) is answered with 500, and
//! the server goes on serving.

mod admission;
mod p3;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, ready};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, SizeHint};
use hyper::server::conn::http1;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioTimer;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use wasmtime::component::Linker;
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtxView, WasiView};
use wasmtime_wasi_http::handler::ProxyHandler;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use wit_dylib_pipeline::{Limits, runtime};

use self::admission::Admission;
pub use self::p3::Reuse;

/// Instances alive at once (the pool's size); further requests wait.
pub const MAX_INSTANCES: u32 = 128;

/// Fuel spent between yields to the other requests on the same thread, so
/// that a busy handler delays them by a fraction of a millisecond at most.
const YIELD_EVERY: u64 = 100_000;

/// How long in-flight requests may take to finish once a stop is asked.
const DRAIN: Duration = Duration::from_secs(10);

/// Serve a `wasi:http/proxy@0.2` or `wasi:http/service@0.3` component over
/// HTTP: `serve app.wasm`.
///
/// A 0.2 handler runs each request in a fresh instance; a 0.3 handler's
/// instances are reused (see the reuse flags). Every request runs within
/// the limits below (fuel, memory and time per request), with WASI but no files, environment or
/// network (outgoing requests are refused). A handler that fails before
/// answering gets the client a 500. One line per request goes to stderr;
/// Ctrl-C stops the server once the requests in flight end.
#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// The component (built for `wasi:http/proxy@0.2.x` or
    /// `wasi:http/service@0.3.x`, with or without `--stub-wasi`).
    pub component: std::path::PathBuf,
    /// Where to listen; port 0 picks a free port (the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Requests in flight at once (reading, running or answering); more
    /// are answered 503 at once.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_requests: u32,
    /// The largest request body, in bytes; larger ones are answered 413.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    pub max_body_size: u64,
    /// Seconds a client may take to send a request's headers; the
    /// connection is closed after that.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub header_timeout: u64,
    /// Requests one instance of a 0.3 handler answers before a new one
    /// takes over (as `wasmtime serve`'s flag; 0.2 handlers: always one).
    #[arg(long, value_name = "N", default_value_t = Reuse::default().max_reuse, value_parser = parse_positive)]
    pub max_instance_reuse_count: usize,
    /// Requests one instance of a 0.3 handler answers at once.
    #[arg(long, value_name = "N", default_value_t = Reuse::default().max_concurrent, value_parser = parse_positive)]
    pub max_instance_concurrent_reuse_count: usize,
    /// Seconds an idle instance of a 0.3 handler is kept for the next
    /// request (`wasmtime serve` keeps one for 1 second).
    #[arg(long, value_name = "SECONDS", default_value_t = Reuse::default().idle.as_secs())]
    pub idle_instance_timeout: u64,
    #[command(flatten)]
    pub limits: crate::LimitArgs,
    #[command(flatten)]
    pub profile: crate::profile::ProfileArgs,
}

/// Serves the component `args` names until Ctrl-C.
pub fn command(args: &ServeArgs) -> Result<()> {
    args.profile.apply()?;
    let bytes = std::fs::read(&args.component)
        .with_context(|| format!("cannot read {}", args.component.display()))?;
    let options = Options {
        addr: args.addr,
        limits: args.limits.limits(),
        max_requests: args.max_requests as usize,
        max_body_size: args.max_body_size,
        header_timeout: Duration::from_secs(args.header_timeout),
        reuse: Reuse {
            max_reuse: args.max_instance_reuse_count,
            max_concurrent: args.max_instance_concurrent_reuse_count,
            idle: Duration::from_secs(args.idle_instance_timeout),
        },
    };
    run(&bytes, &options).with_context(|| args.component.display().to_string())
}

/// What to serve, where, within which limits.
pub struct Options {
    pub addr: SocketAddr,
    /// Each request's fuel, memory and time.
    pub limits: Limits,
    /// Requests in flight at once; more get 503.
    pub max_requests: usize,
    /// The largest request body; larger get 413.
    pub max_body_size: u64,
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// How a 0.3 handler's instances are reused.
    pub reuse: Reuse,
}

fn parse_positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(err) => Err(err.to_string()),
    }
}

impl Options {
    /// The defaults of `serve`'s flags, listening on `addr`.
    pub fn new(addr: SocketAddr, limits: Limits) -> Options {
        Options {
            addr,
            limits,
            max_requests: 1024,
            max_body_size: 16 << 20,
            header_timeout: Duration::from_secs(10),
            reuse: Reuse::default(),
        }
    }
}

/// Serves `component` until Ctrl-C.
pub fn run(component: &[u8], options: &Options) -> Result<()> {
    let server = Server::with_options(component, options)?;
    let listener = std::net::TcpListener::bind(options.addr)
        .with_context(|| format!("cannot listen on {}", options.addr))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        // Listening for Ctrl-C before saying that the server is up, so that
        // whoever reads that line may stop it at once.
        let interrupted = interrupt().context("listening for Ctrl-C")?;
        println!(
            "serving on http://{}/ (Ctrl-C stops)",
            listener.local_addr()?
        );
        server.serve(listener, interrupted).await
    })?;
    println!("stopped");
    Ok(())
}

/// A future that completes on SIGINT (Ctrl-C), listening from now on.
#[cfg(unix)]
fn interrupt() -> Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut signal = signal(SignalKind::interrupt())?;
    Ok(async move {
        signal.recv().await;
    })
}

#[cfg(not(unix))]
fn interrupt() -> Result<impl Future<Output = ()>> {
    Ok(async {
        // Without a signal handler nothing else stops the server.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}

/// A compiled component, ready to answer requests.
pub struct Server {
    engine: Engine,
    handler: Handler,
    limits: Limits,
    /// One permit per pooled instance.
    instances: Arc<Semaphore>,
    admission: Admission,
    header_timeout: Duration,
}

impl Server {
    /// Compiles `component` and checks that it is a `wasi:http/proxy@0.2`
    /// or `wasi:http/service@0.3` handler whose imports the server provides; every request then runs
    /// within `limits`, and is admitted with the defaults of [`Options`].
    pub fn new(component: &[u8], limits: Limits) -> Result<Server> {
        Server::with_options(component, &Options::new(([127, 0, 0, 1], 0).into(), limits))
    }

    /// [`Server::new`] with every limit of `options` (its address aside).
    pub fn with_options(component: &[u8], options: &Options) -> Result<Server> {
        let limits = options.limits;
        // A component with no async feature runs with concurrency off
        // (see `compile_for_server`), where WASI 0.3 cannot be linked.
        let concurrency = wit_dylib_pipeline::concurrency::needed_by(component);
        let component =
            runtime::compile_for_server(component, &limits, MAX_INSTANCES, concurrency)?;
        let engine = component.engine().clone();
        let mut linker = Linker::new(&engine);
        // Full WASI 0.2 (without capabilities) serves ordinary components,
        // whose libc uses it, 0.3 handlers included; pure ones import only
        // their world's subset of WASI 0.2 or 0.3.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(anyhow::Error::from)?;
        if concurrency {
            wasmtime_wasi::p3::add_to_linker(&mut linker).map_err(anyhow::Error::from)?;
            wasmtime_wasi_http::p3::add_to_linker(&mut linker).map_err(anyhow::Error::from)?;
        }
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .context("`serve` provides WASI 0.2 and 0.3 and wasi:http, nothing else")?;
        let instances = Arc::new(Semaphore::new(MAX_INSTANCES as usize));
        let handler = match exports_p3_handler(&component) {
            true => Handler::P3(
                p3::handler(pre, limits, options.reuse, instances.clone())
                    .context("the component's `wasi:http/handler@0.3.x` cannot be served")?,
            ),
            false => Handler::P2(ProxyPre::new(pre).map_err(anyhow::Error::from).context(
                "the component exports neither `wasi:http/incoming-handler@0.2.x` \
                 nor `wasi:http/handler@0.3.x`",
            )?),
        };
        Ok(Server {
            engine,
            handler,
            limits,
            instances,
            admission: Admission::new(options.max_requests, options.max_body_size, limits.timeout),
            header_timeout: options.header_timeout,
        })
    }

    /// Serves the connections `listener` accepts until `stop` completes;
    /// then stops accepting and lets the requests in flight finish (for up
    /// to [`DRAIN`]). Needs a tokio runtime with I/O and timers.
    pub async fn serve(
        self,
        listener: std::net::TcpListener,
        stop: impl Future<Output = ()>,
    ) -> Result<()> {
        listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(listener)?;
        let server = Arc::new(self);
        let (stopping, stopped) = watch::channel(false);
        let mut connections = JoinSet::new();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(accepted) => accepted,
                        // E.g. out of file descriptors: the next may succeed.
                        Err(err) => {
                            eprintln!("accepting a connection failed: {err}");
                            continue;
                        }
                    };
                    connections.spawn(connection(server.clone(), stream, peer, stopped.clone()));
                }
            }
        }
        drop(listener);
        let _ = stopping.send(true);
        let drained = tokio::time::timeout(DRAIN, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            eprintln!(
                "stopped with {} connections still open after {DRAIN:?}",
                connections.len()
            );
        }
        Ok(())
    }
}

/// Serves the requests of one HTTP/1.1 connection until it closes or the
/// server stops.
async fn connection(
    server: Arc<Server>,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    mut stopped: watch::Receiver<bool>,
) {
    // A response's head and body go out in separate writes: without this,
    // Nagle's algorithm holds the body back until the client's delayed ACK
    // (tens of milliseconds).
    if let Err(err) = stream.set_nodelay(true) {
        eprintln!("connection from {peer}: {err}");
    }
    let header_timeout = server.header_timeout;
    let service = hyper::service::service_fn(move |req| {
        let server = server.clone();
        async move { Ok::<_, Infallible>(server.handle(req).await) }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = async { stopped.wait_for(|stopped| *stopped).await.map(|_| ()) } => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(err) = result
        && !err.is_incomplete_message()
    {
        eprintln!("connection from {peer}: {err}");
    }
}

impl Server {
    /// Answers `req` and logs one line for it.
    async fn handle(&self, req: Request<hyper::body::Incoming>) -> Response<HyperOutgoingBody> {
        let started = Instant::now();
        let line = format!("{} {}", req.method(), req.uri());
        let (response, failure) = match self.respond(req, &line).await {
            Ok(response) => (response, None),
            Err(Failure { status, error }) => (plain(status), Some(error)),
        };
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        let status = response.status().as_u16();
        match failure {
            None => eprintln!("{line} {status} {elapsed:.1} ms"),
            Some(error) => eprintln!("{line} {status} {elapsed:.1} ms: {error:#}"),
        }
        response
    }

    /// Admits `req` and has the handler answer it.
    async fn respond(
        &self,
        req: Request<hyper::body::Incoming>,
        line: &str,
    ) -> Result<Response<HyperOutgoingBody>, Failure> {
        let (req, in_flight) = self.admission.admit(req).await?;
        match &self.handler {
            Handler::P2(pre) => self.respond_p2(pre, req, in_flight, line).await,
            Handler::P3(handler) => p3::respond(handler, req, in_flight, self.limits.timeout).await,
        }
    }

    /// Runs a 0.2 handler in a fresh instance until it sets the response;
    /// the instance lives on (in its own task) while it writes the body.
    async fn respond_p2(
        &self,
        pre: &ProxyPre<RequestHost>,
        req: Request<admission::RequestBody>,
        in_flight: tokio::sync::OwnedSemaphorePermit,
        line: &str,
    ) -> Result<Response<HyperOutgoingBody>, Failure> {
        let permit = self
            .instances
            .clone()
            .acquire_owned()
            .await
            .map_err(|err| Failure::internal(err.into()))?;
        let mut store = request_store(&self.engine, &self.limits).map_err(Failure::internal)?;
        let (sender, receiver) = oneshot::channel();
        let req = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, req)
            .map_err(|err| Failure {
                status: StatusCode::BAD_REQUEST,
                error: err.into(),
            })?;
        let out = store
            .data_mut()
            .http()
            .new_response_outparam(sender)
            .map_err(|err| Failure::internal(err.into()))?;
        let pre = pre.clone();
        let timeout = self.limits.timeout;
        let task = tokio::spawn(async move {
            let _permits = (in_flight, permit);
            // The whole request, waits included; running wasm is also
            // stopped by the store's epoch deadline.
            let called = tokio::time::timeout(timeout, async {
                let proxy = pre.instantiate_async(&mut store).await?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, req, out)
                    .await
            })
            .await;
            let host = &store.data().host;
            match called {
                Ok(Ok(())) => Ok(host.stderr()),
                Ok(Err(err)) => Err(host.explain(err.into())),
                Err(_) => Err(anyhow::Error::new(wit_dylib_pipeline::LimitReached::Time(
                    timeout,
                ))),
            }
        });
        match receiver.await {
            Ok(Ok(response)) => {
                // The status is out; the body ends cleanly only if the
                // handler does (see `Completed`).
                let outcome = log_outcome(task, line.to_string());
                Ok(response.map(|body| {
                    Completed {
                        body,
                        outcome: Some(outcome),
                    }
                    .boxed_unsync()
                }))
            }
            Ok(Err(code)) => Err(Failure::internal(anyhow!(
                "the handler answered with an error: {code:?}"
            ))),
            // The handler returned or failed without setting a response.
            Err(_) => Err(Failure::internal(match task.await {
                Ok(Ok(_)) => anyhow!("the handler returned without setting a response"),
                Ok(Err(err)) => err,
                Err(err) => err.into(),
            })),
        }
    }
}

/// What answers requests: a 0.2 handler's pre-instance (an instance per
/// request), or a 0.3 handler's pool of reused instances.
enum Handler {
    P2(ProxyPre<RequestHost>),
    P3(ProxyHandler<p3::Service>),
}

/// Whether `component` exports `wasi:http/handler@0.3.x`.
fn exports_p3_handler(component: &wasmtime::component::Component) -> bool {
    let ty = component.component_type();
    let engine = component.engine();
    ty.exports(engine)
        .any(|(name, _)| name.starts_with("wasi:http/handler@0.3."))
}

/// A store for one request (or one reused 0.3 instance): its own WASI, fuel
/// and memory limit.
fn request_store(engine: &Engine, limits: &Limits) -> Result<Store<RequestHost>> {
    let sandbox = runtime::Sandbox {
        limits: *limits,
        // `print` is the handler's log.
        inherit_stdout: true,
        deterministic: false,
    };
    let host = RequestHost {
        host: runtime::Host::new(&sandbox),
        http: WasiHttpCtx::new(),
        hooks: NoNetwork,
    };
    let mut store = Store::new(engine, host);
    store.limiter(|data| data.host.limiter());
    store.set_fuel(limits.fuel)?;
    store.fuel_async_yield_interval(Some(YIELD_EVERY))?;
    wit_dylib_pipeline::deadline::arm(&mut store, limits.timeout);
    Ok(store)
}

/// Logs, when the handler of an answered request ends, what it wrote to
/// stderr or how it failed; the receiver learns whether it succeeded.
fn log_outcome(task: JoinHandle<Result<String>>, line: String) -> oneshot::Receiver<bool> {
    let (done, outcome) = oneshot::channel();
    tokio::spawn(async move {
        let failure = match task.await {
            Ok(Ok(stderr)) => {
                if !stderr.trim().is_empty() {
                    eprintln!("{line}: stderr: {}", stderr.trim());
                }
                None
            }
            Ok(Err(err)) => Some(err),
            Err(err) => Some(err.into()),
        };
        if let Some(err) = &failure {
            eprintln!("{line}: failed after answering: {err:#}");
        }
        let _ = done.send(failure.is_none());
    });
    outcome
}

/// Why a request got no response from the handler.
struct Failure {
    status: StatusCode,
    error: anyhow::Error,
}

impl Failure {
    fn internal(error: anyhow::Error) -> Failure {
        Failure {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error,
        }
    }
}

/// A response body that ends cleanly only if the handler that writes it
/// succeeds. wasmtime-wasi-http ends a body whose handler trapped as if it
/// were complete; here the client sees an error (a cut connection) instead.
struct Completed {
    body: HyperOutgoingBody,
    /// Whether the handler succeeded; taken once the body has ended.
    outcome: Option<oneshot::Receiver<bool>>,
}

impl Body for Completed {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(None) => {}
            frame => return frame,
        }
        let Some(outcome) = this.outcome.as_mut() else {
            return Poll::Ready(None);
        };
        let succeeded = ready!(Pin::new(outcome).poll(cx)).unwrap_or(false);
        this.outcome = None;
        match succeeded {
            true => Poll::Ready(None),
            false => Poll::Ready(Some(Err(wasmtime_wasi_http::Error::HttpProtocolError))),
        }
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A response with the status's reason as its body (details go to the log,
/// not to the client).
fn plain(status: StatusCode) -> Response<HyperOutgoingBody> {
    let reason = status.canonical_reason().unwrap_or("error");
    let body = Full::new(Bytes::from(format!("{reason}\n")))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The store's data for one request: the sandbox's host (WASI, limits,
/// captured stderr) and wasi:http's state, sharing one resource table.
struct RequestHost {
    host: runtime::Host,
    http: WasiHttpCtx,
    hooks: NoNetwork,
}

impl WasiView for RequestHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.host.ctx()
    }
}

impl WasiHttpView for RequestHost {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: self.host.table(),
            hooks: &mut self.hooks,
        }
    }
}

/// Refuses outgoing requests: like the rest of the sandbox, a handler has
/// no network.
struct NoNetwork;

impl WasiHttpHooks for NoNetwork {
    fn send_request(
        &mut self,
        _request: Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        Response<wasmtime_wasi_http::WasiBody>,
                        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}
