//! The rewrite behind `--stub-wasi` and the snapshot's clean-up
//! ([`crate::preinit::snapshot`]): a linked component loses some of its
//! instance imports, and every core function it lowered from them becomes
//! a function of one small core module whose every function is
//! `unreachable`; it may also lose exports.
//!
//! Stubbing in place, rather than composing a stubs component in front,
//! costs nothing at run time: no second component with its own memory and
//! lifted functions, no adapters between the two, and no host function
//! behind the stubs; the host links fewer imports. The result is smaller
//! than the component it came from, since the removed imports' types go too.
//!
//! What is removed, by index at the component's top level:
//! - the stubbed instance imports and the instance types they were declared
//!   with;
//! - every type, function or instance aliased from a stubbed instance.
//!
//! Every core function made from something removed (`canon lower` of a
//! stubbed function, `canon resource.drop` of a stubbed resource) is
//! replaced, at the same core function index, by an alias of the stub
//! module's export. Anything else that still uses a removed item is an
//! error. Nested components (wit-component's shims for exported interfaces)
//! keep their own indices; only what they alias from the top level moves.
//! The new module and its instance come first, so every later core module
//! and core instance index moves up by one; removed items move later
//! component indices down.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use anyhow::{Result, anyhow, bail};
use wasm_encoder::reencode::{Reencode, ReencodeComponent, RoundtripReencoder};
use wasm_encoder::{
    Alias, CanonicalFunctionSection, CodeSection, Component, ComponentAliasSection,
    ComponentImportSection, ComponentNameSection, ComponentSectionId, ComponentTypeSection,
    ExportKind, ExportSection, Function, FunctionSection, InstanceSection, Module, ModuleSection,
    NameMap, RawSection, TypeSection,
};
use wasmparser::{
    CanonicalFunction, ComponentAlias, ComponentExternalKind, ComponentName,
    ComponentOuterAliasKind, ComponentTypeRef, ExternalKind, FuncType, Parser, Payload, Validator,
    WasmFeatures,
};

/// A rewrite of each top-level core module: its new bytes, or `None` to
/// keep it as it is.
pub type ModuleRewrite<'a> = &'a dyn Fn(&[u8]) -> Result<Option<Vec<u8>>>;

/// `component` without its instance imports named in `stubbed`, their uses
/// trapping instead, and without the exports named in `exports` (nothing
/// may refer to what they define), its core modules passed through
/// `rewrite_module`; the result is validated.
pub fn without(
    component: &[u8],
    stubbed: &BTreeSet<String>,
    exports: &BTreeSet<String>,
    rewrite_module: ModuleRewrite<'_>,
) -> Result<Vec<u8>> {
    let payloads = top_level(component)?;
    let plan = Plan::new(&payloads, stubbed, exports)?;
    let types = Validator::new_with_features(WasmFeatures::all())
        .validate_all(component)
        .map_err(|err| anyhow!("the component to stub is not valid: {err}"))?;
    let mut stubs = Vec::new();
    for &core_func in plan.traps.keys() {
        let ty = types[types.as_ref().core_function_at(core_func)].unwrap_func();
        stubs.push(ty.clone());
    }

    let mut out = Component::new();
    out.section(&ModuleSection(&stub_module(&stubs)?));
    let mut instances = InstanceSection::new();
    instances.instantiate(0, Vec::<(&str, wasm_encoder::ModuleArg)>::new());
    out.section(&instances);
    let mut remap = Remap {
        plan: &plan,
        rewrite_module,
        depth: 0,
        dangling: None,
    };
    remap.copy(component, payloads, &mut out)?;
    if let Some(item) = remap.dangling {
        bail!("{item} comes from a stubbed import but is still used");
    }
    let bytes = out.finish();
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(&bytes)
        .map_err(|err| anyhow!("the stubbed component is not valid: {err}"))?;
    Ok(bytes)
}

/// The component's own sections, not those inside its core modules and
/// nested components.
fn top_level(component: &[u8]) -> Result<Vec<Payload<'_>>> {
    let mut parser = Parser::new(0);
    let mut remaining = component;
    let mut payloads = Vec::new();
    loop {
        let (consumed, payload) = match parser.parse(remaining, true)? {
            wasmparser::Chunk::Parsed { consumed, payload } => (consumed, payload),
            wasmparser::Chunk::NeedMoreData(_) => bail!("the component is truncated"),
        };
        remaining = &remaining[consumed..];
        match &payload {
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => remaining = &remaining[(unchecked_range.end - unchecked_range.start) as usize..],
            Payload::End(_) => return Ok(payloads),
            _ => {}
        }
        payloads.push(payload);
    }
}

/// The component-level index spaces this rewrite changes.
#[derive(Clone, Copy)]
enum Sort {
    Type,
    Instance,
    Func,
    CoreFunc,
}

/// Counts definitions in each [`Sort`], in the order the binary makes them.
#[derive(Default)]
struct Counter([u32; 4]);

impl Counter {
    /// The index of the next item of `sort`, counted.
    fn next(&mut self, sort: Sort) -> u32 {
        let count = &mut self.0[sort as usize];
        *count += 1;
        *count - 1
    }

    fn import(&mut self, ty: &ComponentTypeRef) -> Option<u32> {
        match ty {
            ComponentTypeRef::Type(_) => Some(self.next(Sort::Type)),
            ComponentTypeRef::Instance(_) => Some(self.next(Sort::Instance)),
            ComponentTypeRef::Func(_) => Some(self.next(Sort::Func)),
            _ => None,
        }
    }

    /// The sort and index `alias` defines, if one of ours.
    fn alias(&mut self, alias: &ComponentAlias) -> Option<(Sort, u32)> {
        let sort = match alias {
            ComponentAlias::InstanceExport { kind, .. } => external_sort(*kind)?,
            ComponentAlias::CoreInstanceExport {
                kind: ExternalKind::Func,
                ..
            } => Sort::CoreFunc,
            ComponentAlias::Outer {
                kind: ComponentOuterAliasKind::Type,
                ..
            } => Sort::Type,
            _ => return None,
        };
        Some((sort, self.next(sort)))
    }

    /// Every canonical definition makes a core function but `canon lift`.
    fn canonical(&mut self, func: &CanonicalFunction) -> (Sort, u32) {
        let sort = match func {
            CanonicalFunction::Lift { .. } => Sort::Func,
            _ => Sort::CoreFunc,
        };
        (sort, self.next(sort))
    }

    /// Component exports also define an item of what they export.
    fn export(&mut self, kind: ComponentExternalKind) -> Option<(Sort, u32)> {
        let sort = external_sort(kind)?;
        Some((sort, self.next(sort)))
    }
}

fn external_sort(kind: ComponentExternalKind) -> Option<Sort> {
    match kind {
        ComponentExternalKind::Type => Some(Sort::Type),
        ComponentExternalKind::Instance => Some(Sort::Instance),
        ComponentExternalKind::Func => Some(Sort::Func),
        _ => None,
    }
}

/// What the rewrite removes and replaces, by the original indices.
struct Plan {
    /// Sorted, per [`Sort`] (core functions are never removed).
    removed: [Vec<u32>; 4],
    /// Core functions that become the stub module's export of that name.
    traps: BTreeMap<u32, String>,
    /// The names of the removed imports.
    stubbed: BTreeSet<String>,
    /// The names of the removed exports.
    exports: BTreeSet<String>,
}

impl Plan {
    fn new(
        payloads: &[Payload<'_>],
        stubbed: &BTreeSet<String>,
        removed_exports: &BTreeSet<String>,
    ) -> Result<Plan> {
        let mut removed: [BTreeSet<u32>; 4] = Default::default();
        let mut traps = BTreeMap::new();
        let mut counter = Counter::default();
        for payload in payloads {
            match payload {
                Payload::ComponentTypeSection(types) => {
                    for _ in 0..types.count() {
                        counter.next(Sort::Type);
                    }
                }
                Payload::ComponentImportSection(imports) => {
                    for import in imports.clone() {
                        let import = import?;
                        let index = counter.import(&import.ty);
                        let name = import.name.name;
                        if !stubbed.contains(name) {
                            continue;
                        }
                        let (ComponentTypeRef::Instance(ty), Some(index)) = (import.ty, index)
                        else {
                            bail!("`{name}` is not an instance import");
                        };
                        removed[Sort::Type as usize].insert(ty);
                        removed[Sort::Instance as usize].insert(index);
                    }
                }
                Payload::ComponentAliasSection(aliases) => {
                    for alias in aliases.clone() {
                        let alias = alias?;
                        let defined = counter.alias(&alias);
                        let ComponentAlias::InstanceExport {
                            instance_index,
                            name,
                            ..
                        } = alias
                        else {
                            continue;
                        };
                        if !removed[Sort::Instance as usize].contains(&instance_index) {
                            continue;
                        }
                        match defined {
                            Some((sort, index)) => removed[sort as usize].insert(index),
                            None => bail!(
                                "`{name}` of a stubbed import is neither a type, a function nor an instance"
                            ),
                        };
                    }
                }
                Payload::ComponentCanonicalSection(functions) => {
                    for function in functions.clone() {
                        let function = function?;
                        let (_, index) = counter.canonical(&function);
                        let stubbed = match function {
                            CanonicalFunction::Lower { func_index, .. } => {
                                removed[Sort::Func as usize].contains(&func_index)
                            }
                            CanonicalFunction::ResourceDrop { resource } => {
                                removed[Sort::Type as usize].contains(&resource)
                            }
                            _ => false,
                        };
                        if stubbed {
                            traps.insert(index, traps.len().to_string());
                        }
                    }
                }
                Payload::ComponentInstanceSection(instances) => {
                    for _ in 0..instances.count() {
                        counter.next(Sort::Instance);
                    }
                }
                Payload::ComponentExportSection(exports) => {
                    for export in exports.clone() {
                        let export = export?;
                        let defined = counter.export(export.kind);
                        let name = export.name.name;
                        if !removed_exports.contains(name) {
                            continue;
                        }
                        match defined {
                            Some((sort, index)) => removed[sort as usize].insert(index),
                            None => bail!(
                                "export `{name}` is neither a type, a function nor an instance"
                            ),
                        };
                    }
                }
                _ => {}
            }
        }
        Ok(Plan {
            removed: removed.map(|set| set.into_iter().collect()),
            traps,
            stubbed: stubbed.clone(),
            exports: removed_exports.clone(),
        })
    }

    fn is_removed(&self, sort: Sort, index: u32) -> bool {
        self.removed[sort as usize].binary_search(&index).is_ok()
    }
}

/// Copies the component's sections, leaving out and replacing what the
/// [`Plan`] says, and renumbering every index at the top level.
struct Remap<'a> {
    plan: &'a Plan,
    rewrite_module: ModuleRewrite<'a>,
    /// How deep in type declarations the reencoder is; indices at depth 0
    /// are the component's own.
    depth: u32,
    /// The first removed item found still in use.
    dangling: Option<String>,
}

impl Remap<'_> {
    /// The new index of the top-level item `index` of `sort`.
    fn top(&mut self, sort: Sort, index: u32) -> u32 {
        match self.plan.removed[sort as usize].binary_search(&index) {
            Ok(_) => {
                let what = ["type", "instance", "function", "core function"][sort as usize];
                self.dangling.get_or_insert(format!("{what} {index}"));
                index
            }
            Err(before) => index - before as u32,
        }
    }

    fn copy(
        &mut self,
        component: &[u8],
        payloads: Vec<Payload<'_>>,
        out: &mut Component,
    ) -> Result<()> {
        let mut counter = Counter::default();
        for payload in payloads {
            match payload {
                Payload::ModuleSection {
                    unchecked_range, ..
                } => {
                    let range = unchecked_range.start as usize..unchecked_range.end as usize;
                    let module = &component[range];
                    let rewritten = (self.rewrite_module)(module)?;
                    out.section(&RawSection {
                        id: ComponentSectionId::CoreModule as u8,
                        data: rewritten.as_deref().unwrap_or(module),
                    });
                }
                // wit-component's shims for exported interfaces; their own
                // indices stay, what they alias from outside is renumbered.
                Payload::ComponentSection {
                    parser,
                    unchecked_range,
                } => {
                    let range = unchecked_range.start as usize..unchecked_range.end as usize;
                    self.parse_component_subcomponent(out, parser, &component[range], component)?;
                }
                Payload::ComponentTypeSection(types) => {
                    let mut kept = ComponentTypeSection::new();
                    for ty in types {
                        let ty = ty?;
                        if !self.plan.is_removed(Sort::Type, counter.next(Sort::Type)) {
                            self.parse_component_type(kept.ty(), ty)?;
                        }
                    }
                    out.section(&kept);
                }
                Payload::ComponentImportSection(imports) => {
                    let mut kept = ComponentImportSection::new();
                    for import in imports {
                        let import = import?;
                        counter.import(&import.ty);
                        if !self.plan.stubbed.contains(import.name.name) {
                            kept.import(import.name, self.component_type_ref(import.ty)?);
                        }
                    }
                    out.section(&kept);
                }
                Payload::ComponentAliasSection(aliases) => {
                    let mut kept = ComponentAliasSection::new();
                    for alias in aliases {
                        let alias = alias?;
                        counter.alias(&alias);
                        if let ComponentAlias::InstanceExport { instance_index, .. } = alias
                            && self.plan.is_removed(Sort::Instance, instance_index)
                        {
                            continue;
                        }
                        kept.alias(self.component_alias(alias)?);
                    }
                    out.section(&kept);
                }
                Payload::ComponentCanonicalSection(functions) => {
                    // Runs of canonical functions, and stubs aliased in their place.
                    let mut canonical = CanonicalFunctionSection::new();
                    let mut stubs = ComponentAliasSection::new();
                    for function in functions {
                        let function = function?;
                        let stub = match counter.canonical(&function) {
                            (Sort::CoreFunc, index) => self.plan.traps.get(&index),
                            _ => None,
                        };
                        match stub {
                            Some(name) => {
                                if !canonical.is_empty() {
                                    out.section(&canonical);
                                    canonical = CanonicalFunctionSection::new();
                                }
                                stubs.alias(Alias::CoreInstanceExport {
                                    instance: STUB_INSTANCE,
                                    kind: ExportKind::Func,
                                    name,
                                });
                            }
                            None => {
                                if !stubs.is_empty() {
                                    out.section(&stubs);
                                    stubs = ComponentAliasSection::new();
                                }
                                self.parse_component_canonical(&mut canonical, function)?;
                            }
                        }
                    }
                    match canonical.is_empty() {
                        true => out.section(&stubs),
                        false => out.section(&canonical),
                    };
                }
                Payload::ComponentInstanceSection(ref instances) => {
                    for _ in 0..instances.count() {
                        counter.next(Sort::Instance);
                    }
                    self.parse_component_payload(out, payload, component)?;
                }
                Payload::ComponentExportSection(exports) => {
                    let mut kept = wasm_encoder::ComponentExportSection::new();
                    for export in exports {
                        let export = export?;
                        counter.export(export.kind);
                        if !self.plan.exports.contains(export.name.name) {
                            self.parse_component_export(&mut kept, export)?;
                        }
                    }
                    out.section(&kept);
                }
                other => {
                    self.parse_component_payload(out, other, component)?;
                }
            }
        }
        Ok(())
    }
}

/// The stub module's instance: the first core instance of the result.
const STUB_INSTANCE: u32 = 0;

impl Reencode for Remap<'_> {
    type Error = Infallible;
}

impl ReencodeComponent for Remap<'_> {
    fn component_type_index(&mut self, ty: u32) -> u32 {
        match self.depth {
            0 => self.top(Sort::Type, ty),
            _ => ty,
        }
    }

    fn component_instance_index(&mut self, instance: u32) -> u32 {
        match self.depth {
            0 => self.top(Sort::Instance, instance),
            _ => instance,
        }
    }

    fn component_func_index(&mut self, func: u32) -> u32 {
        match self.depth {
            0 => self.top(Sort::Func, func),
            _ => func,
        }
    }

    fn module_index(&mut self, module: u32) -> u32 {
        match self.depth {
            0 => module + 1,
            _ => module,
        }
    }

    fn instance_index(&mut self, instance: u32) -> u32 {
        match self.depth {
            0 => instance + 1,
            _ => instance,
        }
    }

    fn outer_component_type_index(&mut self, count: u32, ty: u32) -> u32 {
        match count == self.depth {
            true => self.top(Sort::Type, ty),
            false => ty,
        }
    }

    fn outer_module_index(&mut self, count: u32, module: u32) -> u32 {
        match count == self.depth {
            true => module + 1,
            false => module,
        }
    }

    fn push_depth(&mut self) {
        self.depth += 1;
    }

    fn pop_depth(&mut self) {
        self.depth -= 1;
    }

    /// Names of removed items go; the others follow their items.
    fn parse_custom_component_name_subsection(
        &mut self,
        names: &mut ComponentNameSection,
        section: ComponentName<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error<Infallible>> {
        let (sort, map) = match section {
            ComponentName::Types(map) => (Sort::Type, map),
            ComponentName::Instances(map) => (Sort::Instance, map),
            ComponentName::Funcs(map) => (Sort::Func, map),
            other => {
                return wasm_encoder::reencode::component_utils::parse_custom_component_name_subsection(
                    self, names, other,
                );
            }
        };
        let mut kept = NameMap::new();
        for naming in map {
            let naming = naming?;
            if !self.plan.is_removed(sort, naming.index) {
                kept.append(self.top(sort, naming.index), naming.name);
            }
        }
        match sort {
            Sort::Type => names.types(&kept),
            Sort::Instance => names.instances(&kept),
            _ => names.funcs(&kept),
        }
        Ok(())
    }
}

/// A core module exporting, as `0`, `1`, ..., one function of each type in
/// `types`, each of which traps.
fn stub_module(types: &[FuncType]) -> Result<Module> {
    let mut distinct: Vec<&FuncType> = Vec::new();
    let mut type_section = TypeSection::new();
    let mut functions = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    for (index, ty) in types.iter().enumerate() {
        let type_index = match distinct.iter().position(|seen| *seen == ty) {
            Some(seen) => seen,
            None => {
                let mut reencoder = RoundtripReencoder;
                let params: Vec<_> = ty
                    .params()
                    .iter()
                    .map(|&v| reencoder.val_type(v))
                    .collect::<Result<_, _>>()?;
                let results: Vec<_> = ty
                    .results()
                    .iter()
                    .map(|&v| reencoder.val_type(v))
                    .collect::<Result<_, _>>()?;
                type_section.ty().function(params, results);
                distinct.push(ty);
                distinct.len() - 1
            }
        };
        functions.function(type_index as u32);
        exports.export(&index.to_string(), ExportKind::Func, index as u32);
        let mut body = Function::new([]);
        body.instructions().unreachable().end();
        code.function(&body);
    }
    let mut module = Module::new();
    module
        .section(&type_section)
        .section(&functions)
        .section(&exports)
        .section(&code);
    Ok(module)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component that imports `host:io/log` (a function and a resource)
    /// and `host:io/keep`, lowers all three into a core module, and exports
    /// `run`, which calls the log function if given 1.
    const COMPONENT: &str = r#"
        (component
          (type (instance
            (export "handle" (type (sub resource)))
            (export "log" (func (param "code" u32)))))
          (import "host:io/log" (instance $log (type 0)))
          (import "host:io/keep" (instance $keep (export "get" (func (result u32)))))
          (alias export $log "log" (func $log-fn))
          (alias export $log "handle" (type $handle))
          (alias export $keep "get" (func $get))
          (core func $log-core (canon lower (func $log-fn)))
          (core func $drop (canon resource.drop $handle))
          (core func $get-core (canon lower (func $get)))
          (core module $m
            (import "host" "log" (func $log (param i32)))
            (import "host" "drop" (func (param i32)))
            (import "host" "get" (func $get (result i32)))
            (func (export "run") (param i32) (result i32)
              local.get 0
              if
                i32.const 7
                call $log
              end
              call $get))
          (core instance $host (export "log" (func $log-core))
                               (export "drop" (func $drop))
                               (export "get" (func $get-core)))
          (core instance $i (instantiate $m (with "host" (instance $host))))
          (func (export "run") (param "log" u32) (result u32)
            (canon lift (core func $i "run"))))
    "#;

    fn stub(names: &[&str], component: &str) -> Result<Vec<u8>> {
        let stubbed = names.iter().map(ToString::to_string).collect();
        without(
            &wat::parse_str(component)?,
            &stubbed,
            &BTreeSet::new(),
            &|_| Ok(None),
        )
    }

    fn run(component: &[u8], arg: u32) -> Result<u32> {
        let engine = wasmtime::Engine::default();
        let component = wasmtime::component::Component::new(&engine, component)?;
        let mut linker = wasmtime::component::Linker::<()>::new(&engine);
        linker
            .instance("host:io/keep")?
            .func_wrap("get", |_, ()| Ok((42u32,)))?;
        let mut store = wasmtime::Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &component)?;
        let run = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "run")?;
        Ok(run.call(&mut store, (arg,))?.0)
    }

    #[test]
    fn a_stubbed_import_is_gone_and_its_functions_trap() -> Result<()> {
        let stubbed = stub(&["host:io/log"], COMPONENT)?;
        let engine = wasmtime::Engine::default();
        let component = wasmtime::component::Component::new(&engine, &stubbed)?;
        let imports: Vec<String> = component
            .component_type()
            .imports(&engine)
            .map(|(name, _)| name.to_string())
            .collect();
        assert_eq!(imports, ["host:io/keep"]);
        // The kept import still works; the stubbed one traps.
        assert_eq!(run(&stubbed, 0)?, 42);
        let err = run(&stubbed, 1).expect_err("the stubbed `log` traps");
        assert_eq!(
            err.downcast_ref::<wasmtime::Trap>(),
            Some(&wasmtime::Trap::UnreachableCodeReached),
            "{err:?}"
        );
        Ok(())
    }

    #[test]
    fn a_stubbed_function_used_other_than_lowered_is_an_error() {
        // Re-exporting an imported function leaves nothing to stub it with.
        let component = r#"
            (component
              (import "host:io/log" (instance $log (export "log" (func))))
              (alias export $log "log" (func $f))
              (export "log" (func $f)))
        "#;
        let err = stub(&["host:io/log"], component).expect_err("the export needs the import");
        assert!(
            err.to_string()
                .contains("function 0 comes from a stubbed import"),
            "{err:#}"
        );
    }

    #[test]
    fn only_instance_imports_are_stubbed() {
        let component = r#"(component (import "host-fn" (func)))"#;
        let err = stub(&["host-fn"], component).expect_err("a function import");
        assert!(
            err.to_string()
                .contains("`host-fn` is not an instance import"),
            "{err:#}"
        );
    }
}
