//! Resources in toy values.
//!
//! * A resource this component **exports** is any toy value the script
//!   chooses (its constructor's result). Lowering it as `own` files the value
//!   under a fresh rep and creates a handle; the destructor forgets the rep.
//! * A resource the component **imports** is a host object holding the SDK's
//!   `Own` or `Borrow`. An owned handle is released by `(drop h)`, by moving
//!   it into a call, or when the last toy value holding it goes away. A
//!   borrowed one (an export's argument) expires when that export returns.

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use toy_lang::{HostObject, Value};
use wit_dylib_sdk::{Borrow, Objects, Own, Resource};

#[derive(Default)]
pub struct Resources {
    /// The script's objects behind the reps of exported resources.
    objects: Objects<Value>,
    /// Borrowed handles lent to the running exports, the latest last.
    borrows: RefCell<Vec<Rc<ImportedHandle>>>,
}

/// A handle of an imported resource, as toy values hold it.
pub struct ImportedHandle {
    ty: Resource,
    label: String,
    held: RefCell<Held>,
}

pub enum Held {
    Own(Own),
    Borrow(Borrow),
    /// Why the handle may no longer be used.
    Gone(&'static str),
}

impl HostObject for ImportedHandle {
    fn describe(&self) -> String {
        self.label.clone()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl ImportedHandle {
    /// The owned handle, moved out of the script's value (to pass it on or
    /// drop it); a borrowed one is refused with `why`.
    pub fn take(&self, why: &str) -> Result<Own, String> {
        self.lend()?;
        let mut held = self.held.borrow_mut();
        match std::mem::replace(&mut *held, Held::Gone("was dropped or moved")) {
            Held::Own(own) => Ok(own),
            borrow => {
                *held = borrow;
                Err(format!("{} is borrowed{why}", self.label))
            }
        }
    }

    /// The handle, lent as a `borrow<R>`.
    pub fn lend(&self) -> Result<Borrow, String> {
        match &*self.held.borrow() {
            Held::Own(own) => Ok(own.borrow()),
            Held::Borrow(borrow) => Ok(*borrow),
            Held::Gone(why) => Err(format!("{} {why}", self.label)),
        }
    }
}

impl Resources {
    /// A received `own<R>` or `borrow<R>`. Of an exported resource, it is the
    /// script's object (an `own` is dropped, which forgets the rep); else a
    /// handle, a borrowed one valid until the running export returns.
    pub fn lift(&self, held: Held) -> Value {
        let (rep, ty, label) = match &held {
            Held::Own(own) => (own.rep(), own.ty(), format!("<{own:?}>")),
            Held::Borrow(borrow) => (borrow.rep(), borrow.ty(), format!("<{borrow:?}>")),
            Held::Gone(_) => unreachable!("a received handle is live"),
        };
        if let Some(rep) = rep {
            let object = self.objects.get(rep);
            return object.unwrap_or_else(|| panic!("toy: no resource object with rep {rep}"));
        }
        let held = RefCell::new(held);
        let handle = Rc::new(ImportedHandle { ty, label, held });
        if matches!(*handle.held.borrow(), Held::Borrow(_)) {
            self.borrows.borrow_mut().push(handle.clone());
        }
        Value::Host(handle)
    }

    /// A new owned handle of exported `resource` for the script's `object`.
    pub fn export_object(&self, resource: Resource, object: Value) -> Own {
        let own = self.objects.export(resource, object);
        own.expect("exported resources have resource.new")
    }

    /// The destructor of an exported resource ran.
    pub fn release(&self, rep: usize) {
        // Dropping the object may drop handles it holds, which may call
        // back into the glue: `remove` holds no borrow of `objects` by then.
        let _object = self.objects.remove(rep);
    }

    /// Runs an export: the borrows it receives end when it returns (a sync
    /// export may run while an async one waits, and ends only its own).
    pub fn lending<R>(&self, export: impl FnOnce() -> R) -> R {
        let mark = self.borrows.borrow().len();
        let result = export();
        for handle in self.borrows.borrow_mut().split_off(mark) {
            *handle.held.borrow_mut() = Held::Gone("was borrowed by an export that has returned");
        }
        result
    }
}

/// The imported resource's handle in `value` (of `resource`, if given).
pub fn imported(value: &Value, resource: Option<Resource>) -> Result<&ImportedHandle, String> {
    let handle = match value {
        Value::Host(object) => object.as_any().downcast_ref::<ImportedHandle>(),
        _ => None,
    };
    let handle = handle.filter(|handle| resource.is_none_or(|ty| handle.ty == ty));
    handle.ok_or_else(|| {
        let found = format!("{} {}", value.type_name(), value.show());
        match resource.map(|ty| ty.name()) {
            Some(name) => format!("expected a handle of resource `{name}`, found {found}"),
            None => format!("expected a resource handle, found {found}"),
        }
    })
}

/// `(drop handle)`: releases an owned handle now.
pub fn drop_handle(value: &Value) -> Result<(), String> {
    let own = imported(value, None)?.take(" and cannot be dropped")?;
    drop(own);
    Ok(())
}
