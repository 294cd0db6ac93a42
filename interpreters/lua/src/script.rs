//! The script linked into the component.
//!
//! `lua-demo` links a small data library next to the interpreter that defines
//! `wit_dylib_lua_script`: it returns the address of a blob (and stores its
//! length) laid out as `name length: u32 LE, name, source`.

pub struct Script {
    pub name: &'static str,
    pub source: &'static [u8],
}

unsafe extern "C" {
    fn wit_dylib_lua_script(len: *mut usize) -> *const u8;
}

pub fn linked() -> Script {
    let mut len = 0usize;
    // SAFETY: the script library returns the address of a static blob of
    // `len` bytes in its data segment, valid for the program's lifetime.
    let blob: &'static [u8] = unsafe {
        let ptr = wit_dylib_lua_script(&mut len);
        std::slice::from_raw_parts(ptr, len)
    };
    let (name_len, rest) = blob.split_at(4);
    let name_len = u32::from_le_bytes(name_len.try_into().expect("4 bytes")) as usize;
    let (name, source) = rest.split_at(name_len);
    Script {
        name: std::str::from_utf8(name).unwrap_or("script.lua"),
        source,
    }
}
