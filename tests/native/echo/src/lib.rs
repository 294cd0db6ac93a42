//! The glue benchmark's native floor (`tests/benches/glue.rs`): every export
//! of the `bench` world returns its argument, as plain Rust with
//! `wit-bindgen`'s generated bindings, so that a call costs only lifting
//! and lowering in code compiled for this world.

// The generated export glue of `nested` takes the flattened record.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({
    path: "../../worlds/bench.wit",
    world: "bench",
});

struct Echo;

impl Guest for Echo {
    fn scalar(a: u32) -> u32 {
        a
    }

    fn words(l: Vec<u32>) -> Vec<u32> {
        l
    }

    fn text(s: String) -> String {
        s
    }

    fn nested(r: Rec) -> Rec {
        r
    }

    fn points(l: Vec<Point>) -> Vec<Point> {
        l
    }

    fn pairs(l: Vec<(u16, i64)>) -> Vec<(u16, i64)> {
        l
    }

    fn points_each(l: Vec<Point>) -> Vec<Point> {
        l
    }

    fn pairs_each(l: Vec<(u16, i64)>) -> Vec<(u16, i64)> {
        l
    }
}

export!(Echo);
