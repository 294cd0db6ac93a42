//! The generated functions that bridge one WIT function (docs/abi.md §6).
//!
//! * [`import_adapter`] `(cx) -> ()`: the interpreter's `impl` pointer for an
//!   import. Pops the arguments (argument 0 on top), calls the import, pushes
//!   the result.
//! * [`export`]: the canonical-ABI export. Creates `cx`, pushes the arguments
//!   (the last on top), calls `wit_dylib_export_call`, pops the result. If
//!   the export [needs a post-return](needs_post_return), its frame, which
//!   holds the return area and `cx`, stays on the shadow stack until
//!   [`post_return`], which hands `cx` back to `wit_dylib_export_finish` and
//!   releases the frame; nothing else touches the shadow stack between the
//!   two calls. Otherwise the export finishes `cx` itself and returns.
//! * [`resource_dtor`] `(rep) -> ()`: forwards to `wit_dylib_resource_dtor`.
//! * [`check_below`] `(value, limit) -> value`: the discriminant range check
//!   the adapters and exports call for every enum and variant-like value.

use wasm_encoder::{BlockType, Function, ValType};
use wit_parser::Type;
use wit_parser::abi::{AbiVariant, WasmSignature};

use crate::env::Env;
use crate::func::{FrameLayout, FuncBuilder, Gen, Loc, Mem, Width, val_type};
use crate::support::{self, contains_handle};

/// Core parameter and result types of a signature.
pub fn core_types(sig: &WasmSignature) -> (Vec<ValType>, Vec<ValType>) {
    (
        sig.params.iter().copied().map(val_type).collect(),
        sig.results.iter().copied().map(val_type).collect(),
    )
}

/// The core type of a signature's single flat result (`i32` if it has none).
fn flat_result_type(sig: &WasmSignature) -> ValType {
    sig.results
        .first()
        .copied()
        .map(val_type)
        .unwrap_or(ValType::I32)
}

pub fn param_types(func: &wit_parser::Function) -> Vec<Type> {
    func.params.iter().map(|p| p.ty).collect()
}

/// `(size, align)` of a record of `types`.
pub fn area(g: &Gen<'_>, types: &[Type]) -> (usize, usize) {
    let info = g.sizes.record(types);
    (info.size.size_wasm32(), info.align.align_wasm32())
}

/// Frame of a sync export: its return area, if any, and the `cx` slot when
/// the call ends in post-return.
fn export_frame(g: &Gen<'_>, func: &wit_parser::Function, sig: &WasmSignature) -> FrameLayout {
    let retptr = sig.retptr.then(|| area(g, func.result.as_slice()));
    FrameLayout::new(
        None,
        retptr,
        needs_post_return(g, func, sig),
        lowers_string_or_list(g, func.result.as_slice()),
    )
}

/// Whether lowering values of `types` needs the frame's out-parameter slot.
pub fn lowers_string_or_list(g: &Gen<'_>, types: &[Type]) -> bool {
    types
        .iter()
        .any(|ty| support::lowers_string_or_list(g.resolve, ty))
}

/// Whether sync export `func` ends its call in a post-return. One that
/// returns nothing, or one flat value holding no handle, ends it before it
/// returns: the caller then lifts nothing the call context keeps alive,
/// and a call without post-return costs the runtime one core call less.
pub fn needs_post_return(g: &Gen<'_>, func: &wit_parser::Function, sig: &WasmSignature) -> bool {
    sig.retptr
        || func
            .result
            .is_some_and(|ty| contains_handle(g.resolve, &ty))
}

/// The adapter the interpreter calls to invoke import `import_func`.
pub fn import_adapter(g: &Gen<'_>, func: &wit_parser::Function, import_func: u32) -> Function {
    let sig = g.resolve.wasm_signature(AbiVariant::GuestImport, func);
    let params = param_types(func);
    let mut b = FuncBuilder::new(g, &[ValType::I32]);
    let cx = b.param(0);
    b.set_cx(cx);

    let layout = FrameLayout::new(
        sig.indirect_params.then(|| area(g, &params)),
        sig.retptr.then(|| area(g, func.result.as_slice())),
        false,
        lowers_string_or_list(g, &params),
    );
    let fp = b.push_frame(&layout);
    let frame = |offset: u32| Mem {
        base: fp.expect("a frame holds what has an offset").idx,
        offset,
    };

    lower_params(&mut b, func, &sig, layout.params.map(frame));
    if let Some(offset) = layout.retptr {
        b.address(frame(offset));
    }
    b.ins().call(import_func);

    if let Some(result) = &func.result {
        match layout.retptr {
            Some(offset) => b.lift(Loc::Mem(frame(offset)), result),
            None => {
                let local = b.set_new(flat_result_type(&sig));
                b.lift(Loc::Flat(&[local]), result);
            }
        }
    }
    b.pop_frame(fp, &layout);
    b.finish()
}

/// Pops `func`'s arguments (argument 0 on top) and pushes the core
/// arguments of the call `sig` describes, except the return pointer: the
/// flat values, or the address of `area` into which they were lowered when
/// the parameters are passed indirectly.
pub fn lower_params(
    b: &mut FuncBuilder<'_>,
    func: &wit_parser::Function,
    sig: &WasmSignature,
    area: Option<Mem>,
) {
    let params = param_types(func);
    if let (true, Some(area)) = (sig.indirect_params, area) {
        let fields = b.fields(Loc::Mem(area), &params);
        for (ty, field) in params.iter().zip(fields) {
            b.lower(ty, field);
        }
        b.address(area);
    } else {
        let flat = &sig.params[..sig.params.len() - usize::from(sig.retptr)];
        let locals: Vec<_> = flat.iter().map(|t| b.local(val_type(*t))).collect();
        let fields = b.fields(Loc::Flat(&locals), &params);
        for (ty, field) in params.iter().zip(fields) {
            b.lower(ty, field);
        }
        for local in &locals {
            b.ins().local_get(local.idx);
        }
    }
}

/// Starts export `which` (`cx = wit_dylib_export_start(which)`) and pushes
/// its arguments from the core parameters `sig` describes (the last on top),
/// freeing the caller's argument area when they were passed indirectly.
pub fn start_export(
    b: &mut FuncBuilder<'_>,
    func: &wit_parser::Function,
    sig: &WasmSignature,
    which: u32,
) {
    let g = b.g;
    let params = param_types(func);
    b.i32_const(which);
    b.call(Env::ExportStart);
    let cx = b.set_new(ValType::I32);
    b.set_cx(cx);

    if sig.indirect_params {
        let args = Mem { base: 0, offset: 0 };
        let fields = b.fields(Loc::Mem(args), &params);
        for (ty, field) in params.iter().zip(fields) {
            b.lift(field, ty);
        }
        // The caller allocated the argument area; free it now.
        let (size, align) = area(g, &params);
        b.cx();
        b.ins().local_get(0);
        b.i32_const(size as u32);
        b.i32_const(align as u32);
        b.i32_const(0);
        b.call(Env::DeallocBytes);
    } else {
        let locals: Vec<_> = (0..sig.params.len() as u32).map(|i| b.param(i)).collect();
        let fields = b.fields(Loc::Flat(&locals), &params);
        for (ty, field) in params.iter().zip(fields) {
            b.lift(field, ty);
        }
    }
}

/// The canonical-ABI export of `func`, entry `which` of `export_funcs`.
pub fn export(g: &Gen<'_>, func: &wit_parser::Function, which: u32) -> Function {
    let sig = g.resolve.wasm_signature(AbiVariant::GuestExport, func);
    let (core_params, _) = core_types(&sig);
    let mut b = FuncBuilder::new(g, &core_params);
    let layout = export_frame(g, func, &sig);
    let fp = b.push_frame(&layout);
    let frame = |offset: u32| Mem {
        base: fp.expect("a frame holds what has an offset").idx,
        offset,
    };

    start_export(&mut b, func, &sig, which);
    b.cx();
    b.i32_const(which);
    b.call(Env::ExportCall);

    let Some(slot) = layout.cx_slot else {
        // No post-return: end the call now, then return the flat result.
        let local = func.result.as_ref().map(|result| {
            let local = b.local(flat_result_type(&sig));
            b.lower(result, Loc::Flat(&[local]));
            local
        });
        b.cx();
        b.i32_const(which);
        b.call(Env::ExportFinish);
        b.pop_frame(fp, &layout);
        if let Some(local) = local {
            b.ins().local_get(local.idx);
        }
        return b.finish();
    };
    b.store(Loc::Mem(frame(slot)), ValType::I32, Width::B32, |b| b.cx());
    if let Some(result) = &func.result {
        match layout.retptr {
            Some(offset) => {
                b.lower(result, Loc::Mem(frame(offset)));
                b.address(frame(offset));
            }
            None => {
                let local = b.local(flat_result_type(&sig));
                b.lower(result, Loc::Flat(&[local]));
                b.ins().local_get(local.idx);
            }
        }
    }
    // The frame stays allocated until post-return.
    b.finish()
}

/// `cabi_post_*` for export `which`: finishes the call context and releases
/// the export's frame, which is still on top of the shadow stack.
pub fn post_return(g: &Gen<'_>, func: &wit_parser::Function, which: u32) -> Function {
    let sig = g.resolve.wasm_signature(AbiVariant::GuestExport, func);
    let (_, results) = core_types(&sig);
    let layout = export_frame(g, func, &sig);
    let mut b = FuncBuilder::new(g, &results);
    b.get_sp();
    let fp = b.set_new(ValType::I32);
    let slot = Mem {
        base: fp.idx,
        offset: layout
            .cx_slot
            .expect("only an export that needs a post-return has one"),
    };
    b.load(Loc::Mem(slot), ValType::I32, Width::B32, false);
    b.i32_const(which);
    b.call(Env::ExportFinish);
    b.pop_frame(Some(fp), &layout);
    b.finish()
}

/// `<iface>#[dtor]<R>` for exported resource `resource` (an index into
/// `wit_t.resources`).
pub fn resource_dtor(resource: u32) -> Function {
    let mut func = Function::new([]);
    let mut ins = func.instructions();
    ins.i32_const(resource as i32);
    ins.local_get(0);
    ins.call(Env::ResourceDtor.index());
    ins.end();
    func
}

/// `check_below(value, limit) -> value`: traps unless `value < limit`
/// (unsigned). Called by [`FuncBuilder::check_below`] for every enum and
/// variant-like discriminant; one call is smaller than the inline check.
pub fn check_below() -> Function {
    let mut func = Function::new([]);
    let mut ins = func.instructions();
    ins.local_get(0);
    ins.local_get(1);
    ins.i32_ge_u();
    ins.if_(BlockType::Empty);
    ins.unreachable();
    ins.end();
    ins.local_get(0);
    ins.end();
    func
}
