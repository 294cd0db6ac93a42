//! How WIT source spells a type: `u8`, `point`, `list<string>`,
//! `result<_, error-code>`, `future`, `stream<u8>`, `borrow<file>`. The one
//! place that names WIT types, for interpreters' messages and for matching
//! a type a script spells out.

use std::fmt;

use crate::metadata::Type;

impl fmt::Display for Type {
    /// A named type by its name (aliases included), an anonymous one by its
    /// structure, as WIT writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `kind` with its arguments, unless the type has a name.
        let generic =
            |f: &mut fmt::Formatter<'_>, kind: &str, name: Option<&str>, args: &[Type]| {
                if let Some(name) = name {
                    return f.write_str(name);
                }
                f.write_str(kind)?;
                if !args.is_empty() {
                    f.write_str("<")?;
                    for (i, arg) in args.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{arg}")?;
                    }
                    f.write_str(">")?;
                }
                Ok(())
            };
        match *self {
            Type::Record(t) => f.write_str(t.name()),
            Type::Variant(t) => f.write_str(t.name()),
            Type::Enum(t) => f.write_str(t.name()),
            Type::Flags(t) => f.write_str(t.name()),
            Type::Alias(t) => f.write_str(t.name()),
            Type::Own(t) => f.write_str(t.name()),
            Type::Borrow(t) => write!(f, "borrow<{}>", t.name()),
            Type::Tuple(t) => generic(f, "tuple", t.name(), &t.types().collect::<Vec<_>>()),
            Type::Option(t) => generic(f, "option", t.name(), &[t.ty()]),
            Type::Result(t) => match (t.name(), t.ok(), t.err()) {
                (Some(name), ..) => f.write_str(name),
                (None, Some(ok), Some(err)) => write!(f, "result<{ok}, {err}>"),
                (None, None, Some(err)) => write!(f, "result<_, {err}>"),
                (None, ok, None) => generic(f, "result", None, &ok.into_iter().collect::<Vec<_>>()),
            },
            Type::List(t) => generic(f, "list", t.name(), &[t.ty()]),
            Type::FixedLengthList(t) => match t.name() {
                Some(name) => f.write_str(name),
                None => write!(f, "list<{}, {}>", t.ty(), t.len()),
            },
            Type::Map(t) => generic(f, "map", t.name(), &[t.key_ty(), t.value_ty()]),
            Type::Future(t) => generic(
                f,
                "future",
                t.name(),
                &t.ty().into_iter().collect::<Vec<_>>(),
            ),
            Type::Stream(t) => generic(
                f,
                "stream",
                t.name(),
                &t.ty().into_iter().collect::<Vec<_>>(),
            ),
            // Primitives and error-context: their description is their name.
            other => f.write_str(&other.describe()),
        }
    }
}
