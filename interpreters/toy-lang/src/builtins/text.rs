//! Strings and chars. Lengths are in UTF-8 bytes, as WIT strings are.

use super::{args, expected, int, size, string};
use crate::interp::Interp;
use crate::show::show_into;
use crate::value::Value;

/// Refuse to build strings this large: allocation failure aborts in wasm.
const MAX_STRING: usize = 1 << 30;

pub(super) fn install(interp: &Interp) {
    interp.define_native("str", |_, a| Ok(Value::from(concat(&a))));
    interp.define_native("show", |_, a| {
        let [x] = args("show", a)?;
        Ok(Value::from(x.show()))
    });
    interp.define_native("string-length", |_, a| {
        let [s] = args("string-length", a)?;
        Ok(Value::Int(string("string-length", &s)?.len() as i128))
    });
    interp.define_native("string-repeat", |_, a| {
        let [s, n] = args("string-repeat", a)?;
        let (s, n) = (string("string-repeat", &s)?, size("string-repeat", &n)?);
        match s.len().checked_mul(n) {
            Some(len) if len <= MAX_STRING => Ok(Value::from(s.repeat(n))),
            _ => Err("string too long".to_string()),
        }
    });
    interp.define_native("string-chars", |_, a| {
        let [s] = args("string-chars", a)?;
        let chars = string("string-chars", &s)?
            .chars()
            .map(Value::Char)
            .collect();
        Ok(Value::list(chars))
    });
    interp.define_native("string-bytes", |_, a| {
        let [s] = args("string-bytes", a)?;
        let bytes = string("string-bytes", &s)?
            .bytes()
            .map(|b| Value::Int(b.into()))
            .collect();
        Ok(Value::list(bytes))
    });
    interp.define_native("starts-with?", |_, a| {
        let [s, prefix] = args("starts-with?", a)?;
        let prefix = string("starts-with?", &prefix)?;
        Ok(Value::Bool(
            string("starts-with?", &s)?.starts_with(&**prefix),
        ))
    });
    interp.define_native("ends-with?", |_, a| {
        let [s, suffix] = args("ends-with?", a)?;
        let suffix = string("ends-with?", &suffix)?;
        Ok(Value::Bool(string("ends-with?", &s)?.ends_with(&**suffix)))
    });
    interp.define_native("char-code", |_, a| {
        let [c] = args("char-code", a)?;
        match c {
            Value::Char(c) => Ok(Value::Int(u32::from(c).into())),
            other => Err(expected("char-code", "a char", &other)),
        }
    });
    interp.define_native("code-char", |_, a| {
        let [n] = args("code-char", a)?;
        let code = int("code-char", &n)?;
        u32::try_from(code)
            .ok()
            .and_then(char::from_u32)
            .map(Value::Char)
            .ok_or_else(|| format!("{code} is not a Unicode scalar value"))
    });
}

/// Strings and chars as they are, anything else as `show`s it.
pub(super) fn concat(values: &[Value]) -> String {
    let mut out = String::new();
    for value in values {
        match value {
            Value::Str(s) => out.push_str(s),
            Value::Char(c) => out.push(*c),
            other => show_into(other, &mut out),
        }
    }
    out
}
