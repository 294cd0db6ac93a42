//! Types, identity, errors and globals by name (for names computed at run
//! time, like WIT function names built from parts).

use super::text::concat;
use super::{args, arity, string};
use crate::interp::Interp;
use crate::value::{Value, same};

pub(super) fn install(interp: &Interp) {
    interp.define_native("type-of", |_, a| {
        let [v] = args("type-of", a)?;
        Ok(Value::str(v.type_name()))
    });
    interp.define_native("same?", |_, a| {
        let [x, y] = args("same?", a)?;
        Ok(Value::Bool(same(&x, &y)))
    });
    interp.define_native("error", |_, a| {
        Err(if a.is_empty() {
            "error".to_string()
        } else {
            concat(&a)
        })
    });
    interp.define_native("assert", |_, a| {
        arity("assert", &a, 1, None)?;
        if a[0].is_truthy() {
            return Ok(Value::Nil);
        }
        Err(if a.len() == 1 {
            "assertion failed".to_string()
        } else {
            concat(&a[1..])
        })
    });
    interp.define_native("define-global", |interp, a| {
        let [name, value] = args("define-global", a)?;
        interp.define(string("define-global", &name)?, value);
        Ok(Value::Nil)
    });
    interp.define_native("global", |interp, a| {
        let [name] = args("global", a)?;
        Ok(interp
            .global(string("global", &name)?)
            .unwrap_or(Value::Nil))
    });
}
