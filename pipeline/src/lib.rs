//! Script + WIT world → component, for any interpreter built on
//! `wit-dylib-sdk`. The stages, each usable on its own:
//!
//! 1. **check** the script on the host, without running it (the
//!    interpreter's optional [`Interpreter::check`]: parsing only);
//! 2. **generate** the world library with our generator ([`world_library`]),
//!    refusing worlds the interpreter cannot serve;
//! 3. **link** interpreter, world library, script and `libc.so` into a
//!    component ([`link`]);
//! 4. **run it sandboxed** ([`runtime`]): instantiate it under wasmtime with no
//!    host capabilities and limits on fuel and memory, which runs the
//!    interpreter's start-up and the script's top level; the interpreter
//!    fails there, with a message, if the script misses an export;
//! 5. **snapshot** that run with `wasmtime-wizer` ([`preinit`]), so instances
//!    start where it ended;
//! 6. optionally **stub WASI** (`stub`, in the same rewrite of the snapshot):
//!    every interface the world does not import is removed and its functions
//!    replaced by stubs that trap, inside the component, so that it imports
//!    exactly its world.
//!
//! [`componentize`] runs them in order. Nothing here knows a language: an
//! [`Interpreter`] brings its library and its host-side check.

pub mod cache;
pub mod compose;
pub mod concurrency;
mod core_module;
pub mod deadline;
mod link;
pub mod preinit;
pub mod profile;
mod prune;
pub mod runtime;
mod segments;
pub mod streams;
mod stub;
mod sync_only;
mod versions;
mod world;

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, bail};
use wit_parser::{Resolve, WorldId};

pub use link::{link, task_hook_library_for};
pub use preinit::PreinitUnsupported;
pub use runtime::{LimitReached, Limits};
pub use world::{load_world, require_sync, stack_pointer_for, world_library};

/// A script: its name (used in messages and tracebacks) and source.
pub struct Script {
    pub name: String,
    pub source: Vec<u8>,
}

impl Script {
    /// Reads the script at `path`; its name is the file name.
    pub fn read(path: &std::path::Path) -> Result<Script> {
        let source =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(Script { name, source })
    }
}

/// An interpreter the pipeline can build components with: its dylib (built
/// for wasm32-wasip2 on the SDK, or against `wit_dylib.h` in any language)
/// and the `libc.so` it links with, either compiled into the program
/// (borrowed) or read at run time (owned).
pub struct Interpreter {
    /// The language, for messages ("Lua").
    pub language: String,
    /// The interpreter's dylib file name, e.g. `lua_interpreter.so`.
    pub library_name: String,
    /// The interpreter's dylib.
    pub library: Cow<'static, [u8]>,
    /// Checks a script on the host without running it (e.g. parses it);
    /// errors name the script and the place. Without one, the script is
    /// only checked when it runs in the sandbox.
    pub check: Option<fn(&Script) -> Result<()>>,
    /// Whether it serves async functions, futures and streams.
    pub supports_async: bool,
    /// The `libc.so` it links with: all of wasi-libc, or one trimmed to
    /// what the interpreter and world libraries import.
    pub libc: Cow<'static, [u8]>,
}

impl Interpreter {
    /// The interpreter dylib at `path`, read now, linked with `libc`; its
    /// language is named after the file. It is taken to serve async
    /// functions (the world library refuses nothing the SDK does not).
    pub fn read(path: &Path, libc: Cow<'static, [u8]>) -> Result<Interpreter> {
        let library =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        link::check_dylib(&library).with_context(|| path.display().to_string())?;
        let stem = path.file_stem().map_or_else(
            || "interpreter".into(),
            |s| s.to_string_lossy().into_owned(),
        );
        Ok(Interpreter {
            language: stem.clone(),
            library_name: format!("{stem}.so"),
            library: Cow::Owned(library),
            check: None,
            supports_async: true,
            libc,
        })
    }

    /// Runs the host-side check, if the interpreter has one.
    pub fn check(&self, script: &Script) -> Result<()> {
        match self.check {
            Some(check) => check(script),
            None => Ok(()),
        }
    }
}

/// How [`componentize`] builds.
#[derive(Clone, Debug)]
pub struct Options {
    /// Snapshot the start-up ([`preinit`]); otherwise every instance runs
    /// the script's top level when it starts.
    pub preinit: bool,
    /// Make the component import exactly its world (WASI stubs). Needs
    /// `preinit`: an interpreter's start-up uses WASI (clocks, environment).
    pub stub_wasi: bool,
    /// Limits on the build-time run of the script.
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            preinit: true,
            stub_wasi: false,
            limits: Limits::default(),
        }
    }
}

/// Checks `script`, links it with `interpreter` for `world` and runs its top
/// level in the sandbox; the result is pre-initialised unless
/// `options.preinit` is off. Componentizing the same inputs twice gives the
/// same bytes.
pub fn componentize(
    interpreter: &Interpreter,
    script: &Script,
    resolve: &Resolve,
    world: WorldId,
    options: &Options,
) -> Result<Vec<u8>> {
    if options.stub_wasi && !options.preinit {
        bail!(
            "stubbing WASI needs pre-initialisation: the interpreter's start-up calls WASI, \
             which would trap in every instance"
        );
    }
    interpreter.check(script)?;
    if !interpreter.supports_async {
        require_sync(resolve, world, &interpreter.language)?;
    }
    let task_hook = link::exports(
        &interpreter.library,
        wit_dylib_generator::INTERPRETER_TASK_HOOK,
    );
    let stack_pointer = stack_pointer_for(resolve, world, task_hook);
    let mut library_imports = link::import_modules(&interpreter.library);
    library_imports.extend(link::import_modules(&interpreter.libc));
    let world_library = world_library(resolve, world, stack_pointer, &library_imports)?;
    // Without `wasi:random` at run time, the SDK must not ask for entropy;
    // an interpreter without the SDK's `wit_dylib_preinit` is not told.
    let no_entropy = options.stub_wasi
        && !imports_wasi_random(resolve, world)
        && link::exports(&interpreter.library, "wit_dylib_preinit");
    let init = match options.preinit {
        true => Some(preinit::init_library(no_entropy)?),
        false => None,
    };
    let component = link(interpreter, script, &world_library, init.as_deref())?;

    let engine = runtime::build_engine()?;
    let sandbox = runtime::Sandbox {
        limits: options.limits,
        inherit_stdout: false,
        deterministic: true,
    };
    // The WASI interfaces to stub, removed with the build-time import in
    // one rewrite of the snapshot.
    let stubbed = match options.stub_wasi {
        true => stub::unnamed_imports(&component, resolve, world)?,
        false => BTreeSet::new(),
    };
    let started = match options.preinit {
        true => preinit::snapshot(&engine, &component, &sandbox, script, &stubbed),
        false => runtime::instantiate_in(&engine, &component, &sandbox, |linker, component| {
            runtime::stub_imports(linker, component, preinit::BUILD_TIME_IMPORT)
        })
        .map(|_| component),
    };
    let component = started
        .with_context(|| format!("running the top level of {} in the sandbox", script.name))?;
    if options.stub_wasi {
        stub::check_imports(&component, resolve, world)?;
    }
    Ok(component)
}

/// Whether the world imports the `wasi:random` libc draws entropy from:
/// WASI 0.2's. A WASI 0.3 world's `wasi:random@0.3.0` does not count, as
/// libc's 0.2 import is stubbed beside it.
fn imports_wasi_random(resolve: &Resolve, world: WorldId) -> bool {
    resolve.worlds[world].imports.keys().any(|key| {
        resolve
            .name_world_key(key)
            .starts_with("wasi:random/random@0.2.")
    })
}
