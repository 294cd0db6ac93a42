//! Futures and streams (docs/abi.md §4.8, §8.4, §8.5, §11.3).
//!
//! The canonical built-ins of a `future<T>`/`stream<T>` type are imported
//! per function that passes it: `[future-new-N]f` and friends, where `N` is
//! the type's position among the futures and streams of `f`'s signature
//! (`Function::find_futures_and_streams`) and the module is `f`'s
//! interface (`[export]`-prefixed for exports). Each type gets the built-ins
//! of the first function, in world order (imports, then exports), that
//! passes it; the names must match upstream's, as the component linker
//! resolves them.
//!
//! Per metadata entry, payloads with a type also get two generated
//! functions `(cx, buf)` that lift (push) or lower (pop) one element at
//! `buf`, so the interpreter can convert any number of elements.

use std::collections::HashMap;

use anyhow::{Result, bail};
use wasm_encoder::{Function, ValType};
use wit_parser::{
    Function as WitFunction, Resolve, Type, TypeDefKind, TypeId, WorldId, WorldItem, WorldKey,
};

use crate::func::{FrameLayout, FuncBuilder, Gen, Loc, Mem};
use crate::glue;
use crate::metadata;
use crate::module::ModuleBuilder;
use crate::world::WorldGen;

const I32: ValType = ValType::I32;

/// The imported built-ins of one future or stream type.
pub struct Builtins {
    /// Element indices, in `wit_future_t` order: new, read, write,
    /// cancel-read, cancel-write, drop-readable, drop-writable.
    pub elems: [u32; 7],
    /// Suffix naming the generated lift/lower functions after the
    /// built-ins: `-N]f`.
    pub suffix: String,
}

/// Imports the built-ins of every future and stream type the world's
/// functions pass.
pub fn import_builtins(
    module: &mut ModuleBuilder,
    resolve: &Resolve,
    world: WorldId,
) -> HashMap<TypeId, Builtins> {
    let w = &resolve.worlds[world];
    let mut found = HashMap::new();
    let sides = [("", &w.imports), ("[export]", &w.exports)];
    for (prefix, items) in sides {
        for (key, item) in items {
            match item {
                WorldItem::Interface { id, .. } => {
                    for func in resolve.interfaces[*id].functions.values() {
                        import_for(module, resolve, prefix, Some(key), func, &mut found);
                    }
                }
                WorldItem::Function(func) => {
                    import_for(module, resolve, prefix, None, func, &mut found)
                }
                WorldItem::Type { .. } => {}
            }
        }
    }
    found
}

fn import_for(
    module: &mut ModuleBuilder,
    resolve: &Resolve,
    prefix: &str,
    key: Option<&WorldKey>,
    func: &WitFunction,
    found: &mut HashMap<TypeId, Builtins>,
) {
    let module_name = match key {
        Some(key) => format!("{prefix}{}", resolve.name_world_key(key)),
        None => format!("{prefix}$root"),
    };
    for (ordinal, id) in func
        .find_futures_and_streams(resolve)
        .into_iter()
        .enumerate()
    {
        if found.contains_key(&id) {
            continue;
        }
        // Read and write take (handle, buffer) for futures and
        // (handle, buffer, count) for streams.
        let (kind, rw_params): (&str, &[ValType]) = match resolve.types[id].kind {
            TypeDefKind::Future(_) => ("future", &[I32, I32]),
            TypeDefKind::Stream(_) => ("stream", &[I32, I32, I32]),
            _ => continue,
        };
        let suffix = format!("-{ordinal}]{}", func.name);
        let builtins: [(&str, &str, &[ValType], &[ValType]); 7] = [
            ("", "new", &[], &[ValType::I64]),
            ("[async-lower]", "read", rw_params, &[I32]),
            ("[async-lower]", "write", rw_params, &[I32]),
            ("", "cancel-read", &[I32], &[I32]),
            ("", "cancel-write", &[I32], &[I32]),
            ("", "drop-readable", &[I32], &[]),
            ("", "drop-writable", &[I32], &[]),
        ];
        let elems = builtins.map(|(lower, name, params, results)| {
            let name = format!("{lower}[{kind}-{name}{suffix}");
            let f = module.import_func(&module_name, &name, params, results);
            module.push_elem(f)
        });
        found.insert(id, Builtins { elems, suffix });
    }
}

impl WorldGen<'_> {
    /// The metadata entry of future or stream type `id` (`kind`), with the
    /// lift and lower functions of its payload.
    pub(crate) fn payload_entry(
        &mut self,
        id: TypeId,
        interface: Option<String>,
        name: Option<String>,
        payload: Option<Type>,
        kind: &str,
    ) -> Result<metadata::Payload> {
        // `support::check` rejects futures and streams no function passes.
        let Some(builtins) = self.builtins.get(&id) else {
            bail!("internal error: {kind} type {id:?} has no canonical built-ins");
        };
        let (intrinsic_elems, suffix) = (builtins.elems, builtins.suffix.clone());
        let (lift_lower_elems, (size, align)) = match payload {
            Some(ty) => {
                let body = lift_one(&self.codegen(), &ty);
                self.define_helpers();
                let name = format!("[{kind}-lift{suffix}");
                let lift = self.module.define_func(&name, &[I32, I32], &[], &body);
                let lift = self.module.push_elem(lift);
                let body = lower_one(&self.codegen(), &ty);
                self.define_helpers();
                let name = format!("[{kind}-lower{suffix}");
                let lower = self.module.define_func(&name, &[I32, I32], &[], &body);
                let lower = self.module.push_elem(lower);
                let layout = (
                    self.sizes.size(&ty).size_wasm32(),
                    self.sizes.align(&ty).align_wasm32(),
                );
                (Some((lift, lower)), layout)
            }
            None => (None, (0, 1)),
        };
        Ok(metadata::Payload {
            id,
            interface,
            name,
            ty: payload.map(|t| self.lookup(&t)).transpose()?,
            intrinsic_elems,
            lift_lower_elems,
            abi_payload_size: size,
            abi_payload_align: align,
        })
    }
}

/// `[future|stream-lift-N]f`: pushes the element at `buf`.
pub fn lift_one(g: &Gen<'_>, ty: &Type) -> Function {
    let mut b = FuncBuilder::new(g, &[I32, I32]);
    b.set_cx(b.param(0));
    b.lift(Loc::Mem(Mem { base: 1, offset: 0 }), ty);
    b.finish()
}

/// `[future|stream-lower-N]f`: pops one element into `buf`. Strings and
/// lists need the frame's out-parameter slot.
pub fn lower_one(g: &Gen<'_>, ty: &Type) -> Function {
    let mut b = FuncBuilder::new(g, &[I32, I32]);
    b.set_cx(b.param(0));
    let layout = FrameLayout::new(None, None, false, glue::lowers_string_or_list(g, &[*ty]));
    let fp = b.push_frame(&layout);
    b.lower(ty, Loc::Mem(Mem { base: 1, offset: 0 }));
    b.pop_frame(fp, &layout);
    b.finish()
}
