//! Running components under wasmtime, sandboxed: WASI with no capabilities
//! (no preopened directories, no environment, no network, empty stdin),
//! stderr captured for error messages, and limits on fuel, memory and time.
//!
//! Every run of a script goes through here, at build time too: scripts come
//! from other people, so none of them runs natively on the host.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use wasmtime::component::types::{ComponentItem, Type};
use wasmtime::component::{
    Component, Func, Instance, Linker, LinkerInstance, ResourceTable, ResourceType, Val,
};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter,
    Store, Trap,
};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::{cache, deadline, profile};

/// What one run may use. Fuel and time are given again in full to every
/// call (and to instantiation, which runs the script's top level unless
/// pre-initialised).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// wasmtime fuel per call: roughly one unit per wasm instruction.
    pub fuel: u64,
    /// Bytes of linear memory the component may grow to.
    pub max_memory: usize,
    /// Wall-clock time per call, waiting included.
    pub timeout: Duration,
}

impl Limits {
    /// 10 billion units of fuel: several seconds of Lua, far more than any
    /// sensible start-up or call needs.
    pub const DEFAULT_FUEL: u64 = 10_000_000_000;
    /// 512 MiB.
    pub const DEFAULT_MAX_MEMORY: usize = 512 << 20;
    /// A minute: well past what the default fuel lasts when computing.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
    /// Every limit at its default.
    pub const DEFAULT: Limits = Limits {
        fuel: Limits::DEFAULT_FUEL,
        max_memory: Limits::DEFAULT_MAX_MEMORY,
        timeout: Limits::DEFAULT_TIMEOUT,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// A run that stopped at one of its [`Limits`]. It sits in the error's
/// chain, so that a command line can name the flag that raises the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitReached {
    /// The fuel limit, in units.
    Fuel(u64),
    /// The memory limit, in bytes.
    Memory(usize),
    /// The time limit.
    Time(Duration),
}

impl std::fmt::Display for LimitReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LimitReached::Fuel(units) => write!(
                f,
                "the fuel limit ({units} units) ran out: the code loops forever or does too \
                 much work"
            ),
            LimitReached::Memory(bytes) => {
                write!(f, "the memory limit ({} MiB) was reached", bytes >> 20)
            }
            LimitReached::Time(limit) => write!(f, "the time limit ({limit:?}) ran out"),
        }
    }
}

impl std::error::Error for LimitReached {}

/// How a component is run.
#[derive(Clone, Debug, Default)]
pub struct Sandbox {
    pub limits: Limits,
    /// Pass the component's stdout through to ours (`run`, the demo);
    /// otherwise it is captured and shown only with an error.
    pub inherit_stdout: bool,
    /// Fixed clocks and a fixed random seed, so that a build run leaves the
    /// same state every time (pre-initialised components are reproducible).
    pub deterministic: bool,
}

/// The store's data: WASI, captured output, and the memory limiter.
pub struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
    stdout: Option<MemoryOutputPipe>,
    stderr: MemoryOutputPipe,
    memory: MemoryLimit,
    limits: Limits,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Refuses memory growth past the limit and remembers that it did, so that
/// the error can name the limit rather than only the guest's "out of memory".
struct MemoryLimit {
    max: usize,
    refused: bool,
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.max;
        self.refused |= !allowed;
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables only grow with code being loaded; a million entries is
        // far beyond any interpreter.
        Ok(desired <= 1_000_000)
    }
}

/// A running component.
pub struct Running {
    pub store: Store<Host>,
    pub instance: Instance,
}

/// The engine: wasm exceptions on (Lua's setjmp/longjmp), maps, fuel and
/// epochs. A store made without [`store`] needs fuel and an epoch deadline
/// ([`deadline::arm`]) before it runs anything.
pub fn engine() -> Result<Engine> {
    new_engine(&config(true))
}

/// An engine for `component`, with the compilation cache
/// ([`crate::cache`]), for a command that may run the same component again
/// in another process. Its concurrency support is off when the component
/// does not need it ([`crate::concurrency`]), which makes calls cheaper.
pub fn cached_engine_for(component: &[u8]) -> Result<Engine> {
    cached_engine(crate::concurrency::needed_by(component))
}

/// An engine with the compilation cache, with or without concurrency
/// support.
fn cached_engine(concurrency: bool) -> Result<Engine> {
    let mut config = config(concurrency);
    cache::use_all(&mut config);
    new_engine(&config)
}

/// An engine from `config`, its epoch advancing (see [`deadline`]).
fn new_engine(config: &Config) -> Result<Engine> {
    let engine = Engine::new(config).map_err(anyhow::Error::from)?;
    deadline::start_ticker(&engine);
    Ok(engine)
}

/// The engine for build-time runs: each component is compiled for one short
/// run, where compiling without optimisation saves more than it costs.
///
/// It keeps compiled components and functions in the compilation cache
/// ([`crate::cache`]). The build-time component holds no script (the
/// pre-initialisation library fetches it), so a rebuild after an edit
/// finds it compiled; a new world compiles only the functions that changed.
pub fn build_engine() -> Result<Engine> {
    let mut config = config(true);
    config.cranelift_opt_level(wasmtime::OptLevel::None);
    config.cranelift_regalloc_algorithm(wasmtime::RegallocAlgorithm::SinglePass);
    cache::use_all(&mut config);
    new_engine(&config)
}

/// `component` compiled for a server that runs up to `instances` instances
/// of it at a time, each within `limits`: on an engine that allocates them
/// from a pool sized from the component (instantiating is then mostly
/// resetting memory a previous instance used), or, if the component does
/// not fit such a pool after all, on one that allocates on demand: slower,
/// never a refusal. Instances are made with `instantiate_async`, so that a
/// guest can wait on host I/O; the component's `engine()` is the one used.
/// Both engines use the compilation cache ([`crate::cache`]), and have
/// concurrency support when `concurrency` says the component needs it
/// ([`crate::concurrency::needed_by`], which the caller also needs to know
/// what it may link).
pub fn compile_for_server(
    component: &[u8],
    limits: &Limits,
    instances: u32,
    concurrency: bool,
) -> Result<Component> {
    check_component(component)?;
    let pooled = pooled_engine(limits, instances, Footprint::of(component)?, concurrency)?;
    compile(&pooled, component).or_else(|refused| {
        let on_demand = compile(&cached_engine(concurrency)?, component)?;
        eprintln!("instances are allocated on demand, not from a pool: {refused:#}");
        Ok(on_demand)
    })
}

fn pooled_engine(
    limits: &Limits,
    instances: u32,
    footprint: Footprint,
    concurrency: bool,
) -> Result<Engine> {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(footprint.core_instances))
        .max_core_instances_per_component(footprint.core_instances)
        .total_memories(instances.saturating_mul(footprint.memories))
        .max_memories_per_component(footprint.memories)
        .total_tables(instances.saturating_mul(footprint.tables))
        .max_tables_per_component(footprint.tables)
        .total_stacks(instances)
        .max_memory_size(limits.max_memory);
    reset_in_place(&mut pool);
    let mut config = config(concurrency);
    cache::use_all(&mut config);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    new_engine(&config).or_else(|pooled| {
        eprintln!("instances are allocated on demand: the pooling allocator failed ({pooled:#})");
        cached_engine(concurrency)
    })
}

/// Bytes of an instance's linear memory, and of each of its tables, that a
/// freed pool slot keeps mapped and resets in place. 16 MiB holds what a Lua
/// handler touches several times over; a memory that grew beyond it has the
/// rest unmapped, as without this.
const KEEP_RESIDENT: usize = 16 << 20;
const TABLE_KEEP_RESIDENT: usize = 1 << 20;

/// Where Linux can tell which pages of a freed slot were written (the
/// `PAGEMAP_SCAN` ioctl, Linux 6.7), has wasmtime copy back only those pages
/// of the initial image and keep the slot mapped. Otherwise each freed
/// slot is unmapped with `madvise`: the next instance takes a page fault for
/// every page it touches, and in a threaded server each `madvise` stops
/// every core for a TLB flush. With an instance per request (a WASI 0.2
/// handler) that was 40 % of a request's time. Without the ioctl, keeping
/// memory resident would mean clearing all of it, so nothing changes there.
fn reset_in_place(pool: &mut PoolingAllocationConfig) {
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        pool.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(TABLE_KEEP_RESIDENT);
    }
}

/// What one instance of a component takes from the pooling allocator.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Footprint {
    pub core_instances: u32,
    pub memories: u32,
    pub tables: u32,
}

impl Footprint {
    /// At least what a linked component takes: a dozen core instances
    /// (libc, interpreter, world library, script, shims; a stubbed one has
    /// one more) and one memory, with room to spare.
    const LINKED: Footprint = Footprint {
        core_instances: 32,
        memories: 2,
        tables: 8,
    };

    /// The footprint of `component`, counted from its binary (nested
    /// components included): every core module instantiation, and the
    /// memories and tables its modules define, with half again as many
    /// instances for the adapters wasmtime adds between nested components.
    /// Never below [`Self::LINKED`], so that the pool's sizes stay those of
    /// a typical component.
    pub fn of(component: &[u8]) -> Result<Footprint> {
        let mut counted = Footprint {
            core_instances: 0,
            memories: 0,
            tables: 0,
        };
        for payload in wasmparser::Parser::new(0).parse_all(component) {
            match payload.context("reading the component's sections")? {
                wasmparser::Payload::InstanceSection(instances) => {
                    for instance in instances {
                        if let wasmparser::Instance::Instantiate { .. } =
                            instance.context("reading a core instance")?
                        {
                            counted.core_instances += 1;
                        }
                    }
                }
                wasmparser::Payload::MemorySection(memories) => {
                    counted.memories += memories.count()
                }
                wasmparser::Payload::TableSection(tables) => counted.tables += tables.count(),
                _ => {}
            }
        }
        Ok(Footprint {
            core_instances: (counted.core_instances.saturating_mul(3) / 2)
                .max(Self::LINKED.core_instances),
            memories: counted.memories.max(Self::LINKED.memories),
            tables: counted.tables.max(Self::LINKED.tables),
        })
    }
}

/// The settings of every engine; `concurrency` turns on the component
/// model's async features, which need wasmtime's concurrency support.
fn config(concurrency: bool) -> Config {
    let mut config = Config::new();
    config.wasm_exceptions(true);
    config.wasm_component_model_map(true);
    config.wasm_component_model_fixed_length_lists(true);
    match concurrency {
        true => {
            // Async functions, futures and streams, and error-context
            // values (`wit_dylib.h`'s extension).
            config.wasm_component_model_async(true);
            config.wasm_component_model_error_context(true);
        }
        false => {
            config.concurrency_support(false);
        }
    }
    config.consume_fuel(true);
    deadline::configure(&mut config);
    profile::configure(&mut config);
    // Frames of anonymous wasm functions help no script author; the
    // messages say what failed.
    config.wasm_backtrace_max_frames(None);
    config
}

/// A store for `sandbox`, with its fuel filled and its time running.
pub fn store(engine: &Engine, sandbox: &Sandbox) -> Result<Store<Host>> {
    let mut store = Store::new(engine, Host::new(sandbox));
    store.limiter(Host::limiter);
    store
        .set_fuel(sandbox.limits.fuel)
        .map_err(anyhow::Error::from)?;
    deadline::arm(&mut store, sandbox.limits.timeout);
    Ok(store)
}

impl Host {
    /// WASI without capabilities, output captured or passed through as
    /// `sandbox` says, and its memory limit. A store holding it (directly
    /// or inside a larger host) must install [`Host::limiter`] and fill
    /// the fuel.
    pub fn new(sandbox: &Sandbox) -> Host {
        let stderr = MemoryOutputPipe::new(1 << 20);
        let mut wasi = WasiCtxBuilder::new();
        wasi.stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        let stdout = match sandbox.inherit_stdout {
            true => {
                wasi.inherit_stdout();
                None
            }
            false => {
                let pipe = MemoryOutputPipe::new(1 << 20);
                wasi.stdout(pipe.clone());
                Some(pipe)
            }
        };
        if sandbox.deterministic {
            deterministic::configure(&mut wasi);
        }
        Host {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            stdout,
            stderr,
            memory: MemoryLimit {
                max: sandbox.limits.max_memory,
                refused: false,
            },
            limits: sandbox.limits,
        }
    }

    /// The memory limit, for [`Store::limiter`].
    pub fn limiter(&mut self) -> &mut dyn ResourceLimiter {
        &mut self.memory
    }

    /// The resource table WASI uses, for other host interfaces whose
    /// resources mix with WASI's (e.g. `wasi:http` bodies are `wasi:io`
    /// streams).
    pub fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// What the component wrote to stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents()).into_owned()
    }
}

/// A linker with WASI, plus whatever `define` adds (it also gets the
/// compiled component).
pub fn linker(
    component: &Component,
    define: impl FnOnce(&mut Linker<Host>, &Component) -> wasmtime::Result<()>,
) -> Result<Linker<Host>> {
    let mut linker = Linker::new(component.engine());
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
    define(&mut linker, component).map_err(anyhow::Error::from)?;
    Ok(linker)
}

/// Fails, in one line, unless `bytes` look like a component: a core module
/// or some other file is named as such.
pub fn check_component(bytes: &[u8]) -> Result<()> {
    const MAGIC: &[u8] = b"\0asm";
    match bytes.get(..8) {
        Some(header) if header.starts_with(MAGIC) && header[6..8] == [1, 0] => Ok(()),
        Some(header) if header.starts_with(MAGIC) => {
            bail!("a core WebAssembly module, not a component")
        }
        _ => bail!("not a WebAssembly component"),
    }
}

/// Compiles `component`.
pub fn compile(engine: &Engine, component: &[u8]) -> Result<Component> {
    check_component(component)?;
    Component::new(engine, component)
        .map_err(anyhow::Error::from)
        .context("compiling the component")
}

/// Instantiates `component` in the default sandbox with stdout passed
/// through.
pub fn instantiate(
    engine: &Engine,
    component: &[u8],
    define: impl FnOnce(&mut Linker<Host>, &Component) -> wasmtime::Result<()>,
) -> Result<Running> {
    let sandbox = Sandbox {
        inherit_stdout: true,
        ..Sandbox::default()
    };
    instantiate_in(engine, component, &sandbox, define)
}

/// Instantiates `component` in `sandbox` (which runs an interpreter's
/// start-up and the script's top level, unless pre-initialised).
pub fn instantiate_in(
    engine: &Engine,
    component: &[u8],
    sandbox: &Sandbox,
    define: impl FnOnce(&mut Linker<Host>, &Component) -> wasmtime::Result<()>,
) -> Result<Running> {
    let component = compile(engine, component)?;
    let linker = linker(&component, define)?;
    let mut store = store(engine, sandbox)?;
    // Always the async entry points: a component with an `async func`
    // import needs them, and they serve every other one as well.
    let timeout = sandbox.limits.timeout;
    let instance =
        deadline::block_on_within(linker.instantiate_async(&mut store, &component), timeout)
            .and_then(|instantiated| instantiated.map_err(|e| explain(&store, e.into())))
            .context("instantiating the component")?;
    Ok(Running { store, instance })
}

/// Runs a future on this thread until it completes (wasmtime's calls of
/// async exports are futures).
pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        std::thread::park();
    }
}

impl Running {
    /// Calls `name` of exported interface `interface` (`None`: the root),
    /// with the fuel limit filled again.
    pub fn call(&mut self, interface: Option<&str>, name: &str, args: &[Val]) -> Result<Vec<Val>> {
        let func = self.export(interface, name)?;
        let mut results = vec![Val::Bool(false); func.ty(&self.store).results().len()];
        let limits = self.store.data().limits;
        self.store
            .set_fuel(limits.fuel)
            .map_err(anyhow::Error::from)?;
        deadline::arm(&mut self.store, limits.timeout);
        let called = func.call_async(&mut self.store, args, &mut results);
        deadline::block_on_within(called, limits.timeout)
            .and_then(|called| called.map_err(|e| explain(&self.store, e.into())))
            .with_context(|| format!("calling `{name}` failed"))?;
        Ok(results)
    }

    /// The parameters (name and type) of export `name` of `interface`.
    pub fn export_params(
        &mut self,
        interface: Option<&str>,
        name: &str,
    ) -> Result<Vec<(String, Type)>> {
        let func = self.export(interface, name)?;
        Ok(func
            .ty(&self.store)
            .params()
            .map(|(name, ty)| (name.to_string(), ty))
            .collect())
    }

    /// Export `name` of `interface` (`None`: of the world).
    pub fn export(&mut self, interface: Option<&str>, name: &str) -> Result<Func> {
        let parent = match interface {
            Some(interface) => Some(
                self.instance
                    .get_export_index(&mut self.store, None, interface)
                    .with_context(|| format!("the component exports no `{interface}`"))?,
            ),
            None => None,
        };
        self.instance
            .get_export_index(&mut self.store, parent.as_ref(), name)
            .and_then(|index| self.instance.get_func(&mut self.store, index))
            .with_context(|| format!("the component exports no function `{name}`"))
    }
}

/// Adds to a trap's error what a user needs to understand it: which limit
/// was hit, and what the component wrote to stderr (panic and script error
/// messages end up there).
pub fn explain(store: &Store<Host>, err: anyhow::Error) -> anyhow::Error {
    store.data().explain(err)
}

impl Host {
    /// [`explain`], for a store whose data holds this host.
    pub fn explain(&self, err: anyhow::Error) -> anyhow::Error {
        let host = self;
        // Rust's runtime adds a hint about backtraces that a wasm guest cannot
        // follow.
        let stderr = String::from_utf8_lossy(&host.stderr.contents())
            .lines()
            .filter(|line| !line.starts_with("note: run with `RUST_BACKTRACE=1`"))
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_string();
        let trap = err.downcast_ref::<Trap>().copied();
        let mut err = match (stderr.is_empty(), trap) {
            (true, _) => err,
            // An interpreter reports a script's error and then panics, which
            // traps as `unreachable`: the report is the whole story.
            (false, Some(Trap::UnreachableCodeReached)) => anyhow::Error::msg(stderr),
            (false, _) => err.context(stderr),
        };
        // Captured output (build-time runs) can explain a failure too.
        let printed = host.stdout.as_ref().map(|pipe| pipe.contents());
        if let Some(printed) = printed.filter(|p| !p.is_empty()) {
            err = err.context(format!(
                "it printed: {}",
                String::from_utf8_lossy(&printed).trim()
            ));
        }
        if trap == Some(Trap::OutOfFuel) {
            return err.context(LimitReached::Fuel(host.limits.fuel));
        }
        if host.memory.refused {
            return err.context(LimitReached::Memory(host.limits.max_memory));
        }
        if trap == Some(Trap::Interrupt) {
            return err.context(LimitReached::Time(host.limits.timeout));
        }
        err
    }
}

/// Defines everything the component imports, other than the WASI 0.2
/// interfaces [`linker`] provides: functions that fail when called with a
/// message saying that `what` provides none, and resources no function can
/// create. Other WASI packages (`wasi:http`, ...) are stubbed too.
pub fn stub_imports<T: 'static>(
    linker: &mut Linker<T>,
    component: &Component,
    what: &str,
) -> wasmtime::Result<()> {
    let engine = component.engine().clone();
    // A resource an earlier import defined (`wasi:io`'s `input-stream`, used
    // by `wasi:http/types`) is only referred to again: it must not be
    // defined a second time, as a different type.
    let mut seen: Vec<ResourceType> = Vec::new();
    for (name, import) in component.component_type().imports(&engine) {
        let provided = provided_by_wasi(name);
        match import.ty {
            ComponentItem::ComponentFunc(ty) if !provided => {
                stub(&mut linker.root(), name, name, ty.async_(), what)?
            }
            ComponentItem::Resource(ty) if !seen.contains(&ty) => {
                seen.push(ty);
                if !provided {
                    stub_resource(&mut linker.root(), name)?;
                }
            }
            ComponentItem::ComponentInstance(instance) => {
                let mut scope = match provided {
                    true => None,
                    false => Some(linker.instance(name)?),
                };
                for (item_name, item) in instance.exports(&engine) {
                    match (item.ty, scope.as_mut()) {
                        (ComponentItem::ComponentFunc(ty), Some(scope)) => stub(
                            scope,
                            item_name,
                            &format!("{name}#{item_name}"),
                            ty.async_(),
                            what,
                        )?,
                        (ComponentItem::Resource(ty), scope) if !seen.contains(&ty) => {
                            seen.push(ty);
                            if let Some(scope) = scope {
                                stub_resource(scope, item_name)?;
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The packages `wasmtime_wasi::p2::add_to_linker_*` defines, at 0.2.x.
const WASI_P2_PACKAGES: [&str; 6] = [
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:cli/",
    "wasi:filesystem/",
    "wasi:sockets/",
];

/// Whether import `name` (`wasi:io/streams@0.2.12`) is one of
/// [`WASI_P2_PACKAGES`].
pub fn provided_by_wasi(name: &str) -> bool {
    WASI_P2_PACKAGES
        .iter()
        .any(|package| name.starts_with(package))
        && name
            .split_once('@')
            .is_some_and(|(_, version)| version.starts_with("0.2."))
}

/// A function that fails when called; an `async func` needs a concurrent one.
fn stub<T: 'static>(
    scope: &mut LinkerInstance<'_, T>,
    name: &str,
    qualified: &str,
    is_async: bool,
    what: &str,
) -> wasmtime::Result<()> {
    let message = format!("import `{qualified}` was called, but {what}");
    match is_async {
        true => scope.func_new_concurrent(name, move |_, _, _, _| {
            let message = message.clone();
            Box::pin(async move { Err(wasmtime::Error::msg(message)) })
        }),
        false => scope.func_new(name, move |_, _, _, _| {
            Err(wasmtime::Error::msg(message.clone()))
        }),
    }
}

/// The host type of every stubbed resource: none is ever created.
struct StubResource;

fn stub_resource<T: 'static>(
    scope: &mut LinkerInstance<'_, T>,
    name: &str,
) -> wasmtime::Result<()> {
    scope.resource(name, ResourceType::host::<StubResource>(), |_, _| Ok(()))
}

/// Fixed clocks and randomness for build runs.
mod deterministic {
    use std::time::Duration;

    use wasmtime_wasi::{Deterministic, HostMonotonicClock, HostWallClock, WasiCtxBuilder};

    /// 2000-01-01T00:00:00Z: a wall clock that never moves.
    struct FixedWallClock;

    impl HostWallClock for FixedWallClock {
        fn resolution(&self) -> Duration {
            Duration::from_secs(1)
        }
        fn now(&self) -> Duration {
            Duration::from_secs(946_684_800)
        }
    }

    struct FixedMonotonicClock;

    impl HostMonotonicClock for FixedMonotonicClock {
        fn resolution(&self) -> u64 {
            1
        }
        fn now(&self) -> u64 {
            0
        }
    }

    pub fn configure(wasi: &mut WasiCtxBuilder) {
        wasi.wall_clock(FixedWallClock)
            .monotonic_clock(FixedMonotonicClock)
            .secure_random(Deterministic::new(b"wit-dylib build".to_vec()))
            .insecure_random(Deterministic::new(b"insecure".to_vec()))
            .insecure_random_seed(2);
    }
}
