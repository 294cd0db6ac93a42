// setjmp/longjmp runtime for C code compiled with LLVM's wasm exception-handling
// SjLj lowering (`-mllvm -wasm-enable-sjlj`). LLVM rewrites every `setjmp` call
// into `__wasm_setjmp` and every `longjmp` into `__wasm_longjmp`; a longjmp is a
// wasm `throw` of the `__c_longjmp` tag, caught by the function that called
// setjmp, which then asks `__wasm_setjmp_test` whether the buffer is one of its own.
//
// This file is built into the static libsetjmp.a and linked into each library
// that uses setjmp (the Lua interpreter). Its symbols stay hidden (clang's
// default on wasm), so that library neither exports nor imports them.

#include <stdint.h>
#include <stdlib.h>

// What LLVM's lowering stores in a jmp_buf (wasi-libc's jmp_buf is larger).
struct jump_buffer {
    // Identifies the invocation of the function that called setjmp.
    void *invocation;
    // Which setjmp call site inside that invocation; never 0.
    uint32_t label;
    // The payload of the thrown exception: LLVM's landing pad reads the
    // buffer and the value back from this pair.
    struct {
        void *env;
        int value;
    } thrown;
};

void __wasm_setjmp(void *env, uint32_t label, void *invocation) {
    struct jump_buffer *buf = env;
    if (label == 0 || invocation == NULL) {
        abort();
    }
    buf->invocation = invocation;
    buf->label = label;
}

uint32_t __wasm_setjmp_test(void *env, void *invocation) {
    struct jump_buffer *buf = env;
    return buf->invocation == invocation ? buf->label : 0;
}

void __wasm_longjmp(void *env, int value) {
    struct jump_buffer *buf = env;
    buf->thrown.env = env;
    // longjmp(env, 0) must make setjmp return 1 (C11 7.13.2.1).
    buf->thrown.value = value == 0 ? 1 : value;
    // Tag index 1 is LLVM's C longjmp tag, `__c_longjmp`.
    __builtin_wasm_throw(1, &buf->thrown);
}
