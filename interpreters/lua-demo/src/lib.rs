//! `lua-demo` as a library: turn a Lua (or toy) script and a WIT world into
//! a component ([`componentize`]) and run components ([`runtime`]).

mod check;
mod componentize;
pub mod runtime;

pub use check::check_script;
pub use componentize::{Language, Script, componentize, link, load_world};
