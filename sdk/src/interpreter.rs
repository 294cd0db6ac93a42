//! The trait a language runtime implements to become an interpreter dylib.

use crate::call::Call;
use crate::metadata::{ExportFunction, Resource, Wit};

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

    /// The result of `func` has reached the caller; `cx` is dropped after this.
    fn export_finish(&self, func: ExportFunction, cx: Self::CallCx) {
        let _ = func;
        drop(cx);
    }

    /// The last handle to a resource of type `ty` that this component exports
    /// is gone: release the value behind `rep`.
    fn resource_dtor(&self, ty: Resource, rep: usize);
}
