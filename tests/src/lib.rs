//! Shared machinery of the end-to-end tests: find the prebuilt wasm
//! artifacts, turn a WIT world plus an interpreter into a linked component,
//! and run components under wasmtime with a host that records what they do.

pub mod artifacts;
pub mod component;
pub use wit_dylib_pipeline::compose;
pub mod host;
pub mod interpreters;
pub mod lua_scripts;
pub mod native;
pub mod smith_world;
