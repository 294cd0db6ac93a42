//! The WIT ↔ Lua value mapping, one level at a time: the conversions the
//! value stack applies when the glue pushes or pops a value, and the checks
//! that reject a Lua value of the wrong shape with a message.
//!
//! | WIT | Lua |
//! |---|---|
//! | `bool` | boolean |
//! | integers | integer (a float with an integral value is accepted); range-checked; `u64` above 2^63-1 wraps to negative |
//! | `f32`, `f64` | number |
//! | `char` | a string of one character |
//! | `string` | string (UTF-8) |
//! | `list<u8>` | string (binary) |
//! | `list<T>` | sequence |
//! | `record` | table keyed by field name (`-` → `_`; the WIT spelling is accepted from scripts) |
//! | `tuple` | sequence |
//! | `flags` | set: table of flag name → `true` (either spelling from scripts) |
//! | `enum` | case name (string; either spelling from scripts) |
//! | `variant` | `{ tag = "case", value = payload }` |
//! | `option<T>` | `nil` or the value; for `option<option<T>>` the outer `some` is `{ some = value }` |
//! | `result<T, E>` | `{ ok = value }` or `{ err = value }`; `true` stands for a missing payload |
//! | `map<K, V>` | table |
//! | resources | userdata with methods (imported), or the script's own objects (exported) |
//!
//! A `none` is `nil` where its place is fixed (a parameter, a result, a
//! record field, a tuple or fixed-length list element, a variant payload),
//! and `wit.none` where `nil` would leave a hole that loses it: a list or
//! stream element, a map value, the payload of a result or of an outer
//! option, a future's value. Lifting makes that choice in the container
//! ([`hole`]); lowering takes `nil` or `wit.none` for any `none`.

use mlua::{Lua, MetaMethod, Table, UserData, UserDataMethods, Value};
use wit_dylib_sdk::{Flags, Type, Variant, WitOption};

/// A Lua value that does not fit a WIT type.
pub type Mismatch = String;

/// The type of `wit.none`, the `none` that stands where `nil` cannot (in the
/// spirit of `cjson.null`): one value per interpreter, compared by identity.
struct WitNone;

impl UserData for WitNone {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, _, ()| Ok("wit.none"));
    }
}

/// `wit.none` itself, kept for lifting.
struct NoneValue(Value);

/// Adds `none` to the `wit` table.
pub fn install(lua: &Lua, wit: &Table) -> mlua::Result<()> {
    let none = Value::UserData(lua.create_userdata(WitNone)?);
    wit.raw_set("none", none.clone())?;
    lua.set_app_data(NoneValue(none));
    Ok(())
}

/// Whether `value` is `wit.none`.
pub fn is_none(value: &Value) -> bool {
    matches!(value, Value::UserData(data) if data.is::<WitNone>())
}

/// A lifted value about to be stored where `nil` would be a hole: `nil`
/// (which only a `none` lifts to) becomes `wit.none`.
pub fn hole(lua: &Lua, value: Value) -> Value {
    match value {
        Value::Nil => lua
            .app_data_ref::<NoneValue>()
            .expect("values::install runs at start-up")
            .0
            .clone(),
        value => value,
    }
}

/// A short description of a Lua value for messages.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Nil => "nil".into(),
        value if is_none(value) => "wit.none".into(),
        Value::Boolean(b) => format!("boolean {b}"),
        Value::Integer(i) => format!("integer {i}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => {
            let text = s.to_string_lossy();
            if text.len() <= 40 {
                format!("string {text:?}")
            } else {
                format!("string of {} bytes", s.as_bytes().len())
            }
        }
        Value::Table(_) => "table".into(),
        Value::Function(_) => "function".into(),
        Value::UserData(_) => "userdata".into(),
        other => other.type_name().into(),
    }
}

/// What was expected, for messages: formatted only when one is written, so
/// that checking a value allocates nothing.
pub type Expected<'a> = &'a dyn std::fmt::Display;

fn mismatch(expected: Expected<'_>, found: &Value) -> Mismatch {
    format!("expected {expected}, found {}", describe(found))
}

/// A Lua integer (or integral float) in `min..=max`.
pub fn integer(value: &Value, ty: Expected<'_>, min: i128, max: i128) -> Result<i128, Mismatch> {
    let n = match *value {
        Value::Integer(i) => i128::from(i),
        Value::Number(f) if f.fract() == 0.0 && f.is_finite() && f.abs() < 1e38 => f as i128,
        _ => return Err(mismatch(ty, value)),
    };
    if n < min || n > max {
        return Err(format!("expected {ty}, found {n}, which is out of range"));
    }
    Ok(n)
}

pub fn float(value: &Value, ty: Expected<'_>) -> Result<f64, Mismatch> {
    match *value {
        Value::Integer(i) => Ok(i as f64),
        Value::Number(f) => Ok(f),
        _ => Err(mismatch(ty, value)),
    }
}

pub fn boolean(value: &Value) -> Result<bool, Mismatch> {
    match *value {
        Value::Boolean(b) => Ok(b),
        _ => Err(mismatch(&"bool", value)),
    }
}

pub fn character(value: &Value) -> Result<char, Mismatch> {
    if let Value::String(s) = value {
        let bytes = s.as_bytes();
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let mut chars = text.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                return Ok(c);
            }
        }
    }
    Err(mismatch(&"char (a string of one character)", value))
}

/// A Lua string that is valid UTF-8.
pub fn string(value: &Value) -> Result<mlua::LuaString, Mismatch> {
    match value {
        Value::String(s) if std::str::from_utf8(&s.as_bytes()).is_ok() => Ok(s.clone()),
        Value::String(_) => Err("expected string, found a string that is not valid UTF-8".into()),
        _ => Err(mismatch(&"string", value)),
    }
}

/// The debug message a string passed as an error-context stands for.
pub fn error_message(value: &Value) -> Result<String, Mismatch> {
    match value {
        Value::String(s) => match s.to_str() {
            Ok(message) => Ok(message.to_string()),
            Err(_) => Err(
                "expected error-context (its message, a string), found a string \
                 that is not valid UTF-8"
                    .into(),
            ),
        },
        _ => Err(mismatch(&"error-context (its message, a string)", value)),
    }
}

pub fn table(value: &Value, ty: Expected<'_>) -> Result<Table, Mismatch> {
    match value {
        Value::Table(t) => Ok(t.clone()),
        _ => Err(mismatch(ty, value)),
    }
}

/// The bits of a flags value given as a set of names.
pub fn flags(value: &Value, ty: Flags) -> Result<u32, Mismatch> {
    let expected = format_args!("flags {} (a set of flag names)", ty.name());
    let set = table(value, &expected)?;
    let mut bits = 0u32;
    for pair in set.pairs::<Value, Value>() {
        let (key, on) = pair.map_err(|e| e.to_string())?;
        let name = match &key {
            Value::String(s) => s.to_string_lossy(),
            _ => return Err(mismatch(&expected, &key)),
        };
        let index = ty
            .names()
            .position(|flag| lua_mapping::names(flag, &name))
            .ok_or_else(|| {
                format!(
                    "`{name}` is not a flag of {} (flags: {})",
                    ty.name(),
                    spellings(ty.names())
                )
            })?;
        if on.as_boolean() == Some(true) {
            bits |= 1 << index;
        }
    }
    Ok(bits)
}

/// How Lua spells `names`, for messages listing what is valid.
fn spellings<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(lua_mapping::lua_name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Field `wit_name` of a record table, under its Lua spelling or, failing
/// that, its WIT spelling.
pub fn record_field(record: &Table, wit_name: &str) -> mlua::Result<Value> {
    let value: Value = record.raw_get(lua_mapping::lua_name(wit_name))?;
    match value {
        Value::Nil if wit_name.contains('-') => record.raw_get(wit_name),
        value => Ok(value),
    }
}

pub fn flags_to_lua(lua: &Lua, ty: Flags, bits: u32) -> mlua::Result<Value> {
    let set = lua.create_table()?;
    for (i, name) in ty.names().enumerate() {
        if bits & (1 << i) != 0 {
            set.raw_set(lua_mapping::lua_name(name), true)?;
        }
    }
    Ok(Value::Table(set))
}

/// The index of a case given by name (enum cases, variant tags); `cases`
/// lists them (again, for the message, when `name` is none of them).
pub fn case_index<'a, I: Iterator<Item = &'a str>>(
    name: &Value,
    cases: impl Fn() -> I,
    ty: Expected<'_>,
) -> Result<u32, Mismatch> {
    let Value::String(s) = name else {
        return Err(mismatch(&format_args!("a case name of {ty}"), name));
    };
    let name = s.to_string_lossy();
    cases()
        .position(|case| lua_mapping::names(case, &name))
        .map(|i| i as u32)
        .ok_or_else(|| {
            format!(
                "`{name}` is not a case of {ty} (cases: {})",
                spellings(cases())
            )
        })
}

/// A variant value `{ tag = ..., value = ... }`: its case and payload.
pub fn variant(value: &Value, ty: Variant) -> Result<(u32, Value), Mismatch> {
    let expected = format_args!(
        "variant {} (a table {{ tag = ..., value = ... }})",
        ty.name()
    );
    let t = table(value, &expected)?;
    let tag: Value = t.raw_get("tag").map_err(|e| e.to_string())?;
    let case = case_index(
        &tag,
        || ty.cases().map(|(name, _)| name),
        &format_args!("variant {}", ty.name()),
    )?;
    Ok((case, t.raw_get("value").map_err(|e| e.to_string())?))
}

/// Whether an option's `some` needs the `{ some = v }` wrapping: when its
/// payload is itself an option, whose `none` must differ from the outer one.
pub fn option_is_wrapped(ty: WitOption) -> bool {
    matches!(ty.ty().dealias(), Type::Option(_))
}

/// An option: `None`, or the payload. `{ some = nil }` (that is, `{}`) is
/// `some(none)` of a wrapped option, as is `{ some = wit.none }`.
pub fn option(value: &Value, ty: WitOption) -> Result<Option<Value>, Mismatch> {
    match value {
        Value::Nil => Ok(None),
        value if is_none(value) => Ok(None),
        _ if option_is_wrapped(ty) => {
            let t = table(value, &"option (nil, wit.none or { some = value })")?;
            Ok(Some(t.raw_get("some").map_err(|e| e.to_string())?))
        }
        other => Ok(Some(other.clone())),
    }
}

/// A result `{ ok = v }` / `{ err = e }`: whether it is an error, and the payload.
pub fn result(value: &Value) -> Result<(bool, Value), Mismatch> {
    let t = table(value, &"result ({ ok = value } or { err = value })")?;
    let has = |key: &str| t.contains_key(key).unwrap_or(false);
    match (has("ok"), has("err")) {
        (true, false) => Ok((false, t.raw_get("ok").map_err(|e| e.to_string())?)),
        (false, true) => Ok((true, t.raw_get("err").map_err(|e| e.to_string())?)),
        (false, false) => Err(
            "expected result ({ ok = value } or { err = value }, with `true` \
                               for a case without payload), found a table with neither"
                .into(),
        ),
        (true, true) => Err("expected result, found a table with both `ok` and `err`".into()),
    }
}
