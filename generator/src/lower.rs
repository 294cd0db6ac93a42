//! Lowering: interpreter value → canonical ABI, by *popping* from the
//! interpreter's stack (docs/abi.md §5.3 to §5.8, §5.10).
//!
//! Beyond upstream, lowered values are checked or normalised on the way out:
//! `bool` becomes 0/1, flat `u8`/`u16` are masked and `s8`/`s16`
//! sign-extended (narrow stores to memory truncate anyway), a `char` must be
//! a Unicode scalar value, enum and variant-like discriminants must name a
//! case (options and results included), and flags keep only their defined
//! bits. Violations trap.

use wasm_encoder::{BlockType, ValType};
use wit_parser::{Handle, Int, Type, TypeDefKind, TypeId};

use crate::env::Env;
use crate::func::{FuncBuilder, Loc, Local, Mem, Width};
use crate::metadata::TypeRef;

/// Size, alignment and member offsets of a list element or map entry.
pub struct Element {
    pub size: u32,
    pub align: u32,
    /// Offset of each member (one for lists; key and value for maps).
    pub offsets: Vec<u32>,
}

impl FuncBuilder<'_> {
    /// Layout of an element made of `members` (laid out as a tuple).
    pub fn element(&self, members: &[Type]) -> Element {
        let info = self.g.sizes.record(members);
        Element {
            size: info.size.size_wasm32() as u32,
            align: info.align.align_wasm32() as u32,
            offsets: self
                .g
                .sizes
                .field_offsets(members)
                .into_iter()
                .map(|(offset, _)| offset.size_wasm32() as u32)
                .collect(),
        }
    }

    /// Pops one value of type `ty` and stores it at `dst`.
    pub fn lower(&mut self, ty: &Type, dst: Loc<'_>) {
        use ValType::{F32, F64, I32, I64};
        match ty {
            Type::Bool => self.store(dst, I32, Width::B8, |b| {
                b.pop(Env::PopBool);
                b.ins().i32_const(0);
                b.ins().i32_ne();
            }),
            Type::U8 => self.lower_small_int(dst, Width::B8, false, Env::PopU8),
            Type::S8 => self.lower_small_int(dst, Width::B8, true, Env::PopS8),
            Type::U16 => self.lower_small_int(dst, Width::B16, false, Env::PopU16),
            Type::S16 => self.lower_small_int(dst, Width::B16, true, Env::PopS16),
            Type::U32 => self.store(dst, I32, Width::B32, |b| b.pop(Env::PopU32)),
            Type::S32 => self.store(dst, I32, Width::B32, |b| b.pop(Env::PopS32)),
            Type::U64 => self.store(dst, I64, Width::B64, |b| b.pop(Env::PopU64)),
            Type::S64 => self.store(dst, I64, Width::B64, |b| b.pop(Env::PopS64)),
            Type::F32 => self.store(dst, F32, Width::B32, |b| b.pop(Env::PopF32)),
            Type::F64 => self.store(dst, F64, Width::B64, |b| b.pop(Env::PopF64)),
            Type::Char => self.store(dst, I32, Width::B32, |b| {
                b.pop(Env::PopChar);
                b.check_char();
            }),
            Type::String => {
                // Zero-copy: the interpreter keeps the bytes alive until its
                // call context ends.
                let (ptr, len) = self.ptr_len(dst);
                self.store(len, I32, Width::B32, |b| {
                    b.cx();
                    b.temp_address();
                    b.call(Env::PopString);
                });
                self.store(ptr, I32, Width::B32, |b| b.load_temp());
            }
            Type::Id(id) => self.lower_id(*id, dst),
            Type::ErrorContext => match self.g.error_context {
                Some(fns) => self.store(dst, ValType::I32, Width::B32, |b| {
                    b.cx();
                    b.ins().call(fns.pop);
                }),
                // Imported whenever a function passes one (`crate::support`).
                None => {
                    self.internal_error("an error-context without the extension's imports".into())
                }
            },
        }
    }

    /// 8- and 16-bit integers: flat values are wrapped to the type's range;
    /// narrow stores to memory keep only the low bits anyway.
    fn lower_small_int(&mut self, dst: Loc<'_>, width: Width, signed: bool, pop: Env) {
        let flat = matches!(dst, Loc::Flat(_));
        self.store(dst, ValType::I32, width, |b| {
            b.pop(pop);
            if flat {
                b.wrap_small_int(width, signed);
            }
        });
    }

    /// `env(cx)`.
    fn pop(&mut self, env: Env) {
        self.cx();
        self.call(env);
    }

    fn lower_id(&mut self, id: TypeId, dst: Loc<'_>) {
        let g = self.g;
        let kind = &g.resolve.types[id].kind;
        let Some(tref) = g.type_ref(id) else {
            self.internal_error(format!("{} has no metadata entry", g.describe_type(id)));
            return;
        };
        match (kind, tref) {
            (TypeDefKind::Type(t), _) => self.lower(t, dst),
            (TypeDefKind::Handle(Handle::Own(_)), TypeRef::Own(r)) => {
                self.store(dst, ValType::I32, Width::B32, |b| {
                    b.call_typed(Env::PopOwn, r)
                })
            }
            (TypeDefKind::Handle(Handle::Borrow(_)), TypeRef::Borrow(r)) => {
                self.store(dst, ValType::I32, Width::B32, |b| {
                    b.call_typed(Env::PopBorrow, r)
                })
            }
            (TypeDefKind::Future(_), TypeRef::Future(i)) => {
                self.store(dst, ValType::I32, Width::B32, |b| {
                    b.call_typed(Env::PopFuture, i)
                })
            }
            (TypeDefKind::Stream(_), TypeRef::Stream(i)) => {
                self.store(dst, ValType::I32, Width::B32, |b| {
                    b.call_typed(Env::PopStream, i)
                })
            }
            (TypeDefKind::Flags(f), TypeRef::Flags(i)) => {
                let width = flags_width(f.flags.len());
                let mask = flags_mask(f.flags.len());
                self.store(dst, ValType::I32, width, |b| {
                    b.call_typed(Env::PopFlags, i);
                    if mask != u32::MAX {
                        b.i32_const(mask);
                        b.ins().i32_and();
                    }
                });
            }
            (TypeDefKind::Enum(e), TypeRef::Enum(i)) => {
                let cases = e.cases.len() as u32;
                self.store(dst, ValType::I32, Width::of_int(e.tag()), |b| {
                    b.call_typed(Env::PopEnum, i);
                    b.check_below(cases);
                });
            }
            (TypeDefKind::Record(r), TypeRef::Record(i)) => {
                let types: Vec<Type> = r.fields.iter().map(|f| f.ty).collect();
                self.lower_fields(Env::PopRecord, i, &types, dst);
            }
            (TypeDefKind::Tuple(t), TypeRef::Tuple(i)) => {
                self.lower_fields(Env::PopTuple, i, &t.types, dst);
            }
            (TypeDefKind::Variant(v), TypeRef::Variant(i)) => {
                let cases: Vec<Option<Type>> = v.cases.iter().map(|c| c.ty).collect();
                self.lower_variant(Env::PopVariant, i, v.tag(), &cases, dst);
            }
            (TypeDefKind::Option(t), TypeRef::Option(i)) => {
                self.lower_variant(Env::PopOption, i, Int::U8, &[None, Some(*t)], dst);
            }
            (TypeDefKind::Result(r), TypeRef::Result(i)) => {
                self.lower_variant(Env::PopResult, i, Int::U8, &[r.ok, r.err], dst);
            }
            (TypeDefKind::List(t), TypeRef::List(i)) => self.lower_list(i, t, dst),
            (TypeDefKind::Map(k, v), TypeRef::Map(i)) => self.lower_map(i, k, v, dst),
            (TypeDefKind::FixedLengthList(t, len), TypeRef::FixedLengthList { tuple, .. }) => {
                self.lower_fields(Env::PopTuple, tuple, &vec![*t; *len as usize], dst);
            }
            // Bare resources are never values; nothing else can reach here.
            _ => self.internal_error(format!(
                "{} does not match its metadata entry",
                g.describe_type(id)
            )),
        }
    }

    /// Records and tuples: the pop replaces the aggregate by its fields,
    /// first field on top, so fields are lowered in order.
    fn lower_fields(&mut self, pop: Env, index: usize, types: &[Type], dst: Loc<'_>) {
        self.call_typed(pop, index);
        for (ty, field) in types.iter().zip(self.fields(dst, types)) {
            self.lower(ty, field);
        }
    }

    /// Variants, options and results. The pop returns the discriminant (and
    /// pushes the payload if the case has one); [`FuncBuilder::switch`]
    /// dispatches on it and any other discriminant traps. Each case stores
    /// its tag, lowers its payload and zeroes the flat slots it leaves unused.
    fn lower_variant(
        &mut self,
        pop: Env,
        index: usize,
        tag: Int,
        cases: &[Option<Type>],
        dst: Loc<'_>,
    ) {
        let (discr, payload) = self.discr_payload(dst, tag, cases);
        self.switch(
            cases.len() as u32,
            |b| b.call_typed(pop, index),
            |b, i| {
                b.store(discr, ValType::I32, Width::of_int(tag), |b| b.i32_const(i));
                match (&cases[i as usize], payload) {
                    (Some(ty), Loc::Flat(locals)) => {
                        let used = b.g.flat(ty).len().min(locals.len());
                        b.lower(ty, Loc::Flat(&locals[..used]));
                        b.zero(&locals[used..]);
                    }
                    (Some(ty), Loc::Mem(_)) => b.lower(ty, payload),
                    (None, Loc::Flat(locals)) => b.zero(locals),
                    (None, Loc::Mem(_)) => {}
                }
            },
        );
    }

    /// Lists: the interpreter either hands out a buffer already in canonical
    /// layout (used as is, alive until the call context ends) or pushes an
    /// iterator, in which case the elements are popped one by one into a
    /// fresh `cabi_realloc` buffer that the call context frees later.
    fn lower_list(&mut self, index: usize, elem: &Type, dst: Loc<'_>) {
        let (ptr_dst, len_dst) = self.ptr_len(dst);
        self.cx();
        self.ins().i32_const(index as i32);
        self.temp_address();
        self.call(Env::PopList);
        let len = self.set_new(ValType::I32);
        self.load_temp();
        let ptr = self.set_new(ValType::I32);

        self.ins().local_get(ptr.idx);
        self.ins().i32_eqz();
        self.ins().if_(BlockType::Empty);
        let layout = self.element(std::slice::from_ref(elem));
        self.lower_elements(index, &layout, len, ptr, Env::PopListIterNext, |b, addr| {
            b.lower(elem, Loc::Mem(addr));
        });
        self.call_typed(Env::PopListIter, index);
        self.ins().end();

        self.store(ptr_dst, ValType::I32, Width::B32, |b| {
            b.ins().local_get(ptr.idx);
        });
        self.store(len_dst, ValType::I32, Width::B32, |b| {
            b.ins().local_get(len.idx);
        });
    }

    /// Maps: `pop_map` returns the length and pushes an iterator; each
    /// `pop_map_iter_next` pushes the value, then the key (key on top).
    fn lower_map(&mut self, index: usize, key: &Type, value: &Type, dst: Loc<'_>) {
        let (ptr_dst, len_dst) = self.ptr_len(dst);
        self.call_typed(Env::PopMap, index);
        let len = self.set_new(ValType::I32);
        let ptr = self.local(ValType::I32);
        let layout = self.element(&[*key, *value]);
        let value_offset = layout.offsets[1] as usize;
        self.lower_elements(index, &layout, len, ptr, Env::PopMapIterNext, |b, addr| {
            b.lower(key, Loc::Mem(addr));
            b.lower(value, Loc::Mem(addr.at(value_offset)));
        });
        self.call_typed(Env::PopMapIter, index);

        self.store(ptr_dst, ValType::I32, Width::B32, |b| {
            b.ins().local_get(ptr.idx);
        });
        self.store(len_dst, ValType::I32, Width::B32, |b| {
            b.ins().local_get(len.idx);
        });
    }

    /// Allocates `len` elements into `ptr`, then for each one calls `next`
    /// (which pushes the element) and `lower_one` at the element's address;
    /// finally schedules the buffer's release with the call context.
    fn lower_elements(
        &mut self,
        index: usize,
        layout: &Element,
        len: Local,
        ptr: Local,
        next: Env,
        lower_one: impl Fn(&mut Self, Mem),
    ) {
        // `len * size` must not wrap around.
        if layout.size > 1 {
            self.ins().local_get(len.idx);
            self.i32_const(u32::MAX / layout.size);
            self.ins().i32_gt_u();
            self.trap_if();
        }
        self.ins().local_get(len.idx);
        self.i32_const(layout.size);
        self.ins().i32_mul();
        let bytes = self.set_new(ValType::I32);

        self.i32_const(0);
        self.i32_const(0);
        self.i32_const(layout.align);
        self.ins().local_get(bytes.idx);
        self.call(Env::CabiRealloc);
        self.ins().local_tee(ptr.idx);
        let addr = self.set_new(ValType::I32);
        self.i32_const(0);
        let i = self.set_new(ValType::I32);

        self.ins().loop_(BlockType::Empty);
        self.ins().local_get(i.idx);
        self.ins().local_get(len.idx);
        self.ins().i32_ne();
        self.ins().if_(BlockType::Empty);
        self.call_typed(next, index);
        lower_one(
            self,
            Mem {
                base: addr.idx,
                offset: 0,
            },
        );
        self.bump(addr, layout.size as i32);
        self.bump(i, 1);
        self.ins().br(1);
        self.ins().end();
        self.ins().end();

        // defer = true: freed when the call context ends.
        self.ins().local_get(bytes.idx);
        self.ins().if_(BlockType::Empty);
        self.cx();
        self.ins().local_get(ptr.idx);
        self.ins().local_get(bytes.idx);
        self.i32_const(layout.align);
        self.i32_const(1);
        self.call(Env::DeallocBytes);
        self.ins().end();
    }

    /// `local += delta`.
    pub fn bump(&mut self, local: Local, delta: i32) {
        self.ins().local_get(local.idx);
        self.ins().i32_const(delta);
        self.ins().i32_add();
        self.ins().local_set(local.idx);
    }

    /// Splits a variant-like location into its discriminant and payload.
    pub fn discr_payload<'l>(
        &self,
        loc: Loc<'l>,
        tag: Int,
        cases: &[Option<Type>],
    ) -> (Loc<'l>, Loc<'l>) {
        match loc {
            Loc::Flat(locals) => {
                let split = 1.min(locals.len());
                (Loc::Flat(&locals[..split]), Loc::Flat(&locals[split..]))
            }
            Loc::Mem(mem) => {
                let offset = self
                    .g
                    .sizes
                    .payload_offset(tag, cases.iter().map(|c| c.as_ref()));
                (Loc::Mem(mem), Loc::Mem(mem.at(offset.size_wasm32())))
            }
        }
    }
}

/// Store/load width of a flags value with `n` flags (at most 32).
pub fn flags_width(n: usize) -> Width {
    match n {
        0..=8 => Width::B8,
        9..=16 => Width::B16,
        _ => Width::B32,
    }
}

/// The bits that name a flag.
pub fn flags_mask(n: usize) -> u32 {
    if n >= 32 { u32::MAX } else { (1 << n) - 1 }
}
