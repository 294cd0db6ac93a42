//! The trait a language runtime implements to become an interpreter dylib.

use crate::call::Call;
use crate::metadata::{ExportFunction, Resource, Wit};
use crate::task::Task;

/// A language runtime that implements a world's exports and calls its imports.
///
/// One value of this type lives for the whole program: [`Interpreter::initialize`]
/// creates it when the component starts, and the [`export!`](crate::export)
/// macro routes every call of the generated glue to it. Methods take `&self`
/// because the glue may re-enter (a resource destructor can run while an export
/// is dropping a handle); keep mutable state in `Cell`/`RefCell`.
pub trait Interpreter: Sized + 'static {
    /// The value stack of one call, export or import.
    type CallCx: Call + 'static;

    /// Creates the interpreter from the world's metadata. Runs once, from the
    /// world library's constructor, before any export is called.
    fn initialize(wit: Wit) -> Self;

    /// Returns an empty value stack for a call of `func`.
    fn export_start(&self, func: ExportFunction) -> Self::CallCx;

    /// Runs export `func`. Its arguments are on `cx`, the **last** on top; pop
    /// them all and push the result, if `func` has one.
    fn export_call(&self, func: ExportFunction, cx: &mut Self::CallCx);

    /// Runs async export `func` (only with `export!(MyVm, async)`). Its
    /// arguments are on `cx` as for [`Interpreter::export_call`]; return a
    /// task that completes with `cx` holding the result, if `func` has one.
    /// The SDK polls the task when the export starts and whenever an event it
    /// waits for arrives (see [`task`](crate::task)); then it hands the result
    /// to the caller (`task.return`) and calls [`Interpreter::export_finish`].
    fn export_async(&'static self, func: ExportFunction, cx: Self::CallCx) -> Task<Self::CallCx> {
        let _ = cx;
        panic!(
            "wit-dylib: the interpreter does not implement async export `{}`",
            func.qualified_name()
        )
    }

    /// The result of `func` has gone to the caller; `cx` is dropped after
    /// this. For a sync export this is in its post-return or, when it has none
    /// (docs/abi.md §6.1), just before it returns; for an async export, when
    /// its task is over: after `task.return` and after everything it
    /// [spawned](crate::task::spawn) has finished.
    fn export_finish(&self, func: ExportFunction, cx: Self::CallCx) {
        let _ = func;
        drop(cx);
    }

    /// The last handle to a resource of type `ty` that this component exports
    /// is gone: release the value behind `rep`.
    fn resource_dtor(&self, ty: Resource, rep: usize);
}
