//! Running components under wasmtime: `lua_demo::runtime` (WASI, stderr in
//! trap errors) plus what the tests provide on top: root-level host
//! functions and the matrix convention's resources.

use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Result;
use lua_demo::runtime::{self, Host, Running};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{
    Component, Linker, LinkerInstance, Resource, ResourceAny, ResourceType, Val,
};
use wasmtime::{Config, Engine};

/// One engine for every test, so that the configuration is the same everywhere:
/// the pipeline's (`lua_demo::runtime::engine`: exceptions, maps, fuel) plus
/// the component model's async ABI, futures and streams, which the async
/// matrix worlds use and the `val` interpreter's async support imports.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.wasm_exceptions(true);
        config.wasm_component_model_map(true);
        config.consume_fuel(true);
        config.wasm_backtrace_max_frames(None);
        config.wasm_component_model_async(true);
        Engine::new(&config).expect("a valid wasmtime configuration")
    })
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
