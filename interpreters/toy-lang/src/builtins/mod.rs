//! The global functions every interpreter starts with, one module per group,
//! plus the argument checks they share. Builtins are ordinary native
//! functions: they get no access to the evaluator that embedders lack.

use crate::interp::{Interp, arity_message};
use crate::value::Value;
use std::rc::Rc;

mod bits;
mod lists;
mod maps;
mod misc;
mod numbers;
mod text;
mod variants;

pub(crate) fn install(interp: &Interp) {
    numbers::install(interp);
    bits::install(interp);
    text::install(interp);
    lists::install(interp);
    maps::install(interp);
    variants::install(interp);
    misc::install(interp);
}

type Result<T = Value> = std::result::Result<T, String>;

/// Exactly `N` arguments, by value.
fn args<const N: usize>(name: &str, args: Vec<Value>) -> Result<[Value; N]> {
    let got = args.len();
    args.try_into()
        .map_err(|_| arity_message(name, N, Some(N), got))
}

/// Between `min` and `max` arguments (`None`: no limit).
fn arity(name: &str, args: &[Value], min: usize, max: Option<usize>) -> Result<()> {
    if args.len() < min || max.is_some_and(|max| args.len() > max) {
        return Err(arity_message(name, min, max, args.len()));
    }
    Ok(())
}

/// "`nth` expects an int, got string "x"". Long values are cut short.
fn expected(name: &str, what: &str, got: &Value) -> String {
    let mut shown = got.show();
    if shown.len() > 40 {
        let mut end = 37;
        while !shown.is_char_boundary(end) {
            end -= 1;
        }
        shown.truncate(end);
        shown.push_str("...");
    }
    format!("`{name}` expects {what}, got {} {shown}", got.type_name())
}

fn int(name: &str, v: &Value) -> Result<i128> {
    match v {
        Value::Int(i) => Ok(*i),
        _ => Err(expected(name, "an int", v)),
    }
}

/// A count or index: a non-negative int that fits in memory.
fn size(name: &str, v: &Value) -> Result<usize> {
    match v {
        Value::Int(i) => usize::try_from(*i).map_err(|_| expected(name, "a size", v)),
        _ => Err(expected(name, "a size", v)),
    }
}

fn string<'v>(name: &str, v: &'v Value) -> Result<&'v Rc<str>> {
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(expected(name, "a string", v)),
    }
}

fn list<'v>(name: &str, v: &'v Value) -> Result<&'v Rc<Vec<Value>>> {
    match v {
        Value::List(items) => Ok(items),
        _ => Err(expected(name, "a list", v)),
    }
}

/// Takes the list out of a value, copying only if it is shared.
fn owned_list(name: &str, v: Value) -> Result<Vec<Value>> {
    match v {
        Value::List(items) => Ok(Rc::unwrap_or_clone(items)),
        _ => Err(expected(name, "a list", &v)),
    }
}

fn map<'v>(name: &str, v: &'v Value) -> Result<&'v Rc<Vec<(Value, Value)>>> {
    match v {
        Value::Map(entries) => Ok(entries),
        _ => Err(expected(name, "a map", v)),
    }
}
