//! Resources in toy values.
//!
//! * A resource this component **exports** is any toy value the script
//!   chooses (its constructor's result). Lowering it as `own` files the value
//!   under a fresh rep and creates a handle; the destructor forgets the rep.
//! * A resource the component **imports** is a handle, a host object in toy
//!   values. An owned handle is released when the script calls `(drop h)`,
//!   when it moves the handle into a call, or when the last toy value
//!   holding it goes away. A borrowed handle (an export's argument) expires
//!   when that export returns.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use toy_lang::{HostObject, Value};
use wit_dylib_sdk::Resource;

#[derive(Default)]
pub struct Resources {
    /// The script's objects behind the reps of exported resources.
    objects: RefCell<HashMap<usize, Value>>,
    next_rep: Cell<usize>,
    /// Borrowed handles given to the running export.
    borrows: RefCell<Vec<Rc<ImportedHandle>>>,
}

/// A handle to a resource the component imports.
pub struct ImportedHandle {
    resource: Resource,
    handle: u32,
    owned: bool,
    state: Cell<HandleState>,
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum HandleState {
    Live,
    /// Dropped by the script, or moved into a call.
    Gone,
    /// A borrow whose export returned.
    Expired,
}

impl HostObject for ImportedHandle {
    fn describe(&self) -> String {
        let kind = if self.owned { "own" } else { "borrow" };
        format!("<{kind}<{}> handle {}>", self.resource.name(), self.handle)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for ImportedHandle {
    fn drop(&mut self) {
        if self.owned && self.state.get() == HandleState::Live {
            self.resource.drop_handle(self.handle);
        }
    }
}

impl Resources {
    /// An owned handle of an imported resource, received from the host.
    pub fn lift_owned(&self, resource: Resource, handle: u32) -> Value {
        Value::Host(ImportedHandle::live(resource, handle, true))
    }

    /// A borrowed handle of an imported resource, valid until the running
    /// export returns.
    pub fn lift_borrowed(&self, resource: Resource, handle: u32) -> Value {
        let borrowed = ImportedHandle::live(resource, handle, false);
        self.borrows.borrow_mut().push(borrowed.clone());
        Value::Host(borrowed)
    }

    /// The object behind `rep` of an exported resource.
    pub fn object(&self, rep: usize) -> Value {
        self.objects
            .borrow()
            .get(&rep)
            .cloned()
            .unwrap_or_else(|| panic!("toy: no resource object with rep {rep}"))
    }

    /// The object behind an owned handle of an exported resource that came
    /// back to us; the handle is dropped (which forgets the rep).
    pub fn take_exported(&self, resource: Resource, handle: u32) -> Value {
        let rep = resource
            .rep(handle)
            .expect("exported resources have resource.rep");
        let object = self.object(rep);
        resource.drop_handle(handle);
        object
    }

    /// A new owned handle of exported `resource` for the script's `object`.
    pub fn export_object(&self, resource: Resource, object: Value) -> u32 {
        let rep = self.next_rep.get() + 1;
        self.next_rep.set(rep);
        self.objects.borrow_mut().insert(rep, object);
        resource
            .new_handle(rep)
            .expect("exported resources have resource.new")
    }

    /// The destructor of an exported resource ran.
    pub fn release(&self, rep: usize) {
        // Dropping the object may drop handles it holds, which may call
        // back into the glue: no borrow of `objects` is held meanwhile.
        let object = self.objects.borrow_mut().remove(&rep);
        drop(object);
    }

    /// Marks where the borrows of an export starting now will begin: a sync
    /// export may run while an async one waits, and ends only its own.
    pub fn borrow_mark(&self) -> usize {
        self.borrows.borrow().len()
    }

    /// The export that started at `mark` returned: its borrows end.
    pub fn end_borrows(&self, mark: usize) {
        let ended = self.borrows.borrow_mut().split_off(mark);
        for handle in ended {
            handle.state.set(HandleState::Expired);
        }
    }

    /// The handle in `value` of imported `resource`, to pass as an argument;
    /// `own` moves it out of the script's value.
    pub fn pass_handle(&self, resource: Resource, value: &Value, own: bool) -> Result<u32, String> {
        let handle = imported_handle(value)?;
        if handle.resource != resource {
            return Err(format!(
                "expected a handle of resource `{}`, found {}",
                resource.name(),
                handle.describe()
            ));
        }
        handle.check_live()?;
        if own {
            if !handle.owned {
                return Err(format!(
                    "{} is borrowed; an owned handle is needed",
                    handle.describe()
                ));
            }
            handle.state.set(HandleState::Gone);
        }
        Ok(handle.handle)
    }
}

impl ImportedHandle {
    fn live(resource: Resource, handle: u32, owned: bool) -> Rc<ImportedHandle> {
        Rc::new(ImportedHandle {
            resource,
            handle,
            owned,
            state: Cell::new(HandleState::Live),
        })
    }

    fn check_live(&self) -> Result<(), String> {
        match self.state.get() {
            HandleState::Live => Ok(()),
            HandleState::Gone => Err(format!("{} was dropped or moved", self.describe())),
            HandleState::Expired => Err(format!(
                "{} was borrowed by an export that has returned",
                self.describe()
            )),
        }
    }
}

fn imported_handle(value: &Value) -> Result<&ImportedHandle, String> {
    match value {
        Value::Host(object) => object
            .as_any()
            .downcast_ref::<ImportedHandle>()
            .ok_or_else(|| format!("expected a resource handle, found {}", object.describe())),
        other => Err(format!(
            "expected a resource handle, found {} {}",
            other.type_name(),
            other.show()
        )),
    }
}

/// `(drop handle)`: releases an owned handle now.
pub fn drop_handle(value: &Value) -> Result<(), String> {
    let handle = imported_handle(value)?;
    handle.check_live()?;
    if !handle.owned {
        return Err(format!(
            "{} is borrowed and cannot be dropped",
            handle.describe()
        ));
    }
    handle.state.set(HandleState::Gone);
    handle.resource.drop_handle(handle.handle);
    Ok(())
}
