//! The readable rendering of values used by `show`, `str` and messages. Atoms
//! print the way they are written in source, so a shown value can be pasted
//! back into a script.

use crate::value::Value;
use std::fmt::Write;

/// Longer strings are summarised, so that messages stay one line.
const MAX_SHOWN_STRING: usize = 60;

pub(crate) fn show_into(value: &Value, out: &mut String) {
    match value {
        Value::Nil => out.push_str("nil"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => write!(out, "{i}").unwrap(),
        Value::Float(f) => float_into(*f, out),
        Value::Char(c) => {
            out.push('\'');
            escaped_into(*c, '\'', out);
            out.push('\'');
        }
        Value::Str(s) if s.len() > MAX_SHOWN_STRING => {
            write!(out, "<string of {} bytes>", s.len()).unwrap()
        }
        Value::Str(s) => {
            out.push('"');
            for c in s.chars() {
                escaped_into(c, '"', out);
            }
            out.push('"');
        }
        Value::List(items) => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                show_into(item, out);
            }
            out.push(')');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                show_into(k, out);
                out.push(' ');
                show_into(v, out);
            }
            out.push('}');
        }
        Value::Variant(variant) => {
            let (case, payload) = &**variant;
            out.push('(');
            out.push_str(case);
            if !matches!(payload, Value::Nil) {
                out.push(' ');
                show_into(payload, out);
            }
            out.push(')');
        }
        Value::Func(f) => write!(out, "<function {}>", f.name()).unwrap(),
        Value::Host(h) => out.push_str(&h.describe()),
    }
}

/// Shortest round-tripping form, always with a `.` or exponent so that it
/// reads back as a float.
fn float_into(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("nan");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "inf" } else { "-inf" });
    } else {
        write!(out, "{f:?}").unwrap();
    }
}

/// Escapes `c` as it would be written inside a literal quoted by `quote`.
fn escaped_into(c: char, quote: char, out: &mut String) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\0' => out.push_str("\\0"),
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if c.is_control() => write!(out, "\\u{{{:x}}}", c as u32).unwrap(),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use crate::Value;

    #[test]
    fn floats_read_back() {
        let shown: Vec<String> = [1.5, -0.0, 0.0, 1e300, 1e-7, 3.0]
            .iter()
            .map(|&f| Value::Float(f).show())
            .collect();
        assert_eq!(shown, ["1.5", "-0.0", "0.0", "1e300", "1e-7", "3.0"]);
        assert_eq!(Value::Float(f64::NEG_INFINITY).show(), "-inf");
        assert_eq!(Value::Float(f64::NAN).show(), "nan");
    }

    #[test]
    fn escapes() {
        assert_eq!(Value::str("a\"b\\\n\u{7}").show(), r#""a\"b\\\n\u{7}""#);
        assert_eq!(Value::Char('\'').show(), r"'\''");
        assert_eq!(Value::Char('"').show(), "'\"'");
        assert_eq!(Value::str("'").show(), "\"'\"");
    }
}
