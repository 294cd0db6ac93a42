//! Pre-initialisation: how an interpreter supports snapshots.
//!
//! A component built with pre-initialisation (`wit-dylib-pipeline`, on by
//! default in `lua-demo`) is instantiated once at build time, in a sandbox:
//! its start-up runs there, including [`Interpreter::initialize`], which is
//! where an interpreter loads its script and runs its top level. Then
//! `wasmtime-wizer` snapshots linear memory and globals, and instances of
//! the result start from that snapshot without running start-up again.
//!
//! So an interpreter needs no special entry point: `initialize` is it (the
//! SDK exports one more, [`wit_dylib_preinit`], through which the build
//! passes what it knows about the instances to come). What an interpreter
//! must take care of is state that should differ per instance, because the
//! snapshot freezes it:
//!
//! * **Randomness.** Seeds taken during `initialize` (a language's random
//!   generator, hash seeds) are the same in every instance. Reseed from
//!   [`random_seed`] on the first call an instance serves, as the Lua
//!   interpreter does for `math.random`. Hash-table seeds may stay frozen.
//! * **Time.** The build sandbox's clocks are fixed (2000-01-01, monotonic
//!   0), so that two builds of the same inputs give the same bytes: a time
//!   read by the top level is the build's, not the instance's.
//! * **Host resources.** Nothing opened at build time exists at run time;
//!   the sandbox has no files, environment or network anyway, and imports
//!   other than WASI fail there.
//!
//! [`Interpreter::initialize`]: crate::Interpreter::initialize

use std::cell::Cell;

thread_local! {
    /// Whether the component will have no `wasi:random` when it runs.
    static NO_ENTROPY: Cell<bool> = const { Cell::new(false) };
}

/// `wit_dylib_preinit` option bit: instances will run without
/// `wasi:random` (WASI is stubbed and the world does not import it).
pub const PREINIT_NO_ENTROPY: u32 = 1;

/// Called by the build (`wit-dylib-pipeline`) once start-up has run and
/// before the snapshot is taken, with what the build knows about the
/// instances to come (`PREINIT_*` bits). Only builds that have something to
/// say call it.
#[unsafe(no_mangle)]
pub extern "C" fn wit_dylib_preinit(options: u32) {
    NO_ENTROPY.with(|n| n.set(options & PREINIT_NO_ENTROPY != 0));
}

/// 16 bytes from `wasi:random` for seeding a generator in this instance, or
/// `None` when the component has no entropy source (see the module docs).
pub fn random_seed() -> Option<[u8; 16]> {
    if NO_ENTROPY.with(Cell::get) {
        return None;
    }
    let mut seed = [0u8; 16];
    // SAFETY: `seed` is writable for its length, within getentropy's limit
    // of 256 bytes.
    match unsafe { getentropy(seed.as_mut_ptr(), seed.len()) } {
        0 => Some(seed),
        _ => panic!("wit-dylib: getentropy failed"),
    }
}

unsafe extern "C" {
    /// wasi-libc's entropy source (`wasi:random/random.get-random-bytes`).
    fn getentropy(buffer: *mut u8, len: usize) -> i32;
}
