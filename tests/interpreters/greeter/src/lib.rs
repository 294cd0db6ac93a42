//! The smallest useful interpreter: it implements the `greeter` world of
//! `tests/worlds/greeter.wit` in Rust, through the SDK's `Val` layer. The
//! end-to-end test links it into a component and runs it under wasmtime.

use wit_dylib_sdk::{
    ExportFunction, ImportFunction, Interpreter, Resource, Val, ValStack, Wit, call_import,
};

struct Greeter {
    log: ImportFunction,
}

impl Interpreter for Greeter {
    type CallCx = ValStack;

    fn initialize(wit: Wit) -> Self {
        let log = wit
            .import_funcs()
            .find(|f| f.interface().is_none() && f.name() == "log")
            .expect("the greeter world imports `log`");
        Greeter { log }
    }

    fn export_start(&self, func: ExportFunction) -> ValStack {
        ValStack::for_export(func)
    }

    fn export_call(&self, func: ExportFunction, cx: &mut ValStack) {
        assert_eq!(func.name(), "run", "the greeter world exports only `run`");
        let [Val::String(input)] = <[Val; 1]>::try_from(cx.take_args(1)).expect("one argument")
        else {
            panic!("`run` takes a string");
        };
        call_import(
            self.log,
            vec![Val::String(format!("run called with {input:?}"))],
        );
        cx.push(Val::String(format!("Hello, {input}!")));
    }

    fn resource_dtor(&self, _ty: Resource, _rep: usize) {
        unreachable!("the greeter world has no resources")
    }
}

wit_dylib_sdk::export!(Greeter);
