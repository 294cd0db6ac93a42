//! Which libc symbols components need: what the interpreter dylibs and any
//! world library import that the full libc defines. The trimmed `libc.so`
//! exports exactly these.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};
use wasmparser::{Parser, Payload, TypeRef};

/// The libc symbols a world library from either generator (ours or
/// wasm-tools' `wit-dylib`) may import: its other imports are the
/// `wit_dylib_*` functions the interpreter defines, the component model's
/// built-ins and the linker's globals. `tests/tests/libc.rs` checks this
/// against generated worlds.
const WORLD_LIBRARY_IMPORTS: &[&str] = &["cabi_realloc"];

/// The symbols of `full_libc` that `dylibs` or a world library import.
pub fn needed(full_libc: &Path, dylibs: &[&Path]) -> Result<BTreeSet<String>> {
    let defined = exports(&read(full_libc)?)
        .with_context(|| format!("reading the exports of {}", full_libc.display()))?;
    let mut needed: BTreeSet<String> = WORLD_LIBRARY_IMPORTS
        .iter()
        .map(|s| s.to_string())
        .collect();
    for dylib in dylibs {
        let imports = imports(&read(dylib)?)
            .with_context(|| format!("reading the imports of {}", dylib.display()))?;
        needed.extend(imports.into_iter().filter(|name| defined.contains(name)));
    }
    Ok(needed)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// The symbols a dylib imports from other libraries: functions from `env`,
/// and the addresses of data (`GOT.mem`) and functions (`GOT.func`).
fn imports(module: &[u8]) -> Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::ImportSection(section) = payload? {
            for import in section.into_imports() {
                let import = import?;
                let symbol = match (import.module, import.ty) {
                    ("env", TypeRef::Func(_)) | ("GOT.mem" | "GOT.func", _) => import.name,
                    _ => continue,
                };
                names.insert(symbol.to_string());
            }
        }
    }
    Ok(names)
}

/// Every name a module exports.
fn exports(module: &[u8]) -> Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::ExportSection(section) = payload? {
            for export in section {
                names.insert(export?.name.to_string());
            }
        }
    }
    Ok(names)
}
