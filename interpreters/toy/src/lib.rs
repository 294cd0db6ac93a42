//! The toy language (`toy-lang`) as a wit-dylib interpreter: a component
//! runs the toy script linked into it and implements any WIT world with it.
//!
//! This crate is only the WIT side: imports become toy functions named by
//! their WIT names ([`world`]), values cross through the SDK's [`Val`]
//! ([`values`]), and resources live in [`resources`]. The language itself
//! knows nothing of WIT.
//!
//! Errors (a script that does not parse, a runtime error, a result of the
//! wrong type) panic with a message naming the script or the function; the
//! panic traps the component and the message reaches the host's stderr.

mod resources;
mod values;
mod world;

use std::rc::Rc;

use resources::Resources;
use toy_lang::{Interp, Program, Value};
use wit_dylib_sdk::{ExportFunction, Interpreter, Resource, Val, ValStack, Wit, linked_script};

struct ToyInterpreter {
    interp: Interp,
    /// The script's function for each export, by export index.
    exports: Vec<Value>,
    /// The WIT name of each export, which labels its frame in toy stacks.
    export_names: Vec<String>,
    resources: Rc<Resources>,
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
        let exports = world::install(&interp, wit, &resources);
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
        ToyInterpreter {
            interp,
            exports,
            export_names: wit.export_funcs().map(|f| f.qualified_name()).collect(),
            resources,
        }
    }

    fn export_start(&self, func: ExportFunction) -> ValStack {
        ValStack::for_export(func)
    }

    fn export_call(&self, func: ExportFunction, cx: &mut ValStack) {
        let name = &self.export_names[func.index()];
        let args: Vec<Value> = func
            .params()
            .zip(cx.take_args(func.params().len()))
            .map(|(ty, val)| values::lift(ty, val, &self.resources))
            .collect();
        let result = self
            .interp
            .call_named(name, &self.exports[func.index()], args);
        // Borrows lent to this call end with it.
        self.resources.end_borrows();
        let result = result.unwrap_or_else(|err| panic!("toy: export `{name}` failed: {err}"));
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

    fn resource_dtor(&self, _ty: Resource, rep: usize) {
        self.resources.release(rep);
    }
}

wit_dylib_sdk::export!(ToyInterpreter);
