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
//! Handles (resources, future and stream ends, error-contexts) are owning
//! values: see [Handles](#handles).
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

//! # Handles
//!
//! Resources, future and stream ends and error-contexts are owning values:
//! [`Own`] (and the [`Borrow`] it lends), [`ReadEnd`] and [`WriteEnd`], and
//! [`ErrorContext`]. Each drops its handle exactly once, when it is dropped,
//! unless it was passed on; a drop during a sync export's post-return, which
//! may call no built-in, waits for the next export. An end follows one state
//! machine ([`EndState`]) that refuses what the component model would trap
//! on. [`Objects`] keeps the objects behind the resources a component
//! exports, under their reps. An interpreter for `world files { resource file { constructor(path:
//! string); } export lines: async func(f: borrow<file>) -> stream<string>;
//! }`, which hands out its own files and streams their lines:
//!
//! ```
//! use wit_dylib_sdk::{
//!     Callee, Channel, ExportFunction, Interpreter, Objects, Resource, Task, Val, ValStack, Wit,
//! };
//!
//! struct Files {
//!     wit: Wit,
//!     /// The path behind each file handed out.
//!     paths: Objects<String>,
//! }
//!
//! impl Interpreter for Files {
//!     type CallCx = ValStack;
//!
//!     fn initialize(wit: Wit) -> Self {
//!         Files { wit, paths: Objects::default() }
//!     }
//!
//!     fn export_start(&self, func: ExportFunction) -> ValStack {
//!         ValStack::for_export(func)
//!     }
//!
//!     // `[constructor]file`
//!     fn export_call(&self, _func: ExportFunction, cx: &mut ValStack) {
//!         let Val::String(path) = cx.pop() else { panic!("a file needs a path") };
//!         let file = self.wit.resources().find(|r| r.is_exported()).unwrap();
//!         // Kept under a new rep, with a handle the caller will own.
//!         cx.push(Val::Own(self.paths.export(file, path).unwrap()));
//!     }
//!
//!     // `lines`
//!     fn export_async(&'static self, func: ExportFunction, mut cx: ValStack) -> Task<ValStack> {
//!         Box::pin(async move {
//!             // A borrow of our own resource arrives as its rep.
//!             let Val::Borrow(file) = cx.pop() else { panic!("lines takes a file") };
//!             let path = self.paths.get(file.rep().unwrap()).unwrap();
//!             let lines = vec![Val::String(format!("the first line of {path}"))];
//!             // A new stream: its reader is the result, its writer stays here.
//!             let (reader, writer) = Channel::Stream(self.wit.streams().next().unwrap()).new_ends();
//!             cx.push(Val::Stream(reader));
//!             wit_dylib_sdk::spawn(async move {
//!                 let write = wit_dylib_sdk::write_stream(&writer, lines, Callee::Export(func));
//!                 write.expect("a new end is idle").await;
//!                 // `writer` drops its handle here, and the reader sees the end.
//!             });
//!             cx
//!         })
//!     }
//!
//!     fn resource_dtor(&self, _ty: Resource, rep: usize) {
//!         // The last handle to file `rep` is gone.
//!         self.paths.remove(rep);
//!     }
//! }
//!
//! wit_dylib_sdk::export!(Files, async);
//! # fn main() {}
//! ```

// This crate is the boundary with C: it needs `unsafe`, and every block
// says why it is sound.
#![allow(unsafe_code)]

mod buffer;
mod bulk;
mod call;
mod channel;
mod channel_lookup;
mod dispose;
mod end;
pub mod error_context;
mod export;
mod handle;
mod interpreter;
mod layout;
mod metadata;
mod objects;
pub mod preinit;
mod runtime;
mod script;
mod spare;
pub mod task;
mod task_context;
mod type_name;
mod val;

pub use buffer::{Bytes, CanonicalList, Primitive};
pub use call::{Call, ListLowering};
pub use channel::{Channel, MAX_READ_BYTES, Progress};
pub use channel_lookup::LookupError;
pub use end::{End, EndError, EndState, ReadEnd, WriteEnd};
pub use error_context::ErrorContext;
pub use handle::{Borrow, Own};
pub use interpreter::Interpreter;
pub use layout::size_align;
pub use metadata::{
    Alias, Callee, Described, Enum, ExportFunction, FixedLengthList, Flags, Future, ImportFunction,
    List, Map, Record, Resource, Stream, Tuple, Type, Variant, Wit, WitOption, WitResult,
};
pub use objects::Objects;
pub use preinit::random_seed;
pub use runtime::CallFrame;
pub use script::{LinkedScript, linked_script, release_linked_script};
pub use task::{Task, block_on, join_all, spawn, yield_now};
pub use val::{
    Val, ValStack, call_import, call_import_async, read_future, read_stream, write_future,
    write_stream,
};

/// Used by [`export!`]; not public API.
#[doc(hidden)]
pub mod __internal {
    pub use crate::call::Call;
    pub use crate::channel::Channel;
    pub use crate::metadata::{
        Future, List, Map, Record, Resource, Stream, Tuple, WitOption, WitResult,
    };
    pub use crate::runtime::*;
    pub use crate::task::{export_async_call, export_async_callback};
    pub use crate::task_context::task_hook;
    pub use wit_dylib_ffi as ffi;
}
