//! The glue benchmark's interpreter (`tests/benches/glue.rs`): every export
//! returns its first argument unchanged, so that what a call costs is almost
//! all lifting and lowering in the world library.

use wit_dylib_sdk::{ExportFunction, Interpreter, Resource, ValStack, Wit};

struct Echo;

impl Interpreter for Echo {
    type CallCx = ValStack;

    fn initialize(wit: Wit) -> Self {
        // Checked once here rather than on every call.
        for func in wit.export_funcs() {
            let first = func.params().next();
            assert!(
                first.is_some() && func.result() == first,
                "echo-interpreter: export `{}` must return the type of its first parameter",
                func.qualified_name()
            );
        }
        Echo
    }

    fn export_start(&self, func: ExportFunction) -> ValStack {
        ValStack::for_export(func)
    }

    fn export_call(&self, func: ExportFunction, cx: &mut ValStack) {
        let mut args = cx.take_args(func.params().len());
        cx.push(args.swap_remove(0));
    }

    fn resource_dtor(&self, _ty: Resource, _rep: usize) {}
}

wit_dylib_sdk::export!(Echo);
