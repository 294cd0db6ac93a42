//! WIT values ↔ calc values, directed by the WIT type (the table is in the
//! README). Functions with other types are refused by [`check`].

use wit_dylib_sdk::{Callee, Type, Val};

use crate::lang::Value;

/// Whether calc can call or implement `func`: a sync function whose
/// parameters and result all have calc values.
pub fn check(func: Callee) -> Result<(), String> {
    let (is_async, types): (bool, Vec<Type>) = match func {
        Callee::Import(f) => (f.is_async(), f.params().chain(f.result()).collect()),
        Callee::Export(f) => (f.is_async(), f.params().chain(f.result()).collect()),
    };
    if is_async {
        return Err(format!("{func} is async, which calc does not support"));
    }
    match types.into_iter().find(|ty| !supported(*ty)) {
        Some(ty) => Err(format!("unsupported type {} in {func}", ty.describe())),
        None => Ok(()),
    }
}

fn supported(ty: Type) -> bool {
    use Type::{Bool, Char, S8, S16, S32, S64, String, U8, U16, U32, U64};
    matches!(
        ty.dealias(),
        Bool | U8 | U16 | U32 | U64 | S8 | S16 | S32 | S64 | Char | String
    )
}

/// A WIT value, of a type [`check`] accepts, as a calc value.
pub fn lift(val: Val) -> Value {
    match val {
        Val::Bool(b) => Value::Bool(b),
        Val::U8(i) => Value::Int(i.into()),
        Val::U16(i) => Value::Int(i.into()),
        Val::U32(i) => Value::Int(i.into()),
        Val::U64(i) => Value::Int(i.into()),
        Val::S8(i) => Value::Int(i.into()),
        Val::S16(i) => Value::Int(i.into()),
        Val::S32(i) => Value::Int(i.into()),
        Val::S64(i) => Value::Int(i.into()),
        Val::Char(c) => Value::Str(c.into()),
        Val::String(s) => Value::Str(s),
        other => unreachable!("`check` refuses {} values", other.kind()),
    }
}

/// A calc value as a WIT value of type `ty`, or why it is not one.
pub fn lower(ty: Type, value: Value) -> Result<Val, String> {
    let ty = ty.dealias();
    // Integers must fit the WIT type.
    let out_of_range = |i: i128| format!("{i} is out of range for {}", ty.describe());
    Ok(match (ty, value) {
        (Type::Bool, Value::Bool(b)) => Val::Bool(b),
        (Type::U8, Value::Int(i)) => Val::U8(i.try_into().map_err(|_| out_of_range(i))?),
        (Type::U16, Value::Int(i)) => Val::U16(i.try_into().map_err(|_| out_of_range(i))?),
        (Type::U32, Value::Int(i)) => Val::U32(i.try_into().map_err(|_| out_of_range(i))?),
        (Type::U64, Value::Int(i)) => Val::U64(i.try_into().map_err(|_| out_of_range(i))?),
        (Type::S8, Value::Int(i)) => Val::S8(i.try_into().map_err(|_| out_of_range(i))?),
        (Type::S16, Value::Int(i)) => Val::S16(i.try_into().map_err(|_| out_of_range(i))?),
        (Type::S32, Value::Int(i)) => Val::S32(i.try_into().map_err(|_| out_of_range(i))?),
        (Type::S64, Value::Int(i)) => Val::S64(i.try_into().map_err(|_| out_of_range(i))?),
        (Type::Char, Value::Str(s)) if s.chars().count() == 1 => {
            Val::Char(s.chars().next().expect("one char"))
        }
        (Type::String, Value::Str(s)) => Val::String(s),
        (ty, value) => {
            return Err(format!(
                "expected {}, found {}",
                ty.describe(),
                value.describe()
            ));
        }
    })
}
