//! The function builder shared by the lowering ([`crate::lower`]) and lifting
//! ([`crate::lift`]) code generators.
//!
//! Index spaces: [`Local::idx`] is a wasm local index (parameters first, then
//! the locals this builder declares); function indices are the module's
//! (`env` imports first, see [`crate::env::Env::index`]); global indices are
//! fixed by [`crate::module`] (`__table_base`, `__memory_base`,
//! `__stack_pointer`).
//!
//! A value's canonical-ABI location is a [`Loc`]: either a run of flat wasm
//! locals (parameters, results, joined variant payloads) or linear memory at
//! `base local + static offset`. Locals are never reused: every temporary is
//! a fresh local, which keeps the generated code obviously correct at the
//! price of a few more local declarations.

use std::cell::RefCell;
use std::collections::HashMap;

use wasm_encoder::{BlockType, Function, InstructionSink, MemArg, MemArgTarget, ValType};
use wit_parser::abi::{FlatTypes, WasmType};
use wit_parser::{Int, Resolve, SizeAlign, Type, TypeId};

use crate::env::Env;
use crate::error_context::ErrorContextFns;
use crate::metadata::TypeRef;
use crate::module::StackAccess;

/// What code generation needs to know about the world, fixed while one
/// function is generated.
pub struct Gen<'a> {
    pub resolve: &'a Resolve,
    pub sizes: &'a SizeAlign,
    /// The metadata entry of every registered type; which entry a type maps to
    /// changes between the import and the export pass (docs/abi.md §4.11).
    pub types: &'a HashMap<TypeId, TypeRef>,
    pub helpers: &'a RefCell<Helpers>,
    /// The error-context extension's imports, when the world passes any.
    pub error_context: Option<ErrorContextFns>,
    /// Broken invariants of the generator met while generating: each makes
    /// generation fail (see [`FuncBuilder::internal_error`]).
    pub internal_errors: &'a RefCell<Vec<String>>,
    /// Where the shadow stack pointer lives.
    pub stack: StackAccess,
}

/// Functions generated on demand while other bodies are generated: the
/// discriminant check ([`crate::glue::check_below`]) and the out-of-line
/// lifts of types whose inline code is large, so that every further use
/// costs one call (see [`crate::lift`]). All take two i32 parameters.
///
/// A helper's index is fixed when it is created; the driver defines the
/// pending helpers, in that order, before the function that asked for them.
#[derive(Default)]
pub struct Helpers {
    /// The index the next helper gets: the module's function count plus the
    /// helpers still pending.
    pub next_index: u32,
    /// Helpers not yet in the module, in index order.
    pub pending: Vec<Helper>,
    /// The discriminant check, once used; the same in both passes.
    pub check_below: Option<u32>,
    /// The lift helper of each type, or `None` where lifting inline is
    /// smaller. Metadata indices change between passes, so the driver
    /// clears this for the export pass.
    pub lifts: HashMap<TypeId, Option<u32>>,
}

/// A generated function of type `(i32, i32) -> results`.
pub struct Helper {
    pub name: String,
    pub results: &'static [ValType],
    pub body: Function,
}

impl Helpers {
    /// Queues `helper` and returns the index it will have.
    pub fn add(&mut self, helper: Helper) -> u32 {
        self.pending.push(helper);
        self.next_index += 1;
        self.next_index - 1
    }
}

impl Gen<'_> {
    /// The core wasm types `ty` flattens to, or `None` when they would exceed
    /// `MAX_FLAT_PARAMS`. Only asked of types that are known to be flat.
    pub fn flat(&self, ty: &Type) -> Vec<ValType> {
        let mut storage = [WasmType::I32; Resolve::MAX_FLAT_PARAMS];
        let mut flat = FlatTypes::new(&mut storage);
        let _fits = self.resolve.push_flat(ty, &mut flat);
        flat.to_vec().into_iter().map(val_type).collect()
    }

    pub fn type_ref(&self, id: TypeId) -> Option<TypeRef> {
        self.types.get(&id).copied()
    }

    /// `type `name`` (or `an anonymous type`), for internal errors.
    pub fn describe_type(&self, id: TypeId) -> String {
        match &self.resolve.types[id].name {
            Some(name) => format!("type `{name}`"),
            None => "an anonymous type".to_string(),
        }
    }
}

/// The core wasm type of a flat canonical-ABI type (wasm32).
pub fn val_type(ty: WasmType) -> ValType {
    match ty {
        WasmType::I32 | WasmType::Pointer | WasmType::Length => ValType::I32,
        WasmType::I64 | WasmType::PointerOrI64 => ValType::I64,
        WasmType::F32 => ValType::F32,
        WasmType::F64 => ValType::F64,
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Local {
    pub idx: u32,
    pub ty: ValType,
}

/// Linear memory at `local base + offset`.
#[derive(Debug, Clone, Copy)]
pub struct Mem {
    pub base: u32,
    pub offset: u32,
}

impl Mem {
    pub fn at(self, offset: usize) -> Mem {
        Mem {
            base: self.base,
            offset: self.offset + offset as u32,
        }
    }
}

/// Where a canonical-ABI value lives.
#[derive(Debug, Clone, Copy)]
pub enum Loc<'l> {
    Flat(&'l [Local]),
    Mem(Mem),
}

/// Width of a memory access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    B8,
    B16,
    B32,
    B64,
}

impl Width {
    fn align_log2(self) -> u32 {
        match self {
            Width::B8 => 0,
            Width::B16 => 1,
            Width::B32 => 2,
            Width::B64 => 3,
        }
    }

    pub fn of_int(int: Int) -> Width {
        match int {
            Int::U8 => Width::B8,
            Int::U16 => Width::B16,
            Int::U32 => Width::B32,
            Int::U64 => Width::B64,
        }
    }
}

/// Layout of a shadow-stack frame, from low to high addresses:
/// `[indirect import params][return area][cx slot][out-param temp]`, each
/// aligned, the total rounded up to 16 bytes (the C stack alignment). A
/// function that needs none of them has no frame: it leaves the stack
/// pointer alone, which in a task-context build saves three built-in calls.
#[derive(Debug, Clone, Copy)]
pub struct FrameLayout {
    pub size: u32,
    pub params: Option<u32>,
    pub retptr: Option<u32>,
    /// Sync exports with a post-return keep `cx` here until then.
    pub cx_slot: Option<u32>,
    /// Four bytes for the `char **`/`void **` out-parameter of
    /// `wit_dylib_pop_string` and `wit_dylib_pop_list`, when the function
    /// lowers a string or a list.
    pub temp: Option<u32>,
}

impl FrameLayout {
    /// `params` and `retptr` are `(size, align)` of those areas, when
    /// present; `temp` is whether the function lowers a string or a list.
    pub fn new(
        params: Option<(usize, usize)>,
        retptr: Option<(usize, usize)>,
        cx: bool,
        temp: bool,
    ) -> Self {
        let mut end = 0usize;
        let mut area = |size: usize, align: usize| {
            let start = end.next_multiple_of(align.max(1));
            end = start + size;
            start as u32
        };
        let params = params.map(|(size, align)| area(size, align));
        let retptr = retptr.map(|(size, align)| area(size, align));
        let cx_slot = cx.then(|| area(4, 4));
        let temp = temp.then(|| area(4, 4));
        FrameLayout {
            size: end.next_multiple_of(16) as u32,
            params,
            retptr,
            cx_slot,
            temp,
        }
    }
}

/// Builds one function body.
pub struct FuncBuilder<'a> {
    pub g: &'a Gen<'a>,
    nparams: u32,
    params: Vec<ValType>,
    locals: Vec<ValType>,
    code: Vec<u8>,
    /// The local holding the interpreter's call context.
    cx: Option<Local>,
    /// The frame's out-parameter slot, once a frame is pushed.
    temp: Option<Mem>,
}

impl<'a> FuncBuilder<'a> {
    pub fn new(g: &'a Gen<'a>, params: &[ValType]) -> Self {
        FuncBuilder {
            g,
            nparams: params.len() as u32,
            params: params.to_vec(),
            locals: Vec::new(),
            code: Vec::new(),
            cx: None,
            temp: None,
        }
    }

    pub fn param(&self, idx: u32) -> Local {
        Local {
            idx,
            ty: self.params[idx as usize],
        }
    }

    pub fn local(&mut self, ty: ValType) -> Local {
        self.locals.push(ty);
        Local {
            idx: self.nparams + self.locals.len() as u32 - 1,
            ty,
        }
    }

    /// A fresh local set from the value on top of the wasm stack.
    pub fn set_new(&mut self, ty: ValType) -> Local {
        let local = self.local(ty);
        self.ins().local_set(local.idx);
        local
    }

    /// Bytes of code emitted so far.
    pub fn code_len(&self) -> usize {
        self.code.len()
    }

    pub fn ins(&mut self) -> InstructionSink<'_> {
        InstructionSink::new(&mut self.code)
    }

    pub fn set_cx(&mut self, cx: Local) {
        self.cx = Some(cx);
    }

    /// Pushes the call context.
    pub fn cx(&mut self) {
        match self.cx {
            Some(cx) => {
                self.ins().local_get(cx.idx);
            }
            // Every generator sets `cx` before emitting code that needs it.
            None => self.internal_error("code needs the call context before it is set".into()),
        }
    }

    /// Records a broken invariant of the generator (generation then fails
    /// with it, naming the function) and emits a trap so that the body
    /// stays valid meanwhile.
    pub fn internal_error(&mut self, what: String) {
        self.g.internal_errors.borrow_mut().push(what);
        self.ins().unreachable();
    }

    /// Calls an `env` function.
    pub fn call(&mut self, env: Env) {
        self.ins().call(env.index());
    }

    /// `env(cx, index)`: the common shape of the typed intrinsics.
    pub fn call_typed(&mut self, env: Env, index: usize) {
        self.cx();
        self.ins().i32_const(index as i32);
        self.call(env);
    }

    pub fn i32_const(&mut self, value: u32) {
        self.ins().i32_const(value as i32);
    }

    /// Pushes `base + offset`.
    pub fn address(&mut self, mem: Mem) {
        self.ins().local_get(mem.base);
        if mem.offset != 0 {
            self.i32_const(mem.offset);
            self.ins().i32_add();
        }
    }

    /// Allocates the frame `layout` describes on the shadow stack
    /// (`fp = sp -= size`) and returns the frame pointer local, with the
    /// out-parameter slot, if any, available; `None`, and no code, for an
    /// empty frame.
    pub fn push_frame(&mut self, layout: &FrameLayout) -> Option<Local> {
        if layout.size == 0 {
            return None;
        }
        self.get_sp();
        self.i32_const(layout.size);
        self.ins().i32_sub();
        let fp = self.local(ValType::I32);
        self.ins().local_tee(fp.idx);
        self.set_sp();
        self.temp = layout.temp.map(|offset| Mem {
            base: fp.idx,
            offset,
        });
        Some(fp)
    }

    /// Releases a frame pushed by [`FuncBuilder::push_frame`]
    /// (`sp = fp + size`).
    pub fn pop_frame(&mut self, fp: Option<Local>, layout: &FrameLayout) {
        let Some(fp) = fp else { return };
        self.ins().local_get(fp.idx);
        self.i32_const(layout.size);
        self.ins().i32_add();
        self.set_sp();
    }

    /// Pushes the shadow stack pointer.
    pub fn get_sp(&mut self) {
        match self.g.stack {
            StackAccess::Global(global) => self.ins().global_get(global),
            StackAccess::TaskContext { get, .. } => self.ins().call(get),
        };
    }

    /// Pops the shadow stack pointer.
    fn set_sp(&mut self) {
        match self.g.stack {
            StackAccess::Global(global) => self.ins().global_set(global),
            StackAccess::TaskContext { set, .. } => self.ins().call(set),
        };
    }

    /// Pushes the address of the frame's out-parameter slot.
    pub fn temp_address(&mut self) {
        match self.temp {
            Some(temp) => self.address(temp),
            // Only reachable from functions without a temp slot that lower
            // strings or lists, which no generator emits.
            None => {
                self.ins().unreachable();
            }
        }
    }

    /// Pushes the pointer stored in the out-parameter slot.
    pub fn load_temp(&mut self) {
        match self.temp {
            Some(temp) => {
                self.ins().local_get(temp.base);
                self.ins().i32_load(memarg(temp.offset, Width::B32));
            }
            None => {
                self.ins().unreachable();
            }
        }
    }

    /// Stores the value `value` pushes (of core type `val`) into `dst`: a
    /// single flat local, converting to the local's joined type, or memory
    /// with a `width`-byte store.
    pub fn store(
        &mut self,
        dst: Loc<'_>,
        val: ValType,
        width: Width,
        value: impl FnOnce(&mut Self),
    ) {
        match dst {
            Loc::Flat(locals) => {
                value(self);
                let local = locals[0];
                self.join(val, local.ty);
                self.ins().local_set(local.idx);
            }
            Loc::Mem(mem) => {
                self.ins().local_get(mem.base);
                value(self);
                let arg = memarg(mem.offset, width);
                let mut ins = self.ins();
                match (val, width) {
                    (ValType::I32, Width::B8) => ins.i32_store8(arg),
                    (ValType::I32, Width::B16) => ins.i32_store16(arg),
                    (ValType::I32, _) => ins.i32_store(arg),
                    (ValType::I64, _) => ins.i64_store(arg),
                    (ValType::F32, _) => ins.f32_store(arg),
                    (ValType::F64, _) => ins.f64_store(arg),
                    _ => ins.unreachable(),
                };
            }
        }
    }

    /// Pushes the value at `src` as core type `want`: from a flat local
    /// (undoing a variant join) or from memory (`width` bytes, sign-extended
    /// when `signed`).
    pub fn load(&mut self, src: Loc<'_>, want: ValType, width: Width, signed: bool) {
        match src {
            Loc::Flat(locals) => {
                let local = locals[0];
                self.ins().local_get(local.idx);
                self.split(local.ty, want);
            }
            Loc::Mem(mem) => {
                self.ins().local_get(mem.base);
                let arg = memarg(mem.offset, width);
                let mut ins = self.ins();
                match (want, width, signed) {
                    (ValType::I32, Width::B8, true) => ins.i32_load8_s(arg),
                    (ValType::I32, Width::B8, false) => ins.i32_load8_u(arg),
                    (ValType::I32, Width::B16, true) => ins.i32_load16_s(arg),
                    (ValType::I32, Width::B16, false) => ins.i32_load16_u(arg),
                    (ValType::I32, _, _) => ins.i32_load(arg),
                    (ValType::I64, _, _) => ins.i64_load(arg),
                    (ValType::F32, _, _) => ins.f32_load(arg),
                    (ValType::F64, _, _) => ins.f64_load(arg),
                    _ => ins.unreachable(),
                };
            }
        }
    }

    /// Converts a value of type `from` into a joined flat slot of type `to`
    /// (the canonical ABI's `join`: f32→i32, i32→i64, f32→i64, f64→i64).
    fn join(&mut self, from: ValType, to: ValType) {
        let mut ins = self.ins();
        match (from, to) {
            (a, b) if a == b => {}
            (ValType::F32, ValType::I32) => {
                ins.i32_reinterpret_f32();
            }
            (ValType::I32, ValType::I64) => {
                ins.i64_extend_i32_u();
            }
            (ValType::F64, ValType::I64) => {
                ins.i64_reinterpret_f64();
            }
            (ValType::F32, ValType::I64) => {
                ins.i32_reinterpret_f32();
                ins.i64_extend_i32_u();
            }
            // Joins never produce other combinations.
            _ => {
                ins.unreachable();
            }
        }
    }

    /// The inverse of [`FuncBuilder::join`].
    fn split(&mut self, from: ValType, to: ValType) {
        let mut ins = self.ins();
        match (from, to) {
            (a, b) if a == b => {}
            (ValType::I32, ValType::F32) => {
                ins.f32_reinterpret_i32();
            }
            (ValType::I64, ValType::I32) => {
                ins.i32_wrap_i64();
            }
            (ValType::I64, ValType::F64) => {
                ins.f64_reinterpret_i64();
            }
            (ValType::I64, ValType::F32) => {
                ins.i32_wrap_i64();
                ins.f32_reinterpret_i32();
            }
            _ => {
                ins.unreachable();
            }
        }
    }

    /// Wraps the i32 on top of the stack to the range of an 8- or 16-bit
    /// integer: masks it, or sign-extends it when `signed`.
    pub fn wrap_small_int(&mut self, width: Width, signed: bool) {
        let mut ins = self.ins();
        match (width, signed) {
            (Width::B8, true) => ins.i32_extend8_s(),
            (Width::B16, true) => ins.i32_extend16_s(),
            (Width::B8, false) => ins.i32_const(0xff).i32_and(),
            _ => ins.i32_const(0xffff).i32_and(),
        };
    }

    /// Traps unless the i32 on top of the stack is below `limit`; leaves the
    /// value in place. A call to a shared helper is smaller than the check.
    pub fn check_below(&mut self, limit: u32) {
        let existing = self.g.helpers.borrow().check_below;
        let helper = existing.unwrap_or_else(|| {
            let mut helpers = self.g.helpers.borrow_mut();
            let index = helpers.add(Helper {
                name: "check_below".to_string(),
                results: &[ValType::I32],
                body: crate::glue::check_below(),
            });
            helpers.check_below = Some(index);
            index
        });
        self.i32_const(limit);
        self.ins().call(helper);
    }

    /// Dispatches on the i32 discriminant `discr` pushes: runs the code
    /// `case(i)` emits for case `i` of `cases`; other values trap.
    ///
    /// One case is `if unreachable end`; two are `if`/`else` after
    /// [`FuncBuilder::check_below`]; more use a `br_table` whose default
    /// traps:
    ///
    /// ```text
    /// block $done
    ///   block $case(n-1) … block $case0
    ///     block $bad  (discr) br_table $case0 … $case(n-1) default $bad  end
    ///     unreachable
    ///   end  ;; case 0
    ///   br $done
    ///   end  ;; case 1 …
    /// end    ;; the last case falls through
    /// ```
    pub fn switch(
        &mut self,
        cases: u32,
        discr: impl FnOnce(&mut Self),
        mut case: impl FnMut(&mut Self, u32),
    ) {
        match cases {
            1 => {
                discr(self);
                self.trap_if();
                case(self, 0);
            }
            2 => {
                discr(self);
                self.check_below(2);
                self.ins().if_(BlockType::Empty);
                case(self, 1);
                self.ins().else_();
                case(self, 0);
                self.ins().end();
            }
            n => {
                // `$done` and one block per case.
                for _ in 0..n + 1 {
                    self.ins().block(BlockType::Empty);
                }
                self.ins().block(BlockType::Empty);
                discr(self);
                self.ins().br_table(1..n + 1, 0);
                self.ins().end();
                self.ins().unreachable();
                self.ins().end();
                for i in 0..n {
                    case(self, i);
                    if i + 1 < n {
                        self.ins().br(n - 1 - i);
                    }
                    self.ins().end();
                }
            }
        }
    }

    /// Traps unless the i32 on top of the stack is a Unicode scalar value
    /// (below 0x110000 and not a surrogate); leaves the value in place.
    pub fn check_char(&mut self) {
        let value = self.local(ValType::I32);
        let mut ins = self.ins();
        ins.local_tee(value.idx);
        ins.i32_const(0x11_0000);
        ins.i32_ge_u();
        ins.local_get(value.idx);
        ins.i32_const(0xffff_f800_u32 as i32);
        ins.i32_and();
        ins.i32_const(0xd800);
        ins.i32_eq();
        ins.i32_or();
        self.trap_if();
        self.ins().local_get(value.idx);
    }

    /// `if (top of stack) unreachable`.
    pub fn trap_if(&mut self) {
        let mut ins = self.ins();
        ins.if_(BlockType::Empty);
        ins.unreachable();
        ins.end();
    }

    /// Sets each local to zero.
    pub fn zero(&mut self, locals: &[Local]) {
        for local in locals {
            let mut ins = self.ins();
            match local.ty {
                ValType::I64 => ins.i64_const(0),
                ValType::F32 => ins.f32_const(0.0.into()),
                ValType::F64 => ins.f64_const(0.0.into()),
                _ => ins.i32_const(0),
            };
            ins.local_set(local.idx);
        }
    }

    /// Where each of `types` lives within `loc` when they are laid out as the
    /// fields of a record.
    pub fn fields<'l>(&self, loc: Loc<'l>, types: &[Type]) -> Vec<Loc<'l>> {
        match loc {
            Loc::Flat(mut locals) => types
                .iter()
                .map(|ty| {
                    let n = self.g.flat(ty).len().min(locals.len());
                    let (field, rest) = locals.split_at(n);
                    locals = rest;
                    Loc::Flat(field)
                })
                .collect(),
            Loc::Mem(mem) => self
                .g
                .sizes
                .field_offsets(types)
                .into_iter()
                .map(|(offset, _)| Loc::Mem(mem.at(offset.size_wasm32())))
                .collect(),
        }
    }

    /// Splits a `(pointer, length)` pair.
    pub fn ptr_len<'l>(&self, loc: Loc<'l>) -> (Loc<'l>, Loc<'l>) {
        match loc {
            Loc::Flat(locals) if locals.len() >= 2 => {
                (Loc::Flat(&locals[..1]), Loc::Flat(&locals[1..2]))
            }
            Loc::Flat(locals) => (Loc::Flat(locals), Loc::Flat(locals)),
            Loc::Mem(mem) => (Loc::Mem(mem), Loc::Mem(mem.at(4))),
        }
    }

    pub fn finish(self) -> Function {
        let mut func = Function::new_with_locals_types(self.locals);
        func.raw(self.code);
        func.instructions().end();
        func
    }
}

pub fn memarg(offset: u32, width: Width) -> MemArg {
    MemArg {
        offset: u64::from(offset),
        align: width.align_log2(),
        target: MemArgTarget::Memory(0),
        ordering: None,
    }
}
