//! Variants: a case name and a payload. WIT variants, enums, options and
//! results all map to them.

use super::{Result, args, arity, expected, string};
use crate::interp::Interp;
use crate::value::Value;

pub(super) fn install(interp: &Interp) {
    interp.define_native("variant", |_, a| {
        arity("variant", &a, 1, Some(2))?;
        let mut a = a.into_iter();
        let case = a.next().expect("checked arity");
        let payload = a.next().unwrap_or(Value::Nil);
        Ok(Value::variant(string("variant", &case)?, payload))
    });
    for case in ["some", "none", "ok", "err"] {
        // `some` needs its payload, `none` has none; results may have one.
        let (min, max) = match case {
            "some" => (1, 1),
            "none" => (0, 0),
            _ => (0, 1),
        };
        interp.define_native(case, move |_, a| {
            arity(case, &a, min, Some(max))?;
            let payload = a.into_iter().next().unwrap_or(Value::Nil);
            Ok(Value::variant(case, payload))
        });
    }
    interp.define_native("case-of", |_, a| {
        let [v] = args("case-of", a)?;
        Ok(Value::Str(variant("case-of", &v)?.0.clone()))
    });
    interp.define_native("payload-of", |_, a| {
        let [v] = args("payload-of", a)?;
        Ok(variant("payload-of", &v)?.1.clone())
    });
}

fn variant<'v>(name: &str, v: &'v Value) -> Result<&'v (std::rc::Rc<str>, Value)> {
    match v {
        Value::Variant(variant) => Ok(variant),
        _ => Err(expected(name, "a variant", v)),
    }
}
