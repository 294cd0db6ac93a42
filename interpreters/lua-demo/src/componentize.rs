//! Script + WIT world → component.

use std::path::Path;

use anyhow::{Context, Result, bail};
use wit_component::StringEncoding;
use wit_parser::{Resolve, WorldId};

use crate::check_script;

/// The prebuilt libraries the components link (see build.rs).
const LUA_INTERPRETER: &[u8] = include_bytes!(concat!(
    env!("WIT_DYLIB_ARTIFACTS_DIR"),
    "/lua_interpreter.so"
));
const TOY_INTERPRETER: &[u8] = include_bytes!(concat!(
    env!("WIT_DYLIB_ARTIFACTS_DIR"),
    "/toy_interpreter.so"
));
const LIBC: &[u8] = include_bytes!(concat!(env!("WIT_DYLIB_ARTIFACTS_DIR"), "/libc.so"));
const LIBSETJMP: &[u8] = include_bytes!(concat!(env!("WIT_DYLIB_ARTIFACTS_DIR"), "/libsetjmp.so"));

/// A script: its name (used in messages and tracebacks) and source. Its
/// language follows from the name: `.toy` for the toy language, Lua
/// otherwise.
pub struct Script {
    pub name: String,
    pub source: Vec<u8>,
}

/// The languages a script may be written in.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Language {
    Lua,
    Toy,
}

impl Script {
    pub fn language(&self) -> Language {
        match self.name.ends_with(".toy") {
            true => Language::Toy,
            false => Language::Lua,
        }
    }

    pub fn read(path: &Path) -> Result<Script> {
        let source =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(Script { name, source })
    }
}

/// Parses the WIT at `path` (a file, or a directory with `deps/`) and picks
/// `world`, or the only world when `world` is `None`.
pub fn load_world(path: &Path, world: Option<&str>) -> Result<(Resolve, WorldId)> {
    let mut resolve = Resolve::default();
    let (package, _) = match resolve.push_path(path) {
        Ok(loaded) => loaded,
        // Rendered against the source map: `file:line:column` and the line.
        Err(err) => bail!("cannot load WIT: {}", resolve.render_error(&err)),
    };
    let id = match resolve.select_world(&[package], world) {
        Ok(id) => id,
        Err(err) => {
            let worlds: Vec<&str> = resolve.packages[package]
                .worlds
                .keys()
                .map(String::as_str)
                .collect();
            bail!(
                "{err:#} (worlds in {}: {})",
                path.display(),
                worlds.join(", ")
            )
        }
    };
    Ok((resolve, id))
}

/// Checks `script` against `world` and links it with its interpreter, the
/// world's glue library, libc and libsetjmp into a component.
pub fn componentize(script: &Script, resolve: &Resolve, world: WorldId) -> Result<Vec<u8>> {
    check_script(script, resolve, world)?;
    let mut glue =
        wit_dylib::create(resolve, world, None).context("generating the world library")?;
    wit_component::embed_component_metadata(
        &mut glue,
        resolve,
        world,
        StringEncoding::UTF8,
        false,
    )?;
    link(script, &glue)
}

/// Links `script` with its interpreter, a world's glue library (with the
/// world's component type embedded), libc and libsetjmp into a component.
pub fn link(script: &Script, glue: &[u8]) -> Result<Vec<u8>> {
    let mut linker = wit_component::Linker::default();
    // The interpreter first: its `cabi_realloc` becomes the component's.
    match script.language() {
        Language::Lua => linker.library("lua_interpreter.so", LUA_INTERPRETER, false)?,
        Language::Toy => linker.library("toy_interpreter.so", TOY_INTERPRETER, false)?,
    };
    linker.library("world.so", glue, false)?;
    linker.library(
        "script.so",
        &wit_dylib_script_library::build(&script.name, &script.source),
        false,
    )?;
    linker.library("libc.so", LIBC, false)?;
    linker.library("libsetjmp.so", LIBSETJMP, false)?;
    linker.encode().context("linking the component")
}
