//! Programs linked into the component as a data library.
//!
//! An interpreter whose program (a script) is chosen when the component is
//! linked, not when the interpreter is built, reads it with [`linked_script`].
//! The host links a small data library next to the interpreter (built by the
//! `wit-dylib-script-library` crate) that defines
//! `wit_dylib_script(len: *mut usize) -> *const u8`: it stores the length of a
//! static blob and returns its address. The blob is laid out as
//! `name length: u32 LE, name, source`. With pre-initialisation the
//! pipeline's pre-initialisation library defines it instead, over a blob it
//! fetched at build time (docs/abi.md §10.4); the contract is the same.
//! An interpreter that has compiled its script calls
//! [`release_linked_script`], so that a snapshot does not keep the source.

/// A script linked into the component.
pub struct LinkedScript {
    /// The script's file name, for messages.
    pub name: &'static str,
    /// The script's source, as linked.
    pub source: &'static [u8],
}

unsafe extern "C" {
    fn wit_dylib_script(len: *mut usize) -> *const u8;
    fn wit_dylib_script_release();
}

/// The script linked into this component. Linking fails (the symbol
/// `wit_dylib_script` is undefined) when no script library is linked.
pub fn linked_script() -> LinkedScript {
    let mut len = 0usize;
    // SAFETY: the script library returns the address of a blob of `len`
    // bytes, valid until `release_linked_script`, whose caller promises
    // not to call this again.
    let blob: &'static [u8] = unsafe {
        let ptr = wit_dylib_script(&mut len);
        std::slice::from_raw_parts(ptr, len)
    };
    let (name_len, rest) = blob.split_at(4);
    let name_len = u32::from_le_bytes(name_len.try_into().expect("4 bytes")) as usize;
    let (name, source) = rest.split_at(name_len);
    LinkedScript {
        name: std::str::from_utf8(name).unwrap_or("script"),
        source,
    }
}

/// Tells the script library that the interpreter is done with its script,
/// typically at the end of `initialize`, once the script is compiled. A
/// pre-initialised component then ships without the script's source: the
/// library clears it before the snapshot. Otherwise nothing happens.
///
/// # Safety
/// Nothing may read the [`LinkedScript`] (its `name` and `source`), or
/// anything borrowed from them, afterwards, and [`linked_script`] must not
/// be called again.
pub unsafe fn release_linked_script() {
    // SAFETY: the caller holds no part of the blob any more.
    unsafe { wit_dylib_script_release() }
}
