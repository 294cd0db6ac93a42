//! Running components under wasmtime.

use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, Result};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{
    Component, Linker, LinkerInstance, Resource, ResourceAny, ResourceTable, ResourceType, Val,
};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// One engine for every test: compiled code is shared and the configuration
/// (wasm exceptions, for setjmp/longjmp) is the same everywhere.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.wasm_exceptions(true);
        config.wasm_component_model_map(true);
        Engine::new(&config).expect("a valid wasmtime configuration")
    })
}

/// The store's data: WASI plus what the component wrote to stderr.
pub struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
    stderr: MemoryOutputPipe,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A host function: receives the arguments, returns the results.
pub type HostFn = Box<dyn Fn(&[Val]) -> Result<Vec<Val>> + Send + Sync>;

/// An instantiated component with WASI and the given root-level imports.
pub struct Instance {
    store: Store<Host>,
    instance: wasmtime::component::Instance,
}

impl Instance {
    /// Instantiates `component` (binary) with WASI, each of `imports` as a
    /// function of the world's root, and the matrix convention's resources
    /// for every other resource it imports (see [`provide_tag_resources`]).
    pub fn new(component: &[u8], imports: Vec<(&str, HostFn)>) -> Result<Instance> {
        let engine = engine();
        let component = Component::new(engine, component)
            .map_err(anyhow::Error::from)
            .context("compiling the component")?;
        let mut linker = Linker::<Host>::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
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
                })
                .map_err(anyhow::Error::from)?;
        }
        provide_tag_resources(&mut linker, &component).map_err(anyhow::Error::from)?;
        let stderr = MemoryOutputPipe::new(1 << 20);
        let wasi = WasiCtx::builder().stderr(stderr.clone()).build();
        let mut store = Store::new(
            engine,
            Host {
                wasi,
                table: ResourceTable::new(),
                stderr,
            },
        );
        let instance = linker
            .instantiate(&mut store, &component)
            .map_err(anyhow::Error::from)
            .context("instantiating the component")?;
        Ok(Instance { store, instance })
    }

    /// Calls export `name` at the world's root and returns its results. A
    /// trap's error includes what the component wrote to stderr (panic
    /// messages end up there).
    pub fn call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>> {
        self.call_in(None, name, args)
    }

    /// Calls export `name` of the exported interface `interface` (or of the
    /// root, for `None`).
    pub fn call_in(
        &mut self,
        interface: Option<&str>,
        name: &str,
        args: &[Val],
    ) -> Result<Vec<Val>> {
        let parent = match interface {
            Some(interface) => Some(
                self.instance
                    .get_export_index(&mut self.store, None, interface)
                    .with_context(|| format!("the component exports no `{interface}`"))?,
            ),
            None => None,
        };
        let func = self
            .instance
            .get_export_index(&mut self.store, parent.as_ref(), name)
            .and_then(|index| self.instance.get_func(&mut self.store, index))
            .with_context(|| format!("the component exports no function `{name}`"))?;
        let mut results = vec![Val::Bool(false); func.ty(&self.store).results().len()];
        if let Err(err) = func.call(&mut self.store, args, &mut results) {
            let stderr = self.stderr();
            return Err(anyhow::Error::from(err)
                .context(format!("calling `{name}` failed; stderr:\n{stderr}")));
        }
        Ok(results)
    }

    /// Everything the component wrote to stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.store.data().stderr.contents()).into_owned()
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
    let engine = engine();
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
