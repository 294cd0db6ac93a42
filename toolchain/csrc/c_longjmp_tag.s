# The exception tag thrown by __wasm_longjmp. Defined here, hidden, so that the
# interpreter linking libsetjmp.a defines it itself: a library that imports a
# tag cannot be pre-initialised by wasmtime-wizer, and a weak copy with default
# visibility would make the library import its own tag.
.tagtype __c_longjmp i32
.globl __c_longjmp
.hidden __c_longjmp
__c_longjmp:
