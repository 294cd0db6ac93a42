//! Releasing the handles inside a lowered value that no one took.
//!
//! A write to a future or stream lowers its elements into a buffer before the
//! reader takes them. Elements the reader never took (it dropped its end, or
//! the write was cancelled) stay with the writer, and so do the handles in
//! them: owned resources and the readable ends of futures and streams. The
//! SDK drops those handles, so that nothing stays open in this component's
//! handle table with no value left to reach it. Memory the elements point to
//! (strings, lists) belongs to the write's call frame and is freed with it.

use crate::channel::Channel;
use crate::handle::release;
use crate::layout::{aggregate, align_to, discriminant, size_align};
use crate::metadata::Type;

/// Whether a value of `ty` can hold a handle that must be dropped.
pub(crate) fn holds_handles(ty: Type) -> bool {
    match ty.dealias() {
        Type::Own(_) | Type::Future(_) | Type::Stream(_) => true,
        Type::Record(r) => r.fields().any(|(_, t)| holds_handles(t)),
        Type::Tuple(t) => t.types().any(holds_handles),
        Type::Variant(v) => v.cases().any(|(_, t)| t.is_some_and(holds_handles)),
        Type::Option(o) => holds_handles(o.ty()),
        Type::Result(r) => r.ok().is_some_and(holds_handles) || r.err().is_some_and(holds_handles),
        Type::List(l) => holds_handles(l.ty()),
        Type::FixedLengthList(l) => holds_handles(l.ty()),
        Type::Map(m) => holds_handles(m.key_ty()) || holds_handles(m.value_ty()),
        _ => false,
    }
}

/// Drops every owned resource handle and readable future or stream end in
/// the value of `ty` lowered at `ptr`.
///
/// # Safety
/// `ptr` must point to a value of `ty` in canonical layout, lowered by this
/// component and not taken by anyone, whose handles are this component's.
pub(crate) unsafe fn drop_handles(ty: Type, ptr: *const u8) {
    // SAFETY (whole function): offsets stay within the value's canonical
    // layout, and list pointers are those the lowering wrote.
    unsafe {
        match ty.dealias() {
            Type::Own(resource) => release(resource.raw_drop(), read_u32(ptr)),
            Type::Future(future) => {
                release(Channel::Future(future).ops().drop_readable, read_u32(ptr))
            }
            Type::Stream(stream) => {
                release(Channel::Stream(stream).ops().drop_readable, read_u32(ptr))
            }
            Type::Record(record) => drop_fields(record.fields().map(|(_, t)| t), ptr),
            Type::Tuple(tuple) => drop_fields(tuple.types(), ptr),
            Type::Variant(variant) => {
                let case = read_discriminant(variant.cases().len(), ptr);
                let payload = variant.cases().nth(case).and_then(|(_, t)| t);
                drop_payload(ty, variant.cases().len(), payload, ptr);
            }
            Type::Option(option) => {
                let some = read_discriminant(2, ptr) == 1;
                drop_payload(ty, 2, some.then(|| option.ty()), ptr);
            }
            Type::Result(result) => {
                let payload = match read_discriminant(2, ptr) {
                    0 => result.ok(),
                    _ => result.err(),
                };
                drop_payload(ty, 2, payload, ptr);
            }
            Type::List(list) => {
                let (base, len) = read_list(ptr);
                drop_elements(list.ty(), base, len);
            }
            Type::FixedLengthList(list) => drop_elements(list.ty(), ptr, list.len()),
            Type::Map(map) => {
                let entry = [map.key_ty(), map.value_ty()];
                let (size, _) = aggregate(entry.into_iter());
                let (base, len) = read_list(ptr);
                for i in 0..len {
                    drop_fields(entry.into_iter(), base.add(i * size));
                }
            }
            _ => {}
        }
    }
}

unsafe fn read_u32(ptr: *const u8) -> u32 {
    // SAFETY: guaranteed by the caller.
    unsafe { ptr.cast::<u32>().read_unaligned() }
}

/// The elements and length of a list (or map) lowered at `ptr`: two 32-bit
/// words on wasm32.
unsafe fn read_list(ptr: *const u8) -> (*const u8, usize) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        (
            read_u32(ptr) as usize as *const u8,
            read_u32(ptr.add(4)) as usize,
        )
    }
}

/// The case index stored at `ptr` by a type with `cases` cases.
unsafe fn read_discriminant(cases: usize, ptr: *const u8) -> usize {
    // SAFETY: guaranteed by the caller.
    unsafe {
        match discriminant(cases).0 {
            1 => usize::from(*ptr),
            2 => usize::from(ptr.cast::<u16>().read_unaligned()),
            _ => read_u32(ptr) as usize,
        }
    }
}

/// Drops the handles in the payload of tagged type `ty` (`cases` cases).
unsafe fn drop_payload(ty: Type, cases: usize, payload: Option<Type>, ptr: *const u8) {
    if let Some(payload) = payload.filter(|t| holds_handles(*t)) {
        let offset = align_to(discriminant(cases).0, size_align(ty).1);
        // SAFETY: the payload follows the discriminant at this offset.
        unsafe { drop_handles(payload, ptr.add(offset)) }
    }
}

/// Drops the handles in fields laid out in order from `ptr`.
unsafe fn drop_fields(fields: impl Iterator<Item = Type>, ptr: *const u8) {
    let mut offset = 0;
    for field in fields {
        let (size, align) = size_align(field);
        offset = align_to(offset, align);
        if holds_handles(field) {
            // SAFETY: the field lies at this offset.
            unsafe { drop_handles(field, ptr.add(offset)) }
        }
        offset += size;
    }
}

/// Drops the handles in `len` elements of `ty` stored from `ptr`.
unsafe fn drop_elements(ty: Type, ptr: *const u8, len: usize) {
    if !holds_handles(ty) {
        return;
    }
    let size = size_align(ty).0;
    for i in 0..len {
        // SAFETY: element `i` lies at this offset.
        unsafe { drop_handles(ty, ptr.add(i * size)) }
    }
}
