//! Rejects, with an error naming the item, what this generator does not
//! support: fixed-length lists longer than [`MAX_FIXED_LENGTH`], flags with
//! more than 32 members, futures or streams that no function of the world
//! passes (their canonical built-ins are named after such a function, so
//! there is nothing to import for them), and error-contexts in future or
//! stream payloads (which wasmtime 48 cannot copy correctly).
//!
//! Every function and every type of every world import and export is
//! checked before any code is generated, so generation itself never meets
//! them. Also tells whether any function passes `error-context` values,
//! which decides whether the library imports the error-context extension
//! of the ABI (see `crate::error_context`).

use std::collections::HashSet;

use anyhow::{Result, bail};
use wit_parser::{Function, Resolve, Type, TypeDefKind, TypeId, WorldId, WorldItem, WorldKey};

/// Checks that every item of `world` is supported.
pub fn check(resolve: &Resolve, world: WorldId) -> Result<()> {
    let w = &resolve.worlds[world];
    let used = used_futures_and_streams(resolve, world);
    let world_place = format!("world `{}`", w.name);
    for (key, item) in w.imports.iter().chain(&w.exports) {
        match item {
            WorldItem::Function(func) => check_func(resolve, func, &world_place)?,
            WorldItem::Interface { id, .. } => {
                let place = interface_place(resolve, key);
                let iface = &resolve.interfaces[*id];
                for (name, ty) in &iface.types {
                    check_named_type(resolve, &used, name, *ty, &place)?;
                }
                for func in iface.functions.values() {
                    check_func(resolve, func, &place)?;
                }
            }
            WorldItem::Type { id, .. } => {
                let name = resolve.types[*id].name.as_deref().unwrap_or("<anonymous>");
                check_named_type(resolve, &used, name, *id, &world_place)?;
            }
        }
    }
    Ok(())
}

/// Every future and stream type some function of the world passes: the ones
/// that get canonical built-ins (see `crate::futures`).
fn used_futures_and_streams(resolve: &Resolve, world: WorldId) -> HashSet<TypeId> {
    world_functions(resolve, world)
        .flat_map(|func| func.find_futures_and_streams(resolve))
        .collect()
}

/// Whether some function of `world` passes `error-context` values, anywhere
/// in its parameters or result (future and stream payloads included).
pub fn passes_error_context(resolve: &Resolve, world: WorldId) -> bool {
    world_functions(resolve, world).any(|func| {
        let mut types = func.params.iter().map(|p| p.ty).chain(func.result);
        types.any(|ty| contains_error_context(resolve, &ty))
    })
}

/// Every function of the world's imports and exports.
fn world_functions(resolve: &Resolve, world: WorldId) -> impl Iterator<Item = &Function> {
    let w = &resolve.worlds[world];
    w.imports.values().chain(w.exports.values()).flat_map(
        move |item| -> Box<dyn Iterator<Item = &Function> + '_> {
            match item {
                WorldItem::Function(func) => Box::new(std::iter::once(func)),
                WorldItem::Interface { id, .. } => {
                    Box::new(resolve.interfaces[*id].functions.values())
                }
                WorldItem::Type { .. } => Box::new(std::iter::empty()),
            }
        },
    )
}

fn contains_error_context(resolve: &Resolve, ty: &Type) -> bool {
    fn any(resolve: &Resolve, types: impl IntoIterator<Item = Type>) -> bool {
        types
            .into_iter()
            .any(|t| contains_error_context(resolve, &t))
    }
    let id = match ty {
        Type::ErrorContext => return true,
        Type::Id(id) => *id,
        _ => return false,
    };
    match &resolve.types[id].kind {
        TypeDefKind::Record(r) => any(resolve, r.fields.iter().map(|f| f.ty)),
        TypeDefKind::Tuple(t) => any(resolve, t.types.iter().copied()),
        TypeDefKind::Variant(v) => any(resolve, v.cases.iter().filter_map(|c| c.ty)),
        TypeDefKind::Result(r) => any(resolve, r.ok.into_iter().chain(r.err)),
        TypeDefKind::Map(k, v) => any(resolve, [*k, *v]),
        TypeDefKind::Future(t) | TypeDefKind::Stream(t) => any(resolve, *t),
        TypeDefKind::Option(t)
        | TypeDefKind::List(t)
        | TypeDefKind::Type(t)
        | TypeDefKind::FixedLengthList(t, _) => contains_error_context(resolve, t),
        TypeDefKind::Flags(_)
        | TypeDefKind::Enum(_)
        | TypeDefKind::Resource
        | TypeDefKind::Handle(_)
        | TypeDefKind::Unknown => false,
    }
}

fn interface_place(resolve: &Resolve, key: &WorldKey) -> String {
    format!("interface `{}`", resolve.name_world_key(key))
}

fn check_func(resolve: &Resolve, func: &Function, place: &str) -> Result<()> {
    let scan = Scan {
        resolve,
        used: None,
    };
    let types = func.params.iter().map(|p| p.ty).chain(func.result);
    for ty in types {
        if let Some(what) = scan.unsupported(&ty) {
            bail!(
                "function `{}` in {place} uses {}; {}",
                func.name,
                what.article,
                what.why
            );
        }
    }
    Ok(())
}

fn check_named_type(
    resolve: &Resolve,
    used: &HashSet<TypeId>,
    name: &str,
    id: TypeId,
    place: &str,
) -> Result<()> {
    let scan = Scan {
        resolve,
        used: Some(used),
    };
    if let Some(what) = scan.unsupported(&Type::Id(id)) {
        bail!(
            "type `{name}` in {place} uses {}; {}",
            what.article,
            what.why
        );
    }
    Ok(())
}

/// How to name an unsupported feature in a message.
struct Feature {
    /// With an article: "a future".
    article: &'static str,
    /// Why it is rejected.
    why: &'static str,
}

const UNUSED_FUTURE: Feature = Feature {
    article: "a future",
    why: "it is not passed by any function of the world, so it has no canonical built-ins; \
          futures only used by types are not supported",
};
const UNUSED_STREAM: Feature = Feature {
    article: "a stream",
    why: "it is not passed by any function of the world, so it has no canonical built-ins; \
          streams only used by types are not supported",
};
const ERROR_CONTEXT_PAYLOAD: Feature = Feature {
    article: "an error-context in a future or stream payload",
    why: "wasmtime 48 does not count the references such a copy makes \
          (bytecodealliance/wasmtime#13652), so dropping the copies fails inside wasmtime; \
          pass error-contexts as function parameters or results instead",
};
/// The longest fixed-length list: their glue handles each element in
/// turn, unrolled, like a tuple's.
pub const MAX_FIXED_LENGTH: u32 = 4096;

const LONG_FIXED_LENGTH_LIST: Feature = Feature {
    article: "a fixed-length list of more than 4096 elements",
    why: "such lists are not supported (their glue is unrolled)",
};
const WIDE_FLAGS: Feature = Feature {
    article: "flags with more than 32 members",
    why: "such flags are not supported yet",
};

/// One check: of a function signature (`used` is `None`: every value may
/// cross the ABI) or of a named type (`used` lists the futures and streams
/// that have built-ins; its values never cross the ABI unless a function
/// passes them, which that function's check covers).
struct Scan<'a> {
    resolve: &'a Resolve,
    used: Option<&'a HashSet<TypeId>>,
}

impl Scan<'_> {
    /// The first unsupported feature `ty` contains, if any.
    fn unsupported(&self, ty: &Type) -> Option<Feature> {
        let id = match ty {
            Type::Id(id) => *id,
            _ => return None,
        };
        match &self.resolve.types[id].kind {
            TypeDefKind::Future(_) if self.used.is_some_and(|u| !u.contains(&id)) => {
                Some(UNUSED_FUTURE)
            }
            TypeDefKind::Stream(_) if self.used.is_some_and(|u| !u.contains(&id)) => {
                Some(UNUSED_STREAM)
            }
            TypeDefKind::Future(Some(t)) | TypeDefKind::Stream(Some(t))
                if contains_error_context(self.resolve, t) =>
            {
                Some(ERROR_CONTEXT_PAYLOAD)
            }
            TypeDefKind::Future(t) | TypeDefKind::Stream(t) => self.any(*t),
            TypeDefKind::FixedLengthList(_, len) if *len > MAX_FIXED_LENGTH => {
                Some(LONG_FIXED_LENGTH_LIST)
            }
            TypeDefKind::Flags(f) if f.flags.len() > 32 => Some(WIDE_FLAGS),
            TypeDefKind::Record(r) => self.any(r.fields.iter().map(|f| f.ty)),
            TypeDefKind::Tuple(t) => self.any(t.types.iter().copied()),
            TypeDefKind::Variant(v) => self.any(v.cases.iter().filter_map(|c| c.ty)),
            TypeDefKind::Option(t)
            | TypeDefKind::List(t)
            | TypeDefKind::Type(t)
            | TypeDefKind::FixedLengthList(t, _) => self.unsupported(t),
            TypeDefKind::Result(r) => self.any(r.ok.into_iter().chain(r.err)),
            TypeDefKind::Map(k, v) => self.any([*k, *v]),
            TypeDefKind::Flags(_)
            | TypeDefKind::Enum(_)
            | TypeDefKind::Resource
            | TypeDefKind::Handle(_)
            | TypeDefKind::Unknown => None,
        }
    }

    fn any(&self, types: impl IntoIterator<Item = Type>) -> Option<Feature> {
        types.into_iter().find_map(|t| self.unsupported(&t))
    }
}
