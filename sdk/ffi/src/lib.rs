//! Raw Rust declarations of the wit_dylib C ABI, version 3.
//!
//! This crate is nothing but the output of `bindgen` run on `../wit_dylib.h`
//! (`sdk/wit_dylib.h` in this repository), committed as `src/bindings.rs`: the metadata structs a world library hands to an interpreter
//! ([`wit_t`] and everything it points to), the `WIT_TYPE_*` type codes, the function-pointer
//! types found in that metadata, `extern "C"` declarations of every function an
//! interpreter must define (`wit_dylib_*` and `cabi_realloc`), and of `wit_dylib_script`, which
//! the script library defines. The header is the documentation: it explains the stack protocol
//! and who owns which memory; its specification is `docs/abi.md`. The safe layer is
//! `wit-dylib-sdk`.
//!
//! The declarations of the interpreter's functions are for type checking: an interpreter
//! defines these symbols itself (with `#[unsafe(no_mangle)]`), it never calls them. They describe the wasm32 ABI, where
//! `usize` and pointers are 32 bits; the crate builds on any target, but the layouts only
//! match the world library's data on wasm32 (checked at compile time below).
//!
//! After editing the header, regenerate the bindings with
//! `BLESS=1 cargo test -p wit-dylib-ffi`; without `BLESS` the same test fails if the committed
//! file is stale.

#![no_std]
#![allow(non_camel_case_types, non_upper_case_globals, non_snake_case)]

#[rustfmt::skip]
mod bindings;

pub use bindings::*;

// The sizes and offsets the world library's metadata encoder uses (every field is a 32-bit word).
#[cfg(target_arch = "wasm32")]
const _: () = {
    use core::mem::{offset_of, size_of};

    assert!(size_of::<wit_type_t>() == 4);
    assert!(size_of::<wit_t>() == 132);
    assert!(offset_of!(wit_t, import_funcs) == 8);
    assert!(offset_of!(wit_t, aliases) == 128);
    assert!(size_of::<wit_import_func_t>() == 40);
    assert!(offset_of!(wit_import_func_t, params) == 24);
    assert!(offset_of!(wit_import_func_t, async_abi_area_align) == 36);
    assert!(size_of::<wit_export_func_t>() == 24);
    assert!(offset_of!(wit_export_func_t, result) == 20);
    assert!(size_of::<wit_resource_t>() == 20);
    assert!(size_of::<wit_field_t>() == 8);
    assert!(size_of::<wit_case_t>() == 8);
    assert!(size_of::<wit_record_t>() == 16);
    assert!(size_of::<wit_flags_t>() == 16);
    assert!(size_of::<wit_tuple_t>() == 16);
    assert!(size_of::<wit_variant_t>() == 16);
    assert!(size_of::<wit_enum_t>() == 16);
    assert!(size_of::<wit_option_t>() == 12);
    assert!(size_of::<wit_result_t>() == 16);
    assert!(size_of::<wit_list_t>() == 12);
    assert!(size_of::<wit_map_t>() == 16);
    assert!(size_of::<wit_fixed_length_list_t>() == 16);
    assert!(size_of::<wit_future_t>() == 56);
    assert!(offset_of!(wit_future_t, lift) == 40);
    assert!(offset_of!(wit_future_t, abi_payload_align) == 52);
    assert!(size_of::<wit_stream_t>() == 56);
    assert!(offset_of!(wit_stream_t, abi_payload_align) == 52);
    assert!(size_of::<wit_alias_t>() == 12);
};
