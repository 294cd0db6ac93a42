//! The safe Rust SDK for writing interpreters that run WIT worlds through
//! `wit-dylib`.
//!
//! A world library (generated from a WIT world) translates between the
//! canonical ABI and one fixed C ABI, `wit_dylib.h`. An interpreter implements
//! that ABI once; this crate implements it for you on top of two traits:
//!
//! * [`Interpreter`]: start-up with the world's [metadata](Wit), export calls
//!   and resource destructors;
//! * [`Call`]: the value stack of one call, which the glue pushes arguments
//!   onto (lifting) and pops results from (lowering).
//!
//! [`export!`] defines every C symbol and routes it to your types. An
//! interpreter happy to convert its values to and from [`Val`] can use
//! [`ValStack`] as its stack and never see the protocol.
//!
//! Everything crossing from the host is checked before it reaches your code
//! (chars, enum and variant cases, flags bits, UTF-8); a bad value traps with
//! a message naming the function.
//!
//! `export!` also defines `cabi_realloc` over Rust's global allocator, and
//! strings and lists lifted from the host are freed with that allocator. Link
//! the interpreter as the first library of the component, so that its
//! `cabi_realloc` (not the one in `libc.so`) is the component's.
//!
//! # Example
//!
//! An interpreter for `world greeter { import log: func(msg: string);
//! export greet: func(name: string) -> string; }`:
//!
//! ```
//! use wit_dylib_sdk::{ExportFunction, Interpreter, Resource, Val, ValStack, Wit, call_import};
//!
//! struct Greeter {
//!     wit: Wit,
//! }
//!
//! impl Interpreter for Greeter {
//!     type CallCx = ValStack;
//!
//!     fn initialize(wit: Wit) -> Self {
//!         Greeter { wit }
//!     }
//!
//!     fn export_start(&self, func: ExportFunction) -> ValStack {
//!         ValStack::for_export(func)
//!     }
//!
//!     fn export_call(&self, func: ExportFunction, cx: &mut ValStack) {
//!         let Val::String(name) = cx.pop() else { panic!("greet takes a string") };
//!         let log = self.wit.import_funcs().find(|f| f.name() == "log").unwrap();
//!         call_import(log, vec![Val::String(format!("greeting {name}"))]);
//!         cx.push(Val::String(format!("Hello, {name}!")));
//!     }
//!
//!     fn resource_dtor(&self, _ty: Resource, _rep: usize) {}
//! }
//!
//! wit_dylib_sdk::export!(Greeter);
//! # fn main() {}
//! ```

// This crate is the boundary with C: it needs `unsafe`, and every block
// says why it is sound.
#![allow(unsafe_code)]

mod buffer;
mod call;
mod export;
mod interpreter;
mod layout;
mod metadata;
pub mod preinit;
mod runtime;
mod script;
mod val;

pub use buffer::{Bytes, CanonicalList, Primitive};
pub use call::{Call, ListLowering};
pub use interpreter::Interpreter;
pub use layout::size_align;
pub use metadata::{
    Alias, Callee, Enum, ExportFunction, FixedLengthList, Flags, Future, ImportFunction, List, Map,
    Record, Resource, Stream, Tuple, Type, Variant, Wit, WitOption, WitResult,
};
pub use preinit::random_seed;
pub use runtime::CallFrame;
pub use script::{LinkedScript, linked_script};
pub use val::{Val, ValStack, call_import};

/// Used by [`export!`]; not public API.
#[doc(hidden)]
pub mod __internal {
    pub use crate::call::Call;
    pub use crate::metadata::{List, Map, Record, Resource, Tuple, WitOption, WitResult};
    pub use crate::runtime::*;
    pub use wit_dylib_ffi as ffi;
}
