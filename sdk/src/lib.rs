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
//! Error-context values arrive as handles ([`Call::push_error_context`]);
//! [`error_context`] creates, reads and drops them.
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

//! # Async
//!
//! With `export!(MyVm, async)`, async exports run as tasks: the SDK calls
//! [`Interpreter::export_async`], which returns a [`Task`] (a Rust future),
//! and polls it until it completes; the task suspends wherever it awaits an
//! async import, a future or a stream, and the SDK resumes it when the event
//! it waits for arrives. The [`task`] module describes the model. An
//! interpreter for `world w { import fetch: async func(url: string) -> string;
//! export get: async func(url: string) -> string; }`:
//!
//! ```
//! use wit_dylib_sdk::{ExportFunction, Interpreter, Resource, Task, Val, ValStack, Wit};
//!
//! struct Fetcher {
//!     wit: Wit,
//! }
//!
//! impl Interpreter for Fetcher {
//!     type CallCx = ValStack;
//!
//!     fn initialize(wit: Wit) -> Self {
//!         Fetcher { wit }
//!     }
//!
//!     fn export_start(&self, func: ExportFunction) -> ValStack {
//!         ValStack::for_export(func)
//!     }
//!
//!     fn export_call(&self, func: ExportFunction, _cx: &mut ValStack) {
//!         panic!("`{}` is not sync", func.name())
//!     }
//!
//!     fn export_async(&'static self, _func: ExportFunction, mut cx: ValStack) -> Task<ValStack> {
//!         Box::pin(async move {
//!             let url = cx.pop();
//!             let fetch = self.wit.import_funcs().find(|f| f.name() == "fetch").unwrap();
//!             // Suspends this task (other calls run meanwhile) until `fetch` returns.
//!             let body = wit_dylib_sdk::call_import_async(fetch, vec![url]).await;
//!             cx.push(body.unwrap());
//!             cx // the SDK hands the result on top to `task.return`
//!         })
//!     }
//!
//!     fn resource_dtor(&self, _ty: Resource, _rep: usize) {}
//! }
//!
//! wit_dylib_sdk::export!(Fetcher, async);
//! # fn main() {}
//! ```

// This crate is the boundary with C: it needs `unsafe`, and every block
// says why it is sound.
#![allow(unsafe_code)]

mod buffer;
mod bulk;
mod call;
mod channel;
mod dispose;
pub mod error_context;
mod export;
mod interpreter;
mod layout;
mod metadata;
pub mod preinit;
mod runtime;
mod script;
pub mod task;
mod task_context;
mod type_name;
mod val;

pub use buffer::{Bytes, CanonicalList, Primitive};
pub use call::{Call, ListLowering};
pub use channel::{MAX_READ_BYTES, Progress};
pub use interpreter::Interpreter;
pub use layout::size_align;
pub use metadata::{
    Alias, Callee, Enum, ExportFunction, FixedLengthList, Flags, Future, ImportFunction, List, Map,
    Record, Resource, Stream, Tuple, Type, Variant, Wit, WitOption, WitResult,
};
pub use preinit::random_seed;
pub use runtime::CallFrame;
pub use script::{LinkedScript, linked_script};
pub use task::{Task, block_on, join_all, spawn, yield_now};
pub use val::{
    Val, ValStack, call_import, call_import_async, read_future, read_stream, write_future,
    write_stream,
};

/// Used by [`export!`]; not public API.
#[doc(hidden)]
pub mod __internal {
    pub use crate::call::Call;
    pub use crate::error_context::received as error_context_received;
    pub use crate::metadata::{
        Future, List, Map, Record, Resource, Stream, Tuple, WitOption, WitResult,
    };
    pub use crate::runtime::*;
    pub use crate::task::{export_async_call, export_async_callback};
    pub use crate::task_context::task_hook;
    pub use wit_dylib_ffi as ffi;
}
