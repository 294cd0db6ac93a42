//! The data library that carries a script inside a component.
//!
//! Interpreters read their script with `wit_dylib_sdk::linked_script`, which
//! imports `wit_dylib_script(len: *mut usize) -> *const u8`; this library
//! defines it over a data segment holding `name length (u32 LE),
//! name, source`, and `wit_dylib_script_release()`, which does nothing here:
//! static data costs nothing to keep. It is a shared-everything dylib like
//! the others: a `dylink.0` section declares its memory needs, and its data
//! is placed at `__memory_base`.

use wasm_encoder::{
    CodeSection, ConstExpr, CustomSection, DataSection, EntityType, ExportKind, ExportSection,
    Function, FunctionSection, GlobalType, ImportSection, Instruction, MemArg, MemArgTarget,
    MemoryType, Module, TypeSection, ValType,
};

/// The function an interpreter calls once it no longer needs the script
/// (docs/abi.md §10.1).
pub const RELEASE: &str = "wit_dylib_script_release";

/// `dylink.0` subsection id of the memory requirements.
const WASM_DYLINK_MEM_INFO: u8 = 1;

/// The blob `wit_dylib_script` gives for a script called `name`:
/// `name length (u32 LE), name, source`.
pub fn blob(name: &str, source: &[u8]) -> Vec<u8> {
    let mut blob = Vec::with_capacity(4 + name.len() + source.len());
    blob.extend_from_slice(&(name.len() as u32).to_le_bytes());
    blob.extend_from_slice(name.as_bytes());
    blob.extend_from_slice(source);
    blob
}

/// Builds the library for a script called `name`.
pub fn build(name: &str, source: &[u8]) -> Vec<u8> {
    let blob = blob(name, source);

    let mut module = Module::new();
    module.section(&CustomSection {
        name: "dylink.0".into(),
        data: dylink_mem_info(blob.len() as u32).into(),
    });

    let mut types = TypeSection::new();
    types.ty().function([ValType::I32], [ValType::I32]);
    types.ty().function([], []);
    module.section(&types);

    let mut imports = ImportSection::new();
    import_memory_and_base(&mut imports);
    module.section(&imports);

    let mut functions = FunctionSection::new();
    functions.function(0);
    functions.function(1);
    module.section(&functions);

    let mut exports = ExportSection::new();
    exports.export("wit_dylib_script", ExportKind::Func, 0);
    exports.export(RELEASE, ExportKind::Func, 1);
    module.section(&exports);

    // *len = blob length; return __memory_base.
    let mut body = Function::new([]);
    body.instruction(&Instruction::LocalGet(0));
    body.instruction(&Instruction::I32Const(blob.len() as i32));
    body.instruction(&Instruction::I32Store(MemArg {
        offset: 0,
        align: 2,
        target: MemArgTarget::Memory(0),
        ordering: None,
    }));
    body.instruction(&Instruction::GlobalGet(0));
    body.instruction(&Instruction::End);
    let mut code = CodeSection::new();
    code.function(&body);
    let mut release = Function::new([]);
    release.instruction(&Instruction::End);
    code.function(&release);
    module.section(&code);

    let mut data = DataSection::new();
    data.active(0, &ConstExpr::global_get(0), blob);
    module.section(&data);
    module.finish()
}

/// Imports what a library with data needs first: `env.memory` (memory 0)
/// and `env.__memory_base` (global 0), where its data is placed.
pub fn import_memory_and_base(imports: &mut ImportSection) {
    let memory = MemoryType {
        minimum: 0,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    };
    imports.import("env", "memory", EntityType::Memory(memory));
    let base = GlobalType {
        val_type: ValType::I32,
        mutable: false,
        shared: false,
    };
    imports.import("env", "__memory_base", EntityType::Global(base));
}

/// The payload of a `dylink.0` section that asks for `memory_size` bytes of
/// data and no table: all a data or code-only library needs.
pub fn dylink_mem_info(memory_size: u32) -> Vec<u8> {
    dylink_mem_info_aligned(memory_size, 0)
}

/// [`dylink_mem_info`] with the data aligned to `2^alignment_log2` bytes.
pub fn dylink_mem_info_aligned(memory_size: u32, alignment_log2: u32) -> Vec<u8> {
    let mut fields = Vec::new();
    for value in [memory_size, alignment_log2, 0, 0] {
        leb128(&mut fields, value);
    }
    let mut out = vec![WASM_DYLINK_MEM_INFO];
    leb128(&mut out, fields.len() as u32);
    out.extend(fields);
    out
}

fn leb128(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
