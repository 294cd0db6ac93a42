//! Composing components with `wac-graph`: each component's imports are
//! satisfied by the exports, of the same name, of the components before it.

use anyhow::{Context, Result};
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions, NodeId};

/// Composes a chain: `components[0]` is instantiated first; each later one
/// gets, for every import whose name an earlier one exports, that export.
/// Imports nobody provides (WASI) become imports of the composition. The
/// last component's `exports` are exported.
pub fn chain(components: &[(&str, &[u8])], exports: &[&str]) -> Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    // The instances so far and the export names each offers.
    let mut providers: Vec<(NodeId, Vec<String>)> = Vec::new();
    let mut last = None;
    for (i, (name, bytes)) in components.iter().enumerate() {
        let package = Package::from_bytes(
            &format!("test:c{i}"),
            None,
            bytes.to_vec(),
            graph.types_mut(),
        )
        .with_context(|| format!("reading component {name}"))?;
        let world = &graph.types()[package.ty()];
        let imports: Vec<String> = world.imports.keys().cloned().collect();
        let exports: Vec<String> = world.exports.keys().cloned().collect();
        let package = graph.register_package(package)?;
        let instance = graph.instantiate(package);
        for import in &imports {
            let provider = providers
                .iter()
                .rev()
                .find(|(_, offered)| offered.contains(import));
            if let Some((provider, _)) = provider {
                let export = graph.alias_instance_export(*provider, import)?;
                graph
                    .set_instantiation_argument(instance, import, export)
                    .with_context(|| format!("connecting `{import}` of {name}"))?;
            }
        }
        providers.push((instance, exports));
        last = Some(instance);
    }
    let last = last.context("nothing to compose")?;
    for export in exports {
        let node = graph.alias_instance_export(last, export)?;
        graph.export(node, *export)?;
    }
    graph
        .encode(EncodeOptions::default())
        .context("encoding the composition")
}
