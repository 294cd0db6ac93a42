//! The error-context extension of the ABI (`wit_dylib.h`, "Error-context
//! values"). Only a library whose functions pass `error-context` values
//! imports it, so libraries for every other world keep the exact import list
//! of wasm-tools' `wit-dylib` 0.263, which has no way to pass them.
//!
//! Such a library imports two more `env` functions to move handles across
//! the value stack, imports the three canonical built-ins from `$root`, and
//! hands the interpreter pointers to those built-ins from its constructors,
//! before `wit_dylib_initialize`: the interpreter then creates, reads and
//! drops error-contexts without importing anything itself.

use wasm_encoder::{Function, ValType};

use crate::module::{ModuleBuilder, TABLE_BASE_GLOBAL};

const I32: ValType = ValType::I32;

/// The function indices of the extension's imports.
#[derive(Debug, Clone, Copy)]
pub struct ErrorContextFns {
    /// `wit_dylib_pop_error_context(cx) -> handle`.
    pub pop: u32,
    /// `wit_dylib_push_error_context(cx, handle)`.
    pub push: u32,
    /// `wit_dylib_error_context_builtins(new, debug_message, drop)`.
    register: u32,
    /// Element indices of `new`, `debug-message` and `drop`.
    elems: [u32; 3],
}

/// Imports the extension: the `env` functions, then the built-ins.
pub fn import(module: &mut ModuleBuilder) -> ErrorContextFns {
    let pop = module.import_func("env", "wit_dylib_pop_error_context", &[I32], &[I32]);
    let push = module.import_func("env", "wit_dylib_push_error_context", &[I32, I32], &[]);
    let register = module.import_func(
        "env",
        "wit_dylib_error_context_builtins",
        &[I32, I32, I32],
        &[],
    );
    // `wit-component` recognises these names in `$root` as the built-ins,
    // UTF-8 encoded, using the library's memory and `cabi_realloc`.
    let builtins = [
        ("[error-context-new-utf8]", &[I32, I32][..], &[I32][..]),
        ("[error-context-debug-message-utf8]", &[I32, I32], &[]),
        ("[error-context-drop]", &[I32], &[]),
    ];
    let elems = builtins.map(|(name, params, results)| {
        let func = module.import_func("$root", name, params, results);
        module.push_elem(func)
    });
    ErrorContextFns {
        pop,
        push,
        register,
        elems,
    }
}

impl ErrorContextFns {
    /// Appends to a constructor body: `register(__table_base + elem, ...)`.
    pub fn register_builtins(&self, body: &mut Function) {
        let mut ins = body.instructions();
        for elem in self.elems {
            ins.global_get(TABLE_BASE_GLOBAL);
            ins.i32_const(elem as i32);
            ins.i32_add();
        }
        ins.call(self.register);
    }
}
