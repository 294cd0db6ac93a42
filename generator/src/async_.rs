//! The generated functions for async imports and exports (docs/abi.md
//! §8.2, §8.3), in the callback flavour of the async canonical ABI.
//!
//! * [`import_adapter`] `(cx, abi_area) -> status`: `async_impl` of an async
//!   import. Pops the arguments into flat values or, beyond four flat
//!   values, into the caller's ABI area, then calls `[async-lower]f` with a
//!   return pointer into the same area and returns its raw status. The area
//!   outlives the call, as the callee may read and write it later.
//! * [`lift_results`] `(cx, abi_area)`: `async_lift_impl`, pushes the result
//!   once the subtask has returned.
//! * [`export`]: `[async-lift]…`, pushes the arguments and hands `cx` to
//!   `wit_dylib_export_async_call`, returning its callback code.
//! * [`callback`]: `[callback][async-lift]…`, forwards the event to
//!   `wit_dylib_export_async_callback`.
//! * [`task_return`] `(cx)`: pops the result and calls `[task-return]f`.

use wasm_encoder::{Function, ValType};
use wit_parser::abi::AbiVariant;
use wit_parser::{Param, Type};

use crate::env::Env;
use crate::func::{FrameLayout, FuncBuilder, Gen, Loc, Mem};
use crate::glue;

/// The types stored in an async import's ABI area: the parameters when they
/// are passed indirectly (more than four flat values), then the result.
fn area_types(g: &Gen<'_>, func: &wit_parser::Function) -> Vec<Type> {
    let sig = g.resolve.wasm_signature(AbiVariant::GuestImportAsync, func);
    let params = match sig.indirect_params {
        true => glue::param_types(func),
        false => Vec::new(),
    };
    params.into_iter().chain(func.result).collect()
}

/// `(size, align)` of an async import's ABI area; `(0, 1)` when it holds
/// nothing.
pub fn abi_area(g: &Gen<'_>, func: &wit_parser::Function) -> (usize, usize) {
    glue::area(g, &area_types(g, func))
}

/// Offset of the result within the ABI area, if there is a result.
fn result_offset(g: &Gen<'_>, func: &wit_parser::Function) -> Option<u32> {
    func.result?;
    let types = area_types(g, func);
    let offsets = g.sizes.field_offsets(&types);
    offsets.last().map(|(o, _)| o.size_wasm32() as u32)
}

/// `async_impl` of async import `func`, whose `[async-lower]` import is
/// function `import_func`.
pub fn import_adapter(g: &Gen<'_>, func: &wit_parser::Function, import_func: u32) -> Function {
    let sig = g.resolve.wasm_signature(AbiVariant::GuestImportAsync, func);
    let mut b = FuncBuilder::new(g, &[ValType::I32, ValType::I32]);
    b.set_cx(b.param(0));
    let abi_area = Mem { base: 1, offset: 0 };
    // Only the out-parameter slot of `pop_string`/`pop_list`, if needed.
    let layout = FrameLayout::new(
        None,
        None,
        false,
        glue::lowers_string_or_list(g, &glue::param_types(func)),
    );
    let fp = b.push_frame(&layout);

    glue::lower_params(&mut b, func, &sig, Some(abi_area));
    if let Some(offset) = result_offset(g, func) {
        b.address(abi_area.at(offset as usize));
    }
    b.ins().call(import_func);
    let status = b.set_new(ValType::I32);
    b.pop_frame(fp, &layout);
    b.ins().local_get(status.idx);
    b.finish()
}

/// `async_lift_impl` of async import `func`: pushes the result the callee
/// wrote into the ABI area (nothing when there is no result).
pub fn lift_results(g: &Gen<'_>, func: &wit_parser::Function) -> Function {
    let mut b = FuncBuilder::new(g, &[ValType::I32, ValType::I32]);
    b.set_cx(b.param(0));
    if let (Some(result), Some(offset)) = (&func.result, result_offset(g, func)) {
        b.lift(Loc::Mem(Mem { base: 1, offset }), result);
    }
    b.finish()
}

/// `[async-lift]…` for export `func`, entry `which` of `export_funcs`.
/// Lifting needs no shadow-stack frame; `cx` belongs to the interpreter
/// once `wit_dylib_export_async_call` has it.
pub fn export(g: &Gen<'_>, func: &wit_parser::Function, which: u32) -> Function {
    let sig = g.resolve.wasm_signature(AbiVariant::GuestExportAsync, func);
    let (core_params, _) = glue::core_types(&sig);
    let mut b = FuncBuilder::new(g, &core_params);
    glue::start_export(&mut b, func, &sig, which);
    b.cx();
    b.i32_const(which);
    b.call(Env::ExportAsyncCall);
    b.finish()
}

/// `[callback][async-lift]…` for export `which`: `(event0, event1, event2)
/// -> code`, forwarded with the export's index.
pub fn callback(which: u32) -> Function {
    let mut func = Function::new([]);
    let mut ins = func.instructions();
    ins.local_get(0);
    ins.local_get(1);
    ins.local_get(2);
    ins.i32_const(which as i32);
    ins.call(Env::ExportAsyncCallback.index());
    ins.end();
    func
}

/// `task_return` of async export `func`: the sync import adapter of a
/// function taking the export's result as its only parameter, calling the
/// `[task-return]` import `import_func`.
pub fn task_return(g: &Gen<'_>, func: &wit_parser::Function, import_func: u32) -> Function {
    glue::import_adapter(g, &task_return_func(func), import_func)
}

/// The function whose sync import signature `[task-return]f` has.
pub fn task_return_func(func: &wit_parser::Function) -> wit_parser::Function {
    let mut ret = func.clone();
    ret.params = func
        .result
        .iter()
        .map(|ty| Param {
            name: "result".to_string(),
            ty: *ty,
            span: Default::default(),
        })
        .collect();
    ret.result = None;
    ret
}
