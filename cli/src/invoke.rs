//! `--invoke 'name(args)'`: arguments in WAVE syntax (as `wasmtime run
//! --invoke` takes them), converted to the export's parameter types.

use anyhow::{Context, Result, bail};
use wasmtime::component::Val;
use wasmtime::component::types::Type;
use wasmtime::component::wasm_wave::untyped::UntypedFuncCall;
use wasmtime::component::wasm_wave::wasm::DisplayType;
use wit_dylib_pipeline::runtime::Running;

/// Calls the export `call` names (`name(args)` at the world's root, or
/// `interface#name(args)`) and returns its results with their types.
pub fn invoke(running: &mut Running, call: &str) -> Result<Vec<(Type, Val)>> {
    let call = call.trim();
    let open = call
        .find('(')
        .context("expected `name(args)` or `interface#name(args)`")?;
    let target = &call[..open];
    let (interface, name) = match target.rsplit_once('#') {
        Some((interface, name)) => (Some(interface), name),
        None => (None, target),
    };
    // WAVE's function-call syntax wants a plain name; ours may be qualified.
    let source = format!("f{}", &call[open..]);
    let parsed = UntypedFuncCall::parse(&source)
        .map_err(|err| anyhow::anyhow!("cannot parse the arguments of `{target}`: {err}"))?;

    let params = running.export_params(interface, name)?;
    if let Some((param, ty)) = params.iter().find(|(_, ty)| is_resource(ty)) {
        bail!(
            "parameter `{param}` of `{target}` is a resource ({}); --invoke cannot pass resources",
            DisplayType(ty)
        );
    }
    let nodes: Vec<_> = match parsed.params_node() {
        Some(node) => node
            .as_tuple()
            .map_err(|err| anyhow::anyhow!("`{target}`: {err}"))?
            .collect(),
        None => Vec::new(),
    };
    if nodes.len() != params.len() {
        let names: Vec<&str> = params.iter().map(|(name, _)| name.as_str()).collect();
        bail!(
            "`{target}` takes {} argument{} ({}), got {}",
            params.len(),
            if params.len() == 1 { "" } else { "s" },
            names.join(", "),
            nodes.len()
        );
    }
    let args = nodes
        .iter()
        .zip(&params)
        .map(|(node, (param, ty))| {
            node.to_wasm_value::<Val>(ty, parsed.source())
                .map_err(|err| {
                    anyhow::anyhow!(
                        "argument `{param}` of `{target}` must be a {}: {err}",
                        DisplayType(ty)
                    )
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let func = running.export(interface, name)?;
    let types: Vec<Type> = func.ty(&running.store).results().collect();
    let results = running.call(interface, name, &args)?;
    Ok(types.into_iter().zip(results).collect())
}

fn is_resource(ty: &Type) -> bool {
    matches!(ty, Type::Own(_) | Type::Borrow(_))
}
