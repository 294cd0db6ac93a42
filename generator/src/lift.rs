//! Lifting: canonical ABI → interpreter value, by *pushing* onto the
//! interpreter's stack (docs/abi.md §5.3 to §5.8, §5.10).
//!
//! Beyond upstream, lifted values are validated before the interpreter sees
//! them: `bool` is normalised to 0/1, flat `u8`/`u16` are masked and flat
//! `s8`/`s16` sign-extended (memory loads already are), `char` must be a
//! Unicode scalar value, enum and variant-like discriminants must name a
//! case (options and results included), and flags keep only their defined
//! bits. Violations trap.
//!
//! Lifts from memory of types whose code is large are generated once per
//! pass as a helper function `(cx, address)` and called from every use.

use wasm_encoder::{BlockType, ValType};
use wit_parser::{Handle, Int, Type, TypeDefKind, TypeId};

use crate::env::Env;
use crate::func::{FuncBuilder, Helper, Loc, Local, Mem, Width};
use crate::lower::{Element, flags_mask, flags_width};
use crate::metadata::TypeRef;

/// Lifts of up to this many bytes of code stay inline: a helper costs its
/// own entries in the function, code and name sections, and each use still
/// costs a call. Tuned on `wasi:cli/command` and `wasi:http/proxy`.
const MIN_LIFT_HELPER_CODE: usize = 36;

impl FuncBuilder<'_> {
    /// Reads one value of type `ty` from `src` and pushes it.
    pub fn lift(&mut self, src: Loc<'_>, ty: &Type) {
        use ValType::{F32, F64, I32, I64};
        match ty {
            Type::Bool => {
                self.cx();
                self.load(src, I32, Width::B8, false);
                self.ins().i32_const(0);
                self.ins().i32_ne();
                self.call(Env::PushBool);
            }
            Type::U8 => self.lift_small_int(src, Width::B8, false, Env::PushU8),
            Type::S8 => self.lift_small_int(src, Width::B8, true, Env::PushS8),
            Type::U16 => self.lift_small_int(src, Width::B16, false, Env::PushU16),
            Type::S16 => self.lift_small_int(src, Width::B16, true, Env::PushS16),
            Type::U32 => self.push_scalar(src, I32, Width::B32, Env::PushU32),
            Type::S32 => self.push_scalar(src, I32, Width::B32, Env::PushS32),
            Type::U64 => self.push_scalar(src, I64, Width::B64, Env::PushU64),
            Type::S64 => self.push_scalar(src, I64, Width::B64, Env::PushS64),
            Type::F32 => self.push_scalar(src, F32, Width::B32, Env::PushF32),
            Type::F64 => self.push_scalar(src, F64, Width::B64, Env::PushF64),
            Type::Char => {
                self.cx();
                self.load(src, I32, Width::B32, false);
                self.check_char();
                self.call(Env::PushChar);
            }
            Type::String => {
                // The interpreter takes ownership of the buffer.
                let (ptr, len) = self.ptr_len(src);
                self.cx();
                self.load(ptr, I32, Width::B32, false);
                self.load(len, I32, Width::B32, false);
                self.call(Env::PushString);
            }
            Type::Id(id) => self.lift_id(*id, src),
            Type::ErrorContext => match self.g.error_context {
                Some(fns) => {
                    self.cx();
                    self.load(src, ValType::I32, Width::B32, false);
                    self.ins().call(fns.push);
                }
                // Imported whenever a function passes one (`crate::support`).
                None => {
                    self.internal_error("an error-context without the extension's imports".into())
                }
            },
        }
    }

    fn push_scalar(&mut self, src: Loc<'_>, ty: ValType, width: Width, push: Env) {
        self.cx();
        self.load(src, ty, width, false);
        self.call(push);
    }

    /// 8- and 16-bit integers: memory loads extend correctly; flat values are
    /// wrapped to the type's range as the canonical ABI's lifting does.
    fn lift_small_int(&mut self, src: Loc<'_>, width: Width, signed: bool, push: Env) {
        self.cx();
        self.load(src, ValType::I32, width, signed);
        if let Loc::Flat(_) = src {
            self.wrap_small_int(width, signed);
        }
        self.call(push);
    }

    /// `push(cx, index, value)` for handles, enums and flags.
    fn push_typed(
        &mut self,
        src: Loc<'_>,
        width: Width,
        push: Env,
        index: usize,
        check: impl FnOnce(&mut Self),
    ) {
        self.cx();
        self.ins().i32_const(index as i32);
        self.load(src, ValType::I32, width, false);
        check(self);
        self.call(push);
    }

    fn lift_id(&mut self, id: TypeId, src: Loc<'_>) {
        if let Loc::Mem(mem) = src
            && let Some(helper) = self.lift_helper(id)
        {
            self.cx();
            self.address(mem);
            self.ins().call(helper);
            return;
        }
        self.lift_id_inline(id, src);
    }

    /// The function `(cx, address)` that lifts a value of type `id` from
    /// memory, created on first use; `None` when the inline code is so small
    /// that a call would not pay off.
    fn lift_helper(&mut self, id: TypeId) -> Option<u32> {
        let g = self.g;
        if let Some(helper) = g.helpers.borrow().lifts.get(&id) {
            return *helper;
        }
        let mut body = FuncBuilder::new(g, &[ValType::I32, ValType::I32]);
        body.set_cx(body.param(0));
        body.lift_id_inline(id, Loc::Mem(Mem { base: 1, offset: 0 }));
        let helper = (body.code_len() > MIN_LIFT_HELPER_CODE).then(|| {
            let ty = &g.resolve.types[id];
            let name = ty.name.as_deref().unwrap_or(ty.kind.as_str());
            g.helpers.borrow_mut().add(Helper {
                name: format!("lift {name}"),
                results: &[],
                body: body.finish(),
            })
        });
        g.helpers.borrow_mut().lifts.insert(id, helper);
        helper
    }

    fn lift_id_inline(&mut self, id: TypeId, src: Loc<'_>) {
        let g = self.g;
        let kind = &g.resolve.types[id].kind;
        let Some(tref) = g.type_ref(id) else {
            self.internal_error(format!("{} has no metadata entry", g.describe_type(id)));
            return;
        };
        match (kind, tref) {
            (TypeDefKind::Type(t), _) => self.lift(src, t),
            (TypeDefKind::Handle(Handle::Own(_)), TypeRef::Own(r)) => {
                self.push_typed(src, Width::B32, Env::PushOwn, r, |_| {})
            }
            // For resources this library exports the value is the rep.
            (TypeDefKind::Handle(Handle::Borrow(_)), TypeRef::Borrow(r)) => {
                self.push_typed(src, Width::B32, Env::PushBorrow, r, |_| {})
            }
            (TypeDefKind::Future(_), TypeRef::Future(i)) => {
                self.push_typed(src, Width::B32, Env::PushFuture, i, |_| {})
            }
            (TypeDefKind::Stream(_), TypeRef::Stream(i)) => {
                self.push_typed(src, Width::B32, Env::PushStream, i, |_| {})
            }
            (TypeDefKind::Flags(f), TypeRef::Flags(i)) => {
                let mask = flags_mask(f.flags.len());
                self.push_typed(src, flags_width(f.flags.len()), Env::PushFlags, i, |b| {
                    if mask != u32::MAX {
                        b.i32_const(mask);
                        b.ins().i32_and();
                    }
                });
            }
            (TypeDefKind::Enum(e), TypeRef::Enum(i)) => {
                let cases = e.cases.len() as u32;
                self.push_typed(src, Width::of_int(e.tag()), Env::PushEnum, i, |b| {
                    b.check_below(cases)
                });
            }
            (TypeDefKind::Record(r), TypeRef::Record(i)) => {
                let types: Vec<Type> = r.fields.iter().map(|f| f.ty).collect();
                self.lift_fields(Env::PushRecord, i, &types, src);
            }
            (TypeDefKind::Tuple(t), TypeRef::Tuple(i)) => {
                self.lift_fields(Env::PushTuple, i, &t.types, src);
            }
            (TypeDefKind::Variant(v), TypeRef::Variant(i)) => {
                let cases: Vec<Option<Type>> = v.cases.iter().map(|c| c.ty).collect();
                self.lift_variant(Env::PushVariant, i, v.tag(), &cases, src);
            }
            (TypeDefKind::Option(t), TypeRef::Option(i)) => {
                self.lift_variant(Env::PushOption, i, Int::U8, &[None, Some(*t)], src);
            }
            (TypeDefKind::Result(r), TypeRef::Result(i)) => {
                self.lift_variant(Env::PushResult, i, Int::U8, &[r.ok, r.err], src);
            }
            (TypeDefKind::List(t), TypeRef::List(i)) => self.lift_list(i, t, src),
            (TypeDefKind::Map(k, v), TypeRef::Map(i)) => self.lift_map(i, k, v, src),
            (TypeDefKind::FixedLengthList(t, len), TypeRef::FixedLengthList { tuple, .. }) => {
                self.lift_fields(Env::PushTuple, tuple, &vec![*t; *len as usize], src);
            }
            _ => self.internal_error(format!(
                "{} does not match its metadata entry",
                g.describe_type(id)
            )),
        }
    }

    /// Records and tuples: push every field in order (the last ends on top),
    /// then let the interpreter gather them.
    fn lift_fields(&mut self, push: Env, index: usize, types: &[Type], src: Loc<'_>) {
        for (ty, field) in types.iter().zip(self.fields(src, types)) {
            self.lift(field, ty);
        }
        self.call_typed(push, index);
    }

    /// Variants, options and results: dispatch on the discriminant (see
    /// [`FuncBuilder::switch`]; anything out of range traps), push the case's
    /// payload if it has one, then `push(cx, index, case)`.
    fn lift_variant(
        &mut self,
        push: Env,
        index: usize,
        tag: Int,
        cases: &[Option<Type>],
        src: Loc<'_>,
    ) {
        let (discr, payload) = self.discr_payload(src, tag, cases);
        self.switch(
            cases.len() as u32,
            |b| b.load(discr, ValType::I32, Width::of_int(tag), false),
            |b, i| {
                if let Some(ty) = &cases[i as usize] {
                    let src = match payload {
                        Loc::Flat(locals) => {
                            Loc::Flat(&locals[..b.g.flat(ty).len().min(locals.len())])
                        }
                        mem => mem,
                    };
                    b.lift(src, ty);
                }
                b.cx();
                b.ins().i32_const(index as i32);
                b.i32_const(i);
                b.call(push);
            },
        );
    }

    /// Lists: offer the canonical buffer to the interpreter first; if it
    /// declines (`push_list` returns false, having pushed an empty list), push
    /// the elements one by one and free the buffer.
    fn lift_list(&mut self, index: usize, elem: &Type, src: Loc<'_>) {
        let (ptr_src, len_src) = self.ptr_len(src);
        self.cx();
        self.ins().i32_const(index as i32);
        self.load(ptr_src, ValType::I32, Width::B32, false);
        let ptr = self.local(ValType::I32);
        self.ins().local_tee(ptr.idx);
        self.load(len_src, ValType::I32, Width::B32, false);
        let len = self.local(ValType::I32);
        self.ins().local_tee(len.idx);
        self.call(Env::PushList);
        self.ins().i32_eqz();
        self.ins().if_(BlockType::Empty);
        let layout = self.element(std::slice::from_ref(elem));
        self.lift_elements(index, &layout, ptr, len, Env::ListAppend, |b, addr| {
            b.lift(Loc::Mem(addr), elem);
        });
        self.ins().end();
    }

    /// Maps: `push_map` pushes an empty map; each entry pushes its key, then
    /// its value, and `map_append` inserts them.
    fn lift_map(&mut self, index: usize, key: &Type, value: &Type, src: Loc<'_>) {
        let (ptr_src, len_src) = self.ptr_len(src);
        self.load(ptr_src, ValType::I32, Width::B32, false);
        let ptr = self.set_new(ValType::I32);
        self.load(len_src, ValType::I32, Width::B32, false);
        let len = self.set_new(ValType::I32);
        self.cx();
        self.ins().i32_const(index as i32);
        self.ins().local_get(len.idx);
        self.call(Env::PushMap);
        let layout = self.element(&[*key, *value]);
        let value_offset = layout.offsets[1] as usize;
        self.lift_elements(index, &layout, ptr, len, Env::MapAppend, |b, addr| {
            b.lift(Loc::Mem(addr), key);
            b.lift(Loc::Mem(addr.at(value_offset)), value);
        });
    }

    /// Lifts `len` elements at `ptr`, calling `append` after each, then frees
    /// the canonical buffer right away (defer = false).
    fn lift_elements(
        &mut self,
        index: usize,
        layout: &Element,
        ptr: Local,
        len: Local,
        append: Env,
        lift_one: impl Fn(&mut Self, Mem),
    ) {
        self.ins().local_get(ptr.idx);
        let addr = self.set_new(ValType::I32);
        self.ins().local_get(len.idx);
        let left = self.set_new(ValType::I32);

        self.ins().loop_(BlockType::Empty);
        self.ins().local_get(left.idx);
        self.ins().if_(BlockType::Empty);
        lift_one(
            self,
            Mem {
                base: addr.idx,
                offset: 0,
            },
        );
        self.call_typed(append, index);
        self.bump(addr, layout.size as i32);
        self.bump(left, -1);
        self.ins().br(1);
        self.ins().end();
        self.ins().end();

        self.ins().local_get(len.idx);
        self.i32_const(layout.size);
        self.ins().i32_mul();
        let bytes = self.set_new(ValType::I32);
        self.ins().local_get(bytes.idx);
        self.ins().if_(BlockType::Empty);
        self.cx();
        self.ins().local_get(ptr.idx);
        self.ins().local_get(bytes.idx);
        self.i32_const(layout.align);
        self.i32_const(0);
        self.call(Env::DeallocBytes);
        self.ins().end();
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use wasm_encoder::ValType;
    use wit_parser::{Resolve, SizeAlign, Type};

    use crate::func::{FuncBuilder, Gen, Loc, Mem};

    /// A type the metadata does not describe is a generator bug: it is
    /// recorded as an internal error naming the type, not left to trap in
    /// a user's component.
    #[test]
    fn a_type_without_metadata_is_an_internal_error() {
        let mut resolve = Resolve::default();
        resolve
            .push_str(
                "t.wit",
                "package t:t; interface i { record point { x: u32 } }",
            )
            .unwrap();
        let point = resolve
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some("point"));
        let (point, _) = point.unwrap();
        let mut sizes = SizeAlign::default();
        sizes.fill(&resolve).unwrap();
        let (types, helpers, errors) = (HashMap::new(), RefCell::default(), RefCell::default());
        let g = Gen {
            resolve: &resolve,
            sizes: &sizes,
            types: &types,
            helpers: &helpers,
            error_context: None,
            internal_errors: &errors,
            stack: crate::module::StackAccess::Global(crate::module::STACK_POINTER_GLOBAL),
        };
        let mut builder = FuncBuilder::new(&g, &[ValType::I32]);
        builder.lift(Loc::Mem(Mem { base: 0, offset: 0 }), &Type::Id(point));
        let errors = errors.take();
        assert!(!errors.is_empty());
        for error in errors {
            assert_eq!(error, "type `point` has no metadata entry");
        }
    }
}
