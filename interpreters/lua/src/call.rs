//! The call of a sync export, made on Lua's C API: what mlua's
//! `Function::call` does, less its stack guard, repeated stack checks and
//! collection of every result, and with integers passed in place (240
//! fuel less per call of `inc(u32)`, 2,300 then).
//!
//! An error reads as through mlua: a message handler adds the traceback
//! while the failed frames are still there, as mlua's does, and the errors
//! of Rust functions (userdata that mlua raised, which carry their own)
//! come back as the mlua errors they hold.

use std::ffi::{CStr, c_int};
use std::ptr;

use mlua::{Function, Lua, Value, ffi};

/// Calls `function` with `args`; returns its first result (`nil` if it
/// returned none).
pub fn call(lua: &Lua, function: &Function, args: &[Value]) -> mlua::Result<Value> {
    let nargs = c_int::try_from(args.len()).map_err(|_| mlua::Error::StackError)?;
    lua.exec_raw_lua(|raw| {
        // SAFETY: the stack is checked for the slots used (handler,
        // function, arguments) and restored to its height before returning;
        // `raw` is the state's own handle, used while locked.
        unsafe {
            let state = raw.state();
            let base = ffi::lua_gettop(state);
            if ffi::lua_checkstack(state, nargs.saturating_add(2)) == 0 {
                return Err(mlua::Error::StackError);
            }
            ffi::lua_pushcfunction(state, add_traceback);
            raw.push(function)?;
            for arg in args {
                match arg {
                    Value::Integer(n) => ffi::lua_pushinteger(state, *n),
                    value => raw.push_value(value)?,
                }
            }
            let status = ffi::lua_pcall(state, nargs, 1, base + 1);
            let result = match status {
                // An integer, the commonest small result, is read in place:
                // mlua's conversion of any value costs 150 fuel more.
                ffi::LUA_OK if ffi::lua_isinteger(state, -1) != 0 => {
                    Ok(Value::Integer(ffi::lua_tointeger(state, -1)))
                }
                ffi::LUA_OK => Ok(raw.pop_value()),
                _ => Err(error(raw.pop_value(), status)),
            };
            ffi::lua_settop(state, base);
            result
        }
    })
}

/// The message handler: the error object becomes its text followed by the
/// traceback of the failed call, except mlua's own errors (a Rust
/// function's), which carry their traceback already.
unsafe extern "C-unwind" fn add_traceback(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua calls the handler with the error object on top.
    unsafe {
        if ffi::lua_checkstack(state, 2) == 0 || is_mlua_error(state) {
            return 1;
        }
        let message = ffi::luaL_tolstring(state, -1, ptr::null_mut());
        if ffi::lua_checkstack(state, ffi::LUA_TRACEBACK_STACK) != 0 {
            ffi::luaL_traceback(state, state, message, 0);
            ffi::lua_remove(state, -2);
        }
        1
    }
}

/// Whether the value on top is an error mlua raised: userdata whose
/// metatable's `__type` is `"error"`.
///
/// # Safety
/// `state` must have a value on top and room for one more.
unsafe fn is_mlua_error(state: *mut ffi::lua_State) -> bool {
    // SAFETY: guaranteed by the caller; the field pushed is popped.
    unsafe {
        if ffi::lua_type(state, -1) != ffi::LUA_TUSERDATA
            || ffi::luaL_getmetafield(state, -1, c"__type".as_ptr()) == ffi::LUA_TNIL
        {
            return false;
        }
        let is_error = ffi::lua_type(state, -1) == ffi::LUA_TSTRING
            && CStr::from_ptr(ffi::lua_tolstring(state, -1, ptr::null_mut())) == c"error";
        ffi::lua_pop(state, 1);
        is_error
    }
}

/// The mlua error for the error object `value` of a call that ended with
/// `status`.
fn error(value: Value, status: c_int) -> mlua::Error {
    let message = match value {
        Value::Error(error) => return *error,
        Value::String(text) => text.to_string_lossy(),
        // Only if the handler had no stack left to name it.
        other => format!("(error object is a {} value)", other.type_name()),
    };
    match status {
        ffi::LUA_ERRMEM => mlua::Error::MemoryError(message),
        _ => mlua::Error::RuntimeError(message),
    }
}
