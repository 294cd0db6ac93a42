//! Pure components: a linked component imports the WASI interfaces that libc
//! and Rust's std use (files, environment, clocks, ...) besides its world's
//! imports. [`stub_wasi`] satisfies every import the world does not name
//! with a stub that traps when called, so that the result imports exactly
//! its world and runs on any host that provides that world.
//!
//! The stubs are one component: a world exporting those interfaces, given a
//! core module whose every function is `unreachable`
//! (`wit_component::dummy_module`), composed in front of the component with
//! wac-graph.

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use wit_component::{DecodedWasm, StringEncoding};
use wit_parser::{LiftLowerAbi, ManglingAndAbi, Resolve, WorldId, WorldItem};

use crate::compose;

/// Composes `component` (built for `world`) with stubs for every interface
/// it imports that `world` does not, and checks that the result imports
/// exactly the world's imports.
pub fn stub_wasi(component: &[u8], resolve: &Resolve, world: WorldId) -> Result<Vec<u8>> {
    let wanted = world_imports(resolve, world);
    let (decoded, component_world) = decode(component)?;
    let mut extra = Vec::new();
    for (key, item) in &decoded.worlds[component_world].imports {
        let name = decoded.name_world_key(key);
        if wanted.contains(&name) {
            continue;
        }
        match item {
            WorldItem::Interface { .. } => extra.push(name),
            // Only the world's own imports can be functions or types.
            _ => bail!("the component imports `{name}`, which is not in its world"),
        }
    }
    if extra.is_empty() {
        return Ok(component.to_vec());
    }

    let exports: Vec<String> = decoded.worlds[component_world]
        .exports
        .keys()
        .map(|key| decoded.name_world_key(key))
        .collect();
    let stubs = stubs_component(decoded, &extra)?;
    let exports: Vec<&str> = exports.iter().map(String::as_str).collect();
    let pure = compose::chain(&[("stubs", &stubs), ("component", component)], &exports)
        .context("composing the component with its WASI stubs")?;

    let (decoded, pure_world) = decode(&pure)?;
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
    Ok(pure)
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

/// A component exporting `interfaces` (names in `resolve`, the component's
/// decoded type), every function of which traps.
fn stubs_component(mut resolve: Resolve, interfaces: &[String]) -> Result<Vec<u8>> {
    let mut wit = String::from("package wit-dylib:stubs;\nworld stubs {\n");
    for name in interfaces {
        wit.push_str(&format!("  export {name};\n"));
    }
    wit.push_str("}\n");
    let package = resolve
        .push_str("wit-dylib-stubs.wit", &wit)
        .context("describing the WASI stubs")?;
    let world = resolve.select_world(&[package], Some("stubs"))?;
    let mangling = ManglingAndAbi::Legacy(LiftLowerAbi::Sync);
    let mut module = wit_component::dummy_module(&resolve, world, mangling);
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        StringEncoding::UTF8,
        false,
    )?;
    wit_component::ComponentEncoder::default()
        .module(&module)?
        .validate(true)
        .encode()
        .context("encoding the WASI stubs")
}
