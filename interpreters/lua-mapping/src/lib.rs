//! Where WIT names live in Lua, in one place for the interpreter (in the
//! component) and for `lua-demo`'s checks (on the host).
//!
//! * WIT identifiers become Lua identifiers by replacing `-` with `_`
//!   (`get-name` → `get_name`).
//! * A script returns its exports as a table: world-level functions under
//!   their own names, interfaces under their full names (`"demo:app/api"`).
//!   Inside an interface table, a resource is a class table under its name,
//!   holding `new` (the constructor), its methods and its static functions.
//! * Imports are modules for `require`: an interface under its full name, and
//!   the world-level imports under [`WORLD_MODULE`]. Imported resources are
//!   class tables in their module, with `new` and the static functions.

/// The module name of the world-level imports: `require("world")`.
pub const WORLD_MODULE: &str = "world";

/// The `require` name of the module holding imports of `interface`
/// (`None` for world-level imports): the interface's full name, or
/// [`WORLD_MODULE`].
pub fn import_module(interface: Option<&str>) -> &str {
    interface.unwrap_or(WORLD_MODULE)
}

/// Lua's reserved words, which cannot be names (`t.end` must be `t["end"]`).
pub const KEYWORDS: &[&str] = &[
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
    "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
];

/// Whether `key` can be written as a Lua name (`t.key`, `function t.key()`):
/// letters, digits and `_`, not starting with a digit, and not a keyword.
pub fn is_lua_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&key)
}

/// A WIT identifier as a Lua identifier.
pub fn lua_name(wit_name: &str) -> String {
    wit_name.replace('-', "_")
}

/// Whether `given`, a name a script wrote (a case, flag or field), means
/// `wit_name`: scripts may spell it the Lua way (`not_found`) or as the WIT
/// does (`not-found`).
pub fn names(wit_name: &str, given: &str) -> bool {
    given == wit_name || (given.len() == wit_name.len() && given == lua_name(wit_name))
}

/// What a WIT function name denotes.
#[derive(Debug, PartialEq, Eq)]
pub enum FunctionKind<'a> {
    /// A freestanding function.
    Freestanding(&'a str),
    /// `[constructor]R`.
    Constructor { resource: &'a str },
    /// `[method]R.m`.
    Method { resource: &'a str, name: &'a str },
    /// `[static]R.s`.
    Static { resource: &'a str, name: &'a str },
}

impl<'a> FunctionKind<'a> {
    pub fn parse(name: &'a str) -> FunctionKind<'a> {
        let split = |rest: &'a str| rest.split_once('.').unwrap_or((rest, ""));
        if let Some(resource) = name.strip_prefix("[constructor]") {
            FunctionKind::Constructor { resource }
        } else if let Some(rest) = name.strip_prefix("[method]") {
            let (resource, name) = split(rest);
            FunctionKind::Method { resource, name }
        } else if let Some(rest) = name.strip_prefix("[static]") {
            let (resource, name) = split(rest);
            FunctionKind::Static { resource, name }
        } else {
            FunctionKind::Freestanding(name)
        }
    }

    /// The resource this function belongs to, if any.
    pub fn resource(&self) -> Option<&'a str> {
        match *self {
            FunctionKind::Freestanding(_) => None,
            FunctionKind::Constructor { resource }
            | FunctionKind::Method { resource, .. }
            | FunctionKind::Static { resource, .. } => Some(resource),
        }
    }

    /// The key of the function inside its table (module, export table or
    /// resource class).
    pub fn key(&self) -> String {
        match *self {
            FunctionKind::Freestanding(name) => lua_name(name),
            FunctionKind::Constructor { .. } => "new".to_string(),
            FunctionKind::Method { name, .. } | FunctionKind::Static { name, .. } => lua_name(name),
        }
    }
}

/// The keys leading from the script's export table to the Lua function that
/// implements export `name` of `interface` (`None` at world level), e.g.
/// `["demo:app/api", "counter", "new"]` for `[constructor]counter`.
pub fn export_path(interface: Option<&str>, name: &str) -> Vec<String> {
    let kind = FunctionKind::parse(name);
    let mut path: Vec<String> = interface.map(str::to_string).into_iter().collect();
    if let Some(resource) = kind.resource() {
        path.push(lua_name(resource));
    }
    path.push(kind.key());
    path
}

/// `export_path` written the way a script would index it, for messages:
/// `exports["demo:app/api"].counter.new`.
pub fn describe_path(path: &[String]) -> String {
    let mut out = String::from("exports");
    for key in path {
        if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push('.');
            out.push_str(key);
        } else {
            out.push_str(&format!("[{key:?}]"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_every_kind_of_export() {
        assert_eq!(export_path(None, "run"), ["run"]);
        assert_eq!(
            export_path(Some("a:b/c"), "get-name"),
            ["a:b/c", "get_name"]
        );
        assert_eq!(
            export_path(Some("a:b/c"), "[constructor]my-res"),
            ["a:b/c", "my_res", "new"]
        );
        assert_eq!(
            export_path(Some("a:b/c"), "[method]my-res.do-it"),
            ["a:b/c", "my_res", "do_it"]
        );
        assert_eq!(
            export_path(Some("a:b/c"), "[static]my-res.make"),
            ["a:b/c", "my_res", "make"]
        );
    }

    #[test]
    fn import_modules() {
        assert_eq!(import_module(Some("demo:app/host")), "demo:app/host");
        assert_eq!(import_module(None), "world");
    }

    #[test]
    fn identifiers_and_keywords() {
        assert!(is_lua_identifier("get_name"));
        assert!(is_lua_identifier(&lua_name("current-weather")));
        assert!(!is_lua_identifier("end"));
        assert!(!is_lua_identifier(&lua_name("in")));
        assert!(!is_lua_identifier("demo:app/api"));
        assert!(!is_lua_identifier("1st"));
        assert!(!is_lua_identifier(""));
    }

    #[test]
    fn paths_read_like_lua() {
        let path = export_path(Some("demo:app/api"), "[constructor]counter");
        assert_eq!(
            describe_path(&path),
            "exports[\"demo:app/api\"].counter.new"
        );
    }
}
