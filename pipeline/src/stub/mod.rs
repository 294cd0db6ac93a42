//! Pure components: a linked component imports the WASI interfaces that libc
//! and Rust's std use (files, environment, clocks, ...) besides its world's
//! imports. With `--stub-wasi`, every import the world does not name
//! ([`unnamed_imports`]) is replaced by a stub that traps when called, in
//! the same rewrite of the snapshot that removes its build-time import and
//! export ([`crate::preinit::snapshot`]); the result then imports exactly
//! its world ([`check_imports`]) and runs on any host that provides it.
//!
//! The stubs live in the component itself ([`rewrite`]): the imports are
//! removed and what was lowered from them becomes functions of one core
//! module that are each `unreachable`.

mod rewrite;

pub(crate) use rewrite::without;

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use wit_component::DecodedWasm;
use wit_parser::{Resolve, WorldId, WorldItem};

/// The interfaces `component` (built for `world`) imports that `world` does
/// not name: those to stub.
pub(crate) fn unnamed_imports(
    component: &[u8],
    resolve: &Resolve,
    world: WorldId,
) -> Result<BTreeSet<String>> {
    let wanted = world_imports(resolve, world);
    let (decoded, component_world) = decode(component)?;
    let mut extra = BTreeSet::new();
    for (key, item) in &decoded.worlds[component_world].imports {
        let name = decoded.name_world_key(key);
        if wanted.contains(&name) {
            continue;
        }
        match item {
            WorldItem::Interface { .. } => {
                extra.insert(name);
            }
            // Only the world's own imports can be functions or types.
            _ => bail!("the component imports `{name}`, which is not in its world"),
        }
    }
    Ok(extra)
}

/// Checks that the stubbed `component` imports exactly `world`'s imports.
pub(crate) fn check_imports(component: &[u8], resolve: &Resolve, world: WorldId) -> Result<()> {
    let wanted = world_imports(resolve, world);
    let (decoded, pure_world) = decode(component)?;
    let left: BTreeSet<String> = decoded.worlds[pure_world]
        .imports
        .keys()
        .map(|key| decoded.name_world_key(key))
        .filter(|name| !wanted.contains(name))
        .collect();
    if !left.is_empty() {
        bail!(
            "stubbing WASI left imports the world does not name: {}",
            left.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(())
}

/// The names of everything `world` imports (`a:b/c@1.0.0`, or a plain name).
fn world_imports(resolve: &Resolve, world: WorldId) -> BTreeSet<String> {
    resolve.worlds[world]
        .imports
        .keys()
        .map(|key| resolve.name_world_key(key))
        .collect()
}

fn decode(component: &[u8]) -> Result<(Resolve, WorldId)> {
    match wit_component::decode(component).context("decoding the component's type")? {
        DecodedWasm::Component(resolve, world) => Ok((resolve, world)),
        DecodedWasm::WitPackage(..) => bail!("expected a component, found a WIT package"),
    }
}
