//! Runtime values. Everything but numbers is reference counted, and lists,
//! maps and variants are immutable, so copying a value is always cheap.

use crate::ast::Lambda;
use crate::env::Scope;
use crate::interp::{Interp, NativeFn};
use std::any::Any;
use std::fmt;
use std::rc::Rc;

#[derive(Clone)]
pub enum Value {
    Nil,
    Bool(bool),
    /// Wide enough for every WIT integer type, signed or not.
    Int(i128),
    Float(f64),
    Char(char),
    Str(Rc<str>),
    List(Rc<Vec<Value>>),
    /// Insertion-ordered; keys unique under `same`. Records and WIT maps.
    Map(Rc<Vec<(Value, Value)>>),
    /// A tagged value: case name and payload (`Nil` when the case has none).
    Variant(Rc<(Rc<str>, Value)>),
    Func(Rc<Function>),
    /// An object owned by the embedder (e.g. a resource handle).
    Host(Rc<dyn HostObject>),
}

/// Implemented by embedder objects stored in [`Value::Host`].
pub trait HostObject: Any {
    /// Shown in messages and by `show`, e.g. `<counter handle 3>`.
    fn describe(&self) -> String;
    /// Lets the embedder downcast back to its own type.
    fn as_any(&self) -> &dyn Any;
}

/// A callable value: a toy closure or a native function.
pub struct Function {
    pub(crate) name: Rc<str>,
    pub(crate) kind: FnKind,
}

pub(crate) enum FnKind {
    Closure { lambda: Rc<Lambda>, scope: Scope },
    Native(Box<NativeFn>),
}

impl Function {
    /// The name it was defined under, or "anonymous".
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A native function, for embedders that want a function value without
    /// defining a global (e.g. methods kept in a map).
    pub fn native(
        name: &str,
        f: impl Fn(&Interp, Vec<Value>) -> Result<Value, String> + 'static,
    ) -> Function {
        Function {
            name: Rc::from(name),
            kind: FnKind::Native(Box::new(f)),
        }
    }

    /// Whether this is a native function rather than a toy closure.
    pub fn is_native(&self) -> bool {
        matches!(self.kind, FnKind::Native(_))
    }
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<function {}>", self.name)
    }
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Char(_) => "char",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Variant(_) => "variant",
            Value::Func(_) => "function",
            Value::Host(_) => "host",
        }
    }

    /// Only `nil` and `false` are false.
    pub fn is_truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false))
    }

    /// A readable rendering; strings and chars are quoted.
    pub fn show(&self) -> String {
        let mut out = String::new();
        crate::show::show_into(self, &mut out);
        out
    }

    pub fn str(s: &str) -> Value {
        Value::Str(Rc::from(s))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }

    /// Entries must have unique keys under [`same`].
    pub fn map(entries: Vec<(Value, Value)>) -> Value {
        Value::Map(Rc::new(entries))
    }

    pub fn variant(case: &str, payload: Value) -> Value {
        Value::Variant(Rc::new((Rc::from(case), payload)))
    }

    pub fn host(object: impl HostObject) -> Value {
        Value::Host(Rc::new(object))
    }

    /// The entry of a map under a key `same` as `key`.
    pub fn map_get(&self, key: &Value) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries.iter().find(|(k, _)| same(k, key)).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.show())
    }
}

/// Structural identity, as in [`same`]; lets tests use `assert_eq!`.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        same(self, other)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i128> for Value {
    fn from(i: i128) -> Value {
        Value::Int(i)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i.into())
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl From<char> for Value {
    fn from(c: char) -> Value {
        Value::Char(c)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(Rc::from(s))
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::list(items)
    }
}

/// Structural identity: what makes two values interchangeable. Ints and
/// floats are never the same; floats compare by bits (so `0.0` and `-0.0`
/// differ) except that all NaNs are the same; maps compare as sets of
/// entries; functions and host objects by identity.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Value::Char(x), Value::Char(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            Rc::ptr_eq(x, y)
                || (x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same(a, b)))
        }
        (Value::Map(x), Value::Map(y)) => {
            Rc::ptr_eq(x, y)
                || (x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.iter().any(|(k2, v2)| same(k, k2) && same(v, v2))))
        }
        (Value::Variant(x), Value::Variant(y)) => x.0 == y.0 && same(&x.1, &y.1),
        (Value::Func(x), Value::Func(y)) => Rc::ptr_eq(x, y),
        (Value::Host(x), Value::Host(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}
