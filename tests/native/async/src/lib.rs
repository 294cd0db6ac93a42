//! The Lua benchmark's async floor (`tests/benches/lua.rs`): an async export
//! that returns its argument plus one without waiting, as plain Rust with
//! `wit-bindgen`'s generated bindings and async runtime, so that a call costs
//! what wasmtime and a minimal guest runtime spend on an async call.

wit_bindgen::generate!({
    inline: "
        package bench:native-async;
        world native-async {
            export inc-async: async func(x: u32) -> u32;
        }
    ",
});

struct Inc;

impl Guest for Inc {
    async fn inc_async(x: u32) -> u32 {
        x.wrapping_add(1)
    }
}

export!(Inc);
