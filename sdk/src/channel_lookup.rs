//! Finding a future or stream type of the world by how a script spells it,
//! for interpreters whose scripts create futures and streams
//! (`wit.future("u32")` in Lua).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use crate::channel::Channel;
use crate::metadata::{Type, Wit};

/// Why [`Wit::find_channel`] found no type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LookupError {
    /// The world has no such type. `known` lists its futures (or streams).
    Unknown {
        asked: String,
        interface: Option<String>,
        known: Vec<String>,
    },
    /// Types of different shapes spell alike (their names come from more
    /// than one interface); an interface would tell them apart.
    Ambiguous {
        asked: String,
        /// The payload as asked, whitespace removed.
        payload: String,
        /// The interfaces of each candidate, joined with " and ".
        interfaces: Vec<String>,
        /// The interface of the first candidate, for a suggestion.
        first: String,
    },
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::Unknown {
                asked,
                interface,
                known,
            } => {
                let kind = if asked.starts_with("future") {
                    "future"
                } else {
                    "stream"
                };
                let of = interface
                    .as_ref()
                    .map(|i| format!(" of {i}"))
                    .unwrap_or_default();
                match known.is_empty() {
                    true => write!(f, "cannot create a {asked}: the world uses no {kind}s"),
                    false => write!(
                        f,
                        "cannot create a {asked}{of}: the world's {kind}s are {}",
                        known.join(", ")
                    ),
                }
            }
            LookupError::Ambiguous {
                asked, interfaces, ..
            } => write!(
                f,
                "cannot create a {asked}: its names are the types of more than one interface ({})",
                interfaces.join("; ")
            ),
        }
    }
}

impl std::error::Error for LookupError {}

impl Wit {
    /// The world's `future` (or, with `stream`, `stream`) type whose
    /// payload is spelt `payload` as in WIT (`"u32"`, `"list<string>"`, an
    /// alias or its target; `None`, `""` or the bare kind for none), or the
    /// whole type spelt out (`"stream<u8>"`). Whitespace does not matter.
    ///
    /// Names in a payload are unqualified, so two interfaces' types of one
    /// name spell alike: `interface` (`"wasi:http/types@0.3.0"`) keeps only
    /// the types whose names it defines. Types of one shape are one type to
    /// the component model, so any of them fits.
    ///
    /// Lookups are remembered: a script asks for the same few types again
    /// and again (twice per request in an HTTP handler).
    pub fn find_channel(
        &self,
        stream: bool,
        payload: Option<&str>,
        interface: Option<&str>,
    ) -> Result<Channel, LookupError> {
        type Key = (bool, Option<String>, Option<String>);
        thread_local! {
            static FOUND: RefCell<HashMap<Key, Channel>> = RefCell::default();
        }
        let key = (
            stream,
            payload.map(String::from),
            interface.map(String::from),
        );
        if let Some(found) = FOUND.with_borrow(|found| found.get(&key).copied()) {
            return Ok(found);
        }
        let found = self.search_channel(stream, payload, interface)?;
        FOUND.with_borrow_mut(|cache| cache.insert(key, found));
        Ok(found)
    }

    fn search_channel(
        &self,
        stream: bool,
        payload: Option<&str>,
        interface: Option<&str>,
    ) -> Result<Channel, LookupError> {
        let kind = if stream { "stream" } else { "future" };
        let all: Vec<Channel> = match stream {
            true => self.streams().map(Channel::Stream).collect(),
            false => self.futures().map(Channel::Future).collect(),
        };
        let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        let wanted = payload.map(squeeze).filter(|p| !p.is_empty() && p != kind);
        let spelt = |wanted: Option<&str>| -> Vec<Channel> {
            let spelt_so = |channel: &&Channel| match (wanted, channel.payload()) {
                (None, None) => true,
                (Some(wanted), Some(ty)) => {
                    squeeze(&ty.to_string()) == wanted
                        || squeeze(&ty.dealias().to_string()) == wanted
                }
                _ => false,
            };
            all.iter().filter(spelt_so).copied().collect()
        };
        let mut found = spelt(wanted.as_deref());
        let whole = wanted
            .as_deref()
            .and_then(|w| w.strip_prefix(kind)?.strip_prefix('<')?.strip_suffix('>'));
        if found.is_empty()
            && let Some(inner) = whole
        {
            found = spelt(Some(inner));
        }
        let asked = match &wanted {
            Some(p) => format!("{kind}<{p}>"),
            None => kind.to_string(),
        };
        if let Some(interface) = interface {
            found.retain(|c| interfaces_in(c.payload()).contains(&interface));
        }
        let mut shapes: Vec<String> = found.iter().map(|c| shape(c.ty())).collect();
        shapes.sort();
        shapes.dedup();
        if shapes.len() > 1 {
            let mut interfaces: Vec<String> = found
                .iter()
                .map(|c| interfaces_in(c.payload()).join(" and "))
                .collect();
            interfaces.sort();
            interfaces.dedup();
            let first = interfaces_in(found[0].payload())
                .first()
                .copied()
                .unwrap_or_default()
                .to_string();
            return Err(LookupError::Ambiguous {
                asked,
                payload: wanted.unwrap_or_default(),
                interfaces,
                first,
            });
        }
        found.first().copied().ok_or_else(|| LookupError::Unknown {
            asked,
            interface: interface.map(String::from),
            known: all.iter().map(|c| c.ty().to_string()).collect(),
        })
    }
}

/// The types directly inside `ty`.
fn children(ty: Type) -> Vec<Type> {
    match ty {
        Type::Record(t) => t.fields().map(|(_, ty)| ty).collect(),
        Type::Variant(t) => t.cases().filter_map(|(_, ty)| ty).collect(),
        Type::Tuple(t) => t.types().collect(),
        Type::Option(t) => vec![t.ty()],
        Type::Result(t) => t.ok().into_iter().chain(t.err()).collect(),
        Type::List(t) => vec![t.ty()],
        Type::FixedLengthList(t) => vec![t.ty()],
        Type::Map(t) => vec![t.key_ty(), t.value_ty()],
        Type::Future(t) => t.ty().into_iter().collect(),
        Type::Stream(t) => t.ty().into_iter().collect(),
        Type::Alias(t) => vec![t.ty()],
        _ => Vec::new(),
    }
}

/// The interface that names `ty`, if it has a name.
fn naming_interface(ty: Type) -> Option<&'static str> {
    match ty {
        Type::Record(t) => t.interface(),
        Type::Variant(t) => t.interface(),
        Type::Enum(t) => t.interface(),
        Type::Flags(t) => t.interface(),
        Type::Alias(t) => t.interface(),
        Type::Own(t) | Type::Borrow(t) => t.interface(),
        Type::Tuple(t) => t.name().and(t.interface()),
        Type::Option(t) => t.name().and(t.interface()),
        Type::Result(t) => t.name().and(t.interface()),
        Type::List(t) => t.name().and(t.interface()),
        Type::FixedLengthList(t) => t.name().and(t.interface()),
        Type::Map(t) => t.name().and(t.interface()),
        Type::Future(t) => t.name().and(t.interface()),
        Type::Stream(t) => t.name().and(t.interface()),
        _ => None,
    }
}

/// The interfaces that define the named types in `ty`, in the order met.
fn interfaces_in(ty: Option<Type>) -> Vec<&'static str> {
    let mut found = Vec::new();
    let mut stack: Vec<Type> = ty.into_iter().collect();
    while let Some(ty) = stack.pop() {
        stack.extend(children(ty));
        if let Some(interface) = naming_interface(ty)
            && !found.contains(&interface)
        {
            found.push(interface);
        }
    }
    found
}

/// `ty`'s structure, named types spelt out: what the component model
/// compares (resources aside, which are nominal: named with their
/// interface).
fn shape(ty: Type) -> String {
    let all = |parts: Vec<String>| parts.join(",");
    let optional = |ty: Option<Type>| ty.map_or("_".to_string(), shape);
    match ty {
        Type::Record(t) => format!(
            "record{{{}}}",
            all(t
                .fields()
                .map(|(n, t)| format!("{n}:{}", shape(t)))
                .collect())
        ),
        Type::Variant(t) => format!(
            "variant{{{}}}",
            all(t
                .cases()
                .map(|(n, t)| format!("{n}:{}", optional(t)))
                .collect())
        ),
        Type::Enum(t) => format!("enum{{{}}}", all(t.names().map(String::from).collect())),
        Type::Flags(t) => format!("flags{{{}}}", all(t.names().map(String::from).collect())),
        Type::Alias(t) => shape(t.ty()),
        Type::Own(r) => format!("own<{}#{}>", r.interface().unwrap_or_default(), r.name()),
        Type::Borrow(r) => format!("borrow<{}#{}>", r.interface().unwrap_or_default(), r.name()),
        Type::Tuple(t) => format!("tuple<{}>", all(t.types().map(shape).collect())),
        Type::Option(t) => format!("option<{}>", shape(t.ty())),
        Type::Result(t) => format!("result<{},{}>", optional(t.ok()), optional(t.err())),
        Type::List(t) => format!("list<{}>", shape(t.ty())),
        Type::FixedLengthList(t) => format!("list<{},{}>", shape(t.ty()), t.len()),
        Type::Map(t) => format!("map<{},{}>", shape(t.key_ty()), shape(t.value_ty())),
        Type::Future(t) => format!("future<{}>", optional(t.ty())),
        Type::Stream(t) => format!("stream<{}>", optional(t.ty())),
        other => other.to_string(),
    }
}
