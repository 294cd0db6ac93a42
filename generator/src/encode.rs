//! Binary encoding of [`Metadata`] into the data segment (docs/abi.md §4.1,
//! §4.10).
//!
//! Layout, from offset 0 of the segment (which the loader places at
//! `__memory_base`):
//!
//! 1. For each table, in `wit_t` field order: the array of structs, then the
//!    sub-arrays those structs point to (parameter types, fields, names,
//!    cases), in struct order.
//! 2. The `wit_t` itself.
//! 3. Every string, NUL-terminated and stored once, in order of first use.
//!
//! Every field is a little-endian `u32`. Pointers cannot be known until load
//! time, so they are written as zero and listed as [`Reloc`]s: a data pointer
//! becomes `__memory_base + offset`, a function pointer `__table_base +
//! element index`. `module.rs` turns the relocations into
//! `__wasm_apply_data_relocs`.

use std::collections::HashMap;

use crate::metadata::{EMPTY_TYPE, ImportCall, Metadata, Payload, TypeRef};

/// `WIT_CURRENT_VERSION`.
const VERSION: u32 = 3;

/// The encoded data segment.
pub struct Encoded {
    pub bytes: Vec<u8>,
    /// Offset of the `wit_t` within `bytes`.
    pub wit_t_offset: u32,
    pub relocs: Vec<Reloc>,
}

/// A pointer field to patch at load time.
pub struct Reloc {
    /// Offset of the field within the segment.
    pub field: u32,
    pub value: RelocValue,
}

pub enum RelocValue {
    /// `__memory_base + offset` (an offset within the segment).
    Memory(u32),
    /// `__table_base + index` (an index within the element segment).
    Table(u32),
}

/// A position in the segment that may not be known yet when it is referenced.
#[derive(Clone, Copy)]
struct Symbol(usize);

#[derive(Default)]
struct Writer {
    data: Vec<u8>,
    /// Offset of each symbol, once bound.
    symbols: Vec<Option<usize>>,
    /// Pointer fields and the symbol they point to.
    data_refs: Vec<(usize, Symbol)>,
    table_refs: Vec<(usize, u32)>,
    /// Interned strings, in order of first use.
    strings: Vec<(String, Symbol)>,
    string_index: HashMap<String, Symbol>,
}

/// One sub-array: the symbol its pointer refers to and a way to write it.
type Deferred<'a> = Vec<(Symbol, Box<dyn FnOnce(&mut Writer) + 'a>)>;

impl Writer {
    fn symbol(&mut self) -> Symbol {
        self.symbols.push(None);
        Symbol(self.symbols.len() - 1)
    }

    fn bind(&mut self, sym: Symbol) {
        self.symbols[sym.0] = Some(self.data.len());
    }

    fn u32(&mut self, value: u32) {
        self.data.extend_from_slice(&value.to_le_bytes());
    }

    fn len(&mut self, n: usize) {
        // Lengths come from in-memory tables far below 4 GiB.
        self.u32(n as u32);
    }

    fn ptr(&mut self, sym: Symbol) {
        self.data_refs.push((self.data.len(), sym));
        self.u32(0);
    }

    fn func(&mut self, elem: Option<u32>) {
        if let Some(elem) = elem {
            self.table_refs.push((self.data.len(), elem));
        }
        self.u32(0);
    }

    fn string(&mut self, s: &str) {
        let sym = match self.string_index.get(s) {
            Some(sym) => *sym,
            None => {
                let sym = self.symbol();
                self.string_index.insert(s.to_string(), sym);
                self.strings.push((s.to_string(), sym));
                sym
            }
        };
        self.ptr(sym);
    }

    fn opt_string(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.string(s),
            None => self.u32(0),
        }
    }

    fn ty(&mut self, ty: TypeRef) {
        self.u32(ty.encode());
    }

    fn opt_ty(&mut self, ty: Option<TypeRef>) {
        match ty {
            Some(ty) => self.ty(ty),
            None => self.u32(EMPTY_TYPE),
        }
    }

    /// Writes `(count, ptr)` for a sub-array whose contents are written later
    /// by `write`, after the enclosing array.
    fn sub_array<'a, T: 'a>(
        &mut self,
        items: &'a [T],
        deferred: &mut Deferred<'a>,
        write: impl Fn(&mut Writer, &T) + 'a,
    ) {
        self.len(items.len());
        if items.is_empty() {
            self.u32(0);
            return;
        }
        let sym = self.symbol();
        self.ptr(sym);
        deferred.push((
            sym,
            Box::new(move |w: &mut Writer| {
                for item in items {
                    write(w, item);
                }
            }),
        ));
    }

    /// Writes one table (its structs, then their sub-arrays) and returns the
    /// `(count, symbol)` pair for the `wit_t`.
    fn table<'a, T>(
        &mut self,
        items: &'a [T],
        write: impl Fn(&mut Writer, &'a T, &mut Deferred<'a>),
    ) -> (usize, Symbol) {
        let sym = self.symbol();
        self.bind(sym);
        let mut deferred = Deferred::new();
        for item in items {
            write(self, item, &mut deferred);
        }
        for (sym, write) in deferred {
            self.bind(sym);
            write(self);
        }
        (items.len(), sym)
    }
}

/// One `wit_future_t`/`wit_stream_t` (56 bytes).
fn payload(w: &mut Writer, p: &Payload) {
    w.opt_string(p.interface.as_deref());
    w.opt_string(p.name.as_deref());
    w.opt_ty(p.ty);
    for elem in p.intrinsic_elems {
        w.func(Some(elem));
    }
    w.func(p.lift_lower_elems.map(|(lift, _)| lift));
    w.func(p.lift_lower_elems.map(|(_, lower)| lower));
    w.len(p.abi_payload_size);
    w.len(p.abi_payload_align);
}

/// Encodes `metadata` into a data segment.
pub fn encode(metadata: &Metadata) -> Encoded {
    let mut w = Writer::default();
    let m = metadata;

    let tables = [
        w.table(&m.import_funcs, |w, f, d| {
            w.opt_string(f.interface.as_deref());
            w.string(&f.name);
            let (sync, async_, lift, size, align) = match f.call {
                ImportCall::Sync { adapter_elem } => (Some(adapter_elem), None, None, 0, 0),
                ImportCall::Async {
                    adapter_elem,
                    lift_results_elem,
                    area_size,
                    area_align,
                } => (
                    None,
                    Some(adapter_elem),
                    Some(lift_results_elem),
                    area_size,
                    area_align,
                ),
            };
            w.func(sync);
            w.func(async_);
            w.func(lift);
            w.sub_array(&f.params, d, |w, t| w.ty(*t));
            w.opt_ty(f.result);
            w.len(size);
            w.len(align);
        }),
        w.table(&m.export_funcs, |w, f, d| {
            w.opt_string(f.interface.as_deref());
            w.string(&f.name);
            w.func(f.task_return_elem);
            w.sub_array(&f.params, d, |w, t| w.ty(*t));
            w.opt_ty(f.result);
        }),
        w.table(&m.resources, |w, r, _| {
            w.opt_string(r.interface.as_deref());
            w.string(&r.name);
            w.func(Some(r.drop_elem));
            w.func(r.new_rep_elems.map(|(new, _)| new));
            w.func(r.new_rep_elems.map(|(_, rep)| rep));
        }),
        w.table(&m.records, |w, r, d| {
            w.opt_string(r.interface.as_deref());
            w.string(&r.name);
            w.sub_array(&r.fields, d, |w, (name, ty)| {
                w.string(name);
                w.ty(*ty);
            });
        }),
        w.table(&m.flags, |w, f, d| {
            w.opt_string(f.interface.as_deref());
            w.string(&f.name);
            w.sub_array(&f.names, d, |w, n| w.string(n));
        }),
        w.table(&m.tuples, |w, t, d| {
            w.opt_string(t.interface.as_deref());
            w.opt_string(t.name.as_deref());
            w.sub_array(&t.types, d, |w, t| w.ty(*t));
        }),
        w.table(&m.variants, |w, v, d| {
            w.opt_string(v.interface.as_deref());
            w.string(&v.name);
            w.sub_array(&v.cases, d, |w, (name, ty)| {
                w.string(name);
                w.opt_ty(*ty);
            });
        }),
        w.table(&m.enums, |w, e, d| {
            w.opt_string(e.interface.as_deref());
            w.string(&e.name);
            w.sub_array(&e.names, d, |w, n| w.string(n));
        }),
        w.table(&m.options, |w, o, _| {
            w.opt_string(o.interface.as_deref());
            w.opt_string(o.name.as_deref());
            w.ty(o.ty);
        }),
        w.table(&m.results, |w, r, _| {
            w.opt_string(r.interface.as_deref());
            w.opt_string(r.name.as_deref());
            w.opt_ty(r.ok);
            w.opt_ty(r.err);
        }),
        w.table(&m.lists, |w, l, _| {
            w.opt_string(l.interface.as_deref());
            w.opt_string(l.name.as_deref());
            w.ty(l.ty);
        }),
        w.table(&m.maps, |w, map, _| {
            w.opt_string(map.interface.as_deref());
            w.opt_string(map.name.as_deref());
            w.ty(map.key);
            w.ty(map.value);
        }),
        w.table(&m.fixed_length_lists, |w, l, _| {
            w.opt_string(l.interface.as_deref());
            w.opt_string(l.name.as_deref());
            w.u32(l.len);
            w.ty(l.ty);
        }),
        w.table(&m.futures, |w, p, _| payload(w, p)),
        w.table(&m.streams, |w, p, _| payload(w, p)),
        w.table(&m.aliases, |w, a, _| {
            w.opt_string(a.interface.as_deref());
            w.string(&a.name);
            w.ty(a.ty);
        }),
    ];

    let wit_t_offset = w.data.len() as u32;
    w.u32(VERSION);
    for (count, sym) in tables {
        w.len(count);
        if count == 0 {
            w.u32(0);
        } else {
            w.ptr(sym);
        }
    }

    for (string, sym) in std::mem::take(&mut w.strings) {
        w.bind(sym);
        w.data.extend_from_slice(string.as_bytes());
        w.data.push(0);
    }

    // Data relocations first, then table ones, each in field order: the order
    // only affects the body of `__wasm_apply_data_relocs`.
    let mut relocs = Vec::new();
    for (field, sym) in &w.data_refs {
        // Every symbol that is referenced is bound above.
        let target = w.symbols[sym.0].unwrap_or_default();
        relocs.push(Reloc {
            field: *field as u32,
            value: RelocValue::Memory(target as u32),
        });
    }
    for (field, elem) in &w.table_refs {
        relocs.push(Reloc {
            field: *field as u32,
            value: RelocValue::Table(*elem),
        });
    }
    relocs.sort_by_key(|r| r.field);

    Encoded {
        bytes: w.data,
        wit_t_offset,
        relocs,
    }
}
