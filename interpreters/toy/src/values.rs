//! WIT values ↔ toy values, directed by the WIT type. The table of which
//! toy value stands for which WIT value is in the crate's README.

use std::rc::Rc;

use toy_lang::Value;
use wit_dylib_sdk::{Channel, End, ErrorContext, Type, Val};

use crate::channels::{lift_end, pass_reader};
use crate::resources::{Held, Resources, imported};

/// A WIT value the glue lifted (already checked by the SDK) as a toy value.
pub fn lift(ty: Type, val: Val, resources: &Resources) -> Value {
    let lift_all = |types: &mut dyn Iterator<Item = Type>, vals: Vec<Val>| -> Vec<Value> {
        types
            .zip(vals)
            .map(|(t, v)| lift(t, v, resources))
            .collect()
    };
    match (ty.dealias(), val) {
        (_, Val::Bool(b)) => Value::Bool(b),
        (_, Val::U8(x)) => Value::Int(x.into()),
        (_, Val::U16(x)) => Value::Int(x.into()),
        (_, Val::U32(x)) => Value::Int(x.into()),
        (_, Val::U64(x)) => Value::Int(x.into()),
        (_, Val::S8(x)) => Value::Int(x.into()),
        (_, Val::S16(x)) => Value::Int(x.into()),
        (_, Val::S32(x)) => Value::Int(x.into()),
        (_, Val::S64(x)) => Value::Int(x.into()),
        (_, Val::F32(x)) => Value::Float(x.into()),
        (_, Val::F64(x)) => Value::Float(x),
        (_, Val::Char(c)) => Value::Char(c),
        (_, Val::String(s)) => Value::Str(s.into()),
        (Type::Record(r), Val::Record(fields)) => {
            let names = r.fields().map(|(name, _)| Value::Str(name.into()));
            let values = lift_all(&mut r.fields().map(|(_, t)| t), fields);
            Value::Map(Rc::new(names.zip(values).collect()))
        }
        (Type::Tuple(t), Val::Tuple(items)) => {
            Value::List(Rc::new(lift_all(&mut t.types(), items)))
        }
        // A fixed-length list arrives as the tuple of its elements.
        (Type::FixedLengthList(l), Val::Tuple(items)) => {
            Value::List(Rc::new(lift_all(&mut std::iter::repeat(l.ty()), items)))
        }
        (Type::Flags(f), Val::Flags(bits)) => Value::List(Rc::new(
            f.names()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, name)| Value::Str(name.into()))
                .collect(),
        )),
        (Type::Enum(e), Val::Enum(case)) => Value::Str(
            e.names()
                .nth(case as usize)
                .expect("case checked by the SDK")
                .into(),
        ),
        (Type::Variant(v), Val::Variant(case, payload)) => {
            let (name, ty) = v
                .cases()
                .nth(case as usize)
                .expect("case checked by the SDK");
            variant(name, lift_payload(ty, payload.map(|p| *p), resources))
        }
        (Type::Option(_), Val::Option(None)) => Value::Nil,
        (Type::Option(o), Val::Option(Some(x))) => variant("some", lift(o.ty(), *x, resources)),
        (Type::Result(r), Val::Result(Ok(payload))) => {
            variant("ok", lift_payload(r.ok(), payload.map(|p| *p), resources))
        }
        (Type::Result(r), Val::Result(Err(payload))) => {
            variant("err", lift_payload(r.err(), payload.map(|p| *p), resources))
        }
        (Type::List(l), Val::List(items)) => {
            Value::List(Rc::new(lift_all(&mut std::iter::repeat(l.ty()), items)))
        }
        (Type::Map(m), Val::Map(entries)) => Value::Map(Rc::new(
            entries
                .into_iter()
                .map(|(k, v)| {
                    (
                        lift(m.key_ty(), k, resources),
                        lift(m.value_ty(), v, resources),
                    )
                })
                .collect(),
        )),
        (Type::Own(_), Val::Own(own)) => resources.lift(Held::Own(own)),
        (Type::Borrow(_), Val::Borrow(borrow)) => resources.lift(Held::Borrow(borrow)),
        (Type::Future(_), Val::Future(end)) | (Type::Stream(_), Val::Stream(end)) => {
            lift_end(End::Read(end))
        }
        // Scripts see an error-context as its message; nothing keeps the handle.
        (Type::ErrorContext, Val::ErrorContext(value)) => Value::Str(value.debug_message().into()),
        (ty, val) => panic!(
            "toy: a {} value arrived for type {}",
            val.kind(),
            ty.describe()
        ),
    }
}

/// A payload (of a case, a future or a stream), `nil` without one.
pub fn lift_payload(ty: Option<Type>, payload: Option<Val>, resources: &Resources) -> Value {
    match (ty, payload) {
        (Some(ty), Some(payload)) => lift(ty, payload, resources),
        _ => Value::Nil,
    }
}

fn variant(case: &str, payload: Value) -> Value {
    Value::Variant(Rc::new((case.into(), payload)))
}

/// A toy value as a WIT value of type `ty`, or why it is not one.
pub fn lower(ty: Type, value: &Value, resources: &Resources) -> Result<Val, String> {
    let mismatch = || {
        format!(
            "expected {}, found {} {}",
            ty.describe(),
            value.type_name(),
            value.show()
        )
    };
    Ok(match (ty.dealias(), value) {
        (Type::Bool, Value::Bool(b)) => Val::Bool(*b),
        (Type::U8, Value::Int(i)) => Val::U8(int(*i, "u8")?),
        (Type::U16, Value::Int(i)) => Val::U16(int(*i, "u16")?),
        (Type::U32, Value::Int(i)) => Val::U32(int(*i, "u32")?),
        (Type::U64, Value::Int(i)) => Val::U64(int(*i, "u64")?),
        (Type::S8, Value::Int(i)) => Val::S8(int(*i, "s8")?),
        (Type::S16, Value::Int(i)) => Val::S16(int(*i, "s16")?),
        (Type::S32, Value::Int(i)) => Val::S32(int(*i, "s32")?),
        (Type::S64, Value::Int(i)) => Val::S64(int(*i, "s64")?),
        (Type::F32, Value::Float(x)) => Val::F32(*x as f32),
        (Type::F32, Value::Int(i)) => Val::F32(*i as f32),
        (Type::F64, Value::Float(x)) => Val::F64(*x),
        (Type::F64, Value::Int(i)) => Val::F64(*i as f64),
        (Type::Char, Value::Char(c)) => Val::Char(*c),
        (Type::String, Value::Str(s)) => Val::String(s.to_string()),
        (Type::Record(r), Value::Map(entries)) => {
            if let Some((key, _)) = entries
                .iter()
                .find(|(key, _)| !r.fields().any(|(name, _)| is_str(key, name)))
            {
                return Err(format!("record {} has no field {}", r.name(), key.show()));
            }
            let mut fields = Vec::new();
            for (name, ty) in r.fields() {
                let field = entries
                    .iter()
                    .find(|(key, _)| is_str(key, name))
                    .ok_or_else(|| format!("record {} is missing field `{name}`", r.name()))?;
                fields.push(
                    lower(ty, &field.1, resources).map_err(|e| format!("field `{name}`: {e}"))?,
                );
            }
            Val::Record(fields)
        }
        (Type::Tuple(t), Value::List(items)) if items.len() == t.types().len() => Val::Tuple(
            t.types()
                .zip(items.iter())
                .enumerate()
                .map(|(i, (ty, item))| {
                    lower(ty, item, resources).map_err(|e| format!("tuple element {i}: {e}"))
                })
                .collect::<Result<_, _>>()?,
        ),
        (Type::FixedLengthList(l), Value::List(items)) if items.len() == l.len() => Val::Tuple(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    lower(l.ty(), item, resources).map_err(|e| format!("list element {i}: {e}"))
                })
                .collect::<Result<_, _>>()?,
        ),
        (Type::Flags(f), Value::List(names)) => {
            let mut bits = 0u32;
            for name in names.iter() {
                let bit = f
                    .names()
                    .position(|flag| is_str(name, flag))
                    .ok_or_else(|| format!("flags {} has no flag {}", f.name(), name.show()))?;
                bits |= 1 << bit;
            }
            Val::Flags(bits)
        }
        (Type::Enum(e), Value::Str(name)) => Val::Enum(
            e.names()
                .position(|case| case == &**name)
                .ok_or_else(|| format!("enum {} has no case {}", e.name(), value.show()))?
                as u32,
        ),
        (Type::Variant(v), Value::Variant(tagged)) => {
            let (case, payload) = &**tagged;
            let (index, (_, ty)) = v
                .cases()
                .enumerate()
                .find(|(_, (name, _))| *name == &**case)
                .ok_or_else(|| format!("variant {} has no case `{case}`", v.name()))?;
            Val::Variant(index as u32, lower_payload(ty, case, payload, resources)?)
        }
        (Type::Option(_), Value::Nil) => Val::Option(None),
        // The language's own `(none)` is a `none` too.
        (Type::Option(_), Value::Variant(tagged))
            if &*tagged.0 == "none" && matches!(tagged.1, Value::Nil) =>
        {
            Val::Option(None)
        }
        (Type::Option(o), Value::Variant(tagged)) if &*tagged.0 == "some" => {
            Val::Option(Some(Box::new(lower(o.ty(), &tagged.1, resources)?)))
        }
        (Type::Result(r), Value::Variant(tagged)) if &*tagged.0 == "ok" => {
            Val::Result(Ok(lower_payload(r.ok(), "ok", &tagged.1, resources)?))
        }
        (Type::Result(r), Value::Variant(tagged)) if &*tagged.0 == "err" => {
            Val::Result(Err(lower_payload(r.err(), "err", &tagged.1, resources)?))
        }
        (Type::List(l), Value::List(items)) => Val::List(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    lower(l.ty(), item, resources).map_err(|e| format!("list element {i}: {e}"))
                })
                .collect::<Result<_, _>>()?,
        ),
        (Type::Map(m), Value::Map(entries)) => Val::Map(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = lower(m.key_ty(), k, resources)
                        .map_err(|e| format!("map key {}: {e}", k.show()))?;
                    let value = lower(m.value_ty(), v, resources)
                        .map_err(|e| format!("map value at {}: {e}", k.show()))?;
                    Ok((key, value))
                })
                .collect::<Result<_, String>>()?,
        ),
        (Type::Own(r), object) if r.is_exported() => {
            Val::Own(resources.export_object(r, object.clone()))
        }
        (Type::Own(r), _) => {
            Val::Own(imported(value, Some(r))?.take("; an owned handle is needed")?)
        }
        (Type::Borrow(r), _) if !r.is_exported() => Val::Borrow(imported(value, Some(r))?.lend()?),
        (Type::Future(f), reader) => Val::Future(pass_reader(Channel::Future(f), reader)?),
        (Type::Stream(s), reader) => Val::Stream(pass_reader(Channel::Stream(s), reader)?),
        // The value stack that passes it drops it after the call.
        (Type::ErrorContext, Value::Str(message)) => {
            Val::ErrorContext(ErrorContext::new(message).map_err(|e| e.to_string())?)
        }
        _ => return Err(mismatch()),
    })
}

fn lower_payload(
    ty: Option<Type>,
    case: &str,
    payload: &Value,
    resources: &Resources,
) -> Result<Option<Box<Val>>, String> {
    match (ty, payload) {
        (Some(ty), payload) => Ok(Some(Box::new(
            lower(ty, payload, resources).map_err(|e| format!("payload of `{case}`: {e}"))?,
        ))),
        (None, Value::Nil) => Ok(None),
        (None, payload) => Err(format!(
            "case `{case}` has no payload, found {}",
            payload.show()
        )),
    }
}

fn int<T: TryFrom<i128>>(value: i128, ty: &str) -> Result<T, String> {
    T::try_from(value).map_err(|_| format!("integer {value} is out of range for {ty}"))
}

fn is_str(value: &Value, text: &str) -> bool {
    matches!(value, Value::Str(s) if &**s == text)
}
