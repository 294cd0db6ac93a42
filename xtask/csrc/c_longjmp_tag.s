# The exception tag thrown by __wasm_longjmp. It is defined strongly here, in
# libsetjmp.so, so that every other library of a component imports it from this
# one; a weak copy linked into an interpreter would make the component linker
# see a library importing its own tag.
.tagtype __c_longjmp i32
.globl __c_longjmp
__c_longjmp:
