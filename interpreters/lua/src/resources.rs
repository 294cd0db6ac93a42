//! Resources in Lua.
//!
//! * **Imported** resources are userdata (`ImportedHandle`) holding the
//!   handle. Methods come from the resource's method table (built with the
//!   import modules). An owned handle is released by `:drop()`, by a
//!   to-be-closed variable going out of scope (`local r <close> = ...`), or by
//!   the garbage collector; passing it as `own<R>` moves it.
//! * **Exported** resources are whatever the script's constructor returns (a
//!   table, usually with a metatable). Handing one out as `own<R>` keeps it
//!   in the SDK's [`Objects`] under a new rep, with a handle; the component
//!   model calls the destructor when the last handle is gone, which forgets
//!   it.

use std::cell::RefCell;

use mlua::{AppDataRef, Lua, MetaMethod, Table, UserData, UserDataMethods, Value};
use wit_dylib_sdk::{Borrow, Objects, Own, Resource};

use crate::values::{Mismatch, describe};

/// Registry key of the table resource index → method table of imported resources.
const METHODS: &str = "wit_dylib.methods";

/// A handle to a resource some other component (or the host) defines.
pub struct ImportedHandle {
    ty: Resource,
    held: RefCell<Held>,
}

enum Held {
    Own(Own),
    /// Valid during one call and never dropped by us.
    Borrow(Borrow),
    /// Dropped or moved away.
    Gone,
}

impl ImportedHandle {
    fn new(ty: Resource, held: Held) -> ImportedHandle {
        ImportedHandle {
            ty,
            held: RefCell::new(held),
        }
    }

    /// `:drop()`: drops an owned handle (the SDK's `Own` drops it once).
    fn release(&self) -> mlua::Result<()> {
        let mut held = self.held.borrow_mut();
        if let Held::Own(_) = *held {
            *held = Held::Gone;
        }
        Ok(())
    }
}

impl UserData for ImportedHandle {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("drop", |_, this, ()| this.release());
        methods.add_meta_method(MetaMethod::Close, |_, this, _: Value| this.release());
        methods.add_meta_method(MetaMethod::Index, |lua, this, key: Value| {
            let table: Table = lua.named_registry_value(METHODS)?;
            let methods: Option<Table> = table.raw_get(this.ty.index())?;
            match methods {
                Some(methods) => methods.raw_get::<Value>(key),
                None => Ok(Value::Nil),
            }
        });
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(match &*this.held.borrow() {
                Held::Own(own) => format!("{} ({own:?})", this.ty.name()),
                Held::Borrow(borrow) => format!("{} ({borrow:?})", this.ty.name()),
                Held::Gone => format!("{} (dropped)", this.ty.name()),
            })
        });
    }
}

/// Creates the tables of objects and methods; runs once at start-up.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    lua.set_named_registry_value(METHODS, lua.create_table()?)?;
    lua.set_app_data(Objects::<Value>::default());
    Ok(())
}

/// Makes `methods` the method table of imported resource `ty`.
pub fn set_methods(lua: &Lua, ty: Resource, methods: Table) -> mlua::Result<()> {
    let table: Table = lua.named_registry_value(METHODS)?;
    table.raw_set(ty.index(), methods)?;
    // mlua builds a userdata type's metatable when the first value is made:
    // made here, at start-up, it is in a pre-initialised component's
    // snapshot instead of being built again in every instance's first call.
    lua.create_userdata(ImportedHandle::new(ty, Held::Gone))?;
    Ok(())
}

/// The objects behind the reps of exported resources.
fn objects(lua: &Lua) -> AppDataRef<'_, Objects<Value>> {
    lua.app_data_ref().expect("installed at start-up")
}

/// The object behind `rep` of an exported resource (nil once destroyed).
fn object(lua: &Lua, rep: usize) -> Value {
    objects(lua).get(rep).unwrap_or(Value::Nil)
}

/// Runs `f` on the handle held by `value`, an imported `ty`.
fn with_held<T>(
    value: &Value,
    ty: Resource,
    f: impl FnOnce(&mut Held) -> Option<T>,
) -> Result<T, Mismatch> {
    let found = match value {
        Value::UserData(ud) => match ud.borrow::<ImportedHandle>() {
            Ok(handle) if handle.ty == ty => {
                let mut held = handle.held.borrow_mut();
                return match f(&mut held) {
                    Some(result) => Ok(result),
                    None if matches!(*held, Held::Borrow(_)) => Err(format!(
                        "a borrowed {} cannot be passed as owned",
                        ty.name()
                    )),
                    None => Err(format!("this {} was already dropped or moved", ty.name())),
                };
            }
            Ok(handle) => format!("a {}", handle.ty.name()),
            Err(_) => describe(value),
        },
        _ => describe(value),
    };
    Err(format!("expected a {}, found {found}", ty.name()))
}

pub fn check_own(value: &Value, ty: Resource) -> Result<(), Mismatch> {
    match (ty.is_exported(), value) {
        (true, Value::Nil) => Err(format!("expected a {} object, found nil", ty.name())),
        (true, _) => Ok(()),
        (false, _) => with_held(value, ty, |held| matches!(held, Held::Own(_)).then_some(())),
    }
}

/// Lowers `own<ty>`: moves the handle out of an imported handle, or gives an
/// object of an exported resource a rep and a handle.
pub fn own_handle(lua: &Lua, value: Value, ty: Resource) -> Result<Own, Mismatch> {
    check_own(&value, ty)?;
    if ty.is_exported() {
        return Ok(objects(lua).export(ty, value).expect("`ty` is exported"));
    }
    with_held(&value, ty, |held| {
        match std::mem::replace(held, Held::Gone) {
            Held::Own(own) => Some(own),
            _ => None,
        }
    })
}

/// Lowers `borrow<ty>` of an imported resource, which stays owned.
pub fn borrow_handle(value: &Value, ty: Resource) -> Result<Borrow, Mismatch> {
    if ty.is_exported() {
        return Err(format!(
            "passing this component's own {} as a borrow is not supported",
            ty.name()
        ));
    }
    with_held(value, ty, |held| match held {
        Held::Own(own) => Some(own.borrow()),
        Held::Borrow(borrow) => Some(*borrow),
        Held::Gone => None,
    })
}

pub fn check_borrow(value: &Value, ty: Resource) -> Result<(), Mismatch> {
    borrow_handle(value, ty).map(drop)
}

/// Lifts `own<ty>`.
pub fn lift_own(lua: &Lua, ty: Resource, own: Own) -> mlua::Result<Value> {
    if let Some(rep) = own.rep() {
        // One of our own objects came back: we no longer need a handle to it
        // (`own` drops it).
        return Ok(object(lua, rep));
    }
    lua.create_userdata(ImportedHandle::new(ty, Held::Own(own)))
        .map(Value::UserData)
}

/// Lifts `borrow<ty>`: for our own resources the glue passes the rep.
pub fn lift_borrow(lua: &Lua, ty: Resource, borrow: Borrow) -> mlua::Result<Value> {
    if let Some(rep) = borrow.rep() {
        return Ok(object(lua, rep));
    }
    lua.create_userdata(ImportedHandle::new(ty, Held::Borrow(borrow)))
        .map(Value::UserData)
}

/// The destructor of an exported resource: forget the object behind `rep`.
pub fn destroy(lua: &Lua, rep: usize) {
    // Dropping the object only unrefs it: nothing runs meanwhile.
    objects(lua).remove(rep);
}
