//! Assembly of the core module: index spaces, sections and `dylink.0`
//! (docs/abi.md §1.6).
//!
//! Index spaces: functions are imports first (the 67 `env` functions, then
//! the world's imports and resource intrinsics), then defined functions in
//! definition order. Globals are only the three imported ones, at the fixed
//! indices below. The element segment (`elems`) lists every function whose
//! pointer the metadata holds; an element index `i` is the function pointer
//! `__table_base + i` at run time.

use std::borrow::Cow;
use std::collections::HashMap;

use wasm_encoder::{
    CodeSection, ConstExpr, CustomSection, DataSection, ElementSection, Elements, Encode,
    EntityType, ExportKind, ExportSection, Function, FunctionSection, GlobalType, ImportSection,
    MemArg, MemArgTarget, MemoryType, Module, NameMap, NameSection, RefType, TableType,
    TypeSection, ValType,
};

use crate::encode::{Encoded, RelocValue};

/// `env.__table_base`: where the element segment starts in the table.
pub const TABLE_BASE_GLOBAL: u32 = 0;
/// `env.__memory_base`: where the data segment starts in memory.
pub const MEMORY_BASE_GLOBAL: u32 = 1;
/// `env.__stack_pointer`: the shadow stack pointer (mutable), imported in
/// [`StackPointer::Global`] mode only.
pub const STACK_POINTER_GLOBAL: u32 = 2;

/// Where the library keeps its shadow stack pointer (docs/abi.md §8.7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StackPointer {
    /// The `env.__stack_pointer` global, shared with every other library of
    /// the component: the WASI 0.2 convention and the default.
    #[default]
    Global,
    /// The task's context slot 0, read and written through the
    /// `$root.[context-get-0]` and `[context-set-0]` built-ins: the WASI 0.3
    /// convention. Someone must put a stack in slot 0 before the library runs
    /// in a task (the SDK's task hook does).
    TaskContext,
}

/// How generated code reaches the stack pointer: the global's index, or the
/// indices of the two imported context built-ins.
#[derive(Debug, Clone, Copy)]
pub enum StackAccess {
    Global(u32),
    TaskContext { get: u32, set: u32 },
}

const WASM_DYLINK_MEM_INFO: u8 = 1;
const WASM_DYLINK_NEEDED: u8 = 2;

#[derive(Default)]
pub struct ModuleBuilder {
    types: TypeSection,
    type_index: HashMap<(Vec<ValType>, Vec<ValType>), u32>,
    imports: ImportSection,
    functions: FunctionSection,
    code: CodeSection,
    exports: ExportSection,
    function_names: NameMap,
    global_names: NameMap,
    /// Number of functions so far (imported, then defined).
    funcs: u32,
    globals: u32,
    /// Function indices placed in the element segment.
    elems: Vec<u32>,
}

impl ModuleBuilder {
    /// The index of the function type `params -> results`, defined once.
    pub fn func_type(&mut self, params: &[ValType], results: &[ValType]) -> u32 {
        let key = (params.to_vec(), results.to_vec());
        if let Some(index) = self.type_index.get(&key) {
            return *index;
        }
        let index = self.types.len();
        self.types
            .ty()
            .function(params.iter().copied(), results.iter().copied());
        self.type_index.insert(key, index);
        index
    }

    /// Imports a function; all imports precede all definitions.
    pub fn import_func(
        &mut self,
        module: &str,
        name: &str,
        params: &[ValType],
        results: &[ValType],
    ) -> u32 {
        let ty = self.func_type(params, results);
        self.imports.import(module, name, EntityType::Function(ty));
        self.function_names.append(self.funcs, name);
        self.funcs += 1;
        self.funcs - 1
    }

    /// Imports `__table_base`, `__memory_base`, the stack pointer (the
    /// `__stack_pointer` global or the two context built-ins), the memory and
    /// the function table, at the indices of the constants above and in
    /// upstream's order.
    pub fn import_env_globals(&mut self, stack_pointer: StackPointer) -> StackAccess {
        let constant = GlobalType {
            val_type: ValType::I32,
            mutable: false,
            shared: false,
        };
        let mutable = GlobalType {
            mutable: true,
            ..constant
        };
        let mut globals = vec![("__table_base", constant), ("__memory_base", constant)];
        if stack_pointer == StackPointer::Global {
            globals.push(("__stack_pointer", mutable));
        }
        for (name, ty) in globals {
            self.imports.import("env", name, ty);
            self.global_names.append(self.globals, name);
            self.globals += 1;
        }
        let access = match stack_pointer {
            StackPointer::Global => StackAccess::Global(STACK_POINTER_GLOBAL),
            StackPointer::TaskContext => StackAccess::TaskContext {
                get: self.import_func("$root", "[context-get-0]", &[], &[ValType::I32]),
                set: self.import_func("$root", "[context-set-0]", &[ValType::I32], &[]),
            },
        };
        self.imports.import(
            "env",
            "memory",
            MemoryType {
                minimum: 0,
                maximum: None,
                memory64: false,
                shared: false,
                page_size_log2: None,
            },
        );
        self.imports.import(
            "env",
            "__indirect_function_table",
            TableType {
                element_type: RefType::FUNCREF,
                minimum: 0,
                maximum: None,
                table64: false,
                shared: false,
            },
        );
        access
    }

    /// Defines a function named `name` (in the `name` section).
    pub fn define_func(
        &mut self,
        name: &str,
        params: &[ValType],
        results: &[ValType],
        body: &Function,
    ) -> u32 {
        let ty = self.func_type(params, results);
        self.functions.function(ty);
        self.code.function(body);
        self.function_names.append(self.funcs, name);
        self.funcs += 1;
        self.funcs - 1
    }

    /// The index the next defined function gets.
    pub fn next_func_index(&self) -> u32 {
        self.funcs
    }

    pub fn export_func(&mut self, name: &str, func: u32) {
        self.exports.export(name, ExportKind::Func, func);
    }

    /// Appends `func` to the element segment and returns its element index.
    pub fn push_elem(&mut self, func: u32) -> u32 {
        self.elems.push(func);
        self.elems.len() as u32 - 1
    }

    /// Emits the module: `dylink.0`, type, import, function, export, element,
    /// code, data and name sections, in that order.
    pub fn finish(self, data: &[u8], interpreter: Option<&str>) -> Vec<u8> {
        let mut module = Module::new();
        let dylink = dylink0(data.len() as u32, self.elems.len() as u32, interpreter);
        module.section(&CustomSection {
            name: Cow::Borrowed("dylink.0"),
            data: Cow::Owned(dylink),
        });
        module.section(&self.types);
        module.section(&self.imports);
        module.section(&self.functions);
        module.section(&self.exports);
        if !self.elems.is_empty() {
            let mut elements = ElementSection::new();
            elements.active(
                Some(0),
                &ConstExpr::global_get(TABLE_BASE_GLOBAL),
                Elements::Functions(Cow::Borrowed(&self.elems)),
            );
            module.section(&elements);
        }
        module.section(&self.code);
        let mut segment = DataSection::new();
        segment.active(
            0,
            &ConstExpr::global_get(MEMORY_BASE_GLOBAL),
            data.iter().copied(),
        );
        module.section(&segment);
        let mut names = NameSection::new();
        names.functions(&self.function_names);
        names.globals(&self.global_names);
        module.section(&names);
        module.finish()
    }
}

/// The `dylink.0` payload: memory info (the data segment's size, 4-byte
/// alignment; the element segment's size, no table alignment) and, when an
/// interpreter is named, a NEEDED entry for it.
pub(crate) fn dylink0(memory_size: u32, table_size: u32, interpreter: Option<&str>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut mem_info = Vec::new();
    for field in [memory_size, 2, table_size, 0] {
        field.encode(&mut mem_info);
    }
    out.push(WASM_DYLINK_MEM_INFO);
    mem_info.encode(&mut out);
    if let Some(name) = interpreter {
        let mut needed = Vec::new();
        [name].encode(&mut needed);
        out.push(WASM_DYLINK_NEEDED);
        needed.encode(&mut out);
    }
    out
}

/// `__wasm_apply_data_relocs`: stores each pointer of the metadata, now that
/// `__memory_base` and `__table_base` are known.
pub fn apply_data_relocs(encoded: &Encoded) -> Function {
    let mut func = Function::new([]);
    let mut ins = func.instructions();
    for reloc in &encoded.relocs {
        ins.global_get(MEMORY_BASE_GLOBAL);
        let (base, addend) = match reloc.value {
            RelocValue::Memory(offset) => (MEMORY_BASE_GLOBAL, offset),
            RelocValue::Table(elem) => (TABLE_BASE_GLOBAL, elem),
        };
        ins.global_get(base);
        if addend != 0 {
            ins.i32_const(addend as i32);
            ins.i32_add();
        }
        ins.i32_store(MemArg {
            offset: u64::from(reloc.field),
            align: 2,
            target: MemArgTarget::Memory(0),
            ordering: None,
        });
    }
    ins.end();
    func
}

/// Ends `__wasm_call_ctors` (whose body may already hold other calls):
/// `wit_dylib_initialize(__memory_base + wit_t offset)`.
pub fn finish_ctors(mut ctors: Function, wit_t_offset: u32, initialize: u32) -> Function {
    let mut ins = ctors.instructions();
    ins.global_get(MEMORY_BASE_GLOBAL);
    ins.i32_const(wit_t_offset as i32);
    ins.i32_add();
    ins.call(initialize);
    ins.end();
    ctors
}
