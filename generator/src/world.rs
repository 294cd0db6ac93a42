//! The driver: walks a world in the order upstream `wit-dylib` does, so that
//! the metadata tables come out identical (docs/abi.md §4.11).
//!
//! 1. Imports: the 67 `env` functions; every world import function and the
//!    `[resource-drop]` of every imported resource (world order, per
//!    interface functions then resources); for every exported interface the
//!    `[resource-drop]`/`[resource-new]`/`[resource-rep]` of its resources,
//!    and the `[task-return]` of every async export; then the `env` globals,
//!    memory and table; then the built-ins of every future and stream type
//!    (`crate::futures`); then, when some function passes error-contexts,
//!    the error-context extension (`crate::error_context`).
//! 2. Import pass: register the types used by imports and by world-level
//!    exports (a future or stream type also gets its payload's lift and
//!    lower functions); generate an adapter per import (sync: `glue`; async:
//!    `async_`), then the world-level exports.
//! 3. Export pass: keep only the imported types that exported interfaces use
//!    from non-exported interfaces, switch resources to their exported
//!    entries, register the exported interfaces' types (emitting a
//!    destructor per exported resource), then generate the interface exports.
//!
//! An interface both imported and exported thus gets two sets of entries.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result, bail};
use wasm_encoder::ValType;
use wit_parser::{
    Handle, LiftLowerAbi, LiveTypes, ManglingAndAbi, Resolve, ResourceIntrinsic, SizeAlign, Type,
    TypeDefKind, TypeId, TypeOwner, WasmExport, WasmExportKind, WasmImport, WorldId, WorldItem,
    WorldKey,
};

use crate::Options;
use crate::encode::encode;
use crate::env::{ENV_FUNCTIONS, Env};
use crate::error_context::{self, ErrorContextFns};
use crate::func::{Gen, Helpers};
use crate::futures::{self, Builtins};
use crate::metadata::{self, MAX_TYPE_INDEX, Metadata, TypeRef};
use crate::module::{self, ModuleBuilder, StackAccess};
use crate::{async_, glue};

/// Legacy name mangling with the synchronous ABI: resource intrinsics and
/// sync functions.
const MANGLING: ManglingAndAbi = ManglingAndAbi::Legacy(LiftLowerAbi::Sync);
/// Legacy name mangling with the callback flavour of the async ABI: async
/// functions (`[async-lower]`, `[async-lift]`, `[callback]`).
const ASYNC_MANGLING: ManglingAndAbi = ManglingAndAbi::Legacy(LiftLowerAbi::AsyncCallback);

fn mangling(func: &wit_parser::Function) -> ManglingAndAbi {
    match func.kind.is_async() {
        true => ASYNC_MANGLING,
        false => MANGLING,
    }
}

const I32: ValType = ValType::I32;

pub(crate) struct WorldGen<'a> {
    pub(crate) resolve: &'a Resolve,
    pub(crate) sizes: SizeAlign,
    pub(crate) module: ModuleBuilder,
    pub(crate) metadata: Metadata,
    /// Metadata entry of each registered type.
    pub(crate) types: HashMap<TypeId, TypeRef>,
    /// `wit_t.resources` index of each resource, as currently visible.
    pub(crate) resources: HashMap<TypeId, usize>,
    /// Exported resources, merged into `resources` for the export pass.
    pub(crate) exported_resources: HashMap<TypeId, usize>,
    /// Imported built-ins of every future and stream type.
    pub(crate) builtins: HashMap<TypeId, Builtins>,
    /// The error-context extension, when some function passes one.
    pub(crate) error_context: Option<ErrorContextFns>,
    pub(crate) helpers: RefCell<Helpers>,
    /// See [`Gen::internal_errors`].
    pub(crate) internal_errors: RefCell<Vec<String>>,
    /// Where generated code finds the stack pointer.
    stack: StackAccess,
}

struct ImportedFunc<'a> {
    key: Option<&'a WorldKey>,
    func: &'a wit_parser::Function,
    /// Function index of the canonical-ABI import.
    index: u32,
}

struct ExportedFunc<'a> {
    key: Option<&'a WorldKey>,
    func: &'a wit_parser::Function,
    /// Function index of the `[task-return]` import of an async export.
    task_return: Option<u32>,
}

/// Generates the library for `world`.
pub fn generate(resolve: &Resolve, world: WorldId, opts: &Options) -> Result<(Vec<u8>, Metadata)> {
    crate::support::check(resolve, world)?;
    let mut sizes = SizeAlign::default();
    sizes
        .fill(resolve)
        .context("computing canonical ABI sizes")?;
    let mut w = WorldGen {
        resolve,
        sizes,
        module: ModuleBuilder::default(),
        metadata: Metadata::default(),
        types: HashMap::new(),
        resources: HashMap::new(),
        exported_resources: HashMap::new(),
        builtins: HashMap::new(),
        error_context: None,
        helpers: RefCell::default(),
        internal_errors: RefCell::default(),
        stack: StackAccess::Global(crate::module::STACK_POINTER_GLOBAL),
    };

    for (name, params, results) in ENV_FUNCTIONS {
        w.module.import_func("env", name, params, results);
    }
    let imports = w.declare_imports(world);
    let exports = w.declare_exports(world);
    w.stack = w.module.import_env_globals(opts.stack_pointer);
    w.builtins = futures::import_builtins(&mut w.module, resolve, world);
    if crate::passes_error_context(resolve, world) {
        w.error_context = Some(error_context::import(&mut w.module));
    }
    w.module
        .export_func("cabi_realloc", Env::CabiRealloc.index());

    w.import_pass(world)?;
    for import in &imports {
        w.import_adapter(import)?;
    }
    for export in exports.iter().filter(|e| e.key.is_none()) {
        w.export(export)?;
    }
    w.export_pass(world)?;
    for export in exports.iter().filter(|e| e.key.is_some()) {
        w.export(export)?;
    }

    let encoded = encode(&w.metadata);
    if !encoded.relocs.is_empty() {
        let body = module::apply_data_relocs(&encoded);
        let f = w
            .module
            .define_func("__wasm_apply_data_relocs", &[], &[], &body);
        w.module.export_func("__wasm_apply_data_relocs", f);
    }
    let mut ctors = wasm_encoder::Function::new([]);
    if let Some(error_context) = &w.error_context {
        error_context.register_builtins(&mut ctors);
    }
    let ctors = module::finish_ctors(ctors, encoded.wit_t_offset, Env::Initialize.index());
    let f = w.module.define_func("__wasm_call_ctors", &[], &[], &ctors);
    w.module.export_func("__wasm_call_ctors", f);

    let bytes = w.module.finish(&encoded.bytes, opts.interpreter.as_deref());
    Ok((bytes, w.metadata))
}

impl<'a> WorldGen<'a> {
    /// What generating one function needs; helpers it creates are defined
    /// by [`WorldGen::define_helpers`] before the function itself.
    pub(crate) fn codegen(&self) -> Gen<'_> {
        self.helpers.borrow_mut().next_index = self.module.next_func_index();
        Gen {
            resolve: self.resolve,
            sizes: &self.sizes,
            types: &self.types,
            helpers: &self.helpers,
            error_context: self.error_context,
            internal_errors: &self.internal_errors,
            stack: self.stack,
        }
    }

    /// Fails, naming `func`, if generating it broke an invariant.
    fn check_internal(&self, func: &str) -> Result<()> {
        match self.internal_errors.take().first() {
            Some(what) => bail!(
                "internal error in the generator while generating `{func}`: {what} \
                 (please report it with the WIT)"
            ),
            None => Ok(()),
        }
    }

    /// Defines the helpers created since the last call, at the indices
    /// [`Helpers`] gave them.
    pub(crate) fn define_helpers(&mut self) {
        let helpers = self.helpers.get_mut();
        let first = helpers.next_index - helpers.pending.len() as u32;
        for (i, helper) in std::mem::take(&mut helpers.pending).into_iter().enumerate() {
            let index =
                self.module
                    .define_func(&helper.name, &[I32, I32], helper.results, &helper.body);
            debug_assert_eq!(index, first + i as u32);
        }
    }

    fn interface_name(&self, key: Option<&WorldKey>) -> Option<String> {
        key.map(|k| self.resolve.name_world_key(k))
    }

    /// Imports every world import function and imported resource's drop.
    fn declare_imports(&mut self, world: WorldId) -> Vec<ImportedFunc<'a>> {
        let resolve = self.resolve;
        let mut funcs = Vec::new();
        for (key, item) in &resolve.worlds[world].imports {
            match item {
                WorldItem::Interface { id, .. } => {
                    let iface = &resolve.interfaces[*id];
                    for func in iface.functions.values() {
                        funcs.push(self.import_func(Some(key), func));
                    }
                    for ty in iface.types.values() {
                        self.import_resource(Some(key), *ty);
                    }
                }
                WorldItem::Type { id, .. } => self.import_resource(None, *id),
                WorldItem::Function(func) => funcs.push(self.import_func(None, func)),
            }
        }
        funcs
    }

    fn import_func(
        &mut self,
        key: Option<&'a WorldKey>,
        func: &'a wit_parser::Function,
    ) -> ImportedFunc<'a> {
        let mangling = mangling(func);
        let (module, name) = self.resolve.wasm_import_name(
            mangling,
            WasmImport::Func {
                interface: key,
                func,
            },
        );
        let sig = self.resolve.wasm_signature(mangling.import_variant(), func);
        let (params, results) = glue::core_types(&sig);
        let index = self.module.import_func(&module, &name, &params, &results);
        ImportedFunc { key, func, index }
    }

    fn import_resource(&mut self, key: Option<&WorldKey>, id: TypeId) {
        let ty = &self.resolve.types[id];
        if !matches!(ty.kind, TypeDefKind::Resource) {
            return;
        }
        let drop = self.resource_intrinsic(key, id, ResourceIntrinsic::ImportedDrop);
        let drop_elem = self.module.push_elem(drop);
        self.resources.insert(id, self.metadata.resources.len());
        self.metadata.resources.push(metadata::Resource {
            id,
            interface: self.interface_name(key),
            name: ty.name.clone().unwrap_or_default(),
            drop_elem,
            new_rep_elems: None,
        });
    }

    fn resource_intrinsic(
        &mut self,
        key: Option<&WorldKey>,
        id: TypeId,
        which: ResourceIntrinsic,
    ) -> u32 {
        let results: &[ValType] = match which {
            ResourceIntrinsic::ImportedDrop | ResourceIntrinsic::ExportedDrop => &[],
            ResourceIntrinsic::ExportedNew | ResourceIntrinsic::ExportedRep => &[I32],
        };
        let (module, name) = self.resolve.wasm_import_name(
            MANGLING,
            WasmImport::ResourceIntrinsic {
                interface: key,
                resource: id,
                intrinsic: which,
            },
        );
        self.module.import_func(&module, &name, &[I32], results)
    }

    /// Imports the intrinsics of exported resources and lists the exported
    /// functions.
    fn declare_exports(&mut self, world: WorldId) -> Vec<ExportedFunc<'a>> {
        let resolve = self.resolve;
        let mut funcs = Vec::new();
        for (key, item) in &resolve.worlds[world].exports {
            match item {
                WorldItem::Function(func) => funcs.push(self.exported_func(None, func)),
                WorldItem::Interface { id, .. } => {
                    let iface = &resolve.interfaces[*id];
                    for ty in iface.types.values() {
                        self.export_resource(key, *ty);
                    }
                    for func in iface.functions.values() {
                        funcs.push(self.exported_func(Some(key), func));
                    }
                }
                // Worlds cannot export types.
                WorldItem::Type { .. } => {}
            }
        }
        funcs
    }

    /// An exported function, importing its `[task-return]` if it is async.
    fn exported_func(
        &mut self,
        key: Option<&'a WorldKey>,
        func: &'a wit_parser::Function,
    ) -> ExportedFunc<'a> {
        let task_return = func.kind.is_async().then(|| {
            let (module, name, sig) =
                func.task_return_import(self.resolve, key, ASYNC_MANGLING.mangling());
            let (params, results) = glue::core_types(&sig);
            self.module.import_func(&module, &name, &params, &results)
        });
        ExportedFunc {
            key,
            func,
            task_return,
        }
    }

    fn export_resource(&mut self, key: &WorldKey, id: TypeId) {
        let ty = &self.resolve.types[id];
        if !matches!(ty.kind, TypeDefKind::Resource) {
            return;
        }
        let key = Some(key);
        let drop = self.resource_intrinsic(key, id, ResourceIntrinsic::ExportedDrop);
        let new = self.resource_intrinsic(key, id, ResourceIntrinsic::ExportedNew);
        let rep = self.resource_intrinsic(key, id, ResourceIntrinsic::ExportedRep);
        let drop_elem = self.module.push_elem(drop);
        let new_elem = self.module.push_elem(new);
        let rep_elem = self.module.push_elem(rep);
        self.exported_resources
            .insert(id, self.metadata.resources.len());
        self.metadata.resources.push(metadata::Resource {
            id,
            interface: self.interface_name(key),
            name: ty.name.clone().unwrap_or_default(),
            drop_elem,
            new_rep_elems: Some((new_elem, rep_elem)),
        });
    }

    /// Registers every type the imports and the world-level exports use.
    fn import_pass(&mut self, world: WorldId) -> Result<()> {
        let resolve = self.resolve;
        let w = &resolve.worlds[world];
        let mut live = LiveTypes::default();
        let mut owners = HashMap::new();
        for (key, item) in &w.imports {
            live.add_world_item(resolve, item);
            if let WorldItem::Interface { id, .. } = item {
                owners.insert(*id, key);
            }
        }
        for item in w.exports.values() {
            if let WorldItem::Function(func) = item {
                live.add_func(resolve, func);
            }
        }
        for id in live.iter() {
            let key = match resolve.types[id].owner {
                TypeOwner::Interface(iface) => owners.get(&iface).copied(),
                _ => None,
            };
            self.register(key, id)?;
        }
        Ok(())
    }

    /// Re-registers types for the exported interfaces (see the module docs).
    fn export_pass(&mut self, world: WorldId) -> Result<()> {
        let resolve = self.resolve;
        let w = &resolve.worlds[world];
        let keep = imported_types_used_by_exports(resolve, world);
        self.types.retain(|id, _| keep.contains(*id));
        self.helpers.get_mut().lifts.clear();
        for (id, index) in std::mem::take(&mut self.exported_resources) {
            self.resources.insert(id, index);
        }
        let exported: HashSet<TypeId> = self
            .metadata
            .resources
            .iter()
            .filter(|r| r.new_rep_elems.is_some())
            .map(|r| r.id)
            .collect();

        let mut live = LiveTypes::default();
        let mut owners = HashMap::new();
        for (key, item) in &w.exports {
            if let WorldItem::Interface { id, .. } = item {
                live.add_world_item(resolve, item);
                owners.insert(*id, key);
            }
        }
        for id in live.iter() {
            if self.types.contains_key(&id) {
                continue;
            }
            let key = match resolve.types[id].owner {
                TypeOwner::Interface(iface) => owners.get(&iface).copied(),
                _ => None,
            };
            self.register(key, id)?;
            if let (Some(key), true) = (key, exported.contains(&id)) {
                self.resource_dtor(key, id);
            }
        }
        Ok(())
    }

    fn resource_dtor(&mut self, key: &WorldKey, id: TypeId) {
        let Some(index) = self.resources.get(&id).copied() else {
            return;
        };
        let name = self.resolve.wasm_export_name(
            MANGLING,
            WasmExport::ResourceDtor {
                interface: key,
                resource: id,
            },
        );
        let body = glue::resource_dtor(index as u32);
        let f = self.module.define_func(&name, &[I32], &[], &body);
        self.module.export_func(&name, f);
    }

    pub(crate) fn lookup(&self, ty: &Type) -> Result<TypeRef> {
        Ok(match ty {
            Type::U8 => TypeRef::U8,
            Type::U16 => TypeRef::U16,
            Type::U32 => TypeRef::U32,
            Type::U64 => TypeRef::U64,
            Type::S8 => TypeRef::S8,
            Type::S16 => TypeRef::S16,
            Type::S32 => TypeRef::S32,
            Type::S64 => TypeRef::S64,
            Type::Bool => TypeRef::Bool,
            Type::Char => TypeRef::Char,
            Type::F32 => TypeRef::F32,
            Type::F64 => TypeRef::F64,
            Type::String => TypeRef::String,
            Type::ErrorContext => TypeRef::ErrorContext,
            Type::Id(id) => match self.types.get(id) {
                Some(t) => *t,
                None => bail!("internal error: type {id:?} used before it was registered"),
            },
        })
    }

    fn lookup_all(&self, types: impl IntoIterator<Item = Type>) -> Result<Vec<TypeRef>> {
        types.into_iter().map(|t| self.lookup(&t)).collect()
    }

    fn resource(&self, id: TypeId) -> Result<usize> {
        let mut id = id;
        while let TypeDefKind::Type(Type::Id(next)) = self.resolve.types[id].kind {
            id = next;
        }
        self.resources.get(&id).copied().with_context(|| {
            format!(
                "resource `{}` is not imported or exported by the world",
                self.resolve.types[id]
                    .name
                    .as_deref()
                    .unwrap_or("<anonymous>")
            )
        })
    }

    /// Adds `id` to the metadata tables (its dependencies are registered).
    fn register(&mut self, key: Option<&WorldKey>, id: TypeId) -> Result<()> {
        let ty = &self.resolve.types[id];
        let interface = self.interface_name(key);
        let name = ty.name.clone();
        let named = || name.clone().unwrap_or_default();
        let m = &self.metadata;
        let tref = match &ty.kind {
            TypeDefKind::Record(r) => {
                let fields = r
                    .fields
                    .iter()
                    .map(|f| Ok((f.name.clone(), self.lookup(&f.ty)?)))
                    .collect::<Result<_>>()?;
                let index = m.records.len();
                self.metadata.records.push(metadata::Record {
                    id,
                    interface,
                    name: named(),
                    fields,
                });
                TypeRef::Record(index)
            }
            TypeDefKind::Flags(f) => {
                let index = m.flags.len();
                self.metadata.flags.push(metadata::NamedCases {
                    id,
                    interface,
                    name: named(),
                    names: f.flags.iter().map(|f| f.name.clone()).collect(),
                });
                TypeRef::Flags(index)
            }
            TypeDefKind::Tuple(t) => {
                let types = self.lookup_all(t.types.iter().copied())?;
                let index = m.tuples.len();
                self.metadata.tuples.push(metadata::Tuple {
                    id,
                    interface,
                    name,
                    types,
                });
                TypeRef::Tuple(index)
            }
            TypeDefKind::Variant(v) => {
                let cases = v
                    .cases
                    .iter()
                    .map(|c| Ok((c.name.clone(), c.ty.map(|t| self.lookup(&t)).transpose()?)))
                    .collect::<Result<_>>()?;
                let index = m.variants.len();
                self.metadata.variants.push(metadata::Variant {
                    id,
                    interface,
                    name: named(),
                    cases,
                });
                TypeRef::Variant(index)
            }
            TypeDefKind::Enum(e) => {
                let index = m.enums.len();
                self.metadata.enums.push(metadata::NamedCases {
                    id,
                    interface,
                    name: named(),
                    names: e.cases.iter().map(|c| c.name.clone()).collect(),
                });
                TypeRef::Enum(index)
            }
            TypeDefKind::Option(t) => {
                let ty = self.lookup(t)?;
                let index = m.options.len();
                self.metadata.options.push(metadata::Wrapper {
                    id,
                    interface,
                    name,
                    ty,
                });
                TypeRef::Option(index)
            }
            TypeDefKind::Result(r) => {
                let ok = r.ok.map(|t| self.lookup(&t)).transpose()?;
                let err = r.err.map(|t| self.lookup(&t)).transpose()?;
                let index = m.results.len();
                self.metadata.results.push(metadata::WitResult {
                    id,
                    interface,
                    name,
                    ok,
                    err,
                });
                TypeRef::Result(index)
            }
            TypeDefKind::List(t) => {
                let ty = self.lookup(t)?;
                let index = m.lists.len();
                self.metadata.lists.push(metadata::Wrapper {
                    id,
                    interface,
                    name,
                    ty,
                });
                TypeRef::List(index)
            }
            TypeDefKind::Map(k, v) => {
                let key = self.lookup(k)?;
                let value = self.lookup(v)?;
                let index = m.maps.len();
                self.metadata.maps.push(metadata::Map {
                    id,
                    interface,
                    name,
                    key,
                    value,
                });
                TypeRef::Map(index)
            }
            TypeDefKind::Type(t) => {
                let ty = self.lookup(t)?;
                let index = m.aliases.len();
                self.metadata.aliases.push(metadata::Alias {
                    id,
                    interface,
                    name: named(),
                    ty,
                });
                TypeRef::Alias(index)
            }
            TypeDefKind::Resource => TypeRef::Own(self.resource(id)?),
            TypeDefKind::Handle(Handle::Own(r)) => TypeRef::Own(self.resource(*r)?),
            TypeDefKind::Handle(Handle::Borrow(r)) => TypeRef::Borrow(self.resource(*r)?),
            TypeDefKind::Future(t) => {
                let entry = self.payload_entry(id, interface, name, *t, "future")?;
                self.metadata.futures.push(entry);
                TypeRef::Future(self.metadata.futures.len() - 1)
            }
            TypeDefKind::Stream(t) => {
                let entry = self.payload_entry(id, interface, name, *t, "stream")?;
                self.metadata.streams.push(entry);
                TypeRef::Stream(self.metadata.streams.len() - 1)
            }
            TypeDefKind::FixedLengthList(t, len) => {
                // The values cross the ABI as a tuple of `len` elements (no
                // intrinsic of `wit_dylib.h` takes a fixed-length list): an
                // anonymous tuple entry describes it.
                let ty = self.lookup(t)?;
                let tuple = m.tuples.len();
                self.metadata.tuples.push(metadata::Tuple {
                    id,
                    interface: None,
                    name: None,
                    types: vec![ty; *len as usize],
                });
                let index = self.metadata.fixed_length_lists.len();
                self.metadata
                    .fixed_length_lists
                    .push(metadata::FixedLengthList {
                        interface,
                        name,
                        len: *len,
                        ty,
                    });
                TypeRef::FixedLengthList { index, tuple }
            }
            TypeDefKind::Unknown => bail!(
                "type `{}` is a {}, which is not supported yet",
                named(),
                ty.kind.as_str()
            ),
        };
        if let TypeRef::Record(i)
        | TypeRef::Flags(i)
        | TypeRef::Tuple(i)
        | TypeRef::Variant(i)
        | TypeRef::Enum(i)
        | TypeRef::Option(i)
        | TypeRef::Result(i)
        | TypeRef::List(i)
        | TypeRef::Map(i)
        | TypeRef::Future(i)
        | TypeRef::Stream(i)
        | TypeRef::Alias(i)
        | TypeRef::Own(i)
        | TypeRef::Borrow(i)
        | TypeRef::FixedLengthList { tuple: i, .. } = tref
            && i > MAX_TYPE_INDEX
        {
            bail!("too many types: a type table exceeds {MAX_TYPE_INDEX} entries");
        }
        self.types.insert(id, tref);
        Ok(())
    }

    fn import_adapter(&mut self, import: &ImportedFunc<'_>) -> Result<()> {
        let func = import.func;
        let adapter_name = format!("adapter {}", func.name);
        let call = if func.kind.is_async() {
            let body = async_::import_adapter(&self.codegen(), func, import.index);
            self.define_helpers();
            let f = self
                .module
                .define_func(&adapter_name, &[I32, I32], &[I32], &body);
            let adapter_elem = self.module.push_elem(f);
            let body = async_::lift_results(&self.codegen(), func);
            self.define_helpers();
            let name = format!("lift results {}", func.name);
            let f = self.module.define_func(&name, &[I32, I32], &[], &body);
            let lift_results_elem = self.module.push_elem(f);
            let (area_size, area_align) = async_::abi_area(&self.codegen(), func);
            metadata::ImportCall::Async {
                adapter_elem,
                lift_results_elem,
                area_size,
                area_align,
            }
        } else {
            let body = glue::import_adapter(&self.codegen(), func, import.index);
            self.define_helpers();
            let f = self.module.define_func(&adapter_name, &[I32], &[], &body);
            metadata::ImportCall::Sync {
                adapter_elem: self.module.push_elem(f),
            }
        };
        let entry = metadata::ImportFunc {
            interface: self.interface_name(import.key),
            name: func.name.clone(),
            call,
            params: self.lookup_all(func.params.iter().map(|p| p.ty))?,
            result: func.result.map(|t| self.lookup(&t)).transpose()?,
        };
        self.metadata.import_funcs.push(entry);
        self.check_internal(&func.name)
    }

    /// The export, its post-return (sync, when it needs one) or callback
    /// and `task.return` (async), and its `export_funcs` entry.
    fn export(&mut self, export: &ExportedFunc<'_>) -> Result<()> {
        let func = export.func;
        let which = self.metadata.export_funcs.len() as u32;
        let mangling = mangling(func);
        let sig = self.resolve.wasm_signature(mangling.export_variant(), func);
        let (params, results) = glue::core_types(&sig);
        let name = |kind| {
            self.resolve.wasm_export_name(
                mangling,
                WasmExport::Func {
                    interface: export.key,
                    func,
                    kind,
                },
            )
        };
        let export_name = name(WasmExportKind::Normal);

        let mut task_return_elem = None;
        if let Some(task_return) = export.task_return {
            let body = async_::export(&self.codegen(), func, which);
            self.define_helpers();
            let f = self
                .module
                .define_func(&export_name, &params, &results, &body);
            self.module.export_func(&export_name, f);
            let callback_name = name(WasmExportKind::Callback);
            let f = self.module.define_func(
                &callback_name,
                &[I32, I32, I32],
                &[I32],
                &async_::callback(which),
            );
            self.module.export_func(&callback_name, f);
            let body = async_::task_return(&self.codegen(), func, task_return);
            self.define_helpers();
            let name = format!("task.return {}", func.name);
            let f = self.module.define_func(&name, &[I32], &[], &body);
            task_return_elem = Some(self.module.push_elem(f));
        } else {
            let post_name = name(WasmExportKind::PostReturn);
            let body = glue::export(&self.codegen(), func, which);
            self.define_helpers();
            let f = self
                .module
                .define_func(&export_name, &params, &results, &body);
            self.module.export_func(&export_name, f);
            if glue::needs_post_return(&self.codegen(), func, &sig) {
                let body = glue::post_return(&self.codegen(), func, which);
                self.define_helpers();
                let f = self.module.define_func(&post_name, &results, &[], &body);
                self.module.export_func(&post_name, f);
            }
        }

        let entry = metadata::ExportFunc {
            interface: self.interface_name(export.key),
            name: func.name.clone(),
            task_return_elem,
            params: self.lookup_all(func.params.iter().map(|p| p.ty))?,
            result: func.result.map(|t| self.lookup(&t)).transpose()?,
        };
        self.metadata.export_funcs.push(entry);
        self.check_internal(&func.name)
    }
}

/// All types of the non-exported interfaces whose types exported interfaces
/// use: these keep their import-pass entries in the export pass.
fn imported_types_used_by_exports(resolve: &Resolve, world: WorldId) -> LiveTypes {
    let mut exported = HashSet::new();
    let mut used = LiveTypes::default();
    for item in resolve.worlds[world].exports.values() {
        if let WorldItem::Interface { id, .. } = item {
            exported.insert(*id);
            used.add_interface(resolve, *id);
        }
    }
    let mut keep = LiveTypes::default();
    for id in used.iter() {
        if let TypeOwner::Interface(owner) = resolve.types[id].owner
            && !exported.contains(&owner)
        {
            keep.add_interface(resolve, owner);
        }
    }
    keep
}
