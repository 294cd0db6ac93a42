//! Memory that crosses the boundary between the interpreter and the glue.

use std::alloc::Layout;
use std::any::Any;
use std::ptr::NonNull;

use crate::metadata::{List, Type};

/// Bytes the glue may read until the current call ends: a lowered string or a
/// list in canonical layout. The SDK holds on to the value (and so to whatever
/// owns the bytes) until then.
pub struct Bytes {
    ptr: *const u8,
    len: usize,
    // Never read: keeps the memory behind `ptr` alive.
    _owner: Option<Box<dyn Any>>,
}

impl Bytes {
    /// Borrows bytes owned by `owner`, such as a string inside a garbage
    /// collected heap that `owner` keeps reachable.
    ///
    /// # Safety
    ///
    /// `ptr..ptr+len` must be readable and unchanged for as long as `owner` is
    /// alive, wherever `owner` is moved.
    pub unsafe fn from_raw_parts(ptr: *const u8, len: usize, owner: impl Any) -> Bytes {
        Bytes {
            ptr,
            len,
            _owner: Some(Box::new(owner)),
        }
    }

    /// The address, as the glue sees it.
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn as_slice(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: every constructor guarantees `len` readable bytes at `ptr`
        // while `_owner` lives, and `self` owns `_owner`.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Bytes {
        // A Vec's heap buffer does not move when the Vec does.
        Bytes {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
            _owner: Some(Box::new(bytes)),
        }
    }
}

impl From<String> for Bytes {
    fn from(string: String) -> Bytes {
        string.into_bytes().into()
    }
}

impl From<&'static str> for Bytes {
    fn from(string: &'static str) -> Bytes {
        Bytes {
            ptr: string.as_ptr(),
            len: string.len(),
            _owner: None,
        }
    }
}

impl From<&'static [u8]> for Bytes {
    fn from(bytes: &'static [u8]) -> Bytes {
        Bytes {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
            _owner: None,
        }
    }
}

/// A list lifted from the canonical ABI in canonical layout: `len` elements of
/// the list's element type in a buffer allocated by `cabi_realloc`. Dropping it
/// frees the buffer.
pub struct CanonicalList {
    ptr: NonNull<u8>,
    len: usize,
    layout: Layout,
    ty: List,
}

/// Element types whose canonical layout is their Rust layout and for which
/// every bit pattern is a valid value.
pub trait Primitive: Copy + sealed::Sealed {
    #[doc(hidden)]
    const TYPE: Type;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! primitives {
    ($($rust:ty => $wit:ident),*) => {$(
        impl sealed::Sealed for $rust {}
        impl Primitive for $rust {
            const TYPE: Type = Type::$wit;
        }
    )*};
}

primitives!(u8 => U8, i8 => S8, u16 => U16, i16 => S16, u32 => U32, i32 => S32,
            u64 => U64, i64 => S64, f32 => F32, f64 => F64);

impl CanonicalList {
    /// Takes ownership of a buffer the glue allocated with `cabi_realloc`.
    ///
    /// # Safety
    ///
    /// `ptr` must have been allocated by the global allocator with `layout`
    /// (or be dangling when `layout.size()` is 0) and hold `len` elements of
    /// `ty`'s element type.
    pub(crate) unsafe fn from_raw(
        ptr: *mut u8,
        len: usize,
        layout: Layout,
        ty: List,
    ) -> CanonicalList {
        let ptr = NonNull::new(ptr).unwrap_or(NonNull::dangling());
        CanonicalList {
            ptr,
            len,
            layout,
            ty,
        }
    }

    /// The list type.
    pub fn ty(&self) -> List {
        self.ty
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The raw canonical bytes.
    pub fn as_bytes(&self) -> &[u8] {
        if self.layout.size() == 0 {
            return &[];
        }
        // SAFETY: `from_raw` requires `layout.size()` allocated bytes.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.layout.size()) }
    }

    /// The elements as a slice, if the element type (aliases resolved) is `T`.
    pub fn as_slice<T: Primitive>(&self) -> Option<&[T]> {
        if self.ty.ty().dealias() != T::TYPE || self.len == 0 {
            return (self.ty.ty().dealias() == T::TYPE).then_some(&[]);
        }
        debug_assert!(self.layout.align() >= std::mem::align_of::<T>());
        // SAFETY: the buffer holds `len` elements of the list's element type,
        // which is `T`, aligned for it (canonical alignment = Rust alignment
        // for primitives), and any bit pattern is a valid `T`.
        Some(unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast::<T>(), self.len) })
    }

    /// The elements as a `Vec` without copying, if the element type is `T`.
    pub fn into_vec<T: Primitive>(self) -> Result<Vec<T>, CanonicalList> {
        if self.ty.ty().dealias() != T::TYPE
            || self.layout != Layout::array::<T>(self.len).expect("list layout overflow")
        {
            return Err(self);
        }
        let this = std::mem::ManuallyDrop::new(self);
        if this.len == 0 {
            return Ok(Vec::new());
        }
        // SAFETY: allocated by the global allocator with exactly the layout of
        // `[T; len]` (checked above), holding `len` initialised `T`s; ownership
        // moves into the Vec (`this` is not dropped).
        Ok(unsafe { Vec::from_raw_parts(this.ptr.as_ptr().cast::<T>(), this.len, this.len) })
    }
}

impl Drop for CanonicalList {
    fn drop(&mut self) {
        if self.layout.size() != 0 {
            // SAFETY: allocated by the global allocator with `layout`.
            unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout) }
        }
    }
}
