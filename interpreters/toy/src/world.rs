//! What a script sees of the world: its imports as toy functions named by
//! their WIT names (an async import waits for its result, see
//! [`crate::tasks`]), and the builtins `export`, `drop`, `wit-imports` and
//! `wit-exports`.

use std::cell::RefCell;
use std::rc::Rc;

use toy_lang::{Interp, Value};
use wit_dylib_sdk::{Resource, Type, Wit, call_import, call_import_async};

use crate::channels;
use crate::resources::{self, Resources};
use crate::tasks::Scheduler;
use crate::values::{lift, lower};

/// The functions the script registered with `(export "name" f)`, by export
/// index.
pub struct Exports(Rc<RefCell<Vec<Option<Value>>>>);

impl Exports {
    /// The function of every export, or the names of those missing.
    pub fn take(self, wit: Wit) -> Result<Vec<Value>, Vec<String>> {
        let slots = self.0.take();
        let missing: Vec<String> = wit
            .export_funcs()
            .zip(&slots)
            .filter(|(_, slot)| slot.is_none())
            .map(|(func, _)| format!("`{}`", func.qualified_name()))
            .collect();
        match missing.is_empty() {
            true => Ok(slots.into_iter().flatten().collect()),
            false => Err(missing),
        }
    }
}

/// Defines the world's imports and the WIT builtins in `interp`.
pub fn install(
    interp: &Interp,
    wit: Wit,
    resources: &Rc<Resources>,
    tasks: &Rc<Scheduler>,
) -> Exports {
    for func in wit.import_funcs() {
        let name = func.qualified_name();
        let resources = resources.clone();
        let tasks = tasks.clone();
        interp.define_native(&name.clone(), move |interp, args| {
            if args.len() != func.params().len() {
                return Err(format!(
                    "`{name}` takes {} arguments, got {}",
                    func.params().len(),
                    args.len()
                ));
            }
            // Refused before the arguments move anything out of the script.
            if func.is_async() {
                tasks.check_may_wait(&format!("async import `{name}`"))?;
            }
            let args = func
                .params()
                .zip(&args)
                .enumerate()
                .map(|(i, (ty, arg))| {
                    lower(ty, arg, &resources).map_err(|e| format!("argument {i} of `{name}`: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let result = match func.is_async() {
                true => tasks.wait(
                    interp,
                    &format!("async import `{name}`"),
                    call_import_async(func, args),
                )?,
                false => call_import(func, args),
            };
            Ok(match (func.result(), result) {
                (Some(ty), Some(val)) => lift(ty, val, &resources),
                _ => Value::Nil,
            })
        });
    }

    let slots = Rc::new(RefCell::new(vec![None; wit.export_funcs().len()]));
    let exports = slots.clone();
    interp.define_native("export", move |_, args| {
        let [Value::Str(name), function @ Value::Func(_)] = &args[..] else {
            return Err("usage: (export \"wit-name\" function)".into());
        };
        let func = wit
            .export_funcs()
            .find(|f| f.qualified_name() == **name)
            .ok_or_else(|| format!("the world exports no function `{name}`"))?;
        exports.borrow_mut()[func.index()] = Some(function.clone());
        Ok(Value::Nil)
    });

    interp.define_native("drop", |_, args| match &args[..] {
        [end_or_handle] => channels::drop_end(end_or_handle)
            .unwrap_or_else(|| resources::drop_handle(end_or_handle))
            .map(|()| Value::Nil),
        _ => Err("usage: (drop handle-or-end)".into()),
    });

    // Import and export functions have the same accessors but no common
    // trait.
    macro_rules! describe_functions {
        ($functions:expr) => {
            list($functions.map(|f| {
                describe_function(
                    f.qualified_name(),
                    f.interface(),
                    f.name(),
                    f.is_async(),
                    f.params(),
                    f.result(),
                )
            }))
        };
    }
    let imports = describe_functions!(wit.import_funcs());
    interp.define_native("wit-imports", move |_, _| Ok(imports.clone()));
    let exports = describe_functions!(wit.export_funcs());
    interp.define_native("wit-exports", move |_, _| Ok(exports.clone()));

    Exports(slots)
}

/// A function as a toy map: `name` (qualified), `interface`, `function`,
/// `async`, `params` and `result` (type descriptors, see [`describe_type`]).
fn describe_function(
    name: String,
    interface: Option<&str>,
    function: &str,
    is_async: bool,
    params: impl Iterator<Item = Type>,
    result: Option<Type>,
) -> Value {
    map([
        ("name", string(&name)),
        ("interface", interface.map_or(Value::Nil, string)),
        ("function", string(function)),
        ("async", Value::Bool(is_async)),
        ("params", list(params.map(describe_type))),
        ("result", result.map_or(Value::Nil, describe_type)),
    ])
}

/// A type as a toy value: the name of a primitive type (`"u32"`,
/// `"string"`), or a map whose `kind` says what the other keys are.
fn describe_type(ty: Type) -> Value {
    let optional = |ty: Option<Type>| ty.map_or(Value::Nil, describe_type);
    let names = |names: &mut dyn Iterator<Item = &str>| list(names.map(string));
    match ty.dealias() {
        Type::Record(r) => map([
            ("kind", string("record")),
            (
                "fields",
                list(r.fields().map(|(n, t)| pair(n, describe_type(t)))),
            ),
        ]),
        Type::Tuple(t) => map([
            ("kind", string("tuple")),
            ("types", list(t.types().map(describe_type))),
        ]),
        Type::Flags(f) => map([("kind", string("flags")), ("names", names(&mut f.names()))]),
        Type::Enum(e) => map([("kind", string("enum")), ("names", names(&mut e.names()))]),
        Type::Variant(v) => map([
            ("kind", string("variant")),
            ("cases", list(v.cases().map(|(n, t)| pair(n, optional(t))))),
        ]),
        Type::Option(o) => map([("kind", string("option")), ("type", describe_type(o.ty()))]),
        Type::Result(r) => map([
            ("kind", string("result")),
            ("ok", optional(r.ok())),
            ("err", optional(r.err())),
        ]),
        Type::List(l) => map([("kind", string("list")), ("type", describe_type(l.ty()))]),
        Type::FixedLengthList(l) => map([
            ("kind", string("fixed-length-list")),
            ("type", describe_type(l.ty())),
            ("length", Value::Int(l.len() as i128)),
        ]),
        Type::Map(m) => map([
            ("kind", string("map")),
            ("key", describe_type(m.key_ty())),
            ("value", describe_type(m.value_ty())),
        ]),
        Type::Future(f) => describe_channel("future", ty, f.ty()),
        Type::Stream(s) => describe_channel("stream", ty, s.ty()),
        Type::Own(r) => describe_resource("own", r),
        Type::Borrow(r) => describe_resource("borrow", r),
        other => string(&other.describe()),
    }
}

/// `wit` is the name `future-new` and `stream-new` take.
fn describe_channel(kind: &str, ty: Type, payload: Option<Type>) -> Value {
    map([
        ("kind", string(kind)),
        ("type", payload.map_or(Value::Nil, describe_type)),
        ("wit", string(&ty.dealias().to_string())),
    ])
}

fn describe_resource(kind: &str, r: Resource) -> Value {
    map([
        ("kind", string(kind)),
        ("resource", string(r.name())),
        ("interface", r.interface().map_or(Value::Nil, string)),
        ("exported", Value::Bool(r.is_exported())),
    ])
}

/// `(name value)`: a record field or a variant case.
fn pair(name: &str, value: Value) -> Value {
    list([string(name), value].into_iter())
}

fn string(text: &str) -> Value {
    Value::Str(text.into())
}

fn list(items: impl Iterator<Item = Value>) -> Value {
    Value::List(Rc::new(items.collect()))
}

fn map<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Map(Rc::new(
        entries.into_iter().map(|(k, v)| (string(k), v)).collect(),
    ))
}
