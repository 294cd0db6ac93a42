//! Canonical ABI sizes and alignments of WIT types, for checking and building
//! lists in canonical layout.

use crate::metadata::Type;

/// The size and alignment of a value of `ty` in linear memory.
pub fn size_align(ty: Type) -> (usize, usize) {
    match ty {
        Type::Bool | Type::U8 | Type::S8 => (1, 1),
        Type::U16 | Type::S16 => (2, 2),
        Type::U32 | Type::S32 | Type::F32 | Type::Char => (4, 4),
        Type::U64 | Type::S64 | Type::F64 => (8, 8),
        Type::Own(_) | Type::Borrow(_) | Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            (4, 4)
        }
        Type::String | Type::List(_) | Type::Map(_) => (8, 4),
        Type::Flags(f) => match f.names().len() {
            0..=8 => (1, 1),
            9..=16 => (2, 2),
            _ => (4, 4),
        },
        Type::Enum(e) => discriminant(e.names().len()),
        Type::Record(r) => aggregate(r.fields().map(|(_, t)| t)),
        Type::Tuple(t) => aggregate(t.types()),
        Type::Variant(v) => tagged(v.cases().len(), v.cases().map(|(_, t)| t)),
        Type::Option(o) => tagged(2, [None, Some(o.ty())].into_iter()),
        Type::Result(r) => tagged(2, [r.ok(), r.err()].into_iter()),
        Type::FixedLengthList(l) => {
            let (size, align) = size_align(l.ty());
            (size * l.len(), align)
        }
        Type::Alias(a) => size_align(a.ty()),
    }
}

pub(crate) fn align_to(offset: usize, align: usize) -> usize {
    offset.div_ceil(align) * align
}

/// The layout of a discriminant for `cases` cases.
pub(crate) fn discriminant(cases: usize) -> (usize, usize) {
    match cases {
        0..=0x100 => (1, 1),
        0x101..=0x1_0000 => (2, 2),
        _ => (4, 4),
    }
}

/// Fields laid out in order, each at its alignment.
pub(crate) fn aggregate(fields: impl Iterator<Item = Type>) -> (usize, usize) {
    let (mut size, mut align) = (0, 1);
    for field in fields {
        let (field_size, field_align) = size_align(field);
        size = align_to(size, field_align) + field_size;
        align = align.max(field_align);
    }
    (align_to(size, align), align)
}

/// A discriminant followed by the largest payload.
fn tagged(cases: usize, payloads: impl Iterator<Item = Option<Type>>) -> (usize, usize) {
    let (tag_size, tag_align) = discriminant(cases);
    let (mut payload_size, mut align) = (0, tag_align);
    for payload in payloads.flatten() {
        let (size, payload_align) = size_align(payload);
        payload_size = payload_size.max(size);
        align = align.max(payload_align);
    }
    (
        align_to(align_to(tag_size, align) + payload_size, align),
        align,
    )
}
