//! The toy language: a small dynamically typed Lisp with closures, written to
//! be embedded as a wit-dylib interpreter. Pure Rust without dependencies, so
//! it builds for `wasm32-wasip2` as well as for the host.
//!
//! [`Program::parse`] turns a source file into an AST once; an [`Interp`]
//! holds the globals and runs programs and calls function values. The
//! embedder adds its own functions with [`Interp::define_native`] and its own
//! objects as [`Value::Host`]. See the README for the language.

mod ast;
mod builtins;
mod env;
mod error;
mod eval;
mod interp;
mod lexer;
mod parser;
mod show;
mod syntax;
mod value;

pub use error::{Error, ParseError, StackFrame};
pub use interp::{Interp, MAX_CALL_DEPTH, NativeFn};
pub use parser::Program;
pub use value::{Function, HostObject, Value, same};
