//! WIT types as LuaLS/EmmyLua annotation types, following the mapping of
//! `interpreters/lua/README.md`, and the names of the classes and aliases
//! that stand for named WIT types.
//!
//! Named types get global names built from where they are defined:
//! `demo:app/host`'s record `weather` is `demo.app.host.weather`, a type of
//! world `app` in package `demo:app` is `demo.app.app.<name>`. Names we make
//! up ourselves (module and export tables) are capitalised (`Exports`), so
//! they cannot meet a WIT identifier, whose words are all lower or all upper
//! case.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use lua_mapping::{is_lua_identifier, lua_name};
use wit_parser::{
    Docs, Handle, InterfaceId, PackageName, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldId,
    WorldItem, WorldKey,
};

/// Annotation names for one world's types.
pub struct Names<'a> {
    pub resolve: &'a Resolve,
    world_prefix: String,
    interfaces: HashMap<InterfaceId, String>,
}

impl<'a> Names<'a> {
    pub fn new(resolve: &'a Resolve, world: WorldId) -> Names<'a> {
        // A package's version is only part of the names when the resolve
        // holds the same package at two versions.
        let mut seen = HashSet::new();
        let mut versioned = HashSet::new();
        for (_, package) in resolve.packages.iter() {
            let key = (&package.name.namespace, &package.name.name);
            if !seen.insert(key) {
                versioned.insert(key);
            }
        }
        let package_prefix = |name: &PackageName| {
            let mut prefix = format!("{}.{}", lua_name(&name.namespace), lua_name(&name.name));
            if let Some(version) = &name.version
                && versioned.contains(&(&name.namespace, &name.name))
            {
                prefix.push_str("_v");
                prefix.extend(
                    version
                        .to_string()
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
                );
            }
            prefix
        };
        let w = &resolve.worlds[world];
        let world_prefix = match w.package {
            Some(package) => format!(
                "{}.{}",
                package_prefix(&resolve.packages[package].name),
                lua_name(&w.name)
            ),
            None => lua_name(&w.name),
        };
        let mut interfaces = HashMap::new();
        for (key, item) in w.imports.iter().chain(w.exports.iter()) {
            let WorldItem::Interface { id, .. } = item else {
                continue;
            };
            let iface = &resolve.interfaces[*id];
            let prefix = match (iface.package, &iface.name, key) {
                (Some(package), Some(name), _) => format!(
                    "{}.{}",
                    package_prefix(&resolve.packages[package].name),
                    lua_name(name)
                ),
                (_, _, WorldKey::Name(name)) => format!("{world_prefix}.{}", lua_name(name)),
                (_, _, WorldKey::Interface(_)) => format!("{world_prefix}.interface{}", id.index()),
            };
            interfaces.insert(*id, prefix);
        }
        Names {
            resolve,
            world_prefix,
            interfaces,
        }
    }

    /// The prefix of names defined in `interface`: `demo.app.host`.
    pub fn interface(&self, interface: InterfaceId) -> &str {
        &self.interfaces[&interface]
    }

    /// The prefix of names defined in the world: `demo.app.app`.
    pub fn world(&self) -> &str {
        &self.world_prefix
    }

    /// The annotation name of a named type.
    pub fn type_name(&self, id: TypeId) -> String {
        let def = &self.resolve.types[id];
        let name = lua_name(def.name.as_deref().unwrap_or("anonymous"));
        match def.owner {
            TypeOwner::Interface(i) => match self.interfaces.get(&i) {
                Some(prefix) => format!("{prefix}.{name}"),
                None => format!("interface{}.{name}", i.index()),
            },
            TypeOwner::World(_) => format!("{}.{name}", self.world_prefix),
            TypeOwner::None => name,
        }
    }

    /// `ty` as an annotation type.
    pub fn ty(&self, ty: &Type) -> String {
        match ty {
            Type::Bool => "boolean".into(),
            Type::U8
            | Type::U16
            | Type::U32
            | Type::U64
            | Type::S8
            | Type::S16
            | Type::S32
            | Type::S64 => "integer".into(),
            Type::F32 | Type::F64 => "number".into(),
            // An error-context is its debug message in Lua.
            Type::Char | Type::String | Type::ErrorContext => "string".into(),
            Type::Id(id) => {
                let def = &self.resolve.types[*id];
                match def.name {
                    Some(_) => self.type_name(*id),
                    None => self.anonymous(&def.kind),
                }
            }
        }
    }

    /// An unnamed type's structure (or a named one's, for its alias).
    pub fn anonymous(&self, kind: &TypeDefKind) -> String {
        match kind {
            TypeDefKind::List(Type::U8) => "string".into(),
            TypeDefKind::List(ty) => format!("{}[]", parenthesised(self.slot(ty))),
            // Its elements keep their places, as a tuple's: `none` is `nil`.
            TypeDefKind::FixedLengthList(ty, _) => format!("{}[]", self.operand(ty)),
            TypeDefKind::Map(key, value) => {
                format!("table<{}, {}>", self.ty(key), self.slot(value))
            }
            TypeDefKind::Tuple(tuple) => {
                let types: Vec<String> = tuple.types.iter().map(|t| self.ty(t)).collect();
                format!("[{}]", types.join(", "))
            }
            TypeDefKind::Option(ty) => format!("{}?", self.some(ty)),
            TypeDefKind::Result(result) => {
                let payload = |ty: &Option<Type>| match ty {
                    Some(ty) => self.slot(ty),
                    None => "true".into(),
                };
                format!(
                    "{{ ok: {} }} | {{ err: {} }}",
                    payload(&result.ok),
                    payload(&result.err)
                )
            }
            TypeDefKind::Handle(Handle::Own(id) | Handle::Borrow(id)) => self.ty(&Type::Id(*id)),
            TypeDefKind::Type(ty) => self.ty(ty),
            TypeDefKind::Record(record) => {
                let fields: Vec<String> = record
                    .fields
                    .iter()
                    .map(|f| format!("{}: {}", key(&lua_name(&f.name)), self.ty(&f.ty)))
                    .collect();
                format!("{{ {} }}", fields.join(", "))
            }
            TypeDefKind::Enum(e) => union(e.cases.iter().map(|c| literal(&c.name))),
            TypeDefKind::Variant(v) => union(
                v.cases
                    .iter()
                    .map(|c| self.variant_case(&c.name, c.ty.as_ref())),
            ),
            TypeDefKind::Future(_) | TypeDefKind::Stream(_) => "wit.End".into(),
            TypeDefKind::Flags(_) | TypeDefKind::Resource | TypeDefKind::Unknown => "table".into(),
        }
    }

    /// `{ tag: "case", value: T }` (no `value` without a payload).
    pub fn variant_case(&self, name: &str, ty: Option<&Type>) -> String {
        match ty {
            Some(ty) => format!("{{ tag: {}, value: {} }}", literal(name), self.ty(ty)),
            None => format!("{{ tag: {} }}", literal(name)),
        }
    }

    /// What `some(v)` of an `option<ty>` looks like: `v`, or `{ some: v }`
    /// when `ty` is itself an option (the interpreter's `option_is_wrapped`).
    pub fn some(&self, ty: &Type) -> String {
        match self.option_payload(ty) {
            Some(_) => format!("{{ some: {} }}", self.slot(ty)),
            None => self.operand(ty),
        }
    }

    /// `ty` where `nil` would leave a hole (a list element, map value, or
    /// result or option payload): there an option's `none` is `wit.none`.
    fn slot(&self, ty: &Type) -> String {
        match self.option_payload(ty) {
            Some(inner) => format!("{}|wit.None", self.some(&inner)),
            None => self.ty(ty),
        }
    }

    /// The payload of `ty` if it is an option (looking through aliases).
    fn option_payload(&self, ty: &Type) -> Option<Type> {
        let Type::Id(id) = ty else { return None };
        match &self.resolve.types[*id].kind {
            TypeDefKind::Option(inner) => Some(*inner),
            TypeDefKind::Type(t) => self.option_payload(t),
            _ => None,
        }
    }

    /// `ty`, parenthesised when it is a union (before `[]` or `?`).
    fn operand(&self, ty: &Type) -> String {
        parenthesised(self.ty(ty))
    }

    /// If `ty` is an option (looking through aliases), what its `some` is:
    /// such record fields are optional keys.
    pub fn optional(&self, ty: &Type) -> Option<String> {
        self.option_payload(ty).map(|inner| self.some(&inner))
    }
}

/// `text`, parenthesised when it is a union (before `[]` or `?`).
fn parenthesised(text: String) -> String {
    if text.contains('|') || text.ends_with('?') {
        format!("({text})")
    } else {
        text
    }
}

/// A string literal type: `"green"` for case `green` (Lua spelling).
pub fn literal(wit_name: &str) -> String {
    format!("{:?}", lua_name(wit_name))
}

fn union(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    match items.is_empty() {
        true => "never".into(),
        false => items.join(" | "),
    }
}

/// A table key as written in a field annotation: `name` or `["end"]`.
pub fn key(key: &str) -> String {
    match is_lua_identifier(key) {
        true => key.to_string(),
        false => format!("[{key:?}]"),
    }
}

/// A parameter name: the Lua name, with `_` appended to keywords.
pub fn param(wit_name: &str) -> String {
    let name = lua_name(wit_name);
    match is_lua_identifier(&name) && name != "self" {
        true => name,
        false => format!("{name}_"),
    }
}

/// Writes `docs` as description lines (`---text`).
pub fn docs(out: &mut String, docs: &Docs) {
    if let Some(contents) = &docs.contents {
        for line in contents.trim_end().lines() {
            // A line starting with `@` or `|` would read as a tag.
            let line = line.trim_end();
            if line.trim_start().starts_with(['@', '|']) {
                let _ = writeln!(out, "--- \\{}", line.trim_start());
            } else {
                let _ = writeln!(out, "---{line}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_parameters() {
        assert_eq!(key("key_name"), "key_name");
        assert_eq!(key("end"), "[\"end\"]");
        assert_eq!(param("in"), "in_");
        assert_eq!(param("self"), "self_");
        assert_eq!(param("max-len"), "max_len");
        assert_eq!(literal("not-found"), "\"not_found\"");
    }

    #[test]
    fn doc_lines_never_read_as_tags() {
        let mut out = String::new();
        let text = "First.\n@since 0.2\n  | not a case";
        docs(
            &mut out,
            &Docs {
                contents: Some(text.into()),
            },
        );
        assert_eq!(out, "---First.\n--- \\@since 0.2\n--- \\| not a case\n");
    }
}
