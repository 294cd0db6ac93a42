//! Rejects, with an error naming the item, what this generator does not
//! support: fixed-length lists longer than [`MAX_FIXED_LENGTH`], function
//! types whose glue would unroll to more than [`MAX_UNROLLED`] values
//! (nested fixed-length lists multiply), flags with
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

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

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
/// that get canonical built-ins (see `crate::futures`). (Not
/// `Function::find_futures_and_streams`, which walks a shared type once per
/// path to it: exponential for hostile WIT, and this runs before any check.)
fn used_futures_and_streams(resolve: &Resolve, world: WorldId) -> HashSet<TypeId> {
    let mut found = HashSet::new();
    let mut visited = HashSet::new();
    let mut stack: Vec<Type> = world_functions(resolve, world)
        .flat_map(|func| func.params.iter().map(|p| p.ty).chain(func.result))
        .collect();
    while let Some(ty) = stack.pop() {
        let Type::Id(id) = ty else { continue };
        if !visited.insert(id) {
            continue;
        }
        let kind = &resolve.types[id].kind;
        if matches!(kind, TypeDefKind::Future(_) | TypeDefKind::Stream(_)) {
            found.insert(id);
        }
        stack.extend(parts(kind));
    }
    found
}

/// Whether some function of `world` passes `error-context` values, anywhere
/// in its parameters or result (future and stream payloads included).
pub fn passes_error_context(resolve: &Resolve, world: WorldId) -> bool {
    let mut checked = HashSet::new();
    world_functions(resolve, world).any(|func| {
        let mut types = func.params.iter().map(|p| p.ty).chain(func.result);
        types.any(|ty| holds_error_context(resolve, &ty, &mut checked))
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

/// The types a value of `kind` is made of (none for handles: a resource's
/// methods are functions of their own).
fn parts(kind: &TypeDefKind) -> Vec<Type> {
    match kind {
        TypeDefKind::Record(r) => r.fields.iter().map(|f| f.ty).collect(),
        TypeDefKind::Tuple(t) => t.types.clone(),
        TypeDefKind::Variant(v) => v.cases.iter().filter_map(|c| c.ty).collect(),
        TypeDefKind::Result(r) => r.ok.into_iter().chain(r.err).collect(),
        TypeDefKind::Map(k, v) => vec![*k, *v],
        TypeDefKind::Future(t) | TypeDefKind::Stream(t) => t.iter().copied().collect(),
        TypeDefKind::Option(t)
        | TypeDefKind::List(t)
        | TypeDefKind::Type(t)
        | TypeDefKind::FixedLengthList(t, _) => vec![*t],
        TypeDefKind::Flags(_)
        | TypeDefKind::Enum(_)
        | TypeDefKind::Resource
        | TypeDefKind::Handle(_)
        | TypeDefKind::Unknown => Vec::new(),
    }
}

fn contains_error_context(resolve: &Resolve, ty: &Type) -> bool {
    holds_error_context(resolve, ty, &mut HashSet::new())
}

/// Whether `ty` holds an error-context (see [`holds`] for `checked`).
fn holds_error_context(resolve: &Resolve, ty: &Type, checked: &mut HashSet<TypeId>) -> bool {
    holds(resolve, ty, &|ty| matches!(ty, Type::ErrorContext), checked)
}

/// Whether `ty` holds a handle of any kind: a resource, future, stream or
/// error-context.
pub fn contains_handle(resolve: &Resolve, ty: &Type) -> bool {
    let is_handle = |ty: &Type| match ty {
        Type::ErrorContext => true,
        Type::Id(id) => matches!(
            resolve.types[*id].kind,
            TypeDefKind::Handle(_)
                | TypeDefKind::Resource
                | TypeDefKind::Future(_)
                | TypeDefKind::Stream(_)
        ),
        _ => false,
    };
    holds(resolve, ty, &is_handle, &mut HashSet::new())
}

/// Whether lowering `ty` pops a string or a list, which return their
/// address through an out-parameter (a future's or stream's payload counts
/// too: an over-estimate, which costs a frame at most).
pub fn lowers_string_or_list(resolve: &Resolve, ty: &Type) -> bool {
    let is_string_or_list = |ty: &Type| match ty {
        Type::String => true,
        Type::Id(id) => matches!(resolve.types[*id].kind, TypeDefKind::List(_)),
        _ => false,
    };
    holds(resolve, ty, &is_string_or_list, &mut HashSet::new())
}

/// Whether `ty` or a type inside it is one `is` picks; `checked` holds types
/// already found not to (WIT types have no cycles, so a type seen again was).
fn holds(
    resolve: &Resolve,
    ty: &Type,
    is: &impl Fn(&Type) -> bool,
    checked: &mut HashSet<TypeId>,
) -> bool {
    if is(ty) {
        return true;
    }
    let Type::Id(id) = ty else { return false };
    if !checked.insert(*id) {
        return false;
    }
    parts(&resolve.types[*id].kind)
        .iter()
        .any(|t| holds(resolve, t, is, checked))
}

fn interface_place(resolve: &Resolve, key: &WorldKey) -> String {
    format!("interface `{}`", resolve.name_world_key(key))
}

fn check_func(resolve: &Resolve, func: &Function, place: &str) -> Result<()> {
    let scan = Scan::new(resolve, None);
    let types = func.params.iter().map(|p| p.ty).chain(func.result);
    let mut unrolled = HashMap::new();
    for ty in types {
        if let Some(what) = scan.unsupported(&ty) {
            bail!(
                "function `{}` in {place} uses {}; {}",
                func.name,
                what.article,
                what.why
            );
        }
        let values = unrolled_values(resolve, &ty, &mut unrolled);
        if values > MAX_UNROLLED {
            bail!(
                "function `{}` in {place} passes a type that unrolls to {} values, more than \
                 the {MAX_UNROLLED} supported: its glue handles every value of a record, \
                 tuple or fixed-length list in turn, and nested fixed-length lists multiply",
                func.name,
                if values == u64::MAX {
                    "too many".to_string()
                } else {
                    values.to_string()
                },
            );
        }
    }
    Ok(())
}

/// The most values a function type may unroll to (see [`unrolled_values`]):
/// far above any hand-written type, low enough to keep the glue small.
pub const MAX_UNROLLED: u64 = 1 << 16;

/// How many values the glue for `ty` handles one by one: the sum over a
/// record's or tuple's fields and a variant's cases, `n` times the element
/// for a `list<T, n>`, and the element once for a list (handled in a loop).
/// Saturates; `memo` keeps shared types from being counted again.
fn unrolled_values(resolve: &Resolve, ty: &Type, memo: &mut HashMap<TypeId, u64>) -> u64 {
    let Type::Id(id) = ty else { return 1 };
    if let Some(&values) = memo.get(id) {
        return values;
    }
    let mut sum = |types: &mut dyn Iterator<Item = Type>| {
        types.fold(1u64, |total, t| {
            total.saturating_add(unrolled_values(resolve, &t, memo))
        })
    };
    let values = match &resolve.types[*id].kind {
        TypeDefKind::Record(r) => sum(&mut r.fields.iter().map(|f| f.ty)),
        TypeDefKind::Tuple(t) => sum(&mut t.types.iter().copied()),
        TypeDefKind::Variant(v) => sum(&mut v.cases.iter().filter_map(|c| c.ty)),
        TypeDefKind::Result(r) => sum(&mut r.ok.into_iter().chain(r.err)),
        TypeDefKind::Map(k, v) => sum(&mut [*k, *v].into_iter()),
        TypeDefKind::Future(t) | TypeDefKind::Stream(t) => sum(&mut t.iter().copied()),
        TypeDefKind::Option(t) | TypeDefKind::List(t) => sum(&mut std::iter::once(*t)),
        TypeDefKind::Type(t) => unrolled_values(resolve, t, memo),
        TypeDefKind::FixedLengthList(t, len) => {
            unrolled_values(resolve, t, memo).saturating_mul(u64::from(*len))
        }
        TypeDefKind::Flags(_)
        | TypeDefKind::Enum(_)
        | TypeDefKind::Resource
        | TypeDefKind::Handle(_)
        | TypeDefKind::Unknown => 1,
    };
    memo.insert(*id, values);
    values
}

fn check_named_type(
    resolve: &Resolve,
    used: &HashSet<TypeId>,
    name: &str,
    id: TypeId,
    place: &str,
) -> Result<()> {
    let scan = Scan::new(resolve, Some(used));
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
    /// Types found supported: types may share parts, and without this a
    /// chain of `tuple<t, t>` would be scanned exponentially often.
    supported: RefCell<HashSet<TypeId>>,
}

impl<'a> Scan<'a> {
    fn new(resolve: &'a Resolve, used: Option<&'a HashSet<TypeId>>) -> Scan<'a> {
        Scan {
            resolve,
            used,
            supported: RefCell::default(),
        }
    }

    /// The first unsupported feature `ty` contains, if any.
    fn unsupported(&self, ty: &Type) -> Option<Feature> {
        let id = match ty {
            Type::Id(id) => *id,
            _ => return None,
        };
        if self.supported.borrow().contains(&id) {
            return None;
        }
        let found = self.unsupported_kind(id);
        if found.is_none() {
            self.supported.borrow_mut().insert(id);
        }
        found
    }

    fn unsupported_kind(&self, id: TypeId) -> Option<Feature> {
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
