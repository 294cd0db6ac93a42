//! The toy language (`toy-lang`) as a wit-dylib interpreter: a component
//! runs the toy script linked into it and implements any WIT world with it.
//!
//! This crate is only the WIT side: imports become toy functions named by
//! their WIT names ([`world`]), values cross through the SDK's [`Val`]
//! ([`values`]), and resources live in [`resources`]. The language itself
//! knows nothing of WIT.
//!
//! Async exports run the toy function inside the export's task, blocking
//! where it waits; futures and streams are host objects ([`channels`]);
//! [`tasks`] has the model.
//!
//! Errors (a script that does not parse, a runtime error, a result of the
//! wrong type) panic with a message naming the script or the function; the
//! panic traps the component and the message reaches the host's stderr.

mod channels;
mod resources;
mod tasks;
mod values;
mod world;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use resources::Resources;
use tasks::Scheduler;
use toy_lang::{Interp, Program, Value};
use wit_dylib_sdk::{
    Callee, ExportFunction, Interpreter, Resource, Task, Val, ValStack, Wit, linked_script, spawn,
};

struct ToyInterpreter {
    interp: Interp,
    /// The script's function for each export, by export index.
    exports: Vec<Value>,
    /// The WIT name of each export, which labels its frame in toy stacks.
    export_names: Vec<String>,
    resources: Rc<Resources>,
    tasks: Rc<Scheduler>,
    /// Functions registered with `(wit-on-finish f)`.
    on_finish: Rc<RefCell<Vec<Value>>>,
    /// Async export calls started and not finished.
    in_flight: Cell<usize>,
}

impl Interpreter for ToyInterpreter {
    type CallCx = ValStack;

    fn initialize(wit: Wit) -> Self {
        let script = linked_script();
        let source = std::str::from_utf8(script.source)
            .unwrap_or_else(|err| panic!("toy: `{}` is not UTF-8: {err}", script.name));
        let program =
            Program::parse(script.name, source).unwrap_or_else(|err| panic!("toy: {err}"));
        let interp = Interp::new();
        let resources = Rc::new(Resources::default());
        let tasks = Rc::new(Scheduler::default());
        let exports = world::install(&interp, wit, &resources, &tasks);
        channels::install(&interp, wit, &tasks, &resources);
        tasks::install(&interp, &tasks);
        let on_finish = Rc::new(RefCell::new(Vec::new()));
        let hooks = on_finish.clone();
        interp.define_native("wit-on-finish", move |_, args| match &args[..] {
            [f @ Value::Func(_)] => {
                hooks.borrow_mut().push(f.clone());
                Ok(Value::Nil)
            }
            _ => Err("usage: (wit-on-finish (fn (export-name) ...))".into()),
        });
        if let Err(err) = interp.run(&program) {
            panic!("toy: running `{}` failed: {err}", script.name);
        }
        let exports = exports.take(wit).unwrap_or_else(|missing| {
            panic!(
                "toy: `{}` does not export {} (define each with `(export \"name\" function)`)",
                script.name,
                missing.join(", ")
            )
        });
        // SAFETY: the program owns its code and its file's name, and
        // nothing reads `script` again.
        #[allow(unsafe_code)]
        unsafe {
            wit_dylib_sdk::release_linked_script()
        };
        ToyInterpreter {
            interp,
            exports,
            export_names: wit.export_funcs().map(|f| f.qualified_name()).collect(),
            resources,
            tasks,
            on_finish,
            in_flight: Cell::new(0),
        }
    }

    fn export_start(&self, func: ExportFunction) -> ValStack {
        ValStack::for_export(func)
    }

    fn export_call(&self, func: ExportFunction, cx: &mut ValStack) {
        self.tasks
            .serve(Callee::Export(func), false, || self.run_export(func, cx));
    }

    fn export_async(&'static self, func: ExportFunction, mut cx: ValStack) -> Task<ValStack> {
        self.in_flight.set(self.in_flight.get() + 1);
        Box::pin(async move {
            self.tasks.serve(Callee::Export(func), true, || {
                self.run_export(func, &mut cx)
            });
            // Tasks nothing waited for run after the result is delivered,
            // all from one SDK task, so that they can feed each other.
            if self.tasks.has_queued() {
                spawn(async move { self.tasks.run_queued(&self.interp) });
            }
            cx
        })
    }

    fn export_finish(&self, func: ExportFunction, cx: ValStack) {
        drop(cx);
        if func.is_async() {
            self.in_flight.set(self.in_flight.get() - 1);
        }
        // Only at rest: a sync export may run while an async one waits.
        if self.in_flight.get() != 0 {
            return;
        }
        let name = &self.export_names[func.index()];
        let hooks = self.on_finish.borrow().clone();
        for hook in hooks {
            let args = vec![Value::Str(name.as_str().into())];
            if let Err(err) = self.interp.call_named("wit-on-finish", &hook, args) {
                panic!("toy: the `wit-on-finish` function failed after export `{name}`: {err}");
            }
        }
    }

    fn resource_dtor(&self, _ty: Resource, rep: usize) {
        self.resources.release(rep);
    }
}

impl ToyInterpreter {
    /// Runs export `func` with the arguments on `cx`, pushing its result.
    fn run_export(&self, func: ExportFunction, cx: &mut ValStack) {
        let name = &self.export_names[func.index()];
        // Borrows lent to this call end with it.
        let result = self.resources.lending(|| {
            let args: Vec<Value> = func
                .params()
                .zip(cx.take_args(func.params().len()))
                .map(|(ty, val)| values::lift(ty, val, &self.resources))
                .collect();
            self.interp
                .call_named(name, &self.exports[func.index()], args)
        });
        let result = result.unwrap_or_else(|err| panic!("toy: export `{name}` failed: {err}"));
        if let Some(writer) = channels::take_unwritten() {
            panic!("toy: export `{name}` {writer}");
        }
        if let Some(ty) = func.result() {
            let lowered: Val = values::lower(ty, &result, &self.resources).unwrap_or_else(|err| {
                panic!(
                    "toy: export `{name}` returned {}, which is not a {}: {err}",
                    result.show(),
                    ty.describe()
                )
            });
            cx.push(lowered);
        }
    }
}

wit_dylib_sdk::export!(ToyInterpreter, async);
