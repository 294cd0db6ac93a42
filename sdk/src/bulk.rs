//! Lists of [`Val`]s moved in one piece: the elements are encoded into (or
//! decoded from) a buffer in canonical layout, so that the glue copies the
//! list at once instead of calling the value stack once per element and
//! field.
//!
//! That works for element types whose canonical layout holds numbers only,
//! at fixed offsets: the numeric types, and records, tuples and fixed-length
//! lists of them. Anything else (bools and chars, which need checking;
//! strings, lists and handles, which point elsewhere; variants, whose
//! layout depends on the case) takes the per-element path.

use crate::buffer::CanonicalList;
use crate::layout::{align_to, size_align};
use crate::metadata::Type;
use crate::val::Val;

/// A numeric type's width and kind.
#[derive(Clone, Copy)]
enum Number {
    U8,
    S8,
    U16,
    S16,
    U32,
    S32,
    U64,
    S64,
    F32,
    F64,
}

/// How to encode and decode one element: numbers at offsets, grouped as
/// the element's records and tuples are.
enum Plan {
    Number(Number, usize),
    Record(Vec<Plan>),
    Tuple(Vec<Plan>),
}

impl Plan {
    /// The plan for a value of `ty` at `offset`, or `None` when `ty` holds
    /// anything but numbers.
    fn of(ty: Type, offset: usize) -> Option<Plan> {
        let fields = |types: &mut dyn Iterator<Item = Type>| -> Option<Vec<Plan>> {
            let mut at = offset;
            types
                .map(|t| {
                    let (size, align) = size_align(t);
                    at = align_to(at, align);
                    let plan = Plan::of(t, at);
                    at += size;
                    plan
                })
                .collect()
        };
        let number = |n| Some(Plan::Number(n, offset));
        match ty.dealias() {
            Type::U8 => number(Number::U8),
            Type::S8 => number(Number::S8),
            Type::U16 => number(Number::U16),
            Type::S16 => number(Number::S16),
            Type::U32 => number(Number::U32),
            Type::S32 => number(Number::S32),
            Type::U64 => number(Number::U64),
            Type::S64 => number(Number::S64),
            Type::F32 => number(Number::F32),
            Type::F64 => number(Number::F64),
            Type::Record(r) => fields(&mut r.fields().map(|(_, t)| t)).map(Plan::Record),
            Type::Tuple(t) => fields(&mut t.types()).map(Plan::Tuple),
            // A fixed-length list is a tuple of its elements in `Val`.
            Type::FixedLengthList(l) => {
                fields(&mut std::iter::repeat_n(l.ty(), l.len())).map(Plan::Tuple)
            }
            _ => None,
        }
    }

    /// Writes `value` into `element`; `false` if its shape does not match
    /// (the per-element path then reports the mismatch).
    fn write(&self, value: &Val, element: &mut [u8]) -> bool {
        macro_rules! put {
            ($offset:expr, $v:expr) => {{
                let bytes = $v.to_le_bytes();
                element[*$offset..*$offset + bytes.len()].copy_from_slice(&bytes);
                true
            }};
        }
        match (self, value) {
            (Plan::Number(Number::U8, at), Val::U8(v)) => put!(at, v),
            (Plan::Number(Number::S8, at), Val::S8(v)) => put!(at, v),
            (Plan::Number(Number::U16, at), Val::U16(v)) => put!(at, v),
            (Plan::Number(Number::S16, at), Val::S16(v)) => put!(at, v),
            (Plan::Number(Number::U32, at), Val::U32(v)) => put!(at, v),
            (Plan::Number(Number::S32, at), Val::S32(v)) => put!(at, v),
            (Plan::Number(Number::U64, at), Val::U64(v)) => put!(at, v),
            (Plan::Number(Number::S64, at), Val::S64(v)) => put!(at, v),
            (Plan::Number(Number::F32, at), Val::F32(v)) => put!(at, v),
            (Plan::Number(Number::F64, at), Val::F64(v)) => put!(at, v),
            (Plan::Record(plans), Val::Record(values))
            | (Plan::Tuple(plans), Val::Tuple(values)) => {
                plans.len() == values.len()
                    && plans.iter().zip(values).all(|(p, v)| p.write(v, element))
            }
            _ => false,
        }
    }

    fn read(&self, element: &[u8]) -> Val {
        macro_rules! get {
            ($variant:ident, $rust:ty, $offset:expr) => {{
                const N: usize = std::mem::size_of::<$rust>();
                let bytes: [u8; N] = element[*$offset..*$offset + N].try_into().expect("N bytes");
                Val::$variant(<$rust>::from_le_bytes(bytes))
            }};
        }
        match self {
            Plan::Number(Number::U8, at) => get!(U8, u8, at),
            Plan::Number(Number::S8, at) => get!(S8, i8, at),
            Plan::Number(Number::U16, at) => get!(U16, u16, at),
            Plan::Number(Number::S16, at) => get!(S16, i16, at),
            Plan::Number(Number::U32, at) => get!(U32, u32, at),
            Plan::Number(Number::S32, at) => get!(S32, i32, at),
            Plan::Number(Number::U64, at) => get!(U64, u64, at),
            Plan::Number(Number::S64, at) => get!(S64, i64, at),
            Plan::Number(Number::F32, at) => get!(F32, f32, at),
            Plan::Number(Number::F64, at) => get!(F64, f64, at),
            Plan::Record(plans) => Val::Record(plans.iter().map(|p| p.read(element)).collect()),
            Plan::Tuple(plans) => Val::Tuple(plans.iter().map(|p| p.read(element)).collect()),
        }
    }
}

/// Encodes `items`, a list of `element`s, in canonical layout; `None` if
/// the element type is not all numbers or an item does not fit it.
pub(crate) fn encode(element: Type, items: &[Val]) -> Option<Vec<u8>> {
    let element = element.dealias();
    if let Some(encoded) = encode_primitives(element, items) {
        return Some(encoded);
    }
    let plan = Plan::of(element, 0)?;
    let (size, _) = size_align(element);
    let mut bytes = vec![0; size.checked_mul(items.len())?];
    if size == 0 {
        return Some(bytes);
    }
    for (item, chunk) in items.iter().zip(bytes.chunks_exact_mut(size)) {
        if !plan.write(item, chunk) {
            return None;
        }
    }
    Some(bytes)
}

/// Decodes a canonical list whose element type is all numbers; `None` for
/// other element types.
pub(crate) fn decode(element: Type, buffer: &CanonicalList) -> Option<Vec<Val>> {
    let element = element.dealias();
    if let Some(decoded) = decode_primitives(element, buffer) {
        return Some(decoded);
    }
    let plan = Plan::of(element, 0)?;
    let (size, _) = size_align(element);
    if size == 0 {
        return Some(
            std::iter::repeat_with(|| plan.read(&[]))
                .take(buffer.len())
                .collect(),
        );
    }
    let bytes = buffer.as_bytes();
    Some(
        bytes[..size * buffer.len()]
            .chunks_exact(size)
            .map(|chunk| plan.read(chunk))
            .collect(),
    )
}

/// The fast path for lists of numbers: encodes them packed, little-endian;
/// `None` for other element types.
fn encode_primitives(element: Type, items: &[Val]) -> Option<Vec<u8>> {
    macro_rules! encode {
        ($variant:ident) => {{
            let mut bytes = Vec::new();
            for item in items {
                match item {
                    Val::$variant(v) => bytes.extend_from_slice(&v.to_le_bytes()),
                    // Leave the mismatch to the element-wise path, which
                    // reports it with the element's type.
                    _ => return None,
                }
            }
            Some(bytes)
        }};
    }
    match element {
        Type::U8 => encode!(U8),
        Type::S8 => encode!(S8),
        Type::U16 => encode!(U16),
        Type::S16 => encode!(S16),
        Type::U32 => encode!(U32),
        Type::S32 => encode!(S32),
        Type::U64 => encode!(U64),
        Type::S64 => encode!(S64),
        Type::F32 => encode!(F32),
        Type::F64 => encode!(F64),
        _ => None,
    }
}

/// The fast path for lists of numbers: reads them as a slice; `None` for
/// other element types.
fn decode_primitives(element: Type, buffer: &CanonicalList) -> Option<Vec<Val>> {
    macro_rules! decode {
        ($variant:ident, $rust:ty) => {
            buffer
                .as_slice::<$rust>()
                .map(|items| items.iter().map(|&v| Val::$variant(v)).collect())
        };
    }
    match element {
        Type::U8 => decode!(U8, u8),
        Type::S8 => decode!(S8, i8),
        Type::U16 => decode!(U16, u16),
        Type::S16 => decode!(S16, i16),
        Type::U32 => decode!(U32, u32),
        Type::S32 => decode!(S32, i32),
        Type::U64 => decode!(U64, u64),
        Type::S64 => decode!(S64, i64),
        Type::F32 => decode!(F32, f32),
        Type::F64 => decode!(F64, f64),
        _ => None,
    }
}
