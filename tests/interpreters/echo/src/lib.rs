//! The glue benchmark's interpreter (`tests/benches/glue.rs`): every export
//! returns its first argument unchanged, so that what a call costs is almost
//! all lifting and lowering in the world library. Async exports echo too,
//! without suspending, except two that move bytes through a stream:
//!
//! * `sink: async func(s: stream<u8>) -> u64` reads the stream to its end in
//!   64 KiB chunks and returns how many bytes came;
//! * `pump: async func(n: u32) -> u64` writes `n` bytes in 64 KiB chunks to
//!   a stream it passes to the imported `sink`, and returns `sink`'s result.

use wit_dylib_sdk::{
    Callee, Channel, ExportFunction, Interpreter, Resource, Task, Type, Val, ValStack, Wit,
    call_import_async, read_stream, spawn, write_stream,
};

/// Bytes per stream read or write.
const CHUNK: usize = 64 << 10;

struct Echo {
    wit: Wit,
    /// By export index: whether its lists move element by element.
    element_by_element: Vec<bool>,
}

impl Interpreter for Echo {
    type CallCx = ValStack;

    fn initialize(wit: Wit) -> Self {
        // Checked once here rather than on every call.
        for func in wit.export_funcs() {
            if matches!(func.name(), "sink" | "pump") {
                continue;
            }
            let first = func.params().next();
            assert!(
                first.is_some() && func.result() == first,
                "echo-interpreter: export `{}` must return the type of its first parameter",
                func.qualified_name()
            );
        }
        // `*-each` exports are the benchmark's baseline for the bulk path;
        // decided here, as names cost a string comparison per call.
        let element_by_element = wit
            .export_funcs()
            .map(|f| f.name().ends_with("-each"))
            .collect();
        Echo {
            wit,
            element_by_element,
        }
    }

    fn export_start(&self, func: ExportFunction) -> ValStack {
        match self.element_by_element[func.index()] {
            true => ValStack::for_export(func).element_by_element(),
            false => ValStack::for_export(func),
        }
    }

    fn export_call(&self, func: ExportFunction, cx: &mut ValStack) {
        // The first argument is the deepest: dropping the others leaves it
        // as the result, without moving it.
        for _ in 1..func.params().len() {
            cx.pop();
        }
    }

    fn export_async(&'static self, func: ExportFunction, mut cx: ValStack) -> Task<ValStack> {
        let mut args = cx.take_args(func.params().len());
        Box::pin(async move {
            let result = match func.name() {
                "sink" => self.sink(func, args.swap_remove(0)).await,
                "pump" => self.pump(func, args.swap_remove(0)).await,
                _ => args.swap_remove(0),
            };
            cx.push(result);
            cx
        })
    }

    fn resource_dtor(&self, _ty: Resource, _rep: usize) {}
}

impl Echo {
    async fn sink(&self, func: ExportFunction, stream: Val) -> Val {
        let Val::Stream(readable) = stream else {
            panic!("sink takes a stream<u8>")
        };
        let mut total = 0u64;
        loop {
            let read = read_stream(&readable, CHUNK, Callee::Export(func));
            let (bytes, progress) = read.expect("one read at a time").await;
            total += bytes.len() as u64;
            if progress.dropped {
                break;
            }
        }
        // Dropping `readable` drops the handle.
        Val::U64(total)
    }

    async fn pump(&self, func: ExportFunction, count: Val) -> Val {
        let Val::U32(count) = count else {
            panic!("pump takes a u32")
        };
        let sink = self
            .wit
            .import_funcs()
            .find(|f| f.name() == "sink")
            .expect("pump needs the `sink` import");
        let Some(Type::Stream(ty)) = sink.params().next() else {
            panic!("sink takes a stream<u8>")
        };
        let (readable, writable) = Channel::Stream(ty).new_ends();
        spawn(async move {
            let mut left = count as usize;
            while left > 0 {
                let chunk = left.min(CHUNK);
                let bytes = (0..chunk).map(|i| Val::U8(i as u8)).collect();
                let write = write_stream(&writable, bytes, Callee::Export(func));
                let progress = write.expect("one write at a time").await;
                assert!(!progress.dropped, "the sink dropped the stream");
                left -= chunk;
            }
            // Dropping `writable` drops the handle: the sink sees the end.
        });
        call_import_async(sink, vec![Val::Stream(readable)])
            .await
            .expect("sink returns a u64")
    }
}

wit_dylib_sdk::export!(Echo, async);
