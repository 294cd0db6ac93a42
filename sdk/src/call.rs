//! The value stack of one call: what an interpreter implements so that the
//! generated glue can move values between the canonical ABI and its language.
//!
//! The glue *lifts* (canonical ABI → language) by calling `push_*` and
//! *lowers* (language → canonical ABI) by calling `pop_*`. Aggregates are
//! built and taken apart on the stack:
//!
//! * `push_record`/`push_tuple` pop their fields (the last one is on top) and
//!   push the aggregate; `pop_record`/`pop_tuple` pop the aggregate and push its
//!   fields so that the **first** field ends up on top.
//! * `push_variant`/`push_option`/`push_result` pop the payload if the case has
//!   one; the matching `pop_*` push the payload if the case has one.
//! * Lists and maps are lowered through an iterator that the interpreter keeps
//!   on its stack between `pop_list` and `pop_list_iter` (the glue nests them
//!   strictly), or through a buffer in canonical layout.
//!
//! Memory the glue reads after a `pop_*` returns ([`Bytes`]) is retained by the
//! SDK until the call ends, and buffers handed to `push_*` ([`CanonicalList`],
//! strings) become the interpreter's: no implementation of this trait has to
//! think about the glue's allocations.

use crate::buffer::{Bytes, CanonicalList};
use crate::end::ReadEnd;
use crate::error_context::ErrorContext;
use crate::handle::{Borrow, Own};
use crate::metadata::{
    Enum, Flags, Future, List, Map, Record, Resource, Stream, Tuple, Variant, WitOption, WitResult,
};

/// How an interpreter lowers a popped list: see [`Call::pop_list`].
pub enum ListLowering {
    /// The elements, already in canonical layout (`len` of them). The glue
    /// hands the bytes to the canonical ABI as they are.
    Canonical { bytes: Bytes, len: usize },
    /// `len` elements: the interpreter has pushed an iterator that
    /// [`Call::pop_list_iter_next`] advances.
    Elements { len: usize },
}

/// One call's value stack. See the module docs for the protocol.
///
/// A method that finds a value of the wrong type on the stack should panic
/// with a message that names the expected type: the SDK turns panics into
/// traps, so a bad value never reaches the canonical ABI.
pub trait Call {
    // Lowering: interpreter → canonical ABI.
    fn pop_bool(&mut self) -> bool;
    fn pop_char(&mut self) -> char;
    fn pop_u8(&mut self) -> u8;
    fn pop_s8(&mut self) -> i8;
    fn pop_u16(&mut self) -> u16;
    fn pop_s16(&mut self) -> i16;
    fn pop_u32(&mut self) -> u32;
    fn pop_s32(&mut self) -> i32;
    fn pop_u64(&mut self) -> u64;
    fn pop_s64(&mut self) -> i64;
    fn pop_f32(&mut self) -> f32;
    fn pop_f64(&mut self) -> f64;
    /// Pops a string. The SDK keeps the returned bytes alive until the call
    /// ends, because the glue passes them to the canonical ABI without copying.
    fn pop_string(&mut self) -> Bytes;
    /// Pops a flags value as a bit set (bit `i` = flag `i`).
    fn pop_flags(&mut self, ty: Flags) -> u32;
    /// Pops an enum value as the index of its case.
    fn pop_enum(&mut self, ty: Enum) -> u32;
    /// Pops a borrowed resource: a [`Borrow`] received, or one lent by an
    /// [`Own`] the interpreter keeps alive until the call ends.
    fn pop_borrow(&mut self, ty: Resource) -> Borrow;
    /// Pops an owned resource handle, giving it away. For a resource this
    /// component exports, [`Resource::new_own`] makes one for an object.
    fn pop_own(&mut self, ty: Resource) -> Own;
    /// Pops a record and pushes its fields, the first on top.
    fn pop_record(&mut self, ty: Record);
    /// Pops a tuple and pushes its elements, the first on top.
    fn pop_tuple(&mut self, ty: Tuple);
    /// Pops a variant, pushes its payload if the case has one, and returns the
    /// case index.
    fn pop_variant(&mut self, ty: Variant) -> u32;
    /// Pops an option, pushes the payload if it is `some`; returns whether it is.
    fn pop_option(&mut self, ty: WitOption) -> bool;
    /// Pops a result, pushes the payload of its case if the case has one;
    /// returns `true` for `err`.
    fn pop_result(&mut self, ty: WitResult) -> bool;
    /// Pops a list: either as canonical bytes, or by pushing an iterator.
    fn pop_list(&mut self, ty: List) -> ListLowering;
    /// Pushes the next element of the iterator on top of the stack.
    fn pop_list_iter_next(&mut self, ty: List);
    /// Pops the exhausted list iterator.
    fn pop_list_iter(&mut self, ty: List);
    /// Pops a map, pushes an iterator over its entries, returns their number.
    fn pop_map(&mut self, ty: Map) -> usize;
    /// Pushes the next entry of the map iterator on top: the value, then the
    /// key (the key ends up on top).
    fn pop_map_iter_next(&mut self, ty: Map);
    /// Pops the exhausted map iterator.
    fn pop_map_iter(&mut self, ty: Map);
    /// Pops a future's readable end, giving it away; the SDK traps if it
    /// is busy, closed or of another type. The default traps: an
    /// interpreter without async support has none.
    fn pop_future(&mut self, ty: Future) -> ReadEnd {
        let _ = ty;
        panic!("wit-dylib: future<T> is not supported by this interpreter")
    }
    /// Pops a stream's readable end, giving it away. The default traps.
    fn pop_stream(&mut self, ty: Stream) -> ReadEnd {
        let _ = ty;
        panic!("wit-dylib: stream<T> is not supported by this interpreter")
    }

    /// Pops an error-context. Passing one copies it: return a clone of the
    /// interpreter's value, which the SDK keeps until the call ends. The
    /// default traps.
    fn pop_error_context(&mut self) -> ErrorContext {
        panic!("wit-dylib: error-context is not supported by this interpreter")
    }

    // Lifting: canonical ABI → interpreter.
    fn push_bool(&mut self, value: bool);
    fn push_char(&mut self, value: char);
    fn push_u8(&mut self, value: u8);
    fn push_s8(&mut self, value: i8);
    fn push_u16(&mut self, value: u16);
    fn push_s16(&mut self, value: i16);
    fn push_u32(&mut self, value: u32);
    fn push_s32(&mut self, value: i32);
    fn push_u64(&mut self, value: u64);
    fn push_s64(&mut self, value: i64);
    fn push_f32(&mut self, value: f32);
    fn push_f64(&mut self, value: f64);
    fn push_string(&mut self, value: String);
    /// Pushes a flags value; the SDK has checked that only defined bits are set.
    fn push_flags(&mut self, ty: Flags, bits: u32);
    /// Pushes an enum value; the SDK has checked the case index.
    fn push_enum(&mut self, ty: Enum, case: u32);
    /// Pushes a borrowed resource ([`Borrow::rep`] for resources this
    /// component exports). A borrow is valid only during the call: for a
    /// resource defined elsewhere, the SDK drops the handle when the export
    /// returns.
    fn push_borrow(&mut self, ty: Resource, borrow: Borrow);
    /// Pushes an owned resource handle, which the interpreter now owns. For
    /// a resource this component exports, [`Own::rep`] names the object.
    fn push_own(&mut self, ty: Resource, own: Own);
    /// Pops the record's fields (the last on top) and pushes the record.
    fn push_record(&mut self, ty: Record);
    /// Pops the tuple's elements (the last on top) and pushes the tuple.
    fn push_tuple(&mut self, ty: Tuple);
    /// Pops the payload if case `case` has one and pushes the variant; the SDK
    /// has checked the case index.
    fn push_variant(&mut self, ty: Variant, case: u32);
    /// Pops the payload if `is_some` and pushes the option.
    fn push_option(&mut self, ty: WitOption, is_some: bool);
    /// Pops the payload of the case if it has one and pushes the result.
    fn push_result(&mut self, ty: WitResult, is_err: bool);
    /// Offers the whole list as a buffer in canonical layout. Return `Ok` after
    /// pushing a list that took the buffer; return `Err(buffer)` to decline, and
    /// the SDK calls [`Call::push_empty_list`] and lifts the elements one by one.
    fn push_list_canonical(
        &mut self,
        ty: List,
        buffer: CanonicalList,
    ) -> Result<(), CanonicalList> {
        let _ = ty;
        Err(buffer)
    }
    /// Pushes an empty list that [`Call::list_append`] will fill with `capacity`
    /// elements.
    fn push_empty_list(&mut self, ty: List, capacity: usize);
    /// Pops an element and appends it to the list now on top.
    fn list_append(&mut self, ty: List);
    /// Pushes an empty map that [`Call::map_append`] will fill.
    fn push_map(&mut self, ty: Map, capacity: usize);
    /// Pops a value, then a key, and inserts them into the map now on top.
    fn map_append(&mut self, ty: Map);
    /// Pushes a future's readable end, which the interpreter now owns (see
    /// [`ReadEnd::read`]). The default traps.
    fn push_future(&mut self, ty: Future, end: ReadEnd) {
        let _ = (ty, end);
        panic!("wit-dylib: future<T> is not supported by this interpreter")
    }
    /// Pushes a stream's readable end, which the interpreter now owns. The
    /// default traps.
    fn push_stream(&mut self, ty: Stream, end: ReadEnd) {
        let _ = (ty, end);
        panic!("wit-dylib: stream<T> is not supported by this interpreter")
    }
    /// Pushes an error-context, which the interpreter now owns. The default
    /// traps.
    fn push_error_context(&mut self, value: ErrorContext) {
        let _ = value;
        panic!("wit-dylib: error-context is not supported by this interpreter")
    }
}
