//! The functions behind the `wit_dylib_*` symbols that [`export!`](crate::export)
//! defines. Not public API: the macro is the only caller.
//!
//! The glue passes an opaque `cx` pointer to every function. The SDK makes it a
//! [`CallFrame`] that wraps the interpreter's value stack together with what
//! must outlive the glue's use of it: popped strings and canonical lists the
//! glue reads later, and buffers it asked to free when the call ends.

use std::alloc::Layout;
use std::any::TypeId;
use std::cell::Cell;
use std::ffi::c_void;
use std::ptr::NonNull;

use wit_dylib_ffi as ffi;

use crate::buffer::{Bytes, CanonicalList};
use crate::call::{Call, ListLowering};
use crate::channel::Channel;
use crate::end::ReadEnd;
use crate::error_context::ErrorContext;
use crate::handle::{Borrow, Own};
use crate::interpreter::Interpreter;
use crate::layout::size_align;
use crate::metadata::{
    Callee, Enum, Flags, ImportFunction, List, Resource, Type, Variant, Wit, WitOption, WitResult,
};
use crate::spare::SpareBox;

thread_local! {
    static WIT: Cell<Option<Wit>> = const { Cell::new(None) };
    /// The type of the exported interpreter's call stack: `cx` pointers are
    /// frames of exactly this type.
    static CALL_TYPE: Cell<Option<TypeId>> = const { Cell::new(None) };
    /// The allocation of an export's frame, kept between calls.
    static SPARE_FRAME: SpareBox = const { SpareBox::new() };
}

/// The world's metadata; panics before initialisation.
pub fn wit() -> Wit {
    WIT.with(Cell::get)
        .expect("wit-dylib: the world library has not called wit_dylib_initialize")
}

/// One call's value stack plus the memory the glue uses during the call.
///
/// Exports get one from the SDK. To call an import, wrap a fresh value stack
/// in a frame, push the arguments (the **first** on top), and pass the frame
/// to [`ImportFunction::call`]; the result is then on top of the stack.
pub struct CallFrame<C> {
    call: C,
    /// The call the frame serves, once known (for messages and borrows).
    owner: Option<Callee>,
    memory: CallMemory,
    /// Borrow handles of resources this component does not define, received
    /// by an export: the component model requires dropping them before the
    /// export returns, and they are valid only during the call anyway.
    foreign_borrows: Vec<(Resource, u32)>,
}

/// What the glue uses during a call and the SDK releases when it ends.
#[derive(Default)]
struct CallMemory {
    /// Popped strings and lists the glue reads until the call ends.
    retained: Vec<Bytes>,
    /// Buffers the glue asked to free when the call ends.
    deferred: Vec<(NonNull<u8>, Layout)>,
    /// Error-contexts passed during the call, kept until it ends.
    error_contexts: Vec<ErrorContext>,
}

impl Drop for CallMemory {
    fn drop(&mut self) {
        for (ptr, layout) in self.deferred.drain(..) {
            // SAFETY: `dealloc_bytes` only defers non-empty buffers that the
            // glue allocated through `cabi_realloc` with this layout.
            unsafe { std::alloc::dealloc(ptr.as_ptr(), layout) }
        }
    }
}

/// Drops `vec` unless it never allocated: such a vector owns neither memory
/// nor values, and on the path of every call its drop glue is not free.
pub(crate) fn drop_if_allocated<T>(vec: Vec<T>) {
    if vec.capacity() == 0 {
        std::mem::forget(vec);
    }
}

impl CallMemory {
    /// Frees what the call held. Most calls of scalars held nothing: then
    /// there is nothing to run, not even the vectors' drop glue.
    fn release(&mut self) {
        let unused = self.retained.capacity() == 0
            && self.deferred.capacity() == 0
            && self.error_contexts.capacity() == 0;
        if !unused {
            drop(std::mem::take(self));
        }
    }
}

impl<C: Call> CallFrame<C> {
    pub fn new(call: C) -> CallFrame<C> {
        CallFrame {
            call,
            owner: None,
            memory: CallMemory::default(),
            foreign_borrows: Vec::new(),
        }
    }

    /// The value stack.
    pub fn stack(&mut self) -> &mut C {
        &mut self.call
    }

    /// Ends the call, freeing the glue's memory, and returns the value stack.
    pub fn into_inner(mut self) -> C {
        self.release();
        let CallFrame {
            call,
            memory,
            foreign_borrows,
            ..
        } = self;
        // Released: vectors that never allocated, with nothing to drop.
        std::mem::forget((memory, foreign_borrows));
        call
    }

    /// Frees the glue's memory and any foreign borrows' vector, in place:
    /// what is left (the value stack aside) needs no drop.
    fn release(&mut self) {
        self.memory.release();
        if self.foreign_borrows.capacity() != 0 {
            drop(std::mem::take(&mut self.foreign_borrows));
        }
    }

    pub(crate) fn set_owner(&mut self, owner: Callee) {
        self.owner = Some(owner);
    }

    fn describe_owner(&self) -> String {
        self.owner
            .map_or_else(|| "a call".to_string(), |callee| callee.to_string())
    }
}

impl ImportFunction {
    /// Calls this import with the arguments on `frame` (the first on top);
    /// leaves its result, if any, on top.
    ///
    /// Panics if the frame's stack is not the exported interpreter's
    /// [`Interpreter::CallCx`] or the import is async.
    pub fn call<C: Call + 'static>(&self, frame: &mut CallFrame<C>) {
        check_call_type::<C>(*self);
        let adapter = self.sync_impl().unwrap_or_else(|| {
            panic!(
                "wit-dylib: import `{}` is async: call it with `call_async`",
                self.qualified_name()
            )
        });
        frame.owner = Some(Callee::Import(*self));
        // SAFETY: `adapter` is the glue's synchronous adapter for this import.
        // It calls back into the `wit_dylib_*` functions with the pointer we
        // pass, which `frame_of` turns back into `&mut CallFrame<C>`; the type
        // matches because `C` is the exported interpreter's `CallCx` (checked
        // above), and `frame` itself is not touched until the adapter returns.
        unsafe { adapter((frame as *mut CallFrame<C>).cast()) };
    }
}

/// Panics unless `C` is the exported interpreter's `CallCx`: the glue hands
/// the frame back to the `wit_dylib_*` functions, which expect that type.
pub(crate) fn check_call_type<C: 'static>(func: ImportFunction) {
    check_stack_type::<C>(|| format!("import `{}` called", func.qualified_name()));
}

/// Like [`check_call_type`], for any use named by `what`.
pub(crate) fn check_stack_type<C: 'static>(what: impl FnOnce() -> String) {
    if CALL_TYPE.with(Cell::get) != Some(TypeId::of::<C>()) {
        panic!(
            "wit-dylib: {} with a stack that is not the interpreter's CallCx",
            what()
        );
    }
}

impl Resource {
    /// Drops a borrow handle this component received (`resource.drop`).
    pub(crate) fn drop_borrow(&self, handle: u32) {
        // SAFETY: the `[resource-drop]` built-in, for a borrow handle that
        // is this component's to drop once, here.
        unsafe { crate::handle::release(self.raw_drop(), handle) }
    }
}

/// Turns a `cx` from the glue back into the frame it came from.
///
/// # Safety
///
/// `cx` must be a pointer the SDK handed to the glue: from `export_start`
/// (a live boxed frame) or from `ImportFunction::call` (a frame borrowed for
/// the duration of the call), in both cases of the interpreter's `CallCx`.
unsafe fn frame_of<'a, I: Interpreter>(cx: *mut c_void) -> &'a mut CallFrame<I::CallCx> {
    // SAFETY: guaranteed by the caller.
    unsafe { &mut *cx.cast::<CallFrame<I::CallCx>>() }
}

// Entry points, called by the `export!` macro's `extern "C"` functions. Each
// `unsafe fn` taking a `cx` requires it to satisfy `frame_of`'s contract,
// which holds because only the glue calls them, with the pointers we gave it.

/// # Safety
/// `raw` must satisfy [`Wit::from_raw`]; the world library passes its static metadata.
pub unsafe fn initialize<I: Interpreter>(raw: *const ffi::wit_t) -> I {
    // SAFETY: guaranteed by the caller.
    let wit = unsafe { Wit::from_raw(raw) };
    WIT.with(|w| w.set(Some(wit)));
    // A panic is how an interpreter reports a script's error (it traps the
    // component): the host shows its message, so print only that, not the
    // Rust source location of the `panic!`.
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("the interpreter panicked");
        eprintln!("{message}");
    }));
    CALL_TYPE.with(|t| t.set(Some(TypeId::of::<I::CallCx>())));
    SpareBox::prepare::<CallFrame<I::CallCx>>(&SPARE_FRAME);
    if wit.export_funcs().any(|func| func.is_async()) {
        crate::task::prepare_spares::<I>();
    }
    I::initialize(wit)
}

pub fn export_start<I: Interpreter>(interp: &I, which: usize) -> *mut c_void {
    crate::handle::drop_queued();
    let func = wit().export_func(which);
    let mut frame = CallFrame::new(interp.export_start(func));
    frame.owner = Some(Callee::Export(func));
    SpareBox::put(&SPARE_FRAME, frame).as_ptr().cast()
}

/// Ends the frame of an export in place and moves its value stack out,
/// keeping the frame's allocation for the next export. Only the value stack
/// moves: wasmtime's fuel counts every byte a move copies.
///
/// # Safety
/// `cx` must come from `export_start`; it is consumed.
unsafe fn take_export_call<C: Call + 'static>(cx: *mut c_void) -> C {
    let slot = cx.cast::<CallFrame<C>>();
    // SAFETY: `export_start` put a frame of this type (the only frame type
    // of this component) into the spare allocation `cx` (guaranteed by the
    // caller). Once released, only its value stack needs moving out, and the
    // allocation goes back to the spare with nothing left to drop.
    unsafe {
        (*slot).release();
        let call = std::ptr::read(&raw const (*slot).call);
        SpareBox::give_back(&SPARE_FRAME, NonNull::new_unchecked(slot));
        call
    }
}

/// Like [`take_export_call`], and also moves out the foreign borrows the
/// export received (which must be dropped before it returns).
///
/// # Safety
/// As for [`take_export_call`].
pub(crate) unsafe fn take_export_parts<C: Call + 'static>(
    cx: *mut c_void,
) -> (C, Vec<(Resource, u32)>) {
    // SAFETY: `cx` holds a live frame of this type (guaranteed by the
    // caller), consumed by `take_export_call`.
    unsafe {
        let borrows = std::mem::take(&mut (*cx.cast::<CallFrame<C>>()).foreign_borrows);
        (take_export_call(cx), borrows)
    }
}

/// # Safety
/// See the section comment above.
pub unsafe fn export_call<I: Interpreter>(interp: &I, cx: *mut c_void, which: usize) {
    let frame = unsafe { frame_of::<I>(cx) };
    interp.export_call(wit().export_func(which), &mut frame.call);
    if !frame.foreign_borrows.is_empty() {
        for (resource, handle) in frame.foreign_borrows.drain(..) {
            resource.drop_borrow(handle);
        }
    }
}

/// # Safety
/// `cx` must come from `export_start` and is consumed.
pub unsafe fn export_finish<I: Interpreter>(interp: &I, cx: *mut c_void, which: usize) {
    // This is the export's post-return (or the end of an export that has
    // none, which the SDK treats alike), which may call no built-in: handles
    // released meanwhile are queued.
    crate::handle::in_post_return(|| {
        // SAFETY: the glue finishes each call once, with its `cx`. The
        // frame's memory is released before the interpreter sees the end of
        // the call, so that it can account for everything the call
        // allocated.
        let call = unsafe { take_export_call::<I::CallCx>(cx) };
        interp.export_finish(wit().export_func(which), call)
    });
}

pub fn resource_dtor<I: Interpreter>(interp: &I, resource: usize, rep: usize) {
    interp.resource_dtor(wit().resource(resource), rep);
}

pub fn unsupported(what: &str) -> ! {
    panic!("wit-dylib: {what} is not supported yet")
}

/// `cabi_realloc`: the allocator of the whole component.
///
/// # Safety
/// `old` must be null or a block from this function of `old_size` bytes and
/// alignment `align`.
pub unsafe fn cabi_realloc(
    old: *mut u8,
    old_size: usize,
    align: usize,
    new_size: usize,
) -> *mut u8 {
    let layout = Layout::from_size_align(new_size, align)
        .unwrap_or_else(|_| panic!("cabi_realloc: invalid size {new_size} / alignment {align}"));
    if new_size == 0 {
        if !old.is_null() && old_size != 0 {
            // SAFETY: allocated here with (old_size, align).
            unsafe { std::alloc::dealloc(old, Layout::from_size_align_unchecked(old_size, align)) };
        }
        return align as *mut u8;
    }
    let ptr = if old.is_null() || old_size == 0 {
        // SAFETY: `layout` has a non-zero size.
        unsafe { std::alloc::alloc(layout) }
    } else {
        // SAFETY: `old` was allocated here with (old_size, align).
        unsafe {
            std::alloc::realloc(
                old,
                Layout::from_size_align_unchecked(old_size, align),
                new_size,
            )
        }
    };
    if ptr.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    ptr
}

/// # Safety
/// See the section comment above; `ptr` must be a `cabi_realloc` block of
/// `size` bytes and alignment `align`.
pub unsafe fn dealloc_bytes<I: Interpreter>(
    cx: *mut c_void,
    ptr: *mut u8,
    size: usize,
    align: usize,
    defer: bool,
) {
    let Some(ptr) = NonNull::new(ptr).filter(|_| size != 0) else {
        return;
    };
    let layout = Layout::from_size_align(size, align).expect("dealloc_bytes: invalid layout");
    if defer {
        let frame = unsafe { frame_of::<I>(cx) };
        frame.memory.deferred.push((ptr, layout));
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { std::alloc::dealloc(ptr.as_ptr(), layout) }
    }
}

/// Traps with a message naming the call, for a value the interpreter or the
/// host got wrong.
fn trap(frame: &CallFrame<impl Call>, message: std::fmt::Arguments<'_>) -> ! {
    panic!("{} in {}", message, frame.describe_owner())
}

// Lowering (pop). Scalars are forwarded by the macro through `stack`.

/// # Safety
/// See the section comment above.
pub unsafe fn stack<'a, I: Interpreter>(cx: *mut c_void) -> &'a mut I::CallCx {
    &mut unsafe { frame_of::<I>(cx) }.call
}

/// # Safety
/// See the section comment above; `out` must be writable.
pub unsafe fn pop_string<I: Interpreter>(cx: *mut c_void, out: *mut *const u8) -> usize {
    let frame = unsafe { frame_of::<I>(cx) };
    let bytes = frame.call.pop_string();
    let (ptr, len) = (bytes.as_ptr(), bytes.len());
    frame.memory.retained.push(bytes);
    // SAFETY: the glue passes the address of its scratch slot.
    unsafe { out.write(ptr) };
    len
}

/// # Safety
/// See the section comment above.
pub unsafe fn pop_flags<I: Interpreter>(cx: *mut c_void, ty: usize) -> u32 {
    let frame = unsafe { frame_of::<I>(cx) };
    let ty = Flags::at(wit(), ty);
    let bits = frame.call.pop_flags(ty);
    if flags_out_of_range(ty, bits) {
        trap(
            frame,
            format_args!("flags value {bits:#x} has bits outside `{}`", ty.name()),
        );
    }
    bits
}

fn flags_out_of_range(ty: Flags, bits: u32) -> bool {
    let count = ty.names().len();
    count < 32 && bits >> count != 0
}

/// # Safety
/// See the section comment above.
pub unsafe fn pop_enum<I: Interpreter>(cx: *mut c_void, ty: usize) -> u32 {
    let frame = unsafe { frame_of::<I>(cx) };
    let ty = Enum::at(wit(), ty);
    let case = frame.call.pop_enum(ty);
    if case as usize >= ty.names().len() {
        trap(
            frame,
            format_args!("enum case {case} is out of range for `{}`", ty.name()),
        );
    }
    case
}

/// # Safety
/// See the section comment above.
pub unsafe fn pop_variant<I: Interpreter>(cx: *mut c_void, ty: usize) -> u32 {
    let frame = unsafe { frame_of::<I>(cx) };
    let ty = Variant::at(wit(), ty);
    let case = frame.call.pop_variant(ty);
    if case as usize >= ty.cases().len() {
        trap(
            frame,
            format_args!("variant case {case} is out of range for `{}`", ty.name()),
        );
    }
    case
}

/// # Safety
/// See the section comment above; `out` must be writable.
pub unsafe fn pop_list<I: Interpreter>(cx: *mut c_void, ty: usize, out: *mut *const u8) -> usize {
    let frame = unsafe { frame_of::<I>(cx) };
    let ty = List::at(wit(), ty);
    let (ptr, len) = match frame.call.pop_list(ty) {
        ListLowering::Elements { len } => (std::ptr::null(), len),
        ListLowering::Canonical { bytes, len } => {
            let (size, align) = size_align(ty.ty());
            let misaligned = len != 0 && !(bytes.as_ptr() as usize).is_multiple_of(align);
            if size.checked_mul(len) != Some(bytes.len()) || misaligned {
                trap(
                    frame,
                    format_args!(
                        "a canonical {} of {len} elements must be {} bytes aligned to {align}, \
                         got {} bytes at {:p}",
                        Type::List(ty).describe(),
                        size * len,
                        bytes.len(),
                        bytes.as_ptr()
                    ),
                );
            }
            let ptr = if len == 0 {
                align as *const u8
            } else {
                bytes.as_ptr()
            };
            frame.memory.retained.push(bytes);
            (ptr, len)
        }
    };
    // SAFETY: the glue passes the address of its scratch slot.
    unsafe { out.write(ptr) };
    len
}

// Lifting (push).

/// # Safety
/// See the section comment above.
pub unsafe fn push_char<I: Interpreter>(cx: *mut c_void, value: u32) {
    let frame = unsafe { frame_of::<I>(cx) };
    match char::from_u32(value) {
        Some(c) => frame.call.push_char(c),
        None => trap(
            frame,
            format_args!("invalid char {value:#x} (not a Unicode scalar value)"),
        ),
    }
}

/// # Safety
/// See the section comment above; `ptr` must be a `cabi_realloc` block of
/// `len` bytes and alignment 1, now owned by the callee.
pub unsafe fn push_string<I: Interpreter>(cx: *mut c_void, ptr: *mut u8, len: usize) {
    let frame = unsafe { frame_of::<I>(cx) };
    let bytes = if len == 0 {
        Vec::new()
    } else {
        // SAFETY: allocated by `cabi_realloc` with layout (len, 1), which is
        // the layout of a `Vec<u8>` of capacity `len`; ownership moves here.
        unsafe { Vec::from_raw_parts(ptr, len, len) }
    };
    match String::from_utf8(bytes) {
        Ok(string) => frame.call.push_string(string),
        Err(e) => trap(
            frame,
            format_args!("string is not valid UTF-8 ({})", e.utf8_error()),
        ),
    }
}

// Handles: raw on the glue's side, owning types on the interpreter's.

/// # Safety
/// See the section comment above.
pub unsafe fn push_borrow<I: Interpreter>(cx: *mut c_void, ty: usize, handle: u32) {
    let frame = unsafe { frame_of::<I>(cx) };
    let ty = Resource::at(wit(), ty);
    if !ty.is_exported() && matches!(frame.owner, Some(Callee::Export(_))) {
        frame.foreign_borrows.push((ty, handle));
    }
    // SAFETY: the glue lends the handle (or rep) for the call.
    frame
        .call
        .push_borrow(ty, unsafe { Borrow::from_raw(ty, handle) });
}

/// # Safety
/// See the section comment above.
pub unsafe fn push_own<I: Interpreter>(cx: *mut c_void, ty: usize, handle: u32) {
    let frame = unsafe { frame_of::<I>(cx) };
    let ty = Resource::at(wit(), ty);
    // SAFETY: the canonical ABI gave this component the handle.
    frame
        .call
        .push_own(ty, unsafe { Own::from_raw(ty, handle) });
}

/// # Safety
/// See the section comment above.
pub unsafe fn pop_borrow<I: Interpreter>(cx: *mut c_void, ty: usize) -> u32 {
    let frame = unsafe { frame_of::<I>(cx) };
    let ty = Resource::at(wit(), ty);
    let borrow = frame.call.pop_borrow(ty);
    if borrow.ty() != ty {
        trap(
            frame,
            format_args!(
                "expected a borrow<{}>, got a borrow<{}>",
                ty.name(),
                borrow.ty().name()
            ),
        );
    }
    borrow.raw()
}

/// # Safety
/// See the section comment above.
pub unsafe fn pop_own<I: Interpreter>(cx: *mut c_void, ty: usize) -> u32 {
    let frame = unsafe { frame_of::<I>(cx) };
    let ty = Resource::at(wit(), ty);
    let own = frame.call.pop_own(ty);
    if own.ty() != ty {
        trap(
            frame,
            format_args!(
                "expected an own<{}>, got an own<{}>",
                ty.name(),
                own.ty().name()
            ),
        );
    }
    own.into_raw()
}

/// # Safety
/// See the section comment above.
pub unsafe fn push_end<I: Interpreter>(cx: *mut c_void, channel: Channel, handle: u32) {
    let frame = unsafe { frame_of::<I>(cx) };
    // SAFETY: the canonical ABI gave this component the readable end.
    let end = unsafe { ReadEnd::from_raw(channel, handle) };
    match channel {
        Channel::Future(ty) => frame.call.push_future(ty, end),
        Channel::Stream(ty) => frame.call.push_stream(ty, end),
    }
}

/// # Safety
/// See the section comment above.
pub unsafe fn pop_end<I: Interpreter>(cx: *mut c_void, channel: Channel) -> u32 {
    let frame = unsafe { frame_of::<I>(cx) };
    let end = match channel {
        Channel::Future(ty) => frame.call.pop_future(ty),
        Channel::Stream(ty) => frame.call.pop_stream(ty),
    };
    let of_end = end.channel();
    end.pass(channel).unwrap_or_else(|e| {
        let described = of_end.end_name(true);
        trap(frame, format_args!("cannot pass {described}: {e}"))
    })
}

/// # Safety
/// See the section comment above.
pub unsafe fn push_error_context<I: Interpreter>(cx: *mut c_void, handle: u32) {
    let frame = unsafe { frame_of::<I>(cx) };
    // SAFETY: the canonical ABI gave this component the handle.
    frame
        .call
        .push_error_context(unsafe { ErrorContext::from_raw(handle) });
}

/// # Safety
/// See the section comment above.
pub unsafe fn pop_error_context<I: Interpreter>(cx: *mut c_void) -> u32 {
    let frame = unsafe { frame_of::<I>(cx) };
    let value = frame.call.pop_error_context();
    let handle = value.raw();
    // Passing copies the handle; the value stays alive until the receiver
    // has its copy, when the call (or the write) ends.
    frame.memory.error_contexts.push(value);
    handle
}

/// # Safety
/// See the section comment above.
pub unsafe fn push_flags<I: Interpreter>(cx: *mut c_void, ty: usize, bits: u32) {
    let frame = unsafe { frame_of::<I>(cx) };
    let ty = Flags::at(wit(), ty);
    if flags_out_of_range(ty, bits) {
        trap(
            frame,
            format_args!("flags value {bits:#x} has bits outside `{}`", ty.name()),
        );
    }
    frame.call.push_flags(ty, bits);
}

/// # Safety
/// See the section comment above.
pub unsafe fn push_enum<I: Interpreter>(cx: *mut c_void, ty: usize, case: u32) {
    let frame = unsafe { frame_of::<I>(cx) };
    let ty = Enum::at(wit(), ty);
    if case as usize >= ty.names().len() {
        trap(
            frame,
            format_args!("enum case {case} is out of range for `{}`", ty.name()),
        );
    }
    frame.call.push_enum(ty, case);
}

/// # Safety
/// See the section comment above.
pub unsafe fn push_variant<I: Interpreter>(cx: *mut c_void, ty: usize, case: u32) {
    let frame = unsafe { frame_of::<I>(cx) };
    let ty = Variant::at(wit(), ty);
    if case as usize >= ty.cases().len() {
        trap(
            frame,
            format_args!("variant case {case} is out of range for `{}`", ty.name()),
        );
    }
    frame.call.push_variant(ty, case);
}

/// # Safety
/// See the section comment above.
pub unsafe fn push_option<I: Interpreter>(cx: *mut c_void, ty: usize, case: u32) {
    let frame = unsafe { frame_of::<I>(cx) };
    let ty = WitOption::at(wit(), ty);
    match case {
        0 | 1 => frame.call.push_option(ty, case == 1),
        _ => trap(
            frame,
            format_args!("option discriminant {case} is out of range"),
        ),
    }
}

/// # Safety
/// See the section comment above.
pub unsafe fn push_result<I: Interpreter>(cx: *mut c_void, ty: usize, case: u32) {
    let frame = unsafe { frame_of::<I>(cx) };
    let ty = WitResult::at(wit(), ty);
    match case {
        0 | 1 => frame.call.push_result(ty, case == 1),
        _ => trap(
            frame,
            format_args!("result discriminant {case} is out of range"),
        ),
    }
}

/// # Safety
/// See the section comment above; `ptr` must be a `cabi_realloc` block holding
/// `len` elements of the list's element type in canonical layout.
pub unsafe fn push_list<I: Interpreter>(
    cx: *mut c_void,
    ty: usize,
    ptr: *mut u8,
    len: usize,
) -> bool {
    let frame = unsafe { frame_of::<I>(cx) };
    let ty = List::at(wit(), ty);
    let (size, align) = size_align(ty.ty());
    let bytes = size.checked_mul(len).expect("list size overflows");
    let layout = Layout::from_size_align(bytes, align).expect("invalid list layout");
    // SAFETY: guaranteed by the caller.
    let buffer = unsafe { CanonicalList::from_raw(ptr, len, layout, ty) };
    match frame.call.push_list_canonical(ty, buffer) {
        Ok(()) => true,
        Err(declined) => {
            // The glue still owns the buffer and frees it after lifting the
            // elements one by one.
            std::mem::forget(declined);
            frame.call.push_empty_list(ty, len);
            false
        }
    }
}
