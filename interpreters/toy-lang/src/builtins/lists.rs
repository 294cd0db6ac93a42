//! Lists, including the higher-order functions; these call back into toy
//! code through `Interp::call`, so errors inside keep their toy stack.

use super::{Result, args, arity, expected, int, list, owned_list, size};
use crate::interp::Interp;
use crate::value::{Value, same};

pub(super) fn install(interp: &Interp) {
    interp.define_native("list", |_, a| Ok(Value::list(a)));
    interp.define_native("len", |_, a| {
        let [x] = args("len", a)?;
        let len = match &x {
            Value::List(items) => items.len(),
            Value::Map(entries) => entries.len(),
            Value::Str(s) => s.len(),
            other => return Err(expected("len", "a list, map or string", other)),
        };
        Ok(Value::Int(len as i128))
    });
    interp.define_native("empty?", |_, a| {
        let [x] = args("empty?", a)?;
        let empty = match &x {
            Value::Nil => true,
            Value::List(items) => items.is_empty(),
            Value::Map(entries) => entries.is_empty(),
            Value::Str(s) => s.is_empty(),
            other => return Err(expected("empty?", "a list, map or string", other)),
        };
        Ok(Value::Bool(empty))
    });
    interp.define_native("member?", |_, a| {
        let [x, l] = args("member?", a)?;
        Ok(Value::Bool(
            list("member?", &l)?.iter().any(|item| same(item, &x)),
        ))
    });
    interp.define_native("nth", nth);
    interp.define_native("first", |_, a| {
        let [l] = args("first", a)?;
        Ok(list("first", &l)?.first().cloned().unwrap_or(Value::Nil))
    });
    interp.define_native("rest", |_, a| {
        let [l] = args("rest", a)?;
        Ok(Value::list(
            list("rest", &l)?.iter().skip(1).cloned().collect(),
        ))
    });
    interp.define_native("append", |_, a| {
        let [l, x] = args("append", a)?;
        let mut items = owned_list("append", l)?;
        items.push(x);
        Ok(Value::list(items))
    });
    interp.define_native("concat-lists", |_, a| {
        let [l, m] = args("concat-lists", a)?;
        let mut items = owned_list("concat-lists", l)?;
        items.extend(list("concat-lists", &m)?.iter().cloned());
        Ok(Value::list(items))
    });
    interp.define_native("reverse", |_, a| {
        let [l] = args("reverse", a)?;
        let mut items = owned_list("reverse", l)?;
        items.reverse();
        Ok(Value::list(items))
    });
    interp.define_native("range", range);
    interp.define_native("map", |interp, a| {
        let [f, l] = args("map", a)?;
        let mut out = Vec::new();
        for x in list("map", &l)?.iter() {
            out.push(interp.call(&f, vec![x.clone()])?);
        }
        Ok(Value::list(out))
    });
    interp.define_native("filter", |interp, a| {
        let [f, l] = args("filter", a)?;
        let mut out = Vec::new();
        for x in list("filter", &l)?.iter() {
            if interp.call(&f, vec![x.clone()])?.is_truthy() {
                out.push(x.clone());
            }
        }
        Ok(Value::list(out))
    });
    interp.define_native("for-each", |interp, a| {
        let [f, l] = args("for-each", a)?;
        for x in list("for-each", &l)?.iter() {
            interp.call(&f, vec![x.clone()])?;
        }
        Ok(Value::Nil)
    });
    interp.define_native("fold", |interp, a| {
        let [f, init, l] = args("fold", a)?;
        let mut acc = init;
        for x in list("fold", &l)?.iter() {
            acc = interp.call(&f, vec![acc, x.clone()])?;
        }
        Ok(acc)
    });
    interp.define_native("apply", |interp, a| {
        let [f, l] = args("apply", a)?;
        Ok(interp.call(&f, owned_list("apply", l)?)?)
    });
}

fn nth(_: &Interp, a: Vec<Value>) -> Result {
    let [l, i] = args("nth", a)?;
    let items = list("nth", &l)?;
    let index = int("nth", &i)?;
    usize::try_from(index)
        .ok()
        .and_then(|i| items.get(i))
        .cloned()
        .ok_or_else(|| {
            format!(
                "`nth` index {index} out of range for a list of {}",
                items.len()
            )
        })
}

/// `(range n)` is 0 to n-1, `(range a b)` is a to b-1.
fn range(_: &Interp, a: Vec<Value>) -> Result {
    arity("range", &a, 1, Some(2))?;
    let (start, end) = match &a[..] {
        [n] => (0, int("range", n)?),
        [s, e] => (int("range", s)?, int("range", e)?),
        _ => unreachable!("checked arity"),
    };
    let count = end.saturating_sub(start).max(0);
    size("range", &Value::Int(count))?;
    Ok(Value::list((start..end).map(Value::Int).collect()))
}
