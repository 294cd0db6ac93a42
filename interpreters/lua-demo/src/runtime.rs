//! Running components under wasmtime with WASI.

use anyhow::{Context, Result};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Instance, Linker, LinkerInstance, ResourceTable, Val};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The store's data: WASI, with stderr captured for error messages.
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

/// A running component.
pub struct Running {
    pub store: Store<Host>,
    pub instance: Instance,
}

/// The engine: wasm exceptions on, for Lua's setjmp/longjmp.
pub fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_exceptions(true);
    config.wasm_component_model_map(true);
    Engine::new(&config).map_err(anyhow::Error::from)
}

/// Instantiates `component` with WASI (stdout inherited) and whatever
/// `define` adds to the linker (it also gets the compiled component).
pub fn instantiate(
    engine: &Engine,
    component: &[u8],
    define: impl FnOnce(&mut Linker<Host>, &Component) -> wasmtime::Result<()>,
) -> Result<Running> {
    let component = Component::new(engine, component)
        .map_err(anyhow::Error::from)
        .context("compiling the component")?;
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
    define(&mut linker, &component).map_err(anyhow::Error::from)?;
    let stderr = MemoryOutputPipe::new(1 << 20);
    let wasi = WasiCtx::builder()
        .inherit_stdout()
        .stderr(stderr.clone())
        .build();
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
        .map_err(|e| with_stderr(&store, anyhow::Error::from(e)))
        .context("instantiating the component")?;
    Ok(Running { store, instance })
}

impl Running {
    /// Calls `name` of exported interface `interface` (`None`: the root).
    pub fn call(&mut self, interface: Option<&str>, name: &str, args: &[Val]) -> Result<Vec<Val>> {
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
        func.call(&mut self.store, args, &mut results)
            .map_err(|e| with_stderr(&self.store, anyhow::Error::from(e)))
            .with_context(|| format!("calling `{name}` failed"))?;
        Ok(results)
    }
}

/// Adds what the component wrote to stderr (panic and Lua error messages)
/// to a trap's error.
fn with_stderr(store: &Store<Host>, err: anyhow::Error) -> anyhow::Error {
    let stderr = String::from_utf8_lossy(&store.data().stderr.contents())
        .trim()
        .to_string();
    if stderr.is_empty() {
        err
    } else {
        err.context(stderr)
    }
}

/// Defines every function the component imports, other than WASI's, as one
/// that fails when called: enough to run exports that do not need them.
pub fn stub_imports(linker: &mut Linker<Host>, component: &Component) -> wasmtime::Result<()> {
    let engine = component.engine().clone();
    for (name, import) in component.component_type().imports(&engine) {
        if name.starts_with("wasi:") {
            continue;
        }
        match import.ty {
            ComponentItem::ComponentFunc(_) => stub(&mut linker.root(), name, name)?,
            ComponentItem::ComponentInstance(instance) => {
                let mut scope = linker.instance(name)?;
                for (func, item) in instance.exports(&engine) {
                    if let ComponentItem::ComponentFunc(_) = item.ty {
                        stub(&mut scope, func, &format!("{name}#{func}"))?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn stub(scope: &mut LinkerInstance<'_, Host>, name: &str, qualified: &str) -> wasmtime::Result<()> {
    let message = format!("import `{qualified}` was called, but `lua-demo run` only provides WASI");
    scope.func_new(name, move |_, _, _, _| {
        Err(wasmtime::Error::msg(message.clone()))
    })
}
