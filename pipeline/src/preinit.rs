//! Pre-initialisation: run a component's start-up once, at build time, in
//! the sandbox, and snapshot the result with `wasmtime-wizer`, so that
//! instantiating the output does not run it again.
//!
//! A linked component starts in the start function of the linker's fixup
//! module: data relocations, then every library's `__wasm_call_ctors`, which
//! is where the SDK calls the interpreter's `initialize` (the interpreter
//! loads and runs the script's top level there). Wizer instruments the
//! component, we instantiate it (which runs all of that) and call its
//! initialisation export; wizer then reads back every memory and global and
//! writes them into the modules as data, dropping their start functions.
//!
//! Wizer calls an exported `wizer-initialize: func()` after instantiation.
//! Start-up has run by then; [`init_library`] is a function of that name
//! that at most tells the SDK what the build knows about the instances to
//! come (`wit_dylib_preinit`), linked in next to the other libraries with a
//! world of its own (the linker's component type is the union of its
//! libraries' worlds).
//! The same library serves the script at build time (see [`init_library`]),
//! so that the component compiled for the build-time run does not change
//! with the script.
//! Wizer can drop that export itself, but then also drops the core export
//! the component still lifts it from (with world-level functions the two have
//! the same name), so we keep it and remove the component export, and the
//! script import, from the snapshot ourselves ([`crate::stub::without`]):
//! the result exports exactly the script's world.

use std::collections::BTreeSet;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use anyhow::{Context as _, Result, anyhow, bail};
use wasm_encoder::{
    CodeSection, CustomSection, EntityType, ExportKind, ExportSection, Function, FunctionSection,
    ImportSection, Module, TypeSection, ValType,
};
use wasmtime::Engine;
use wasmtime::component::{Instance, Lift, WasmList};
use wasmtime_wizer::{ComponentInstanceState, Wizer};
use wit_component::StringEncoding;
use wit_parser::Resolve;

use crate::deadline::block_on_within;
use crate::runtime::{self, Host, Sandbox, block_on};

/// The export wizer calls once the component is instantiated.
pub const INIT_EXPORT: &str = "wizer-initialize";

/// The SDK's `wit_dylib_preinit` option: instances will have no
/// `wasi:random` (the SDK's `PREINIT_NO_ENTROPY`; the SDK is a guest crate,
/// so the bit is repeated here rather than shared).
const PREINIT_NO_ENTROPY: i32 = 1;

/// The build-time import through which [`init_library`] fetches the
/// script: an interface of the pre-initialisation library's own world.
pub const SCRIPT_SOURCE: &str = "wit-dylib:preinit/source";

/// The pre-initialisation library:
/// - it exports [`INIT_EXPORT`]. With `no_entropy` that calls the SDK's
///   `wit_dylib_preinit` to say instances will have no `wasi:random`;
///   otherwise it does nothing (and needs no SDK);
/// - it defines `wit_dylib_script` (docs/abi.md §10.1) over a blob it asks
///   the build for once, through [`SCRIPT_SOURCE`]'s `get`, and keeps;
/// - it defines `wit_dylib_script_release`, which clears the blob and
///   forgets it: an interpreter that has read its script calls it, and the
///   source stays out of the snapshot.
///
/// With it, the component built for the build-time run contains no script:
/// a rebuild after an edit is the same component, which the compilation
/// cache has already compiled. The snapshot keeps the blob, and the import
/// is removed from it ([`snapshot`]).
pub fn init_library(no_entropy: bool) -> Result<Vec<u8>> {
    let mut module = Module::new();
    // Two aligned words at `__memory_base`: the blob's address and length
    // (where the canonical ABI writes `get`'s result).
    module.section(&CustomSection {
        name: "dylink.0".into(),
        data: wit_dylib_script_library::dylink_mem_info_aligned(8, 2).into(),
    });
    let mut types = TypeSection::new();
    types.ty().function([], []);
    types.ty().function([ValType::I32], []);
    types.ty().function([ValType::I32], [ValType::I32]);
    module.section(&types);
    let mut imports = ImportSection::new();
    wit_dylib_script_library::import_memory_and_base(&mut imports);
    // `get: func() -> list<u8>`, its result written at the pointer given.
    imports.import(SCRIPT_SOURCE, "get", EntityType::Function(1));
    if no_entropy {
        imports.import("env", "wit_dylib_preinit", EntityType::Function(1));
    }
    module.section(&imports);
    let (get, preinit) = (0, 1);
    let first_own = 1 + u32::from(no_entropy);
    let (init, script, release) = (first_own, first_own + 1, first_own + 2);
    let mut functions = FunctionSection::new();
    functions.function(0);
    functions.function(2);
    functions.function(0);
    module.section(&functions);
    let mut exports = ExportSection::new();
    exports.export(INIT_EXPORT, ExportKind::Func, init);
    exports.export("wit_dylib_script", ExportKind::Func, script);
    exports.export(wit_dylib_script_library::RELEASE, ExportKind::Func, release);
    module.section(&exports);

    let mut code = CodeSection::new();
    let mut body = Function::new([]);
    if no_entropy {
        body.instructions()
            .i32_const(PREINIT_NO_ENTROPY)
            .call(preinit);
    }
    body.instructions().end();
    code.function(&body);
    // wit_dylib_script(len): fetch once, then `*len = length; return address`.
    let word = |offset| wasm_encoder::MemArg {
        offset,
        align: 2,
        target: wasm_encoder::MemArgTarget::Memory(0),
        ordering: None,
    };
    let mut body = Function::new([]);
    body.instructions()
        .global_get(0)
        .i32_load(word(0))
        .i32_eqz()
        .if_(wasm_encoder::BlockType::Empty)
        .global_get(0)
        .call(get)
        .end()
        .local_get(0)
        .global_get(0)
        .i32_load(word(4))
        .i32_store(word(0))
        .global_get(0)
        .i32_load(word(0))
        .end();
    code.function(&body);
    // wit_dylib_script_release(): zero the blob (nothing if never fetched:
    // address and length are 0), then both words, so that the blob is not
    // in the snapshot and a later `wit_dylib_script` fetches it again (at
    // build time) or traps (in a snapshot, where `get` is gone).
    let mut body = Function::new([]);
    body.instructions()
        .global_get(0)
        .i32_load(word(0))
        .i32_const(0)
        .global_get(0)
        .i32_load(word(4))
        .memory_fill(0)
        .global_get(0)
        .i64_const(0)
        .i64_store(word(0))
        .end();
    code.function(&body);
    module.section(&code);
    let mut library = module.finish();

    let mut resolve = Resolve::default();
    let package = resolve.push_str(
        "wit-dylib-preinit.wit",
        &format!(
            "package wit-dylib:preinit;\n\
             interface source {{ get: func() -> list<u8>; }}\n\
             world init {{ import source; export {INIT_EXPORT}: func(); }}"
        ),
    )?;
    let world = resolve.select_world(&[package], Some("init"))?;
    wit_component::embed_component_metadata(
        &mut library,
        &resolve,
        world,
        StringEncoding::UTF8,
        false,
    )?;
    Ok(library)
}

/// Instantiates `component` (linked with [`init_library`]) in `sandbox`,
/// with every non-WASI import failing if called, and returns the snapshot,
/// without the build-time import and export, and with the instance imports
/// named in `stubbed` replaced by stubs that trap (`--stub-wasi`).
/// Errors are the start-up's errors, explained by [`runtime::explain`].
pub fn snapshot(
    engine: &Engine,
    component: &[u8],
    sandbox: &Sandbox,
    script: &crate::Script,
    stubbed: &BTreeSet<String>,
) -> Result<Vec<u8>> {
    let mut wizer = Wizer::new();
    wizer.init_func(INIT_EXPORT).keep_init_func(true);
    // Wizer panics on some modules it cannot handle (e.g. one that imports
    // an exception tag): that is an error of this build, not a crash.
    let (cx, instrumented) = catch_panic(|| wizer.instrument_component(component))?
        .map_err(|e| anyhow!("{e:#}"))
        .map_err(|e| e.context("preparing the component for pre-initialisation"))?;
    let compiled = runtime::compile(engine, &instrumented)?;
    let blob = wit_dylib_script_library::blob(&script.name, &script.source);
    let linker = runtime::linker(&compiled, |linker, component| {
        runtime::stub_imports(linker, component, BUILD_TIME_IMPORT)?;
        linker.allow_shadowing(true);
        linker
            .instance(SCRIPT_SOURCE)?
            .func_wrap("get", move |_, ()| Ok((blob.clone(),)))
    })?;
    let mut store = runtime::store(engine, sandbox)?;
    // The script's top level runs here, within the time limit as a whole.
    let timeout = sandbox.limits.timeout;
    let instance = block_on_within(linker.instantiate_async(&mut store, &compiled), timeout)
        .and_then(|instantiated| instantiated.map_err(|e| runtime::explain(&store, e.into())))?;
    let init = instance
        .get_func(&mut store, INIT_EXPORT)
        .ok_or_else(|| anyhow!("the component does not export `{INIT_EXPORT}`"))?;
    block_on_within(init.call_async(&mut store, &[], &mut []), timeout)
        .and_then(|called| called.map_err(|e| runtime::explain(&store, e.into())))?;

    let mut state = SnapshotState {
        store: &mut store,
        instance,
        error: None,
    };
    let snapshot = catch_panic(|| poll_ready(wizer.snapshot_component(&cx, &mut state)))??;
    if let Some(err) = state.error {
        return Err(err.context("reading the initialised state"));
    }
    let snapshot = snapshot.map_err(|e| anyhow!("{e:#}").context("writing the snapshot"))?;
    // What only the build used goes: the init export, the script import
    // (its lowering becomes a trap; the blob was fetched and is kept) and
    // the code that only start-up runs; the memory is cut into segments anew.
    let mut imports = stubbed.clone();
    imports.insert(SCRIPT_SOURCE.to_string());
    crate::stub::without(
        &snapshot,
        &imports,
        &[INIT_EXPORT.to_string()].into(),
        &clean_module,
    )
    .context("removing the build-time export, import and code, and stubbing WASI")
}

/// A core module of the snapshot without its start-up code
/// ([`crate::prune`]) and with its data segments cut again
/// ([`crate::segments`]); `None` if neither changes it.
fn clean_module(module: &[u8]) -> Result<Option<Vec<u8>>> {
    let pruned = crate::prune::start_up_code(module)?;
    let module_now = pruned.as_deref().unwrap_or(module);
    Ok(crate::segments::recut(module_now)?.or(pruned))
}

/// Why a non-WASI import fails at build time.
pub const BUILD_TIME_IMPORT: &str = "imports cannot be called while the script's top level runs \
     at build time; call them from exported functions";

/// Wizer reads the instrumented instance's state through accessor exports;
/// we call them synchronously. An error is kept and reported afterwards,
/// since the trait's methods cannot return one.
struct SnapshotState<'a> {
    store: &'a mut wasmtime::Store<Host>,
    instance: Instance,
    error: Option<anyhow::Error>,
}

impl SnapshotState<'_> {
    fn call<R: Lift + Default + 'static>(&mut self, instance: &str, func: &str) -> R {
        match self.try_call(instance, func) {
            Ok(value) => value,
            Err(err) => {
                self.error.get_or_insert(err);
                R::default()
            }
        }
    }

    fn try_call<R: Lift + 'static>(&mut self, instance: &str, func: &str) -> Result<R> {
        let store = &mut *self.store;
        let parent = self
            .instance
            .get_export_index(&mut *store, None, instance)
            .ok_or_else(|| anyhow!("no accessor instance `{instance}`"))?;
        let index = self
            .instance
            .get_export_index(&mut *store, Some(&parent), func)
            .ok_or_else(|| anyhow!("no accessor `{instance}#{func}`"))?;
        let typed = self
            .instance
            .get_typed_func::<(), (R,)>(&mut *store, index)
            .map_err(anyhow::Error::from)?;
        let (value,) = block_on(typed.call_async(&mut *store, ())).map_err(anyhow::Error::from)?;
        Ok(value)
    }
}

impl ComponentInstanceState for SnapshotState<'_> {
    fn call_func_ret_list_u8(
        &mut self,
        instance: &str,
        func: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) -> impl Future<Output = ()> + Send {
        match self.try_call::<WasmList<u8>>(instance, func) {
            Ok(list) => contents(list.as_le_slice(&*self.store)),
            Err(err) => {
                self.error.get_or_insert(err);
                contents(&[]);
            }
        }
        std::future::ready(())
    }

    fn call_func_ret_s32(
        &mut self,
        instance: &str,
        func: &str,
    ) -> impl Future<Output = i32> + Send {
        std::future::ready(self.call(instance, func))
    }

    fn call_func_ret_s64(
        &mut self,
        instance: &str,
        func: &str,
    ) -> impl Future<Output = i64> + Send {
        std::future::ready(self.call(instance, func))
    }

    fn call_func_ret_f32(
        &mut self,
        instance: &str,
        func: &str,
    ) -> impl Future<Output = u32> + Send {
        std::future::ready(self.call::<f32>(instance, func).to_bits())
    }

    fn call_func_ret_f64(
        &mut self,
        instance: &str,
        func: &str,
    ) -> impl Future<Output = u64> + Send {
        std::future::ready(self.call::<f64>(instance, func).to_bits())
    }
}

/// Why a component cannot be pre-initialised: wasmtime-wizer gave up on it
/// (it panics on some modules). Building without pre-initialisation avoids
/// it; a command line says with which flag.
#[derive(Debug)]
pub struct PreinitUnsupported(pub String);

impl std::fmt::Display for PreinitUnsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "wasmtime-wizer cannot pre-initialise this component ({}); build it without \
             pre-initialisation",
            self.0
        )
    }
}

impl std::error::Error for PreinitUnsupported {}

/// Runs `f`, turning a panic into a [`PreinitUnsupported`] error.
fn catch_panic<R>(f: impl FnOnce() -> R) -> Result<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        anyhow::Error::new(PreinitUnsupported(message))
    })
}

/// Drives a future whose every step is immediately ready (all of ours are).
fn poll_ready<F: Future>(future: F) -> Result<F::Output> {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => bail!("the snapshot did not complete synchronously"),
    }
}
