//! After a snapshot, start-up code is dead: the linker's start function,
//! which applied each library's data relocations and ran its constructors
//! (where the interpreter is created and the script's top level runs), has
//! been run at build time and dropped by wizer, and instances start from the
//! memory it left. So are the functions that only start-up reaches.
//!
//! [`start_up_code`] gives every such function of a core module a body of
//! one `unreachable`: function indices, exports and tables stay as they are,
//! so the module still links as before, and a call that should never happen
//! traps instead of running start-up a second time.
//!
//! A function is kept when it can be reached, through direct calls and
//! `ref.func`, from an export other than the start-up ones below, from an
//! element segment (any address-taken function may be called through the
//! shared table) or from a global's initialiser.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use wasm_encoder::{CodeSection, Function, Instruction};
use wasmparser::{
    ConstExpr, ElementItems, ElementKind, ExternalKind, FunctionBody, Operator, Parser, Payload,
    TypeRef,
};

use crate::core_module;

/// Exports that only start-up calls: the dynamic-linking convention's
/// relocation and constructor entry points, the interpreter's
/// `wit_dylib_initialize` (docs/abi.md §3.2: once per instance, before the
/// snapshot) and `wit_dylib_preinit` (§10.4: at build time only).
pub const START_UP_EXPORTS: &[&str] = &[
    "__wasm_apply_data_relocs",
    "__wasm_call_ctors",
    "_initialize",
    "wit_dylib_initialize",
    "wit_dylib_preinit",
];

/// `module` with the bodies of functions only start-up reaches replaced by
/// `unreachable`, or `None` when it has none.
pub fn start_up_code(module: &[u8]) -> Result<Option<Vec<u8>>> {
    let parsed = Parsed::new(module).context("reading a core module to prune")?;
    let live = parsed.live()?;
    let dead = (0..parsed.bodies.len() as u32)
        .filter(|own| !live.contains(&(parsed.imported + own)))
        .count();
    if dead == 0 {
        return Ok(None);
    }
    let sections = core_module::sections(module)?;
    let pruned = core_module::rewrite(module, &sections, |id, out| {
        if id != wasm_encoder::SectionId::Code as u8 {
            return false;
        }
        let mut code = CodeSection::new();
        for (own, body) in parsed.bodies.iter().enumerate() {
            if live.contains(&(parsed.imported + own as u32)) {
                code.raw(&module[core_module::bytes(body.range())]);
            } else {
                let mut trap = Function::new([]);
                trap.instruction(&Instruction::Unreachable);
                trap.instruction(&Instruction::End);
                code.function(&trap);
            }
        }
        out.section(&code);
        true
    });
    Ok(Some(pruned))
}

/// What pruning needs from a module.
struct Parsed<'a> {
    /// How many functions are imported: defined ones are numbered after.
    imported: u32,
    bodies: Vec<FunctionBody<'a>>,
    roots: BTreeSet<u32>,
}

impl<'a> Parsed<'a> {
    fn new(module: &'a [u8]) -> Result<Self> {
        let mut parsed = Parsed {
            imported: 0,
            bodies: Vec::new(),
            roots: BTreeSet::new(),
        };
        for payload in Parser::new(0).parse_all(module) {
            match payload? {
                Payload::ImportSection(imports) => {
                    for import in imports.into_imports() {
                        if let TypeRef::Func(_) = import?.ty {
                            parsed.imported += 1;
                        }
                    }
                }
                Payload::ExportSection(exports) => {
                    for export in exports {
                        let export = export?;
                        if export.kind == ExternalKind::Func
                            && !START_UP_EXPORTS.contains(&export.name)
                        {
                            parsed.roots.insert(export.index);
                        }
                    }
                }
                Payload::StartSection { func, .. } => {
                    parsed.roots.insert(func);
                }
                Payload::ElementSection(elements) => {
                    for element in elements {
                        let element = element?;
                        // A declared function is only referred to by
                        // `ref.func` in code, which `live` follows.
                        if let ElementKind::Declared = element.kind {
                            continue;
                        }
                        match element.items {
                            ElementItems::Functions(funcs) => {
                                for func in funcs {
                                    parsed.roots.insert(func?);
                                }
                            }
                            ElementItems::Expressions(_, exprs) => {
                                for expr in exprs {
                                    parsed.const_expr_roots(&expr?)?;
                                }
                            }
                        }
                    }
                }
                Payload::GlobalSection(globals) => {
                    for global in globals {
                        parsed.const_expr_roots(&global?.init_expr)?;
                    }
                }
                Payload::CodeSectionEntry(body) => parsed.bodies.push(body),
                _ => {}
            }
        }
        Ok(parsed)
    }

    fn const_expr_roots(&mut self, expr: &ConstExpr<'_>) -> Result<()> {
        for op in expr.get_operators_reader() {
            if let Operator::RefFunc { function_index } = op? {
                self.roots.insert(function_index);
            }
        }
        Ok(())
    }

    /// Every function reachable from the roots.
    fn live(&self) -> Result<BTreeSet<u32>> {
        let mut live = BTreeSet::new();
        let mut pending: Vec<u32> = self.roots.iter().copied().collect();
        while let Some(func) = pending.pop() {
            if !live.insert(func) || func < self.imported {
                continue;
            }
            let body = self
                .bodies
                .get((func - self.imported) as usize)
                .with_context(|| format!("function {func} has no body"))?;
            for op in body.get_operators_reader()? {
                match op? {
                    Operator::Call { function_index }
                    | Operator::ReturnCall { function_index }
                    | Operator::RefFunc { function_index } => pending.push(function_index),
                    _ => {}
                }
            }
        }
        Ok(live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prune(wat: &str) -> Result<Option<Vec<u8>>> {
        start_up_code(&wat::parse_str(wat)?)
    }

    /// The body of defined function `index` (after the imports).
    fn body(module: &[u8], index: usize) -> Result<Vec<u8>> {
        let mut bodies = Vec::new();
        for payload in Parser::new(0).parse_all(module) {
            if let Payload::CodeSectionEntry(body) = payload? {
                bodies.push(module[core_module::bytes(body.range())].to_vec());
            }
        }
        Ok(bodies[index].clone())
    }

    #[test]
    fn only_what_start_up_reaches_becomes_a_trap() -> Result<()> {
        let pruned = prune(
            r#"(module
                (import "env" "f" (func $imported))
                (table 2 funcref)
                (func $ctors (export "__wasm_call_ctors") call $setup)
                (func $setup call $shared)
                (func $shared)
                (func $api (export "api") call $shared)
                (func $pointer)
                (func $from_code)
                (func $reached_by_ref (export "get") (result funcref) ref.func $from_code)
                (elem (i32.const 0) func $pointer)
                (elem declare func $from_code)
            )"#,
        )?
        .expect("start-up code to prune");
        wasmparser::Validator::new().validate_all(&pruned)?;
        let trap = [0, 0x00, 0x0b]; // no locals, unreachable, end
        assert_eq!(body(&pruned, 0)?, trap, "the constructors");
        assert_eq!(body(&pruned, 1)?, trap, "what only they call");
        for kept in 2..7 {
            assert_ne!(body(&pruned, kept)?, trap, "function {kept}");
        }
        Ok(())
    }

    #[test]
    fn a_module_without_start_up_code_is_left_alone() -> Result<()> {
        let pruned = prune(r#"(module (func (export "api")))"#)?;
        assert!(pruned.is_none());
        Ok(())
    }
}
