//! Resources in Lua.
//!
//! * **Imported** resources are userdata (`ImportedHandle`) holding the
//!   handle. Methods come from the resource's method table (built with the
//!   import modules). An owned handle is released by `:drop()`, by a
//!   to-be-closed variable going out of scope (`local r <close> = ...`), or by
//!   the garbage collector; passing it as `own<R>` moves it.
//! * **Exported** resources are whatever the script's constructor returns (a
//!   table, usually with a metatable). Handing one out as `own<R>` gives it a
//!   new rep (an index into a registry table that keeps it alive) and a
//!   handle; the component model calls the destructor when the last handle is
//!   gone, which removes it from the registry.

use std::cell::Cell;

use mlua::{AnyUserData, Lua, MetaMethod, Table, UserData, UserDataMethods, Value};
use wit_dylib_sdk::Resource;

use crate::values::{Mismatch, describe};

/// Registry key of the table rep → object of exported resources.
const OBJECTS: &str = "wit_dylib.objects";
/// Registry key of the table resource index → method table of imported resources.
const METHODS: &str = "wit_dylib.methods";

/// A handle to a resource some other component (or the host) defines.
pub struct ImportedHandle {
    ty: Resource,
    /// `None` once dropped or moved away.
    handle: Cell<Option<u32>>,
    /// Borrows are valid during one call and never dropped by us.
    owned: bool,
}

impl ImportedHandle {
    fn release(&self) {
        if self.owned
            && let Some(handle) = self.handle.take()
        {
            self.ty.drop_handle(handle);
        }
    }
}

impl Drop for ImportedHandle {
    fn drop(&mut self) {
        self.release();
    }
}

impl UserData for ImportedHandle {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("drop", |_, this, ()| {
            this.release();
            Ok(())
        });
        methods.add_meta_method(MetaMethod::Close, |_, this, _: Value| {
            this.release();
            Ok(())
        });
        methods.add_meta_method(MetaMethod::Index, |lua, this, key: Value| {
            let table: Table = lua.named_registry_value(METHODS)?;
            let methods: Option<Table> = table.raw_get(this.ty.index())?;
            match methods {
                Some(methods) => methods.raw_get::<Value>(key),
                None => Ok(Value::Nil),
            }
        });
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(match this.handle.get() {
                Some(handle) => format!("{} (handle {handle})", this.ty.name()),
                None => format!("{} (dropped)", this.ty.name()),
            })
        });
    }
}

/// Creates the registry tables; runs once at start-up.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    lua.set_named_registry_value(OBJECTS, lua.create_table()?)?;
    lua.set_named_registry_value(METHODS, lua.create_table()?)?;
    lua.set_app_data(NextRep(Cell::new(1)));
    Ok(())
}

struct NextRep(Cell<usize>);

/// Makes `methods` the method table of imported resource `ty`.
pub fn set_methods(lua: &Lua, ty: Resource, methods: Table) -> mlua::Result<()> {
    let table: Table = lua.named_registry_value(METHODS)?;
    table.raw_set(ty.index(), methods)?;
    // mlua builds a userdata type's metatable when the first value is made:
    // made here, at start-up, it is in a pre-initialised component's
    // snapshot instead of being built again in every instance's first call.
    lua.create_userdata(ImportedHandle {
        ty,
        handle: Cell::new(None),
        owned: false,
    })?;
    Ok(())
}

fn objects(lua: &Lua) -> mlua::Result<Table> {
    lua.named_registry_value(OBJECTS)
}

fn imported(value: &Value, ty: Resource) -> Result<&AnyUserData, Mismatch> {
    match value {
        Value::UserData(ud) => match ud.borrow::<ImportedHandle>() {
            Ok(handle) if handle.ty == ty => Ok(ud),
            Ok(handle) => Err(format!(
                "expected a {}, found a {}",
                ty.name(),
                handle.ty.name()
            )),
            Err(_) => Err(format!(
                "expected a {}, found {}",
                ty.name(),
                describe(value)
            )),
        },
        _ => Err(format!(
            "expected a {}, found {}",
            ty.name(),
            describe(value)
        )),
    }
}

fn live_handle(ud: &AnyUserData, ty: Resource) -> Result<u32, Mismatch> {
    let handle = ud.borrow::<ImportedHandle>().map_err(|e| e.to_string())?;
    handle
        .handle
        .get()
        .ok_or_else(|| format!("this {} was already dropped or moved", ty.name()))
}

pub fn check_own(value: &Value, ty: Resource) -> Result<(), Mismatch> {
    if ty.is_exported() {
        return match value {
            Value::Nil => Err(format!("expected a {} object, found nil", ty.name())),
            _ => Ok(()),
        };
    }
    let ud = imported(value, ty)?;
    if !ud
        .borrow::<ImportedHandle>()
        .map_err(|e| e.to_string())?
        .owned
    {
        return Err(format!(
            "a borrowed {} cannot be passed as owned",
            ty.name()
        ));
    }
    live_handle(ud, ty).map(drop)
}

pub fn check_borrow(value: &Value, ty: Resource) -> Result<(), Mismatch> {
    if ty.is_exported() {
        return Err(format!(
            "passing this component's own {} as a borrow is not supported",
            ty.name()
        ));
    }
    live_handle(imported(value, ty)?, ty).map(drop)
}

/// Lowers `own<ty>`: moves the handle out of an imported handle, or gives an
/// object of an exported resource a rep and a handle.
pub fn own_handle(lua: &Lua, value: Value, ty: Resource) -> Result<u32, Mismatch> {
    check_own(&value, ty)?;
    if ty.is_exported() {
        let next = lua.app_data_ref::<NextRep>().expect("installed");
        let rep = next.0.get();
        next.0.set(rep + 1);
        objects(lua)
            .and_then(|o| o.raw_set(rep, value))
            .map_err(|e| e.to_string())?;
        return Ok(ty
            .new_handle(rep)
            .expect("exported resources have resource.new"));
    }
    let ud = imported(&value, ty)?;
    let handle = ud.borrow::<ImportedHandle>().map_err(|e| e.to_string())?;
    handle
        .handle
        .take()
        .ok_or_else(|| format!("this {} was already dropped or moved", ty.name()))
}

/// Lowers `borrow<ty>` of an imported resource: its handle, which stays owned.
pub fn borrow_handle(value: &Value, ty: Resource) -> Result<u32, Mismatch> {
    check_borrow(value, ty)?;
    live_handle(imported(value, ty)?, ty)
}

/// Lifts `own<ty>`.
pub fn lift_own(lua: &Lua, ty: Resource, handle: u32) -> mlua::Result<Value> {
    if let Some(rep) = ty.rep(handle) {
        // One of our own objects came back: we no longer need a handle to it.
        let object = objects(lua)?.raw_get::<Value>(rep)?;
        ty.drop_handle(handle);
        return Ok(object);
    }
    lua.create_userdata(ImportedHandle {
        ty,
        handle: Cell::new(Some(handle)),
        owned: true,
    })
    .map(Value::UserData)
}

/// Lifts `borrow<ty>`: for our own resources the glue passes the rep.
pub fn lift_borrow(lua: &Lua, ty: Resource, handle: u32) -> mlua::Result<Value> {
    if ty.is_exported() {
        return objects(lua)?.raw_get(handle as usize);
    }
    lua.create_userdata(ImportedHandle {
        ty,
        handle: Cell::new(Some(handle)),
        owned: false,
    })
    .map(Value::UserData)
}

/// The destructor of an exported resource: forget the object behind `rep`.
pub fn destroy(lua: &Lua, rep: usize) -> mlua::Result<()> {
    objects(lua)?.raw_set(rep, Value::Nil)
}
