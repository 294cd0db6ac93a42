//! Whether a component needs wasmtime's concurrency support.
//!
//! An engine with `concurrency_support` off makes every call cheaper, but
//! runs only components that use none of the component model's async
//! features: no async function, future, stream or error-context in their
//! types, no async lift or lower, no async built-in. Components the pipeline
//! builds for sync worlds are such components (see `sync_only`); `run` and
//! `serve` pick the engine by looking, without validating, at the
//! component's types and canonical functions.

use anyhow::{Context, Result};
use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentDefinedType, ComponentType,
    ComponentTypeDeclaration, ComponentValType, InstanceTypeDeclaration, Parser, Payload,
    PrimitiveValType,
};

/// Whether `component` uses async functions, futures, streams,
/// error-contexts or async built-ins. An unreadable component counts as
/// using them (the engine that has them all reports what is wrong).
pub fn needed_by(component: &[u8]) -> bool {
    uses_concurrency(component).unwrap_or(true)
}

fn uses_concurrency(component: &[u8]) -> Result<bool> {
    for payload in Parser::new(0).parse_all(component) {
        let found = match payload.context("reading the component")? {
            Payload::ComponentTypeSection(types) => {
                let mut found = false;
                for ty in types {
                    found |= type_is_async(&ty?);
                }
                found
            }
            Payload::ComponentCanonicalSection(functions) => {
                let mut found = false;
                for function in functions {
                    found |= canonical_is_async(&function?);
                }
                found
            }
            _ => false,
        };
        if found {
            return Ok(true);
        }
    }
    Ok(false)
}

fn canonical_is_async(function: &CanonicalFunction) -> bool {
    let async_option = |options: &[CanonicalOption]| {
        options
            .iter()
            .any(|o| matches!(o, CanonicalOption::Async | CanonicalOption::Callback(_)))
    };
    match function {
        CanonicalFunction::Lift { options, .. } | CanonicalFunction::Lower { options, .. } => {
            async_option(options)
        }
        CanonicalFunction::ResourceNew { .. }
        | CanonicalFunction::ResourceDrop { .. }
        | CanonicalFunction::ResourceRep { .. } => false,
        _ => true,
    }
}

fn type_is_async(ty: &ComponentType) -> bool {
    match ty {
        ComponentType::Defined(defined) => defined_is_async(defined),
        ComponentType::Func(func) => {
            func.async_
                || func.params.iter().any(|(_, ty)| value_is_async(ty))
                || func.result.as_ref().is_some_and(value_is_async)
        }
        ComponentType::Component(declarations) => declarations.iter().any(|d| match d {
            ComponentTypeDeclaration::Type(ty) => type_is_async(ty),
            _ => false,
        }),
        ComponentType::Instance(declarations) => declarations.iter().any(|d| match d {
            InstanceTypeDeclaration::Type(ty) => type_is_async(ty),
            _ => false,
        }),
        ComponentType::Resource { .. } => false,
    }
}

fn defined_is_async(defined: &ComponentDefinedType) -> bool {
    match defined {
        ComponentDefinedType::Future(_) | ComponentDefinedType::Stream(_) => true,
        ComponentDefinedType::Primitive(primitive) => *primitive == PrimitiveValType::ErrorContext,
        ComponentDefinedType::Record(fields) => fields.iter().any(|(_, ty)| value_is_async(ty)),
        ComponentDefinedType::Variant(cases) => cases
            .iter()
            .any(|c| c.ty.as_ref().is_some_and(value_is_async)),
        ComponentDefinedType::Tuple(types) => types.iter().any(value_is_async),
        ComponentDefinedType::List(ty)
        | ComponentDefinedType::Option(ty)
        | ComponentDefinedType::FixedLengthList(ty, _) => value_is_async(ty),
        ComponentDefinedType::Map(key, value) => value_is_async(key) || value_is_async(value),
        ComponentDefinedType::Result { ok, err } => ok.iter().chain(err).any(value_is_async),
        ComponentDefinedType::Flags(_)
        | ComponentDefinedType::Enum(_)
        | ComponentDefinedType::Own(_)
        | ComponentDefinedType::Borrow(_) => false,
    }
}

/// An error-context written in place; a type index is checked where the
/// type is defined.
fn value_is_async(ty: &ComponentValType) -> bool {
    matches!(
        ty,
        ComponentValType::Primitive(PrimitiveValType::ErrorContext)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(wat: &str) -> Vec<u8> {
        wat::parse_str(wat).unwrap()
    }

    #[test]
    fn sync_components_need_no_concurrency() {
        let sync = component(
            r#"(component
                (type (instance (export "f" (func (param "x" u32) (result string)))))
                (import "a:b/c" (instance (type 0))))"#,
        );
        assert!(!needed_by(&sync));
    }

    #[test]
    fn async_types_and_builtins_need_it() {
        for wat in [
            r#"(component (import "f" (func async)))"#,
            r#"(component (type (instance (type (stream u8)) (export "s" (type (eq 0)))))
                (import "a:b/c" (instance (type 0))))"#,
            r#"(component (core func (canon waitable-set.new)))"#,
            r#"(component (core func (canon context.get i32 0)))"#,
            r#"(component (import "f" (func (param "e" error-context))))"#,
        ] {
            assert!(needed_by(&component(wat)), "{wat}");
        }
        assert!(needed_by(b"not a component"));
    }
}
