//! Rejects, with an error naming the item, the WIT features this generator
//! does not support yet: async functions, futures, streams, error-context,
//! fixed-length lists, and flags with more than 32 members.
//!
//! Every function and every type of every world import and export is
//! checked before any code is generated, so generation itself never meets
//! them.

use anyhow::{Result, bail};
use wit_parser::{Resolve, Type, TypeDefKind, TypeId, WorldId, WorldItem, WorldKey};

/// Checks that every item of `world` is supported.
pub fn check(resolve: &Resolve, world: WorldId) -> Result<()> {
    let w = &resolve.worlds[world];
    let world_place = format!("world `{}`", w.name);
    for (key, item) in w.imports.iter().chain(&w.exports) {
        match item {
            WorldItem::Function(func) => check_func(resolve, func, &world_place)?,
            WorldItem::Interface { id, .. } => {
                let place = interface_place(resolve, key);
                let iface = &resolve.interfaces[*id];
                for (name, ty) in &iface.types {
                    check_named_type(resolve, name, *ty, &place)?;
                }
                for func in iface.functions.values() {
                    check_func(resolve, func, &place)?;
                }
            }
            WorldItem::Type { id, .. } => {
                let name = resolve.types[*id].name.as_deref().unwrap_or("<anonymous>");
                check_named_type(resolve, name, *id, &world_place)?;
            }
        }
    }
    Ok(())
}

fn interface_place(resolve: &Resolve, key: &WorldKey) -> String {
    format!("interface `{}`", resolve.name_world_key(key))
}

fn check_func(resolve: &Resolve, func: &wit_parser::Function, place: &str) -> Result<()> {
    if func.kind.is_async() {
        bail!(
            "function `{}` in {place} is async; async functions are not supported yet",
            func.name
        );
    }
    let types = func.params.iter().map(|p| p.ty).chain(func.result);
    for ty in types {
        if let Some(what) = unsupported(resolve, &ty) {
            bail!(
                "function `{}` in {place} uses {}; {} not supported yet",
                func.name,
                what.article,
                what.plural
            );
        }
    }
    Ok(())
}

fn check_named_type(resolve: &Resolve, name: &str, id: TypeId, place: &str) -> Result<()> {
    if let Some(what) = unsupported(resolve, &Type::Id(id)) {
        bail!(
            "type `{name}` in {place} uses {}; {} not supported yet",
            what.article,
            what.plural
        );
    }
    Ok(())
}

/// How to name an unsupported feature in a message.
struct Feature {
    /// With an article: "a future".
    article: &'static str,
    /// Plural and verb: "futures are".
    plural: &'static str,
}

const FUTURE: Feature = Feature {
    article: "a future",
    plural: "futures are",
};
const STREAM: Feature = Feature {
    article: "a stream",
    plural: "streams are",
};
const ERROR_CONTEXT: Feature = Feature {
    article: "an error-context",
    plural: "error-context values are",
};
const FIXED_LENGTH_LIST: Feature = Feature {
    article: "a fixed-length list",
    plural: "fixed-length lists are",
};
const WIDE_FLAGS: Feature = Feature {
    article: "flags with more than 32 members",
    plural: "such flags are",
};

/// The first unsupported feature `ty` contains, if any.
fn unsupported(resolve: &Resolve, ty: &Type) -> Option<Feature> {
    let id = match ty {
        Type::ErrorContext => return Some(ERROR_CONTEXT),
        Type::Id(id) => *id,
        _ => return None,
    };
    match &resolve.types[id].kind {
        TypeDefKind::Future(_) => Some(FUTURE),
        TypeDefKind::Stream(_) => Some(STREAM),
        TypeDefKind::FixedLengthList(..) => Some(FIXED_LENGTH_LIST),
        TypeDefKind::Flags(f) if f.flags.len() > 32 => Some(WIDE_FLAGS),
        TypeDefKind::Record(r) => any(resolve, r.fields.iter().map(|f| f.ty)),
        TypeDefKind::Tuple(t) => any(resolve, t.types.iter().copied()),
        TypeDefKind::Variant(v) => any(resolve, v.cases.iter().filter_map(|c| c.ty)),
        TypeDefKind::Option(t) | TypeDefKind::List(t) | TypeDefKind::Type(t) => {
            unsupported(resolve, t)
        }
        TypeDefKind::Result(r) => any(resolve, r.ok.into_iter().chain(r.err)),
        TypeDefKind::Map(k, v) => any(resolve, [*k, *v]),
        TypeDefKind::Flags(_)
        | TypeDefKind::Enum(_)
        | TypeDefKind::Resource
        | TypeDefKind::Handle(_)
        | TypeDefKind::Unknown => None,
    }
}

fn any(resolve: &Resolve, types: impl IntoIterator<Item = Type>) -> Option<Feature> {
    types.into_iter().find_map(|t| unsupported(resolve, &t))
}
