//! Deterministic values for any WIT type.
//!
//! Caller and callee of a matrix test never exchange expectations: both derive
//! the same values from a seed (the function's name and the iteration), the
//! caller to build arguments and check results, the callee to check arguments
//! and build results. Values lean towards edge cases (empty, extreme, negative,
//! non-ASCII) and resources appear as *tags*, the `u32` their constructor took:
//! a generated value holds `Val::U32(tag)` wherever the type has an `own`, a
//! `borrow` or an `error-context` (see `crate::ValInterpreter::materialize`).

use wit_dylib_sdk::{Type, Val};

/// splitmix64: tiny, fast and good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The seed for the arguments (`result == false`) or the result of call
/// `iteration` of function `name`.
pub fn seed(name: &str, iteration: u32, result: bool) -> u64 {
    // FNV-1a over the name, then mix in the rest.
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for byte in name.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash ^ (u64::from(iteration) << 1 | u64::from(result)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// How large values may get.
#[derive(Copy, Clone)]
pub struct Size {
    /// Nesting depth left before lists and strings stay empty.
    pub depth: u32,
    /// Whether a string may be 1 MiB (only top-level values of some calls).
    pub huge_strings: bool,
}

const ONE_MIB: usize = 1 << 20;

pub fn value(ty: Type, rng: &mut Rng, size: Size) -> Val {
    let inner = Size {
        depth: size.depth.saturating_sub(1),
        huge_strings: false,
    };
    match ty {
        Type::Bool => Val::Bool(rng.below(2) == 1),
        Type::U8 => Val::U8(pick(rng, &[0, 1, u8::MAX.into(), 0x80]) as u8),
        Type::S8 => Val::S8(pick_signed(rng, &[0, -1, i8::MIN.into(), i8::MAX.into()]) as i8),
        Type::U16 => Val::U16(pick(rng, &[0, 1, u16::MAX.into(), 0x8000]) as u16),
        Type::S16 => Val::S16(pick_signed(rng, &[0, -1, i16::MIN.into(), i16::MAX.into()]) as i16),
        Type::U32 => Val::U32(pick(rng, &[0, 1, u32::MAX.into(), 0x8000_0000]) as u32),
        Type::S32 => Val::S32(pick_signed(rng, &[0, -1, i32::MIN.into(), i32::MAX.into()]) as i32),
        Type::U64 => Val::U64(pick(rng, &[0, 1, u64::MAX, 1 << 63])),
        Type::S64 => Val::S64(pick_signed(rng, &[0, -1, i64::MIN, i64::MAX])),
        Type::F32 => Val::F32(pick_float(rng) as f32),
        Type::F64 => Val::F64(pick_float(rng)),
        Type::Char => {
            let chars = [
                'a',
                '\0',
                'ü',
                '€',
                '🦀',
                '\u{d7ff}',
                '\u{e000}',
                '\u{10ffff}',
            ];
            Val::Char(chars[rng.below(chars.len() as u64) as usize])
        }
        Type::String => Val::String(string(rng, size)),
        Type::Record(r) => Val::Record(r.fields().map(|(_, t)| value(t, rng, inner)).collect()),
        Type::Tuple(t) => Val::Tuple(t.types().map(|t| value(t, rng, inner)).collect()),
        Type::Flags(f) => {
            let count = f.names().len() as u32;
            let mask = if count >= 32 {
                u32::MAX
            } else {
                (1u32 << count) - 1
            };
            Val::Flags(rng.next() as u32 & mask)
        }
        Type::Enum(e) => Val::Enum(rng.below(e.names().len() as u64) as u32),
        Type::Variant(v) => {
            let case = rng.below(v.cases().len() as u64) as u32;
            let payload = v.cases().nth(case as usize).and_then(|(_, t)| t);
            Val::Variant(case, payload.map(|t| Box::new(value(t, rng, inner))))
        }
        Type::Option(o) => Val::Option(match rng.below(2) {
            0 => None,
            _ => Some(Box::new(value(o.ty(), rng, inner))),
        }),
        Type::Result(r) => Val::Result(match rng.below(2) {
            0 => Ok(r.ok().map(|t| Box::new(value(t, rng, inner)))),
            _ => Err(r.err().map(|t| Box::new(value(t, rng, inner)))),
        }),
        Type::List(l) => {
            let len = length(rng, size);
            Val::List((0..len).map(|_| value(l.ty(), rng, inner)).collect())
        }
        Type::Map(m) => {
            let len = length(rng, size);
            let mut entries: Vec<(Val, Val)> = Vec::new();
            for _ in 0..len {
                let key = value(m.key_ty(), rng, inner);
                let value = value(m.value_ty(), rng, inner);
                // Keys stay unique so that no map semantics are assumed.
                if !entries.iter().any(|(k, _)| *k == key) {
                    entries.push((key, value));
                }
            }
            Val::Map(entries)
        }
        Type::Own(_) | Type::Borrow(_) => Val::U32(rng.next() as u32),
        Type::Alias(a) => value(a.ty(), rng, size),
        // A future or a stream stands for what goes through it: a list of
        // one value (none for `future`), or of the elements (`tuple<>` ones
        // for `stream`). The side that passes it opens it and writes them.
        Type::Future(f) => Val::List(f.ty().map(|t| value(t, rng, inner)).into_iter().collect()),
        Type::Stream(s) => match s.ty().map(Type::dealias) {
            Some(Type::U8) if size.huge_strings => Val::List(
                (0..ONE_MIB + 17)
                    .map(|i| Val::U8((i % 251) as u8))
                    .collect(),
            ),
            Some(t) => {
                let len = length(rng, size);
                Val::List((0..len).map(|_| value(t, rng, inner)).collect())
            }
            None => Val::List(
                (0..length(rng, size))
                    .map(|_| Val::Tuple(Vec::new()))
                    .collect(),
            ),
        },
        // Fixed-length lists cross the ABI as tuples of their elements.
        Type::FixedLengthList(l) => {
            Val::Tuple((0..l.len()).map(|_| value(l.ty(), rng, inner)).collect())
        }
        // A tag, carried by the debug message (see `crate::error_message`).
        Type::ErrorContext => Val::U32(rng.next() as u32),
    }
}

/// One of `edges`, or any value, with equal odds.
fn pick(rng: &mut Rng, edges: &[u64]) -> u64 {
    let i = rng.below(edges.len() as u64 + 1) as usize;
    edges.get(i).copied().unwrap_or_else(|| rng.next())
}

fn pick_signed(rng: &mut Rng, edges: &[i64]) -> i64 {
    let i = rng.below(edges.len() as u64 + 1) as usize;
    edges.get(i).copied().unwrap_or_else(|| rng.next() as i64)
}

fn pick_float(rng: &mut Rng) -> f64 {
    let edges = [
        0.0,
        -0.0,
        1.5,
        -2.25,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    let i = rng.below(edges.len() as u64 + 1) as usize;
    edges
        .get(i)
        .copied()
        .unwrap_or_else(|| (rng.next() % 1_000_000) as f64 / 8.0)
}

fn length(rng: &mut Rng, size: Size) -> usize {
    if size.depth == 0 {
        return 0;
    }
    match rng.below(4) {
        0 => 0,
        1 => 1,
        _ => 2 + rng.below(6) as usize,
    }
}

fn string(rng: &mut Rng, size: Size) -> String {
    if size.huge_strings {
        // Non-ASCII throughout, so any byte/char confusion shows.
        return "wasm ✓ ".repeat(ONE_MIB / "wasm ✓ ".len() + 1);
    }
    match rng.below(5) {
        0 => String::new(),
        1 => "ünïcødé ✓ 🦀".to_string(),
        2 => "a".to_string(),
        _ => {
            let len = rng.below(24);
            (0..len)
                .map(|_| char::from(b' ' + rng.below(95) as u8))
                .collect()
        }
    }
}

/// Whether two values are equal, treating every NaN as equal to every NaN
/// (the canonical ABI may change NaN payloads).
pub fn same(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::F32(x), Val::F32(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (Val::F64(x), Val::F64(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (Val::Record(x), Val::Record(y))
        | (Val::Tuple(x), Val::Tuple(y))
        | (Val::List(x), Val::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Val::Variant(c, x), Val::Variant(d, y)) => c == d && same_payload(x, y),
        (Val::Option(x), Val::Option(y)) => same_payload(x, y),
        (Val::Result(Ok(x)), Val::Result(Ok(y))) | (Val::Result(Err(x)), Val::Result(Err(y))) => {
            same_payload(x, y)
        }
        // Entry order is not part of a map's value (a Lua table has none).
        (Val::Map(x), Val::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(l, w)| same(k, l) && same(v, w)))
        }
        _ => a == b,
    }
}

fn same_payload(a: &Option<Box<Val>>, b: &Option<Box<Val>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same(a, b),
        (None, None) => true,
        _ => false,
    }
}
