//! The language-neutral `wit-dylib` command line as a library: each
//! subcommand's arguments (clap) and what it does, so that a language's own
//! tool (`lua-demo`) offers the same `componentize`, `run` and `serve` with
//! its interpreters built in.

pub mod build;
pub mod componentize;
pub mod generate;
mod invoke;
pub mod limits;
pub mod new;
pub mod profile;
mod results;
pub mod run;
pub mod serve;

use std::borrow::Cow;

pub use limits::LimitArgs;

/// All of wasi-libc as a PIC shared library, from the provisioned toolchain:
/// what an interpreter built outside this repository links by default.
pub const LIBC_FULL: &[u8] = include_bytes!(env!("WIT_DYLIB_LIBC_FULL"));

/// [`LIBC_FULL`], as an interpreter's libc.
pub fn libc_full() -> Cow<'static, [u8]> {
    Cow::Borrowed(LIBC_FULL)
}
