//! Fixed-width integer helpers, so scripts can write hashes and PRNGs (and
//! produce WIT `u64`/`s8`... values) although toy ints never wrap by
//! themselves.

use super::{Result, args, expected, int};
use crate::interp::Interp;
use crate::value::Value;

pub(super) fn install(interp: &Interp) {
    interp.define_native("wrap", wrap);
    interp.define_native("mul64", |_, a| {
        let [x, y] = args("mul64", a)?;
        let (x, y) = (int("mul64", &x)? as u64, int("mul64", &y)? as u64);
        Ok(Value::Int(x.wrapping_mul(y).into()))
    });
    interp.define_native("band", |_, a| bitwise("band", a, |x, y| x & y));
    interp.define_native("bor", |_, a| bitwise("bor", a, |x, y| x | y));
    interp.define_native("bxor", |_, a| bitwise("bxor", a, |x, y| x ^ y));
    interp.define_native("bnot", |_, a| {
        let [x] = args("bnot", a)?;
        Ok(Value::Int(!int("bnot", &x)?))
    });
    interp.define_native("shl", |_, a| shift("shl", a, |x, n| x << n));
    interp.define_native("shr", |_, a| shift("shr", a, |x, n| x >> n));
}

/// `(wrap x bits signed)`: the low `bits` bits of `x`, sign-extended when
/// `signed` is true.
fn wrap(_: &Interp, a: Vec<Value>) -> Result {
    let [x, bits, signed] = args("wrap", a)?;
    let x = int("wrap", &x)?;
    let bits = match int("wrap", &bits)? {
        b @ 1..=64 => b as u32,
        _ => return Err(expected("wrap", "a bit width from 1 to 64", &bits)),
    };
    let low = (x as u128) & ((1u128 << bits) - 1);
    let negative = signed.is_truthy() && (low >> (bits - 1)) & 1 == 1;
    let wrapped = if negative {
        low as i128 - (1i128 << bits)
    } else {
        low as i128
    };
    Ok(Value::Int(wrapped))
}

/// On the two's complement i128 representation.
fn bitwise(name: &str, a: Vec<Value>, op: fn(i128, i128) -> i128) -> Result {
    let [x, y] = args(name, a)?;
    Ok(Value::Int(op(int(name, &x)?, int(name, &y)?)))
}

/// Shifts the low 64 bits of `x` as an unsigned number; shifting by 64 or
/// more gives 0.
fn shift(name: &str, a: Vec<Value>, op: fn(u64, u32) -> u64) -> Result {
    let [x, n] = args(name, a)?;
    let x = int(name, &x)? as u64;
    let n = match int(name, &n)? {
        n @ 0..=63 => n as u32,
        64.. => return Ok(Value::Int(0)),
        _ => return Err(expected(name, "a non-negative shift", &n)),
    };
    Ok(Value::Int(op(x, n).into()))
}
