//! Running components under wasmtime: `wit_dylib_pipeline::runtime` (WASI, stderr in
//! trap errors) plus what the tests provide on top: root-level host
//! functions and the matrix convention's resources.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, Result};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{
    Component, Linker, LinkerInstance, Resource, ResourceAny, ResourceType, Val,
};
use wasmtime::{CacheStore, Config, Engine};
use wit_dylib_pipeline::runtime::{self, Host, Running};

/// One engine for every test, so that the configuration is the same everywhere:
/// the pipeline's (`wit_dylib_pipeline::runtime::engine`: exceptions, maps,
/// fixed-length lists, fuel) plus
/// the component model's async ABI, futures and streams, which the async
/// matrix worlds use and the `val` interpreter's async support imports, and
/// error-context values.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.wasm_exceptions(true);
        config.wasm_component_model_map(true);
        config.wasm_component_model_fixed_length_lists(true);
        config.consume_fuel(true);
        config.wasm_backtrace_max_frames(None);
        config.wasm_component_model_async(true);
        config.wasm_component_model_error_context(true);
        config
            .enable_incremental_compilation(Arc::new(CompileCache::default()))
            .expect("cranelift is enabled");
        Engine::new(&config).expect("a valid wasmtime configuration")
    })
}

/// Cranelift's incremental cache, in memory: every test component holds the
/// same interpreter and libc, whose functions are then compiled only once
/// per test process. Bounded, so that long runs do not grow without end.
#[derive(Debug, Default)]
struct CompileCache {
    entries: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
    bytes: AtomicUsize,
}

/// What the cache may hold; later entries are not kept.
const COMPILE_CACHE_BYTES: usize = 512 << 20;

impl CacheStore for CompileCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let entries = self.entries.lock().unwrap();
        entries.get(key).map(|value| Cow::Owned(value.clone()))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let size = key.len() + value.len();
        if self.bytes.fetch_add(size, Ordering::Relaxed) + size > COMPILE_CACHE_BYTES {
            self.bytes.fetch_sub(size, Ordering::Relaxed);
            return false;
        }
        self.entries.lock().unwrap().insert(key.to_vec(), value);
        true
    }
}

pub use runtime::block_on;

/// A host function: receives the arguments, returns the results.
pub type HostFn = Box<dyn Fn(&[Val]) -> Result<Vec<Val>> + Send + Sync>;

/// An instantiated component.
pub struct Instance {
    running: Running,
}

impl Instance {
    /// Instantiates `component` (binary) with WASI, each of `imports` as a
    /// function of the world's root, and the matrix convention's resources
    /// for every other resource it imports (see [`provide_tag_resources`]).
    pub fn new(component: &[u8], imports: Vec<(&str, HostFn)>) -> Result<Instance> {
        let running = runtime::instantiate(engine(), component, |linker, component| {
            for (name, func) in imports {
                linker
                    .root()
                    .func_new(name, move |_store, _ty, params, results| {
                        let values = func(params).map_err(wasmtime::Error::from_anyhow)?;
                        if values.len() != results.len() {
                            return Err(wasmtime::Error::msg(format!(
                                "host function returned {} values, expected {}",
                                values.len(),
                                results.len()
                            )));
                        }
                        results.clone_from_slice(&values);
                        Ok(())
                    })?;
            }
            provide_tag_resources(linker, component)
        })?;
        Ok(Instance { running })
    }

    /// Instantiates `callee`, then `caller` with the callee's world-level
    /// function exports as its imports of the same names: a composition of
    /// the two done by wasmtime itself, for worlds with world-level resource
    /// types, which wac-graph 0.12 cannot compose (its encoder panics on a
    /// `borrow` in a world-level function type). Both get WASI and the
    /// matrix convention's resources from one linker, so a world-level
    /// resource is the same host resource on both sides.
    pub fn pair(callee: &[u8], caller: &[u8]) -> Result<Instance> {
        let engine = engine();
        let callee = runtime::compile(engine, callee).context("the callee")?;
        let caller = runtime::compile(engine, caller).context("the caller")?;
        let mut linker = runtime::linker(&callee, provide_tag_resources)?;
        let sandbox = runtime::Sandbox {
            inherit_stdout: true,
            ..runtime::Sandbox::default()
        };
        let mut store = runtime::store(engine, &sandbox)?;
        // The async entry points, as `runtime::instantiate_in` uses.
        let provider = block_on(linker.instantiate_async(&mut store, &callee))
            .map_err(|e| runtime::explain(&store, e.into()))
            .context("instantiating the callee")?;
        for (name, item) in caller.component_type().imports(engine) {
            // Functions the callee does not export (a world-level
            // resource's) are the host's, already in the linker.
            if !matches!(item.ty, ComponentItem::ComponentFunc(_)) {
                continue;
            }
            let Some(func) = provider.get_func(&mut store, name) else {
                continue;
            };
            linker
                .root()
                .func_new_async(name, move |mut store, _ty, params, results| {
                    Box::new(async move {
                        func.call_async(&mut store, params, results).await?;
                        // The borrows the caller lent to this forwarding
                        // call end with it (the callee's ended already).
                        for param in params {
                            if let Val::Resource(handle) = param
                                && !handle.owned()
                            {
                                handle.resource_drop_async(&mut store).await?;
                            }
                        }
                        Ok(())
                    })
                })
                .map_err(anyhow::Error::from)?;
        }
        let instance = block_on(linker.instantiate_async(&mut store, &caller))
            .map_err(|e| runtime::explain(&store, e.into()))
            .context("instantiating the caller")?;
        Ok(Instance {
            running: Running { store, instance },
        })
    }

    /// Calls export `name` at the world's root; a trap's error includes what
    /// the component wrote to stderr (panic messages end up there). An async
    /// export is called through wasmtime's concurrent API and awaited.
    pub fn call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>> {
        self.running.call(None, name, args)
    }

    /// Fuel left after the last call (calls start with
    /// [`runtime::Limits::DEFAULT_FUEL`]).
    pub fn fuel(&self) -> u64 {
        self.running.store.get_fuel().unwrap_or(0)
    }

    /// Calls export `name` of the exported interface `interface` (or of the
    /// root, for `None`).
    pub fn call_in(
        &mut self,
        interface: Option<&str>,
        name: &str,
        args: &[Val],
    ) -> Result<Vec<Val>> {
        self.running.call(interface, name, args)
    }
}

/// A log of strings shared between a host function and the test.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    pub fn record(&self, entry: String) {
        self.0.lock().unwrap().push(entry);
    }

    pub fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// The host's side of a resource in the matrix convention: its rep is its tag.
struct TagResource;

/// Defines every resource the component imports, other than WASI's, with the
/// matrix convention: `constructor(tag: u32)` and `tag: func() -> u32`.
fn provide_tag_resources(linker: &mut Linker<Host>, component: &Component) -> wasmtime::Result<()> {
    let engine = component.engine();
    let ty = component.component_type();
    for (name, item) in ty.imports(engine) {
        match item.ty {
            ComponentItem::Resource(_) => provide_tag_resource(&mut linker.root(), name)?,
            ComponentItem::ComponentInstance(instance) if !name.starts_with("wasi:") => {
                let resources: Vec<String> = instance
                    .exports(engine)
                    .filter(|(_, item)| matches!(item.ty, ComponentItem::Resource(_)))
                    .map(|(name, _)| name.to_string())
                    .collect();
                if !resources.is_empty() {
                    let mut instance = linker.instance(name)?;
                    for resource in &resources {
                        provide_tag_resource(&mut instance, resource)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn provide_tag_resource(linker: &mut LinkerInstance<'_, Host>, name: &str) -> wasmtime::Result<()> {
    linker.resource(name, ResourceType::host::<TagResource>(), |_, _| Ok(()))?;
    linker.func_new(
        &format!("[constructor]{name}"),
        |mut store, _ty, params, results| {
            let [Val::U32(tag)] = params else {
                wasmtime::bail!("constructor takes a u32 tag")
            };
            let own = Resource::<TagResource>::new_own(*tag);
            results[0] = Val::Resource(own.try_into_resource_any(&mut store)?);
            Ok(())
        },
    )?;
    linker.func_new(
        &format!("[method]{name}.tag"),
        |mut store, _ty, params, results| {
            let [Val::Resource(handle)] = params else {
                wasmtime::bail!("tag takes self")
            };
            let handle: ResourceAny = *handle;
            results[0] = Val::U32(handle.try_into_resource::<TagResource>(&mut store)?.rep());
            Ok(())
        },
    )?;
    Ok(())
}
