//! Arithmetic and comparison. Ints are exact (overflow is an error, never a
//! wrap); one float among the arguments makes the whole operation float.

use super::{Result, args, arity, expected, int};
use crate::interp::Interp;
use crate::value::{Value, same};
use std::cmp::Ordering;

pub(super) fn install(interp: &Interp) {
    interp.define_native("+", |_, a| {
        arith("+", a, 0, i128::checked_add, |x, y| x + y)
    });
    interp.define_native("*", |_, a| {
        arith("*", a, 1, i128::checked_mul, |x, y| x * y)
    });
    interp.define_native("-", sub);
    interp.define_native("/", div);
    interp.define_native("quot", |_, a| int_division("quot", a, i128::checked_div));
    interp.define_native("rem", |_, a| int_division("rem", a, i128::checked_rem));
    interp.define_native("=", |_, a| compare("=", a, |o| o == Some(Ordering::Equal)));
    interp.define_native("<", |_, a| compare("<", a, |o| o == Some(Ordering::Less)));
    interp.define_native(">", |_, a| {
        compare(">", a, |o| o == Some(Ordering::Greater))
    });
    interp.define_native("<=", |_, a| {
        compare("<=", a, |o| {
            matches!(o, Some(Ordering::Less | Ordering::Equal))
        })
    });
    interp.define_native(">=", |_, a| {
        compare(">=", a, |o| {
            matches!(o, Some(Ordering::Greater | Ordering::Equal))
        })
    });
    interp.define_native("min", |_, a| extreme("min", a, Ordering::Less));
    interp.define_native("max", |_, a| extreme("max", a, Ordering::Greater));
    interp.define_native("not", |_, a| {
        let [x] = args("not", a)?;
        Ok(Value::Bool(!x.is_truthy()))
    });
    interp.define_native("abs", abs);
    interp.define_native("float", |_, a| {
        let [x] = args("float", a)?;
        Ok(Value::Float(float("float", &x)?))
    });
    interp.define_native("int", to_int);
    interp.define_native("f32", |_, a| {
        let [x] = args("f32", a)?;
        Ok(Value::Float(float("f32", &x)? as f32 as f64))
    });
    interp.define_native("nan?", |_, a| {
        let [x] = args("nan?", a)?;
        Ok(Value::Bool(float("nan?", &x)?.is_nan()))
    });
    interp.define("inf", Value::Float(f64::INFINITY));
    interp.define("nan", Value::Float(f64::NAN));
}

/// Any number as a float.
fn float(name: &str, v: &Value) -> Result<f64> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        _ => Err(expected(name, "a number", v)),
    }
}

fn check_numbers(name: &str, args: &[Value]) -> Result<bool> {
    let mut any_float = false;
    for arg in args {
        match arg {
            Value::Int(_) => {}
            Value::Float(_) => any_float = true,
            _ => return Err(expected(name, "a number", arg)),
        }
    }
    Ok(any_float)
}

/// Folds left from the first argument (`identity` when there is none).
fn arith(
    name: &str,
    args: Vec<Value>,
    identity: i128,
    int_op: fn(i128, i128) -> Option<i128>,
    float_op: fn(f64, f64) -> f64,
) -> Result {
    if check_numbers(name, &args)? {
        let mut floats = args.iter().map(|a| float(name, a));
        let first = floats.next().unwrap_or(Ok(identity as f64))?;
        return floats
            .try_fold(first, |acc, x| Ok(float_op(acc, x?)))
            .map(Value::Float);
    }
    let mut ints = args.iter().map(|a| int(name, a));
    let first = ints.next().unwrap_or(Ok(identity))?;
    ints.try_fold(first, |acc, x| int_op(acc, x?).ok_or_else(overflow))
        .map(Value::Int)
}

fn overflow() -> String {
    "integer overflow".to_string()
}

fn sub(_: &Interp, args: Vec<Value>) -> Result {
    arity("-", &args, 1, None)?;
    if args.len() > 1 {
        return arith("-", args, 0, i128::checked_sub, |x, y| x - y);
    }
    match &args[0] {
        Value::Int(i) => i.checked_neg().map(Value::Int).ok_or_else(overflow),
        Value::Float(f) => Ok(Value::Float(-f)),
        other => Err(expected("-", "a number", other)),
    }
}

/// Always float division; `(/ x)` is `1/x`.
fn div(_: &Interp, args: Vec<Value>) -> Result {
    arity("/", &args, 1, None)?;
    check_numbers("/", &args)?;
    let mut floats = args.iter().map(|a| float("/", a));
    let first = floats.next().expect("checked arity")?;
    if args.len() == 1 {
        return Ok(Value::Float(1.0 / first));
    }
    floats
        .try_fold(first, |acc, x| Ok(acc / x?))
        .map(Value::Float)
}

fn int_division(name: &str, a: Vec<Value>, op: fn(i128, i128) -> Option<i128>) -> Result {
    let [x, y] = args(name, a)?;
    let (x, y) = (int(name, &x)?, int(name, &y)?);
    if y == 0 {
        return Err("division by zero".to_string());
    }
    op(x, y).map(Value::Int).ok_or_else(overflow)
}

fn abs(_: &Interp, a: Vec<Value>) -> Result {
    let [x] = args("abs", a)?;
    match x {
        Value::Int(i) => i.checked_abs().map(Value::Int).ok_or_else(overflow),
        Value::Float(f) => Ok(Value::Float(f.abs())),
        other => Err(expected("abs", "a number", &other)),
    }
}

/// Truncates toward zero; only finite floats in the i128 range convert.
fn to_int(_: &Interp, a: Vec<Value>) -> Result {
    let [x] = args("int", a)?;
    match x {
        Value::Int(i) => Ok(Value::Int(i)),
        Value::Float(f) => {
            let t = f.trunc();
            if t.is_finite() && (-TWO_POW_127..TWO_POW_127).contains(&t) {
                Ok(Value::Int(t as i128))
            } else {
                Err(format!("cannot convert {} to an int", x.show()))
            }
        }
        other => Err(expected("int", "a number", &other)),
    }
}

const TWO_POW_127: f64 = 170141183460469231731687303715884105728.0;

/// Exact comparison of an int and a float (no rounding of the int).
fn cmp_int_float(i: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        None
    } else if f >= TWO_POW_127 {
        Some(Ordering::Less)
    } else if f < -TWO_POW_127 {
        Some(Ordering::Greater)
    } else {
        let t = f.trunc();
        match i.cmp(&(t as i128)) {
            Ordering::Equal => t.partial_cmp(&f),
            unequal => Some(unequal),
        }
    }
}

/// Numbers compare numerically, strings and chars by code point; `None` for
/// NaN. Other pairs cannot be ordered.
fn order(name: &str, a: &Value, b: &Value) -> Result<Option<Ordering>> {
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Int(x), Value::Float(y)) => cmp_int_float(*x, *y),
        (Value::Float(x), Value::Int(y)) => cmp_int_float(*y, *x).map(Ordering::reverse),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Char(x), Value::Char(y)) => Some(x.cmp(y)),
        _ => {
            return Err(format!(
                "`{name}` cannot compare {} and {}",
                a.type_name(),
                b.type_name()
            ));
        }
    })
}

fn is_number(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_))
}

/// Chained: `(< a b c)` is `a < b` and `b < c`. `=` also takes any values,
/// compared with `same` unless both are numbers.
fn compare(name: &str, args: Vec<Value>, holds: fn(Option<Ordering>) -> bool) -> Result {
    arity(name, &args, 1, None)?;
    for pair in args.windows(2) {
        let ordering = if name == "=" && !(is_number(&pair[0]) && is_number(&pair[1])) {
            same(&pair[0], &pair[1]).then_some(Ordering::Equal)
        } else {
            order(name, &pair[0], &pair[1])?
        };
        if !holds(ordering) {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

/// The argument that is least (`Less`) or greatest (`Greater`).
fn extreme(name: &str, args: Vec<Value>, wanted: Ordering) -> Result {
    arity(name, &args, 1, None)?;
    let mut args = args.into_iter();
    let mut best = args.next().expect("checked arity");
    for arg in args {
        if order(name, &arg, &best)? == Some(wanted) {
            best = arg;
        }
    }
    Ok(best)
}
