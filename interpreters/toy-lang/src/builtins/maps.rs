//! Maps: association lists keyed by `same`. Small records and WIT maps are
//! the use, so linear search is fine and keeps insertion order.

use super::{args, arity, map};
use crate::interp::Interp;
use crate::value::{Value, same};
use std::rc::Rc;

pub(super) fn install(interp: &Interp) {
    interp.define_native("dict", |_, a| {
        if a.len() % 2 != 0 {
            return Err(format!(
                "`dict` takes keys and values in pairs, got {} arguments",
                a.len()
            ));
        }
        let mut entries = Vec::with_capacity(a.len() / 2);
        let mut a = a.into_iter();
        while let (Some(k), Some(v)) = (a.next(), a.next()) {
            put(&mut entries, k, v);
        }
        Ok(Value::Map(Rc::new(entries)))
    });
    interp.define_native("get", |_, a| {
        arity("get", &a, 2, Some(3))?;
        let entries = map("get", &a[0])?;
        let found = entries.iter().find(|(k, _)| same(k, &a[1]));
        Ok(match found {
            Some((_, v)) => v.clone(),
            None => a.get(2).cloned().unwrap_or(Value::Nil),
        })
    });
    interp.define_native("has?", |_, a| {
        let [m, k] = args("has?", a)?;
        Ok(Value::Bool(
            map("has?", &m)?.iter().any(|(key, _)| same(key, &k)),
        ))
    });
    interp.define_native("put", |_, a| {
        let [m, k, v] = args("put", a)?;
        map("put", &m)?;
        let Value::Map(entries) = m else {
            unreachable!("checked a map")
        };
        let mut entries = Rc::unwrap_or_clone(entries);
        put(&mut entries, k, v);
        Ok(Value::Map(Rc::new(entries)))
    });
    interp.define_native("remove", |_, a| {
        let [m, k] = args("remove", a)?;
        let entries = map("remove", &m)?;
        let kept = entries
            .iter()
            .filter(|(key, _)| !same(key, &k))
            .cloned()
            .collect();
        Ok(Value::Map(Rc::new(kept)))
    });
    interp.define_native("keys", |_, a| {
        let [m] = args("keys", a)?;
        Ok(Value::list(
            map("keys", &m)?.iter().map(|(k, _)| k.clone()).collect(),
        ))
    });
    interp.define_native("values", |_, a| {
        let [m] = args("values", a)?;
        Ok(Value::list(
            map("values", &m)?.iter().map(|(_, v)| v.clone()).collect(),
        ))
    });
    interp.define_native("entries", |_, a| {
        let [m] = args("entries", a)?;
        let entries = map("entries", &m)?;
        let pairs = entries
            .iter()
            .map(|(k, v)| Value::list(vec![k.clone(), v.clone()]))
            .collect();
        Ok(Value::list(pairs))
    });
}

/// Replaces the value of a `same` key in place, else appends.
fn put(entries: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    match entries.iter_mut().find(|(k, _)| same(k, &key)) {
        Some((_, slot)) => *slot = value,
        None => entries.push((key, value)),
    }
}
