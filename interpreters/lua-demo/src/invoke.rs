//! `--invoke 'name(args)'`: parse the call, convert the arguments to the
//! export's parameter types, and call it.

use anyhow::{Context, Result, bail};
use lua_demo::runtime::Running;
use wasmtime::component::Val;
use wasmtime::component::types::Type;

pub fn invoke(running: &mut Running, call: &str) -> Result<Vec<Val>> {
    let call = call.trim();
    let open = call.find('(').context("expected `name(args)`")?;
    if !call.ends_with(')') {
        bail!("expected `name(args)`, missing the closing parenthesis");
    }
    let target = &call[..open];
    let (interface, name) = match target.rsplit_once('#') {
        Some((interface, name)) => (Some(interface), name),
        None => (None, target),
    };
    let literals = split_args(&call[open + 1..call.len() - 1])?;

    let func = {
        let parent = match interface {
            Some(i) => Some(
                running
                    .instance
                    .get_export_index(&mut running.store, None, i)
                    .with_context(|| format!("the component exports no `{i}`"))?,
            ),
            None => None,
        };
        running
            .instance
            .get_export_index(&mut running.store, parent.as_ref(), name)
            .and_then(|index| running.instance.get_func(&mut running.store, index))
            .with_context(|| format!("the component exports no function `{target}`"))?
    };
    let params: Vec<Type> = func.ty(&running.store).params().map(|(_, ty)| ty).collect();
    if params.len() != literals.len() {
        bail!(
            "`{target}` takes {} arguments, got {}",
            params.len(),
            literals.len()
        );
    }
    let args = params
        .iter()
        .zip(&literals)
        .map(|(ty, literal)| parse_literal(ty, literal))
        .collect::<Result<Vec<_>>>()?;
    running.call(interface, name, &args)
}

/// Splits on commas outside quotes.
fn split_args(args: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    for c in args.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                current.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (None, ',') => out.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    if quote.is_some() {
        bail!("unterminated quote in `{args}`");
    }
    if !current.trim().is_empty() || !out.is_empty() {
        out.push(current);
    }
    Ok(out.into_iter().map(|a| a.trim().to_string()).collect())
}

fn parse_literal(ty: &Type, literal: &str) -> Result<Val> {
    let bad = || format!("`{literal}` is not a valid {ty:?} literal");
    let quoted = |q: char| literal.strip_prefix(q).and_then(|l| l.strip_suffix(q));
    Ok(match ty {
        Type::Bool => Val::Bool(literal.parse().with_context(bad)?),
        Type::U8 => Val::U8(literal.parse().with_context(bad)?),
        Type::U16 => Val::U16(literal.parse().with_context(bad)?),
        Type::U32 => Val::U32(literal.parse().with_context(bad)?),
        Type::U64 => Val::U64(literal.parse().with_context(bad)?),
        Type::S8 => Val::S8(literal.parse().with_context(bad)?),
        Type::S16 => Val::S16(literal.parse().with_context(bad)?),
        Type::S32 => Val::S32(literal.parse().with_context(bad)?),
        Type::S64 => Val::S64(literal.parse().with_context(bad)?),
        Type::Float32 => Val::Float32(literal.parse().with_context(bad)?),
        Type::Float64 => Val::Float64(literal.parse().with_context(bad)?),
        Type::Char => {
            let inner = quoted('\'').with_context(bad)?;
            let mut chars = inner.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Val::Char(c),
                _ => bail!(bad()),
            }
        }
        Type::String => Val::String(quoted('"').with_context(bad)?.replace("\\\"", "\"")),
        other => bail!("--invoke supports scalar and string arguments only, not {other:?}"),
    })
}
