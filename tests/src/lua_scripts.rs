//! Lua scripts for the matrix, written from a world's WIT.
//!
//! `tests/lua/matrix.lua` is a Lua port of the `val` interpreter's value
//! generator; this module appends to it, for one world, a descriptor of every
//! type its functions use (in the Lua mapping of `lua_mapping`) and the code
//! of the role the world plays: the caller's `run`, the callee's exports, or
//! a proxy that forwards its exports to its imports.

use std::collections::HashMap;
use std::fmt::Write;

use anyhow::{Result, bail};
use lua_mapping::{FunctionKind, WORLD_MODULE, is_lua_identifier, lua_name};
use wit_parser::{
    Function, Handle, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldId, WorldItem, WorldKey,
};

const PRELUDE: &str = include_str!("../lua/matrix.lua");

/// The script for `world`.
pub fn script(resolve: &Resolve, world: WorldId) -> Result<String> {
    let mut writer = Writer {
        resolve,
        world,
        resources: HashMap::new(),
        out: String::new(),
    };
    writer.out.push_str("local M = (function()\n");
    writer.out.push_str(PRELUDE);
    writer
        .out
        .push_str("\nend)()\nlocal R = {}\nlocal exports = {}\n");
    writer.role()?;
    writer.out.push_str("return exports\n");
    Ok(writer.out)
}

struct Writer<'a> {
    resolve: &'a Resolve,
    world: WorldId,
    /// Resource type → index into the script's `R` table.
    resources: HashMap<TypeId, usize>,
    out: String,
}

/// An interface function or world-level function, with where it lives.
struct Func<'a> {
    /// The Lua module or export key: `test:x/api`, or `None` at world level.
    interface: Option<String>,
    func: &'a Function,
}

impl Func<'_> {
    fn qualified_name(&self) -> String {
        match &self.interface {
            Some(interface) => format!("{interface}#{}", self.func.name),
            None => self.func.name.clone(),
        }
    }
}

impl<'a> Writer<'a> {
    fn functions(
        &self,
        items: impl Iterator<Item = (&'a WorldKey, &'a WorldItem)>,
    ) -> Vec<Func<'a>> {
        let mut out = Vec::new();
        for (key, item) in items {
            match item {
                WorldItem::Function(func) => out.push(Func {
                    interface: None,
                    func,
                }),
                WorldItem::Interface { id, .. } => {
                    let interface = self.resolve.name_world_key(key);
                    for func in self.resolve.interfaces[*id].functions.values() {
                        out.push(Func {
                            interface: Some(interface.clone()),
                            func,
                        });
                    }
                }
                WorldItem::Type { .. } => {}
            }
        }
        out
    }

    fn role(&mut self) -> Result<()> {
        let world = &self.resolve.worlds[self.world];
        let imports = self.functions(world.imports.iter());
        let exports = self.functions(world.exports.iter());
        let imported: Vec<String> = imports.iter().map(Func::qualified_name).collect();
        for export in &exports {
            if export.interface.is_none() && export.func.name == "run" {
                self.caller(&imports)?;
            } else if imported.contains(&export.qualified_name()) {
                self.proxy(export);
            } else {
                self.callee(export)?;
            }
        }
        Ok(())
    }

    /// `run(iteration)`: call every test import once, check the results,
    /// then call the world-level `settle` import, if any.
    fn caller(&mut self, imports: &[Func<'_>]) -> Result<()> {
        self.out.push_str("local F = {}\n");
        let mut settle = "nil".to_string();
        for import in imports {
            if import.interface.is_none() && import.func.name == "settle" {
                settle = format!("require({WORLD_MODULE:?}).settle");
                continue;
            }
            let kind = FunctionKind::parse(&import.func.name);
            let is_tag = matches!(kind, FunctionKind::Method { name: "tag", .. });
            if matches!(kind, FunctionKind::Constructor { .. }) || is_tag {
                continue;
            }
            let module = format!(
                "require({:?})",
                import.interface.as_deref().unwrap_or(WORLD_MODULE)
            );
            let function = match kind {
                FunctionKind::Freestanding(_) => format!("{module}{}", member(&kind.key())),
                FunctionKind::Static { resource, .. } => {
                    format!(
                        "{module}{}{}",
                        member(&lua_name(resource)),
                        member(&kind.key())
                    )
                }
                FunctionKind::Method { .. } => {
                    format!(
                        "function(s, ...) return s{}(s, ...) end",
                        member(&kind.key())
                    )
                }
                FunctionKind::Constructor { .. } => unreachable!(),
            };
            let signature = self.signature(import.func)?;
            writeln!(
                self.out,
                "F[#F + 1] = {{ name = {:?}, fn = {function}, {signature} }}",
                import.qualified_name()
            )?;
        }
        writeln!(self.out, "local SETTLE = {settle}")?;
        self.out.push_str(CALLER);
        Ok(())
    }

    /// An export that checks its arguments and returns the seeded result.
    fn callee(&mut self, export: &Func<'_>) -> Result<()> {
        let kind = FunctionKind::parse(&export.func.name);
        let table = self.export_table(export, &kind)?;
        match kind {
            // The class provides `new(tag)` and `tag()` (see `M.class`).
            FunctionKind::Constructor { .. } | FunctionKind::Method { name: "tag", .. } => {}
            _ => {
                let signature = self.signature(export.func)?;
                writeln!(
                    self.out,
                    "{table}{} = M.callee({{ name = {:?}, {signature} }})",
                    member(&kind.key()),
                    export.qualified_name()
                )?;
            }
        }
        Ok(())
    }

    /// An export forwarded to the import of the same name.
    fn proxy(&mut self, export: &Func<'_>) {
        let interface = export.interface.as_deref().unwrap_or(WORLD_MODULE);
        let key = member(&FunctionKind::parse(&export.func.name).key());
        let table = self.interface_table(export);
        writeln!(
            self.out,
            "{table}{key} = function(...) return require({interface:?}){key}(...) end"
        )
        .unwrap();
    }

    /// The Lua expression of the table that holds `export`, creating it (and
    /// its resource class) on first use.
    fn export_table(&mut self, export: &Func<'_>, kind: &FunctionKind<'_>) -> Result<String> {
        let table = self.interface_table(export);
        let Some(resource) = kind.resource() else {
            return Ok(table);
        };
        let id = self.exported_resource(export, resource)?;
        let index = self.resource(id)?;
        writeln!(
            self.out,
            "{table}{} = R[{index}].class",
            member(&lua_name(resource))
        )?;
        Ok(format!("R[{index}].class"))
    }

    fn interface_table(&mut self, export: &Func<'_>) -> String {
        match &export.interface {
            Some(interface) => {
                writeln!(
                    self.out,
                    "exports[{interface:?}] = exports[{interface:?}] or {{}}"
                )
                .unwrap();
                format!("exports[{interface:?}]")
            }
            None => "exports".to_string(),
        }
    }

    fn exported_resource(&self, export: &Func<'_>, name: &str) -> Result<TypeId> {
        let world = &self.resolve.worlds[self.world];
        for (key, item) in &world.exports {
            if let WorldItem::Interface { id, .. } = item
                && Some(self.resolve.name_world_key(key)) == export.interface
                && let Some(ty) = self.resolve.interfaces[*id].types.get(name)
            {
                return Ok(*ty);
            }
        }
        bail!("no exported resource `{name}`")
    }

    /// `params = {...}, result = ...` for a function.
    fn signature(&mut self, func: &Function) -> Result<String> {
        let mut params = Vec::new();
        for param in &func.params {
            params.push(self.descriptor(&param.ty)?);
        }
        let result = match &func.result {
            Some(ty) => self.descriptor(ty)?,
            None => "nil".to_string(),
        };
        // How the callee and caller treat the function's futures and
        // streams: see `M.open` and `M.drain`.
        let kind = FunctionKind::parse(&func.name);
        let plain_name = match kind {
            FunctionKind::Freestanding(name) => name,
            _ => "",
        };
        Ok(format!(
            "params = {{ {} }}, result = {result}, async = {}, policy = {plain_name:?}",
            params.join(", "),
            func.kind.is_async(),
        ))
    }

    /// The Lua descriptor of a type (see `M.value`): a primitive's name, or
    /// a table.
    fn descriptor(&mut self, ty: &Type) -> Result<String> {
        Ok(match ty {
            Type::Id(id) => self.defined(*id)?,
            primitive => format!("{:?}", self.primitive_name(primitive)),
        })
    }

    fn defined(&mut self, id: TypeId) -> Result<String> {
        let names = |names: Vec<String>| {
            names
                .iter()
                .map(|n| format!("{:?}", lua_name(n)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Ok(match &self.resolve.types[id].kind {
            TypeDefKind::Record(r) => {
                let mut fields = Vec::new();
                for field in &r.fields {
                    fields.push(format!(
                        "{{ {:?}, {} }}",
                        lua_name(&field.name),
                        self.descriptor(&field.ty)?
                    ));
                }
                format!("{{ k = \"record\", fields = {{ {} }} }}", fields.join(", "))
            }
            TypeDefKind::Tuple(t) => {
                let mut items = Vec::new();
                for ty in &t.types {
                    items.push(self.descriptor(ty)?);
                }
                format!("{{ k = \"tuple\", items = {{ {} }} }}", items.join(", "))
            }
            // Played as the tuple of its elements, which is how it crosses.
            TypeDefKind::FixedLengthList(ty, len) => {
                let item = self.descriptor(ty)?;
                let items = vec![item; *len as usize].join(", ");
                format!("{{ k = \"tuple\", items = {{ {items} }} }}")
            }
            TypeDefKind::Flags(f) => {
                format!(
                    "{{ k = \"flags\", names = {{ {} }} }}",
                    names(f.flags.iter().map(|f| f.name.clone()).collect())
                )
            }
            TypeDefKind::Enum(e) => {
                format!(
                    "{{ k = \"enum\", names = {{ {} }} }}",
                    names(e.cases.iter().map(|c| c.name.clone()).collect())
                )
            }
            TypeDefKind::Variant(v) => {
                let mut cases = Vec::new();
                for case in &v.cases {
                    let payload = match &case.ty {
                        Some(ty) => self.descriptor(ty)?,
                        None => "false".into(),
                    };
                    cases.push(format!("{{ {:?}, {payload} }}", lua_name(&case.name)));
                }
                format!("{{ k = \"variant\", cases = {{ {} }} }}", cases.join(", "))
            }
            TypeDefKind::Option(ty) => {
                let wrapped = matches!(self.dealias(ty), Some(TypeDefKind::Option(_)));
                format!(
                    "{{ k = \"option\", some = {}, wrapped = {wrapped} }}",
                    self.descriptor(ty)?
                )
            }
            TypeDefKind::Result(r) => {
                let ok = match &r.ok {
                    Some(ty) => self.descriptor(ty)?,
                    None => "false".into(),
                };
                let err = match &r.err {
                    Some(ty) => self.descriptor(ty)?,
                    None => "false".into(),
                };
                format!("{{ k = \"result\", ok = {ok}, err = {err} }}")
            }
            TypeDefKind::List(ty) => {
                let bytes = self.is_u8(ty);
                format!(
                    "{{ k = \"list\", item = {}, bytes = {bytes} }}",
                    self.descriptor(ty)?
                )
            }
            TypeDefKind::Map(k, v) => {
                format!(
                    "{{ k = \"map\", key = {}, value = {} }}",
                    self.descriptor(k)?,
                    self.descriptor(v)?
                )
            }
            TypeDefKind::Type(ty) => self.descriptor(ty)?,
            TypeDefKind::Handle(Handle::Own(r)) => {
                format!("{{ k = \"own\", res = R[{}] }}", self.resource(*r)?)
            }
            TypeDefKind::Handle(Handle::Borrow(r)) => {
                format!("{{ k = \"borrow\", res = R[{}] }}", self.resource(*r)?)
            }
            TypeDefKind::Resource => format!("{{ k = \"own\", res = R[{}] }}", self.resource(id)?),
            TypeDefKind::Future(payload) => {
                let (descriptor, spelling) = self.payload(payload.as_ref())?;
                format!("{{ k = \"future\", payload = {descriptor}, spelling = {spelling:?} }}")
            }
            TypeDefKind::Stream(item) => {
                let (descriptor, spelling) = self.payload(item.as_ref())?;
                let bytes = item.as_ref().is_some_and(|ty| self.is_u8(ty));
                format!(
                    "{{ k = \"stream\", item = {descriptor}, bytes = {bytes}, spelling = {spelling:?} }}"
                )
            }
            other => bail!("{} is not supported in the Lua matrix", other.as_str()),
        })
    }

    /// The descriptor and the WIT spelling (as `wit.future`/`wit.stream`
    /// take it) of a future's or stream's payload.
    fn payload(&mut self, ty: Option<&Type>) -> Result<(String, String)> {
        Ok(match ty {
            Some(ty) => (self.descriptor(ty)?, self.spelling(ty)),
            None => ("false".into(), String::new()),
        })
    }

    /// How WIT spells `ty`: a named type by its name.
    fn spelling(&self, ty: &Type) -> String {
        let Type::Id(id) = ty else {
            return self.primitive_name(ty);
        };
        let def = &self.resolve.types[*id];
        // A resource renamed by `use` is known by its own name: the
        // metadata keeps no aliases of handles.
        if let TypeDefKind::Type(target @ Type::Id(target_id)) = def.kind
            && matches!(self.resolve.types[target_id].kind, TypeDefKind::Resource)
        {
            return self.spelling(&target);
        }
        if let Some(name) = &def.name {
            return name.clone();
        }
        let list = |types: Vec<String>| types.join(", ");
        match &def.kind {
            TypeDefKind::Handle(Handle::Own(r)) => self.spelling(&Type::Id(*r)),
            TypeDefKind::Handle(Handle::Borrow(r)) => {
                format!("borrow<{}>", self.spelling(&Type::Id(*r)))
            }
            TypeDefKind::Tuple(t) => {
                format!(
                    "tuple<{}>",
                    list(t.types.iter().map(|t| self.spelling(t)).collect())
                )
            }
            TypeDefKind::Option(t) => format!("option<{}>", self.spelling(t)),
            TypeDefKind::Result(r) => match (&r.ok, &r.err) {
                (ok, Some(err)) => format!(
                    "result<{}, {}>",
                    ok.as_ref().map_or("_".into(), |t| self.spelling(t)),
                    self.spelling(err)
                ),
                (Some(ok), None) => format!("result<{}>", self.spelling(ok)),
                (None, None) => "result".into(),
            },
            TypeDefKind::List(t) => format!("list<{}>", self.spelling(t)),
            TypeDefKind::FixedLengthList(t, n) => format!("list<{}, {n}>", self.spelling(t)),
            TypeDefKind::Map(k, v) => format!("map<{}, {}>", self.spelling(k), self.spelling(v)),
            TypeDefKind::Future(t) => match t {
                Some(t) => format!("future<{}>", self.spelling(t)),
                None => "future".into(),
            },
            TypeDefKind::Stream(t) => match t {
                Some(t) => format!("stream<{}>", self.spelling(t)),
                None => "stream".into(),
            },
            TypeDefKind::Type(t) => self.spelling(t),
            other => other.as_str().to_string(),
        }
    }

    fn primitive_name(&self, ty: &Type) -> String {
        match ty {
            Type::Bool => "bool",
            Type::U8 => "u8",
            Type::U16 => "u16",
            Type::U32 => "u32",
            Type::U64 => "u64",
            Type::S8 => "s8",
            Type::S16 => "s16",
            Type::S32 => "s32",
            Type::S64 => "s64",
            Type::F32 => "f32",
            Type::F64 => "f64",
            Type::Char => "char",
            Type::String => "string",
            Type::ErrorContext => "error-context",
            Type::Id(_) => unreachable!("not a primitive"),
        }
        .to_string()
    }

    fn dealias(&self, ty: &Type) -> Option<&'a TypeDefKind> {
        let mut ty = *ty;
        loop {
            let Type::Id(id) = ty else { return None };
            match &self.resolve.types[id].kind {
                TypeDefKind::Type(inner) => ty = *inner,
                kind => return Some(kind),
            }
        }
    }

    fn is_u8(&self, ty: &Type) -> bool {
        let mut ty = *ty;
        while let Type::Id(id) = ty {
            match &self.resolve.types[id].kind {
                TypeDefKind::Type(inner) => ty = *inner,
                _ => return false,
            }
        }
        ty == Type::U8
    }

    /// The index of resource `id` in `R`, declaring it on first use: a class
    /// of our own for a resource the world exports, the imported module's
    /// class otherwise.
    fn resource(&mut self, id: TypeId) -> Result<usize> {
        let mut id = id;
        while let TypeDefKind::Type(Type::Id(inner)) = self.resolve.types[id].kind {
            id = inner;
        }
        if let Some(index) = self.resources.get(&id) {
            return Ok(*index);
        }
        let index = self.resources.len() + 1;
        self.resources.insert(id, index);
        let name = lua_name(self.resources_name(id)?);
        let declaration = match self.owner_key(id)? {
            (key, true) => {
                format!("R[{index}] = {{ exported = true, class = M.class() }} -- {key}")
            }
            (key, false) => {
                let class = member(&name);
                format!("R[{index}] = {{ exported = false, class = require({key:?}){class} }}")
            }
        };
        // Declarations go first: descriptors refer to them.
        self.out
            .insert_str(self.declarations_end(), &format!("{declaration}\n"));
        Ok(index)
    }

    fn resources_name(&self, id: TypeId) -> Result<&'a str> {
        self.resolve.types[id]
            .name
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("anonymous resource"))
    }

    /// The module name of the interface defining resource `id`, and whether
    /// this world exports that interface.
    fn owner_key(&self, id: TypeId) -> Result<(String, bool)> {
        let world = &self.resolve.worlds[self.world];
        let owner = match self.resolve.types[id].owner {
            TypeOwner::Interface(owner) => owner,
            _ => bail!("world-level resources are not supported in the Lua matrix"),
        };
        let find = |items: &mut dyn Iterator<Item = (&WorldKey, &WorldItem)>| {
            for (key, item) in items {
                if matches!(item, WorldItem::Interface { id, .. } if id == &owner) {
                    return Some(self.resolve.name_world_key(key));
                }
            }
            None
        };
        if let Some(key) = find(&mut world.exports.iter()) {
            return Ok((key, true));
        }
        find(&mut world.imports.iter())
            .map(|key| (key, false))
            .ok_or_else(|| anyhow::anyhow!("resource outside the world"))
    }

    /// Where resource declarations end: right after `local exports = {}`.
    fn declarations_end(&self) -> usize {
        let marker = "local exports = {}\n";
        self.out.find(marker).expect("the header is written first") + marker.len()
    }
}

/// The caller's `run`: every test import once, the async ones all started
/// first (each in a task of its own) and then awaited together; then
/// `settle`, when nothing is in flight, for the callee to check that it
/// holds nothing.
const CALLER: &str = r#"
exports.run = function(iteration)
  M.settled("run")
  local size = M.size(iteration)
  local pending = {}
  for _, f in ipairs(F) do
    local rng = M.rng(M.seed(f.name, iteration, false))
    local lent, args = {}, {}
    local returned = { value = not f.async }
    for i, ty in ipairs(f.params) do
      args[i] = M.open(ty, M.materialize(ty, M.value(ty, rng, size), lent), f.policy, returned)
    end
    if f.async then
      local task = wit.spawn(function()
        local result = f.fn(table.unpack(args, 1, #f.params))
        returned.value = true
        if f.result then return M.drain(f.result, result, f.policy) end
      end)
      pending[#pending + 1] = { f = f, lent = lent, task = task }
    else
      M.check_result(f, iteration, f.fn(table.unpack(args, 1, #f.params)), lent)
    end
  end
  for _, call in ipairs(pending) do
    M.check_result(call.f, iteration, call.task:join(), call.lent)
  end
  if SETTLE then SETTLE() end
end
"#;

/// `.name`, or `["name"]` where `name` is a Lua keyword or not an
/// identifier (WIT allows `if` or `end` as names; seed 207123).
fn member(name: &str) -> String {
    match is_lua_identifier(name) {
        true => format!(".{name}"),
        false => format!("[{name:?}]"),
    }
}
