//! The task hook library (docs/abi.md §8.7): in a component whose world
//! library keeps its stack pointer in the task context, someone must put a
//! stack in context slot 0 before the library runs in a new task.
//! `wit-component`'s linker calls `__wasm_task_hook(code)` at the start and
//! end of every task when a library exports it; this library exports it and
//! forwards each call to the interpreter's [`INTERPRETER_TASK_HOOK`].
//!
//! The hook is a library of its own so that components whose world library
//! uses the `__stack_pointer` global do not pay for a call at every export.

use std::borrow::Cow;

use wasm_encoder::{
    CodeSection, CustomSection, EntityType, ExportKind, ExportSection, Function, FunctionSection,
    ImportSection, Module, TypeSection, ValType,
};

use crate::module::dylink0;

/// The function an interpreter exports to receive the task hook, `(i32) ->
/// ()`; the SDK's `export!(T, async)` defines it.
pub const INTERPRETER_TASK_HOOK: &str = "wit_dylib_task_hook";

/// The name `wit-component`'s linker calls.
const LINKER_TASK_HOOK: &str = "__wasm_task_hook";

/// Builds the task hook library.
pub fn task_hook_library() -> Vec<u8> {
    let mut module = Module::new();
    module.section(&CustomSection {
        name: Cow::Borrowed("dylink.0"),
        data: Cow::Owned(dylink0(0, 0, None)),
    });
    let mut types = TypeSection::new();
    types.ty().function([ValType::I32], []);
    module.section(&types);
    let mut imports = ImportSection::new();
    imports.import("env", INTERPRETER_TASK_HOOK, EntityType::Function(0));
    module.section(&imports);
    let mut functions = FunctionSection::new();
    functions.function(0);
    module.section(&functions);
    let mut exports = ExportSection::new();
    exports.export(LINKER_TASK_HOOK, ExportKind::Func, 1);
    module.section(&exports);
    let mut body = Function::new([]);
    body.instructions().local_get(0).call(0).end();
    let mut code = CodeSection::new();
    code.function(&body);
    module.section(&code);
    module.finish()
}
