//! `val`: the test matrix's reference interpreter, written on the SDK's `Val`
//! layer. One dylib plays every role; which one follows from the world:
//!
//! * **caller**: the world exports `run: func(iteration: u32)`. `run` calls
//!   every imported test function once with arguments derived from a seed and
//!   checks each result against the value derived from the result seed.
//! * **callee**: any other exported function. The n-th call checks its
//!   arguments against seed n and returns the value for the result seed.
//! * **proxy**: an exported function whose interface the world also imports
//!   is forwarded to that import unchanged.
//!
//! Resources follow one convention in the matrix worlds: `constructor(tag:
//! u32)` and `tag: func() -> u32`. Generated values carry tags where handles
//! go (`Val::U32`, the WIT type says what it stands for); the caller creates
//! handles with the constructor, and both sides read a handle's tag back to
//! compare.
//!
//! Memory: whenever no resource is alive, the bytes allocated after an export
//! returns must equal those after the previous such export (nothing leaks
//! across calls); otherwise the export traps.
//!
//! Functions named `fail-*` deliberately return a value of the wrong shape,
//! for the tests of the SDK's checks. A world-level `settle: func()`, when
//! the caller imports it, is called after every round: the callee must then
//! hold no resource and its heap is checked (the roundtrip test's worlds).
//!
//! Error-contexts carry tags too, in their debug messages: the side that
//! passes one creates it from its tag (and its value stack drops it after
//! the call), the side that receives one reads the tag back and drops it.
//! Handles are the SDK's owning types, so nothing here drops one by hand:
//! the checks below see whether they were all let go of.
//! At each quiescent point this component must hold no error-context.
//!
//! Async: the caller's `run` may be async; it then starts every async import
//! at once and awaits them together. An async callee suspends once before
//! checking its arguments. Futures and streams stand for their contents
//! (see `generate`): the side that passes one creates it and writes the
//! contents from a background task; the side that receives one reads it to
//! the end (or, for the functions named in [`Policy`], not quite) and
//! compares the contents. Every future or stream end this component holds is
//! counted, and at each quiescent point none may be left open.

#![allow(unsafe_code)] // only in `allocations`, for the counting allocator

mod allocations;
mod channels;
mod generate;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use channels::{Policy, drain, open};
use generate::{Rng, Size, same, seed};
use wit_dylib_sdk::{
    Borrow, Callee, ErrorContext, ExportFunction, ImportFunction, Interpreter, Objects, Own,
    Resource, Task, Type, Val, ValStack, Wit, call_import, call_import_async, error_context,
    join_all, yield_now,
};

/// The world-level function the caller calls after every round.
const SETTLE: &str = "settle";

/// Calls per iteration get 1 MiB strings in their top-level values.
const HUGE_STRING_ITERATION: u32 = 3;

struct ValInterpreter {
    wit: Wit,
    /// Imports by `(interface, name)`.
    imports: HashMap<(Option<&'static str>, &'static str), ImportFunction>,
    /// Calls so far of each callee function, by qualified name.
    calls: RefCell<HashMap<String, u32>>,
    /// Tags of the resources this component exports, by rep.
    reps: Objects<u32>,
    /// Live bytes after the last export that returned with no resource alive.
    settled_bytes: Cell<Option<(usize, ExportFunction)>>,
    /// Async export calls started and not yet finished.
    in_flight: Cell<usize>,
}

/// What an export does, from its name and the world.
enum Role {
    Run,
    Constructor(Resource),
    Tag,
    Proxy(ImportFunction),
    Fail,
    Settle,
    Callee,
}

impl Interpreter for ValInterpreter {
    type CallCx = ValStack;

    fn initialize(wit: Wit) -> Self {
        let imports = wit
            .import_funcs()
            .map(|f| ((f.interface(), f.name()), f))
            .collect();
        // Every counter exists from the start, so that counting allocates
        // nothing during calls (which the leak check would see).
        let calls = wit
            .export_funcs()
            .map(|f| (f.qualified_name(), 0))
            .collect();
        ValInterpreter {
            wit,
            imports,
            calls: RefCell::new(calls),
            reps: Objects::default(),
            settled_bytes: Cell::new(None),
            in_flight: Cell::new(0),
        }
    }

    fn export_start(&self, func: ExportFunction) -> ValStack {
        ValStack::for_export(func)
    }

    fn export_call(&self, func: ExportFunction, cx: &mut ValStack) {
        let args = cx.take_args(func.params().len());
        let result = match self.role(func) {
            Role::Run => {
                let [Val::U32(iteration)] = args[..] else {
                    panic!("run takes the iteration")
                };
                self.run(iteration);
                None
            }
            Role::Constructor(resource) => {
                let [Val::U32(tag)] = args[..] else {
                    panic!("constructors take a u32 tag")
                };
                Some(Val::Own(self.new_resource(resource, tag)))
            }
            Role::Tag => {
                let [Val::Borrow(this)] = args[..] else {
                    panic!("tag takes self")
                };
                let rep = this.rep().expect("tag is a method of an exported resource");
                Some(Val::U32(self.tag_of_rep(rep)))
            }
            Role::Proxy(import) => call_import(import, args),
            Role::Fail => Some(wrong_value(func)),
            Role::Settle => {
                let live = self.reps.len();
                assert!(live == 0, "{live} resources still alive when settling");
                None
            }
            Role::Callee => self.callee(func, args, Policy::Normal),
        };
        if let Some(result) = result {
            cx.push(result);
        }
    }

    fn export_async(&'static self, func: ExportFunction, mut cx: ValStack) -> Task<ValStack> {
        self.in_flight.set(self.in_flight.get() + 1);
        Box::pin(async move {
            let args = cx.take_args(func.params().len());
            let result = match self.role(func) {
                Role::Run => {
                    let [Val::U32(iteration)] = args[..] else {
                        panic!("run takes the iteration")
                    };
                    self.run_async(iteration).await;
                    None
                }
                Role::Proxy(import) if import.is_async() => call_import_async(import, args).await,
                Role::Proxy(import) => call_import(import, args),
                Role::Fail => Some(wrong_value(func)),
                // Suspend once, so that calls overlap, then check the
                // arguments (still intact after the suspension).
                Role::Callee => {
                    yield_now().await;
                    let policy = Policy::of(func.name());
                    let context = Callee::Export(func);
                    let mut received = Vec::new();
                    for (ty, arg) in func.params().zip(args) {
                        received.push(drain(ty, arg, context, policy).await);
                    }
                    let result = self.callee(func, received, policy);
                    match (func.result(), result) {
                        (Some(ty), Some(value)) => {
                            Some(open(ty, value, context, policy, &Rc::new(Cell::new(true))))
                        }
                        (_, result) => result,
                    }
                }
                Role::Constructor(_) | Role::Tag | Role::Settle => {
                    panic!("`{}` must be sync", func.qualified_name())
                }
            };
            if let Some(result) = result {
                cx.push(result);
            }
            cx
        })
    }

    fn export_finish(&self, func: ExportFunction, cx: ValStack) {
        drop(cx);
        if func.is_async() {
            self.in_flight.set(self.in_flight.get() - 1);
        }
        if self.in_flight.get() == 0 {
            let open = channels::open_ends();
            assert!(
                open == 0,
                "{open} future or stream ends left open after export `{}`",
                func.qualified_name()
            );
            let held = error_context::held();
            assert!(
                held == 0,
                "{held} error-contexts still held after export `{}`",
                func.qualified_name()
            );
        }
        // Quiescent points only: no resource alive, no async call suspended.
        if self.reps.is_empty() && self.in_flight.get() == 0 {
            let live = allocations::live_bytes();
            match self.settled_bytes.replace(Some((live, func))) {
                Some((before, previous)) if before != live => panic!(
                    "memory leak: {live} bytes live after export `{}`, {before} after `{}`",
                    func.qualified_name(),
                    previous.qualified_name()
                ),
                _ => {}
            }
        }
    }

    fn resource_dtor(&self, _ty: Resource, rep: usize) {
        // An emptied table frees its memory, which the leak check relies on.
        if self.reps.remove(rep).is_none() {
            panic!("resource destructor for unknown rep {rep}");
        }
    }
}

impl ValInterpreter {
    fn role(&self, func: ExportFunction) -> Role {
        let name = func.name();
        match (func.interface(), name) {
            (None, "run") => return Role::Run,
            (None, SETTLE) => return Role::Settle,
            _ => {}
        }
        if let Some(resource) = name.strip_prefix("[constructor]") {
            return Role::Constructor(self.exported_resource(func.interface(), resource));
        }
        if name.starts_with("[method]") && name.ends_with(".tag") {
            return Role::Tag;
        }
        if let Some(&import) = self.imports.get(&(func.interface(), name)) {
            return Role::Proxy(import);
        }
        if name.starts_with("fail-") {
            return Role::Fail;
        }
        Role::Callee
    }

    fn exported_resource(&self, interface: Option<&str>, name: &str) -> Resource {
        self.wit
            .resources()
            .find(|r| r.is_exported() && r.interface() == interface && r.name() == name)
            .unwrap_or_else(|| panic!("no exported resource `{name}`"))
    }

    /// The caller: one call of every imported test function.
    fn run(&self, iteration: u32) {
        for func in self.test_imports() {
            let (args, lent) = self.arguments(func, iteration, &Rc::new(Cell::new(true)));
            let result = call_import(func, args);
            self.check_result(func, iteration, result, lent);
        }
        self.settle();
    }

    /// The caller of an async `run`: the sync imports one after the other,
    /// the async ones all started first and then awaited together, so that
    /// they are in flight at the same time.
    async fn run_async(&'static self, iteration: u32) {
        let mut calls = Vec::new();
        for func in self.test_imports() {
            let returned = Rc::new(Cell::new(false));
            let (args, lent) = self.arguments(func, iteration, &returned);
            if func.is_async() {
                calls.push(async move {
                    let result = call_import_async(func, args).await;
                    returned.set(true);
                    let result = match (func.result(), result) {
                        (Some(ty), Some(value)) => {
                            let policy = Policy::of(func.name());
                            Some(drain(ty, value, Callee::Import(func), policy).await)
                        }
                        (_, result) => result,
                    };
                    (func, result, lent)
                });
            } else {
                let result = call_import(func, args);
                self.check_result(func, iteration, result, lent);
            }
        }
        for (func, result, lent) in join_all(calls).await {
            self.check_result(func, iteration, result, lent);
        }
        self.settle();
    }

    fn test_imports(&self) -> Vec<ImportFunction> {
        self.wit
            .import_funcs()
            .filter(|f| {
                is_test_function(f.name()) && !(f.interface().is_none() && f.name() == SETTLE)
            })
            .collect()
    }

    /// Asks the callee to check it holds nothing, if the world has `settle`.
    fn settle(&self) {
        if let Some(&settle) = self.imports.get(&(None, SETTLE)) {
            call_import(settle, Vec::new());
        }
    }

    /// The arguments of `func` for `iteration`, and the handles they lend.
    /// Futures and streams among them are created, and written once
    /// `returned` is set.
    fn arguments(
        &self,
        func: ImportFunction,
        iteration: u32,
        returned: &Rc<Cell<bool>>,
    ) -> (Vec<Val>, Vec<Own>) {
        let name = func.qualified_name();
        let mut rng = Rng::new(seed(&name, iteration, false));
        let expected_args: Vec<Val> = func
            .params()
            .map(|t| generate::value(t, &mut rng, size_for(iteration)))
            .collect();
        let mut lent = Vec::new();
        let args = func
            .params()
            .zip(expected_args)
            .map(|(ty, arg)| {
                let arg = self.materialize(ty, arg, &mut lent);
                open(
                    ty,
                    arg,
                    Callee::Import(func),
                    Policy::of(func.name()),
                    returned,
                )
            })
            .collect();
        (args, lent)
    }

    /// Drops the lent handles and checks the result of a call.
    fn check_result(
        &self,
        func: ImportFunction,
        iteration: u32,
        result: Option<Val>,
        lent: Vec<Own>,
    ) {
        drop(lent);
        let name = func.qualified_name();
        let expected = func.result().map(|t| {
            let expected = generate::value(
                t,
                &mut Rng::new(seed(&name, iteration, true)),
                size_for(iteration),
            );
            match &result {
                Some(actual) => Policy::of(func.name()).expected(actual, expected),
                None => expected,
            }
        });
        self.check(&name, "result", func.result(), result, expected);
    }

    /// A callee function: check the arguments, return the result.
    fn callee(&self, func: ExportFunction, args: Vec<Val>, policy: Policy) -> Option<Val> {
        let name = func.qualified_name();
        let iteration = {
            let mut calls = self.calls.borrow_mut();
            let count = calls.get_mut(&name).expect("a counter per export");
            *count += 1;
            *count - 1
        };
        let size = size_for(iteration);
        let mut rng = Rng::new(seed(&name, iteration, false));
        for (i, (ty, arg)) in func.params().zip(args).enumerate() {
            let expected = policy.expected(&arg, generate::value(ty, &mut rng, size));
            self.check(
                &name,
                &format!("argument {i}"),
                Some(ty),
                Some(arg),
                Some(expected),
            );
        }
        let ty = func.result()?;
        let value = generate::value(ty, &mut Rng::new(seed(&name, iteration, true)), size);
        Some(self.materialize(ty, value, &mut Vec::new()))
    }

    /// Compares a received value with the expected one, after replacing its
    /// resource handles by their tags (and dropping the handles it owns).
    fn check(
        &self,
        func: &str,
        what: &str,
        ty: Option<Type>,
        actual: Option<Val>,
        expected: Option<Val>,
    ) {
        let actual = match (ty, actual) {
            (Some(ty), Some(actual)) => Some(self.resolve(ty, actual)),
            (_, actual) => actual,
        };
        let equal = match (&actual, &expected) {
            (Some(a), Some(e)) => same(a, e),
            (None, None) => true,
            _ => false,
        };
        if !equal {
            panic!(
                "`{func}`: {what} is {}, expected {}",
                short(&actual),
                short(&expected)
            );
        }
    }

    /// Turns a generated value into one that can be passed: every tag (a
    /// `Val::U32` where the type has a handle) becomes a handle. Handles lent
    /// as borrows are added to `lent`, which keeps them until the call ends.
    fn materialize(&self, ty: Type, value: Val, lent: &mut Vec<Own>) -> Val {
        self.map_resources(ty, value, &mut |ty, value| match (ty, value) {
            (Type::Own(r), Val::U32(tag)) => Val::Own(self.new_handle(r, tag)),
            (Type::Borrow(r), Val::U32(tag)) => {
                let own = self.new_handle(r, tag);
                let borrow = own.borrow();
                lent.push(own);
                Val::Borrow(borrow)
            }
            (Type::ErrorContext, Val::U32(tag)) => Val::ErrorContext(
                ErrorContext::new(&error_message(tag))
                    .expect("a world passing error-contexts has their built-ins"),
            ),
            (_, other) => other,
        })
    }

    /// Turns a received value into a comparable one: every handle becomes
    /// its tag, a `Val::U32` as generated. Owned handles and error-contexts
    /// are dropped; borrowed handles of foreign resources are dropped by the
    /// SDK when the export returns.
    fn resolve(&self, ty: Type, value: Val) -> Val {
        self.map_resources(ty, value, &mut |_, value| match value {
            Val::Own(own) => Val::U32(self.tag_of(own.rep(), own.borrow())),
            Val::Borrow(borrow) => Val::U32(self.tag_of(borrow.rep(), borrow)),
            Val::ErrorContext(error) => Val::U32(tag_of_message(&error.debug_message())),
            other => other,
        })
    }

    /// Rebuilds `value` of type `ty`, passing every resource through `f`.
    fn map_resources(&self, ty: Type, value: Val, f: &mut dyn FnMut(Type, Val) -> Val) -> Val {
        let mut each = |types: &mut dyn Iterator<Item = Type>, values: Vec<Val>| -> Vec<Val> {
            types
                .zip(values)
                .map(|(t, v)| self.map_resources(t, v, f))
                .collect()
        };
        match (ty.dealias(), value) {
            (ty @ (Type::Own(_) | Type::Borrow(_) | Type::ErrorContext), value) => f(ty, value),
            (Type::Record(r), Val::Record(fields)) => {
                Val::Record(each(&mut r.fields().map(|(_, t)| t), fields))
            }
            (Type::Tuple(t), Val::Tuple(items)) => Val::Tuple(each(&mut t.types(), items)),
            (Type::FixedLengthList(l), Val::Tuple(items)) => {
                Val::Tuple(each(&mut std::iter::repeat(l.ty()), items))
            }
            (Type::List(l), Val::List(items)) => {
                Val::List(each(&mut std::iter::repeat(l.ty()), items))
            }
            (Type::Option(o), Val::Option(Some(v))) => {
                Val::Option(Some(Box::new(self.map_resources(o.ty(), *v, f))))
            }
            (Type::Variant(v), Val::Variant(case, Some(payload))) => {
                let ty = v
                    .cases()
                    .nth(case as usize)
                    .and_then(|(_, t)| t)
                    .expect("payload type");
                Val::Variant(case, Some(Box::new(self.map_resources(ty, *payload, f))))
            }
            (Type::Result(r), Val::Result(Ok(Some(v)))) => Val::Result(Ok(Some(Box::new(
                self.map_resources(r.ok().expect("ok type"), *v, f),
            )))),
            (Type::Result(r), Val::Result(Err(Some(v)))) => Val::Result(Err(Some(Box::new(
                self.map_resources(r.err().expect("err type"), *v, f),
            )))),
            (Type::Stream(s), Val::List(items)) if s.ty().is_some() => {
                let ty = s.ty().expect("checked");
                Val::List(each(&mut std::iter::repeat(ty), items))
            }
            (Type::Future(f), Val::List(items)) if f.ty().is_some() => {
                let ty = f.ty().expect("checked");
                Val::List(each(&mut std::iter::repeat(ty), items))
            }
            (Type::Map(m), Val::Map(entries)) => Val::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        (
                            self.map_resources(m.key_ty(), k, f),
                            self.map_resources(m.value_ty(), v, f),
                        )
                    })
                    .collect(),
            ),
            (_, value) => value,
        }
    }

    /// An owned handle to a new resource of type `r` with `tag`.
    fn new_handle(&self, r: Resource, tag: u32) -> Own {
        if r.is_exported() {
            return self.new_resource(r, tag);
        }
        let constructor = self.import(r, &format!("[constructor]{}", r.name()));
        match call_import(constructor, vec![Val::U32(tag)]) {
            Some(Val::Own(own)) => own,
            other => panic!("constructor of `{}` returned {other:?}", r.name()),
        }
    }

    /// A new resource this component exports: a rep with `tag` and its handle.
    fn new_resource(&self, r: Resource, tag: u32) -> Own {
        self.reps
            .export(r, tag)
            .expect("exported resources have resource.new")
    }

    fn tag_of_rep(&self, rep: usize) -> u32 {
        self.reps
            .get(rep)
            .unwrap_or_else(|| panic!("unknown resource rep {rep}"))
    }

    /// The tag of a resource: of ours by its `rep`, of another's from its
    /// owner.
    fn tag_of(&self, rep: Option<usize>, handle: Borrow) -> u32 {
        if let Some(rep) = rep {
            return self.tag_of_rep(rep);
        }
        let r = handle.ty();
        let tag = self.import(r, &format!("[method]{}.tag", r.name()));
        match call_import(tag, vec![Val::Borrow(handle)]) {
            Some(Val::U32(tag)) => tag,
            other => panic!("tag of `{}` returned {other:?}", r.name()),
        }
    }

    fn import(&self, r: Resource, name: &str) -> ImportFunction {
        *self
            .imports
            .get(&(r.interface(), name))
            .unwrap_or_else(|| panic!("the world imports no `{name}` for resource `{}`", r.name()))
    }
}

/// The debug message of an error-context carrying `tag`.
fn error_message(tag: u32) -> String {
    format!("val error-context {tag}")
}

/// The tag an error-context's debug message carries.
fn tag_of_message(message: &str) -> u32 {
    message
        .strip_prefix("val error-context ")
        .and_then(|tag| tag.parse().ok())
        .unwrap_or_else(|| panic!("error-context debug message `{message}` carries no tag"))
}

/// Imports the caller exercises: all but the resource helpers.
fn is_test_function(name: &str) -> bool {
    let tag_method = name.starts_with("[method]") && name.ends_with(".tag");
    !(name.starts_with("[constructor]") || tag_method)
}

fn size_for(iteration: u32) -> Size {
    Size {
        depth: 3,
        huge_strings: iteration == HUGE_STRING_ITERATION,
    }
}

/// A value for a failure message, cut short.
fn short(value: &Option<Val>) -> String {
    let mut shown = format!("{value:?}");
    if shown.len() > 200 {
        let mut end = 200;
        while !shown.is_char_boundary(end) {
            end -= 1;
        }
        shown.truncate(end);
        shown.push('…');
    }
    shown
}

/// The deliberately wrong result of a `fail-*` function.
fn wrong_value(func: ExportFunction) -> Val {
    match func.name() {
        "fail-wrong-type" => Val::String("not a number".into()),
        "fail-enum" => Val::Enum(7),
        "fail-variant" => Val::Variant(9, None),
        "fail-flags" => Val::Flags(u32::MAX),
        "fail-record" => Val::Record(Vec::new()),
        other => panic!("no wrong value defined for `{other}`"),
    }
}

wit_dylib_sdk::export!(ValInterpreter, async);
