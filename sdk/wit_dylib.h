/*
 * wit_dylib.h: the C ABI between a generated "world" dynamic library and an
 * interpreter dynamic library, ABI version 3. Its full specification is
 * docs/abi.md; this header is meant to be enough to write an interpreter.
 *
 * A world library is generated from a WIT world. It holds the canonical-ABI
 * glue for every import and export of the world plus a static description of
 * the world (`wit_t`, below). An interpreter library is built once and
 * defines every function marked `WIT_DYLIB_EXPORT` below. Both are
 * shared-everything wasm32 dynamic libraries linked into one component, so
 * every pointer and `size_t` here is 32 bits wide.
 *
 * Values move between the two through a value stack that the interpreter owns.
 * The glue "pushes" to hand the interpreter a value it lifted from the
 * canonical ABI and "pops" to take a value it then lowers into the canonical
 * ABI. Each stack lives behind an opaque `void *cx` (a call context): one per
 * export call, and one per import call that the interpreter makes.
 *
 * This file is the contract of wasm-tools' `wit-dylib` 0.263 written down
 * again from its generated imports; where the C types differ from
 * wasm-tools' `wit_dylib.h`, see "Differences from wasm-tools' header" at
 * the end of this file.
 *
 * Building an interpreter written in C
 * ------------------------------------
 * `wit-dylib build --c interp.c -o interp.so` provisions the toolchain and
 * runs the line below for you. By hand, with the wasm32-wasip2 clang that
 * `cargo xtask provision` (or `wit-dylib build`) assembles in $WASI_SDK
 * (`$WIT_DYLIB_HOME/wasi-sdk`, by default `~/.cache/wit-dylib/wasi-sdk`;
 * its `bin/clang` adds `--target=wasm32-wasip2` and the wasi-libc sysroot):
 *
 *   $WASI_SDK/bin/clang -std=c11 -O2 -fPIC -shared -nostartfiles \
 *       -Wl,--skip-wit-component,--no-entry,--unresolved-symbols=import-dynamic \
 *       -I path/to/sdk -o interp.so interp.c
 *
 *   -fPIC -shared   a position-independent dynamic library (with a
 *                   `dylink.0` section). `-lc` then resolves to the
 *                   sysroot's `libc.so`: libc functions are imported from
 *                   `env` and `libc.so` is recorded as needed, not copied in.
 *   -nostartfiles   no `crt1-reactor.o`: without it the library exports a
 *                   reactor's `_initialize`. A library needs no start file;
 *                   the component's linker applies each library's
 *                   relocations and runs its constructors.
 *   --skip-wit-component  the wasip2 linker (`wasm-component-ld`) then acts
 *                   as plain `wasm-ld` and writes a core module.
 *   --no-entry      a library has no entry point.
 *   --unresolved-symbols=import-dynamic  symbols that another library of
 *                   the component defines, such as `wit_dylib_script`,
 *                   become `env` imports instead of link errors.
 *
 * wasm-ld's warnings that `-shared` and dynamic imports are "not yet
 * stable" are expected. clang hides symbols by default on wasm
 * (`-fvisibility=hidden`), so a definition is exported only because its
 * declaration here carries `WIT_DYLIB_EXPORT` (default visibility, inherited
 * by the definition): include this header in the file that defines them.
 * Check the result with `wasm-tools print interp.so | grep -E '\((import|export)'`:
 * it must export every `WIT_DYLIB_EXPORT` function (`cabi_realloc` among
 * them) and import nothing but libc, `wit_dylib_script` if it reads a
 * script, and the memory, table, `__stack_pointer`, `__memory_base`,
 * `__table_base` and `GOT.*` items of a dynamic library. An example:
 * examples/c-interpreter.
 *
 * C compiled into a Rust interpreter crate through `cc` needs only `-fPIC`;
 * cargo does the linking (`wit-dylib build`).
 *
 * In the component, link the interpreter FIRST, before `libc.so` (see
 * `cabi_realloc` below), next to the world library, the script library
 * (`wit_dylib_script`, at the end of this file) and `libc.so`.
 */

#ifndef WIT_DYLIB_ABI_H
#define WIT_DYLIB_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Marks the functions the INTERPRETER defines, so that they are exported
 * from its dynamic library even though clang hides symbols by default on
 * wasm. Define it yourself before including this header to override. */
#ifndef WIT_DYLIB_EXPORT
#if defined(__GNUC__) || defined(__clang__)
#define WIT_DYLIB_EXPORT __attribute__((visibility("default")))
#else
#define WIT_DYLIB_EXPORT
#endif
#endif

/* The value of `wit_t.version` this header describes. */
#define WIT_CURRENT_VERSION 3

/* ------------------------------------------------------------------------ */
/* Type words                                                                */
/* ------------------------------------------------------------------------ */

/// Describes one WIT type. The low 8 bits are the kind (a `WIT_TYPE_*` code);
/// the upper 24 bits index the `wit_t` array of that kind (`OWN` and `BORROW`
/// index `resources`). Scalars and strings have index 0. "No type" (a
/// function without a result, a case without a payload) is the whole word
/// 0xffffffff, whose kind is `WIT_TYPE_EMPTY`.
typedef uint32_t wit_type_t;

#define WIT_TYPE_KIND_MASK 0xff
#define WIT_TYPE_INDEX_SHIFT 8
#define WIT_TYPE_KIND(ty) ((ty) & WIT_TYPE_KIND_MASK)
#define WIT_TYPE_INDEX(ty) ((ty) >> WIT_TYPE_INDEX_SHIFT)
#define WIT_TYPE_IS_EMPTY(ty) (WIT_TYPE_KIND(ty) == WIT_TYPE_EMPTY)

#define WIT_TYPE_U8 0
#define WIT_TYPE_U16 1
#define WIT_TYPE_U32 2
#define WIT_TYPE_U64 3
#define WIT_TYPE_S8 4
#define WIT_TYPE_S16 5
#define WIT_TYPE_S32 6
#define WIT_TYPE_S64 7
#define WIT_TYPE_BOOL 8
#define WIT_TYPE_CHAR 9
#define WIT_TYPE_F32 10
#define WIT_TYPE_F64 11
#define WIT_TYPE_STRING 12
#define WIT_TYPE_ERROR_CONTEXT 13
#define WIT_TYPE_RECORD 14
#define WIT_TYPE_OWN 15
#define WIT_TYPE_BORROW 16
#define WIT_TYPE_FLAGS 17
#define WIT_TYPE_TUPLE 18
#define WIT_TYPE_VARIANT 19
#define WIT_TYPE_ENUM 20
#define WIT_TYPE_OPTION 21
#define WIT_TYPE_RESULT 22
#define WIT_TYPE_LIST 23
#define WIT_TYPE_MAP 24
#define WIT_TYPE_FIXED_LENGTH_LIST 25
#define WIT_TYPE_FUTURE 26
#define WIT_TYPE_STREAM 27
#define WIT_TYPE_ALIAS 28
#define WIT_TYPE_EMPTY 0xff

/* ------------------------------------------------------------------------ */
/* Metadata                                                                  */
/*                                                                           */
/* Everything below is a static data segment of the world library: it is    */
/* valid for the whole life of the program and must never be written or     */
/* freed. Every `interface` field is the WIT interface name such as         */
/* "a:b/x@1.0.0" (or the plain import name of an unnamed interface), or     */
/* NULL for items of the world itself. Names are raw WIT names, for example */
/* "[method]r.frob". Every (count, pointer) pair is (0, NULL) when empty.    */
/* ------------------------------------------------------------------------ */

/// Calls a sync import: pops its arguments from `cx` and pushes its result.
typedef void (*wit_import_fn_t)(void *cx);
/// Starts an async import: pops its arguments from `cx` and returns the raw
/// canonical-ABI status (`status & 0xf` is the state: 0 starting,
/// 1 started, 2 returned; `status >> 4` is the subtask handle).
typedef uint32_t (*wit_import_async_fn_t)(void *cx, void *abi_area);
/// Pushes the result of a finished async import from `abi_area` onto `cx`.
typedef void (*wit_import_async_lift_fn_t)(void *cx, void *abi_area);
/// Completes an async export: pops its result from `cx`.
typedef void (*wit_export_task_return_fn_t)(void *cx);

/// A function imported by the world (called by the interpreter).
typedef struct wit_import_func {
    const char *interface;
    const char *name;
    /// Set for sync imports, NULL for async ones. To call it, push the
    /// arguments in reverse so that the first one ends up on top, call
    /// `impl(cx)`, then pop the result (if any) from the top. Keep `cx`
    /// alive until the call has returned (see the ownership notes below).
    wit_import_fn_t impl;
    /// Set for async imports, NULL for sync ones. Arguments are pushed as
    /// for `impl`. `abi_area` must point to `async_abi_area_size` bytes
    /// aligned to `async_abi_area_align`; keep it and `cx` alive until the
    /// subtask has returned. Never allocate a zero-size area through an
    /// allocator that rejects size 0.
    wit_import_async_fn_t async_impl;
    /// Once the subtask has returned, call it with the same area to push the
    /// result onto `cx` (it pushes nothing for a function without one). Our
    /// generator sets it for every async import; wasm-tools' 0.263 only for
    /// those with a result (NULL otherwise).
    wit_import_async_lift_fn_t async_lift_impl;
    size_t nparams;
    const wit_type_t *params;
    /// `WIT_TYPE_EMPTY` kind when the function returns nothing.
    wit_type_t result;
    /// Both 0 for sync imports.
    size_t async_abi_area_size;
    size_t async_abi_area_align;
} wit_import_func_t;

/// A function exported by the world (implemented by the interpreter). Its
/// position in `wit_t.export_funcs` is the `which` passed to the
/// `wit_dylib_export_*` entry points; world-level exports come first.
typedef struct wit_export_func {
    const char *interface;
    const char *name;
    /// Set for async exports only: push the result onto a call context and
    /// call this to deliver it (the canonical `task.return`).
    wit_export_task_return_fn_t task_return;
    size_t nparams;
    const wit_type_t *params;
    /// `WIT_TYPE_EMPTY` kind when the function returns nothing.
    wit_type_t result;
} wit_export_func_t;

/// Drops a handle (`[resource-drop]`).
typedef void (*wit_resource_drop_t)(uint32_t handle);
/// Creates an owned handle for a representation (`[resource-new]`).
typedef uint32_t (*wit_resource_new_t)(size_t rep);
/// Returns the representation behind a handle (`[resource-rep]`).
typedef size_t (*wit_resource_rep_t)(uint32_t handle);

/// A resource type. Imported resources come first, then exported ones; an
/// interface both imported and exported has an entry in each group.
typedef struct wit_resource {
    const char *interface;
    const char *name;
    wit_resource_drop_t drop;
    /// NULL for imported resources. Non-NULL means the component defines
    /// this resource, which also means borrows of it arrive as reps.
    wit_resource_new_t new;
    /// NULL for imported resources.
    wit_resource_rep_t rep;
} wit_resource_t;

typedef struct wit_field {
    const char *name;
    wit_type_t ty;
} wit_field_t;

typedef struct wit_record {
    const char *interface;
    const char *name;
    size_t nfields;
    const wit_field_t *fields;
} wit_record_t;

typedef struct wit_flags {
    const char *interface;
    const char *name;
    /// Flag `i` is bit `i` of the value.
    size_t nnames;
    const char *const *names;
} wit_flags_t;

typedef struct wit_tuple {
    const char *interface;
    /// NULL unless the tuple is a named type.
    const char *name;
    size_t ntypes;
    const wit_type_t *types;
} wit_tuple_t;

typedef struct wit_case {
    const char *name;
    /// `WIT_TYPE_EMPTY` kind when the case has no payload.
    wit_type_t ty;
} wit_case_t;

typedef struct wit_variant {
    const char *interface;
    const char *name;
    size_t ncases;
    const wit_case_t *cases;
} wit_variant_t;

typedef struct wit_enum {
    const char *interface;
    const char *name;
    size_t nnames;
    const char *const *names;
} wit_enum_t;

/// Discriminant 0 is `none`, 1 is `some`.
typedef struct wit_option {
    const char *interface;
    /// NULL unless named.
    const char *name;
    wit_type_t ty;
} wit_option_t;

/// Discriminant 0 is `ok`, 1 is `err`.
typedef struct wit_result {
    const char *interface;
    /// NULL unless named.
    const char *name;
    /// `WIT_TYPE_EMPTY` kind when that side has no payload.
    wit_type_t ok;
    wit_type_t err;
} wit_result_t;

typedef struct wit_list {
    const char *interface;
    /// NULL unless named.
    const char *name;
    wit_type_t ty;
} wit_list_t;

typedef struct wit_map {
    const char *interface;
    /// NULL unless named.
    const char *name;
    wit_type_t key_type;
    wit_type_t value_type;
} wit_map_t;

/// `list<T, N>`. No function below takes one: its values cross as a tuple of
/// `size` elements of `ty`, through `push_tuple`/`pop_tuple` with a tuple
/// entry (unnamed) that the world library adds for it. wasm-tools' generator
/// describes the type but cannot pass its values.
typedef struct wit_fixed_length_list {
    const char *interface;
    /// NULL unless named.
    const char *name;
    /// The number of elements.
    size_t size;
    wit_type_t ty;
} wit_fixed_length_list_t;

/// Pushes one payload element, read from `buffer`, onto `cx`.
typedef void (*wit_lift_fn_t)(void *cx, const void *buffer);
/// Pops one payload element from `cx` and writes it to `buffer`. Buffers it
/// allocates are released through `wit_dylib_dealloc_bytes(defer)` on `cx`.
typedef void (*wit_lower_fn_t)(void *cx, void *buffer);

/// Returns a new pair of ends: readable in the low 32 bits, writable in the
/// high 32 bits.
typedef uint64_t (*wit_future_new_fn_t)(void);
typedef uint32_t (*wit_future_read_fn_t)(uint32_t future, void *buffer);
typedef uint32_t (*wit_future_write_fn_t)(uint32_t future, const void *buffer);
typedef uint32_t (*wit_future_cancel_read_fn_t)(uint32_t future);
typedef uint32_t (*wit_future_cancel_write_fn_t)(uint32_t future);
typedef void (*wit_future_drop_readable_fn_t)(uint32_t future);
typedef void (*wit_future_drop_writable_fn_t)(uint32_t future);

/// A `future<T>` type with its canonical built-ins. `read`/`write` are the
/// async-lowered built-ins and return the raw status code; the cancel
/// functions are the sync ones.
typedef struct wit_future {
    const char *interface;
    /// NULL unless named.
    const char *name;
    /// `WIT_TYPE_EMPTY` kind for a payload-less `future`.
    wit_type_t ty;
    wit_future_new_fn_t new;
    wit_future_read_fn_t read;
    wit_future_write_fn_t write;
    wit_future_cancel_read_fn_t cancel_read;
    wit_future_cancel_write_fn_t cancel_write;
    wit_future_drop_readable_fn_t drop_readable;
    wit_future_drop_writable_fn_t drop_writable;
    /// NULL when there is no payload.
    wit_lift_fn_t lift;
    /// NULL when there is no payload.
    wit_lower_fn_t lower;
    /// Canonical size and alignment of one payload (0 and 1 without one).
    size_t abi_payload_size;
    size_t abi_payload_align;
} wit_future_t;

/// Same pairing as for futures.
typedef uint64_t (*wit_stream_new_fn_t)(void);
typedef uint32_t (*wit_stream_read_fn_t)(uint32_t stream, void *buffer, size_t count);
typedef uint32_t (*wit_stream_write_fn_t)(uint32_t stream, const void *buffer, size_t count);
typedef uint32_t (*wit_stream_cancel_read_fn_t)(uint32_t stream);
typedef uint32_t (*wit_stream_cancel_write_fn_t)(uint32_t stream);
typedef void (*wit_stream_drop_readable_fn_t)(uint32_t stream);
typedef void (*wit_stream_drop_writable_fn_t)(uint32_t stream);

/// A `stream<T>` type; as `wit_future_t`, with buffers of `count` elements
/// spaced `abi_payload_size` bytes apart.
typedef struct wit_stream {
    const char *interface;
    /// NULL unless named.
    const char *name;
    /// `WIT_TYPE_EMPTY` kind for a payload-less `stream`.
    wit_type_t ty;
    wit_stream_new_fn_t new;
    wit_stream_read_fn_t read;
    wit_stream_write_fn_t write;
    wit_stream_cancel_read_fn_t cancel_read;
    wit_stream_cancel_write_fn_t cancel_write;
    wit_stream_drop_readable_fn_t drop_readable;
    wit_stream_drop_writable_fn_t drop_writable;
    /// NULL when there is no payload.
    wit_lift_fn_t lift;
    /// NULL when there is no payload.
    wit_lower_fn_t lower;
    size_t abi_payload_size;
    size_t abi_payload_align;
} wit_stream_t;

/// `type a = b`. Only type descriptors mention aliases: values of an alias
/// are pushed and popped exactly like values of the aliased type.
typedef struct wit_alias {
    const char *interface;
    const char *name;
    wit_type_t ty;
} wit_alias_t;

/// The whole world, handed over by `wit_dylib_initialize`.
typedef struct wit {
    /// `WIT_CURRENT_VERSION`; refuse anything else.
    uint32_t version;
    size_t num_import_funcs;
    const wit_import_func_t *import_funcs;
    size_t num_export_funcs;
    const wit_export_func_t *export_funcs;
    size_t num_resources;
    const wit_resource_t *resources;
    size_t num_records;
    const wit_record_t *records;
    size_t num_flags;
    const wit_flags_t *flags;
    size_t num_tuples;
    const wit_tuple_t *tuples;
    size_t num_variants;
    const wit_variant_t *variants;
    size_t num_enums;
    const wit_enum_t *enums;
    size_t num_options;
    const wit_option_t *options;
    size_t num_results;
    const wit_result_t *results;
    size_t num_lists;
    const wit_list_t *lists;
    size_t num_maps;
    const wit_map_t *maps;
    size_t num_fixed_length_lists;
    const wit_fixed_length_list_t *fixed_length_lists;
    size_t num_futures;
    const wit_future_t *futures;
    size_t num_streams;
    const wit_stream_t *streams;
    size_t num_aliases;
    const wit_alias_t *aliases;
} wit_t;

/* ------------------------------------------------------------------------ */
/* Functions the interpreter defines                                         */
/*                                                                           */
/* The world library imports all of these from module `env`, used or not,  */
/* so an interpreter must define every one of them.                          */
/*                                                                           */
/* A `ty` argument is an index into the `wit_t` array of the kind named by */
/* the function (`resources` for own/borrow), not a `wit_type_t`.            */
/*                                                                           */
/* Argument types: every value arrives as a wasm i32/i64/f32/f64. Values   */
/* the glue hands over unchecked from memory or from another component      */
/* (bool, char, the `defer` flag) are declared `uint32_t` so that an         */
/* implementation receives the raw word and validates it itself, instead of */
/* a `bool` or a Rust `char` whose invalid bit patterns are undefined        */
/* behaviour. Return types state what the interpreter promises to produce.  */
/*                                                                           */
/* Ownership in one place:                                                   */
/* - A call context is created by `wit_dylib_export_start` and destroyed by */
/*   `wit_dylib_export_finish` (sync exports) or by the interpreter after   */
/*   `task_return` (async exports). For imports the interpreter creates the */
/*   context and destroys it once the import (for async, the subtask) has   */
/*   finished.                                                              */
/* - Destroying a context frees its deferred buffers (`dealloc_bytes` with  */
/*   `defer`) and ends the loan of memory handed out by `pop_string` and by */
/*   the `pop_list` fast path; until then that memory must not move or be   */
/*   freed, because the canonical ABI reads it after the pop returned.      */
/* - Buffers passed to `push_string`, and to `push_list` when it returns    */
/*   true, become the interpreter's; it frees them with its own allocator  */
/*   (they came from its `cabi_realloc`). A zero-length buffer came from a  */
/*   zero-size `cabi_realloc` request, which owns no memory: do not free it */
/*   (see `cabi_realloc`).                                                  */
/* - Handles pushed by `push_own`, `push_future`, `push_stream` become the  */
/*   interpreter's to drop; handles returned by `pop_own` and friends move  */
/*   to the canonical ABI.                                                  */
/* ------------------------------------------------------------------------ */

/// Receives the world's description. Called once, from the world library's
/// constructors; `wit` stays valid for the rest of the program.
WIT_DYLIB_EXPORT void wit_dylib_initialize(const wit_t *wit);

/// The canonical-ABI allocator of the whole component, also re-exported by
/// the world library: the glue and the host allocate with it every buffer
/// they hand over (strings, lists, results of imports). It grows, shrinks
/// and allocates (`old_ptr` NULL or `old_size` 0) blocks of `align`-aligned
/// memory. It must never return NULL (the glue and the host do not check):
/// abort (trap) when memory runs out.
///
/// Link order decides whose `cabi_realloc` this is: both libcs, the full
/// wasi-libc `libc.so` and the trimmed one `cargo xtask provision` builds,
/// export one too (`realloc` over their `malloc`), and the component linker
/// binds the symbol to the first library that defines it. Link the
/// interpreter before `libc.so` (our pipeline links it first); otherwise
/// the buffers it receives come from libc's allocator, which an interpreter
/// with an allocator of its own would then free with the wrong one.
///
/// Zero-size requests (`new_size == 0`): free `old_ptr` if it is a real block
/// (`old_size != 0`) and return a non-NULL address that is a multiple of
/// `align` and owns no memory. Our SDK returns `(void *)align`, as does
/// wasi-libc's. Such an address comes back to the interpreter only with a
/// size or length of 0 (`push_string`, `push_list`, `dealloc_bytes`, or here
/// as `old_ptr` with `old_size` 0) and must never be freed: read "size 0"
/// as "nothing to free", and a request with `old_size` 0 as a fresh
/// allocation whatever `old_ptr` is. The SDK's `dealloc_bytes` ignores size
/// 0, and it drops empty strings and lists without freeing their pointer.
WIT_DYLIB_EXPORT void *cabi_realloc(void *old_ptr, size_t old_size, size_t align, size_t new_size);

/// Releases `size` bytes at `ptr` that were allocated with `cabi_realloc`
/// and `align`. `defer == 0`: free them now. Any other value: free them when
/// `cx` is destroyed, because the canonical ABI may still read them. With
/// `size` 0 there is nothing to free (see `cabi_realloc`).
WIT_DYLIB_EXPORT void wit_dylib_dealloc_bytes(void *cx, void *ptr, size_t size, size_t align, uint32_t defer);

/* Exports. Arguments are pushed first to last, so the LAST one is on top   */
/* (the reverse of imports, where the first argument must be on top).       */

/// Creates the call context for export `which`.
WIT_DYLIB_EXPORT void *wit_dylib_export_start(size_t which);
/// Runs sync export `which`: pop every argument, push the result (if any).
WIT_DYLIB_EXPORT void wit_dylib_export_call(void *cx, size_t which);
/// Starts async export `which` with the arguments on `cx`, and takes
/// ownership of `cx`. Returns a canonical-ABI callback code. Not declared in
/// wasm-tools' header, but imported by every world library.
WIT_DYLIB_EXPORT uint32_t wit_dylib_export_async_call(void *cx, size_t which);
/// Delivers an event to async export `which` (the canonical `callback`):
/// event code, waitable, payload. Returns a callback code. Not declared in
/// wasm-tools' header either.
WIT_DYLIB_EXPORT uint32_t wit_dylib_export_async_callback(uint32_t event0, uint32_t event1, uint32_t event2, size_t which);
/// Called once the result of sync export `which` has been read, in its
/// post-return or, for an export without one, just before it returns
/// (docs/abi.md §6.1): destroy `cx`.
WIT_DYLIB_EXPORT void wit_dylib_export_finish(void *cx, size_t which);
/// The last handle to a resource exported by the component is gone: release
/// representation `rep` of `resources[ty]`.
WIT_DYLIB_EXPORT void wit_dylib_resource_dtor(size_t ty, size_t rep);

/* Pops: take the top value off the stack and return it in canonical form. */

WIT_DYLIB_EXPORT uint8_t wit_dylib_pop_u8(void *cx);
WIT_DYLIB_EXPORT uint16_t wit_dylib_pop_u16(void *cx);
WIT_DYLIB_EXPORT uint32_t wit_dylib_pop_u32(void *cx);
WIT_DYLIB_EXPORT uint64_t wit_dylib_pop_u64(void *cx);
WIT_DYLIB_EXPORT int8_t wit_dylib_pop_s8(void *cx);
WIT_DYLIB_EXPORT int16_t wit_dylib_pop_s16(void *cx);
WIT_DYLIB_EXPORT int32_t wit_dylib_pop_s32(void *cx);
WIT_DYLIB_EXPORT int64_t wit_dylib_pop_s64(void *cx);
WIT_DYLIB_EXPORT bool wit_dylib_pop_bool(void *cx);
/// Must return a Unicode scalar value.
WIT_DYLIB_EXPORT uint32_t wit_dylib_pop_char(void *cx);
WIT_DYLIB_EXPORT float wit_dylib_pop_f32(void *cx);
WIT_DYLIB_EXPORT double wit_dylib_pop_f64(void *cx);
/// Bit `i` set means flag `i` is set.
WIT_DYLIB_EXPORT uint32_t wit_dylib_pop_flags(void *cx, size_t ty);
/// Returns the case index.
WIT_DYLIB_EXPORT uint32_t wit_dylib_pop_enum(void *cx, size_t ty);
/// Returns a handle; the value keeps it (a borrow is lent, not moved).
WIT_DYLIB_EXPORT uint32_t wit_dylib_pop_borrow(void *cx, size_t ty);
/// Returns an owned handle, which moves to the canonical ABI. For a resource
/// the component defines, make it with `wit_resource_t.new`.
WIT_DYLIB_EXPORT uint32_t wit_dylib_pop_own(void *cx, size_t ty);
WIT_DYLIB_EXPORT uint32_t wit_dylib_pop_future(void *cx, size_t ty);
WIT_DYLIB_EXPORT uint32_t wit_dylib_pop_stream(void *cx, size_t ty);
/// Replaces the record on top with its fields, pushed last to first so that
/// the FIRST field ends up on top.
WIT_DYLIB_EXPORT void wit_dylib_pop_record(void *cx, size_t ty);
/// As `wit_dylib_pop_record`, for tuples.
WIT_DYLIB_EXPORT void wit_dylib_pop_tuple(void *cx, size_t ty);
/// Pops the value, pushes its payload only if its case has one, and returns
/// the case index.
WIT_DYLIB_EXPORT uint32_t wit_dylib_pop_variant(void *cx, size_t ty);
/// As `wit_dylib_pop_variant`: 0 none, 1 some (with the payload pushed).
/// Return exactly 0 or 1: our glue traps on any other value (wasm-tools'
/// reads any nonzero value as 1).
WIT_DYLIB_EXPORT uint32_t wit_dylib_pop_option(void *cx, size_t ty);
/// As `wit_dylib_pop_variant`: 0 ok, 1 err; the payload is pushed when that
/// side has a type. Return exactly 0 or 1, as for options.
WIT_DYLIB_EXPORT uint32_t wit_dylib_pop_result(void *cx, size_t ty);
/// Pops a string: stores a pointer to its UTF-8 bytes (not NUL-terminated,
/// hence `uint8_t`) in `*bytes_out` and returns their length. The bytes stay
/// owned by the interpreter and must stay put until `cx` is destroyed.
WIT_DYLIB_EXPORT size_t wit_dylib_pop_string(void *cx, const uint8_t **bytes_out);
/// Pops a list and returns its length. Either store a pointer to the
/// elements already in canonical layout in `*elems_out` (the fast path; the
/// memory is lent until `cx` is destroyed), or store NULL and push an
/// iterator over the elements.
WIT_DYLIB_EXPORT size_t wit_dylib_pop_list(void *cx, size_t ty, const void **elems_out);
/// With a list iterator on top: push the next element above it. Called
/// exactly once per element.
WIT_DYLIB_EXPORT void wit_dylib_pop_list_iter_next(void *cx, size_t ty);
/// Pops the exhausted list iterator.
WIT_DYLIB_EXPORT void wit_dylib_pop_list_iter(void *cx, size_t ty);
/// Pops a map, pushes an iterator over its entries and returns the entry
/// count. (wasm-tools' header says `void`; the glue uses the length.)
WIT_DYLIB_EXPORT size_t wit_dylib_pop_map(void *cx, size_t ty);
/// With a map iterator on top: push the next entry's value, then its key,
/// so that the KEY is on top.
WIT_DYLIB_EXPORT void wit_dylib_pop_map_iter_next(void *cx, size_t ty);
/// Pops the exhausted map iterator.
WIT_DYLIB_EXPORT void wit_dylib_pop_map_iter(void *cx, size_t ty);

/* Pushes: take a value lifted from the canonical ABI. Iterators are used  */
/* in strictly nested order, so they may live on a side stack.             */

/// `val` is the raw byte or word: any nonzero value means true.
WIT_DYLIB_EXPORT void wit_dylib_push_bool(void *cx, uint32_t val);
/// `val` is unchecked: it may not be a Unicode scalar value.
WIT_DYLIB_EXPORT void wit_dylib_push_char(void *cx, uint32_t val);
/// Narrow integers arrive as a whole wasm i32: like the canonical ABI, an
/// interpreter keeps the low 8 or 16 bits rather than trusting the glue to
/// have extended them.
WIT_DYLIB_EXPORT void wit_dylib_push_u8(void *cx, uint32_t val);
WIT_DYLIB_EXPORT void wit_dylib_push_s8(void *cx, int32_t val);
WIT_DYLIB_EXPORT void wit_dylib_push_u16(void *cx, uint32_t val);
WIT_DYLIB_EXPORT void wit_dylib_push_s16(void *cx, int32_t val);
WIT_DYLIB_EXPORT void wit_dylib_push_u32(void *cx, uint32_t val);
WIT_DYLIB_EXPORT void wit_dylib_push_s32(void *cx, int32_t val);
WIT_DYLIB_EXPORT void wit_dylib_push_u64(void *cx, uint64_t val);
WIT_DYLIB_EXPORT void wit_dylib_push_s64(void *cx, int64_t val);
WIT_DYLIB_EXPORT void wit_dylib_push_f32(void *cx, float val);
WIT_DYLIB_EXPORT void wit_dylib_push_f64(void *cx, double val);
/// Pushes a string and takes ownership of `bytes` (`len` bytes, alignment 1,
/// from `cabi_realloc`). The bytes are not validated UTF-8.
WIT_DYLIB_EXPORT void wit_dylib_push_string(void *cx, uint8_t *bytes, size_t len);
/// Pops one value per field (the LAST field is on top) and pushes the record.
WIT_DYLIB_EXPORT void wit_dylib_push_record(void *cx, size_t ty);
/// As `wit_dylib_push_record`, for tuples.
WIT_DYLIB_EXPORT void wit_dylib_push_tuple(void *cx, size_t ty);
/// `flags` is unchecked: bits beyond the flag count may be set.
WIT_DYLIB_EXPORT void wit_dylib_push_flags(void *cx, size_t ty, uint32_t flags);
/// `discr` is unchecked: it may be out of range.
WIT_DYLIB_EXPORT void wit_dylib_push_enum(void *cx, size_t ty, uint32_t discr);
/// The value is the rep when `resources[ty].new` is non-NULL (the component
/// defines the resource) and a borrowed handle otherwise. Such a handle
/// received by an export must be dropped before the export returns.
WIT_DYLIB_EXPORT void wit_dylib_push_borrow(void *cx, size_t ty, uint32_t handle_or_rep);
/// An owned handle, now the interpreter's to drop.
WIT_DYLIB_EXPORT void wit_dylib_push_own(void *cx, size_t ty, uint32_t handle);
WIT_DYLIB_EXPORT void wit_dylib_push_future(void *cx, size_t ty, uint32_t handle);
WIT_DYLIB_EXPORT void wit_dylib_push_stream(void *cx, size_t ty, uint32_t handle);
/// Pops the payload only if case `discr` has one, then pushes the variant.
WIT_DYLIB_EXPORT void wit_dylib_push_variant(void *cx, size_t ty, uint32_t discr);
/// As `wit_dylib_push_variant`: 0 none, 1 some.
WIT_DYLIB_EXPORT void wit_dylib_push_option(void *cx, size_t ty, uint32_t discr);
/// As `wit_dylib_push_variant`: 0 ok, 1 err.
WIT_DYLIB_EXPORT void wit_dylib_push_result(void *cx, size_t ty, uint32_t discr);
/// Offers `len` elements in canonical layout at `elems` (from
/// `cabi_realloc`). Returning true pushes a list that owns `elems`.
/// Returning false pushes an empty list with room for `len` elements; the
/// glue then pushes each element and calls `wit_dylib_list_append`, and
/// frees `elems` itself afterwards.
WIT_DYLIB_EXPORT bool wit_dylib_push_list(void *cx, size_t ty, void *elems, size_t len);
/// Pops an element and appends it to the list now on top.
WIT_DYLIB_EXPORT void wit_dylib_list_append(void *cx, size_t ty);
/// Pushes an empty map with room for `len` entries; the glue then pushes a
/// key and a value per entry and calls `wit_dylib_map_append`. Returns
/// nothing (wasm-tools' header says `bool`).
WIT_DYLIB_EXPORT void wit_dylib_push_map(void *cx, size_t ty, size_t len);
/// Pops a value, then a key, and inserts them into the map now on top.
WIT_DYLIB_EXPORT void wit_dylib_map_append(void *cx, size_t ty);

/* ------------------------------------------------------------------------ */
/* Error-context values (an extension; not in wasm-tools' header)          */
/* ------------------------------------------------------------------------ */
/* Only a world library whose functions pass `error-context` values imports */
/* the three functions below; libraries for other worlds import exactly the */
/* functions above, so an interpreter that does not define these still     */
/* links with them.                                                         */
/*                                                                          */
/* Passing an error-context copies the handle: the receiving component gets */
/* a handle of its own and the sender still holds (and must drop) its one.  */
/* - A handle pushed by `push_error_context` is the interpreter's to drop.  */
/* - A handle returned by `pop_error_context` stays the interpreter's too.  */
/* ------------------------------------------------------------------------ */

/// `error-context.new`: a new error-context with the UTF-8 debug message
/// `message` (`len` bytes; the built-in traps on invalid UTF-8). Returns its
/// handle.
typedef uint32_t (*wit_error_context_new_fn_t)(const uint8_t *message, size_t len);
/// `error-context.debug-message`: stores a pointer to the UTF-8 message and
/// its length at `ret[0]` and `ret[1]`. The bytes come from `cabi_realloc`
/// and become the caller's.
typedef void (*wit_error_context_debug_message_fn_t)(uint32_t handle, size_t *ret);
/// `error-context.drop`.
typedef void (*wit_error_context_drop_fn_t)(uint32_t handle);

/// Hands the interpreter the world library's error-context built-ins; called
/// from the world library's constructors, before `wit_dylib_initialize`.
WIT_DYLIB_EXPORT void wit_dylib_error_context_builtins(
    wit_error_context_new_fn_t new_,
    wit_error_context_debug_message_fn_t debug_message,
    wit_error_context_drop_fn_t drop);
/// Returns the handle of the error-context on top (which the interpreter
/// keeps; see above).
WIT_DYLIB_EXPORT uint32_t wit_dylib_pop_error_context(void *cx);
/// Pushes an error-context handle, now the interpreter's to drop.
WIT_DYLIB_EXPORT void wit_dylib_push_error_context(void *cx, uint32_t handle);

/* ------------------------------------------------------------------------ */
/* The linked script (defined by the script library, called by the          */
/* interpreter)                                                             */
/* ------------------------------------------------------------------------ */
/* An interpreter whose program is chosen when the component is linked, not */
/* when the interpreter is built, reads it from a small data library that   */
/* the pipeline links next to it (`script.so`, built by the                 */
/* `wit-dylib-script-library` crate). That library defines the one function */
/* below; the interpreter imports it (from `env`, hence no                  */
/* `WIT_DYLIB_EXPORT` and `--unresolved-symbols=import-dynamic` at link     */
/* time). An interpreter that never calls it does not import it and links   */
/* without a script library; one that does fails to link without one.      */
/* ------------------------------------------------------------------------ */

/// Stores the length in bytes of the script blob in `*len` and returns its
/// address. The blob belongs to the script library: valid for the whole
/// program, or until `wit_dylib_script_release` (it may be called from
/// `wit_dylib_initialize`), never to be written or freed. It is laid out as
///   name length: 4 bytes, unsigned little-endian (`n`);
///   name: `n` bytes of UTF-8, the script's file name, for messages;
///   source: the remaining `*len - 4 - n` bytes, exactly as linked (not
///   NUL-terminated, and not checked to be UTF-8).
const uint8_t *wit_dylib_script(size_t *len);

/// Says the interpreter is done with the blob (it compiled the script into
/// data of its own): nothing may read it, and `wit_dylib_script` must not be
/// called, afterwards. With pre-initialisation the library clears the blob
/// before the snapshot, so that the component does not ship the source;
/// otherwise it does nothing. Optional: an interpreter that never calls it
/// keeps its blob.
void wit_dylib_script_release(void);

/* ------------------------------------------------------------------------ */
/* Differences from wasm-tools' header                                      */
/* ------------------------------------------------------------------------ */
/* wasm-tools' `wit-dylib` 0.263 ships its own `wit_dylib.h`. Both headers  */
/* describe the same wasm functions, and but for `pop_map` and `push_map`   */
/* each has the same wasm signature (i32, i64, f32, f64) under either       */
/* header. Those two differ in their result, and there that header does not */
/* match what either generator's world library imports: an interpreter      */
/* declaring them as it does fails to link (the component linker matches   */
/* symbols by name and type). The other differences are in C source only.   */
/* In each case this header follows what the glue really passes or expects: */
/*                                                                          */
/* - `push_u8`, `push_s8`, `push_u16`, `push_s16` take `uint32_t`/`int32_t` */
/*   here, `uint8_t`/`int8_t`/`uint16_t`/`int16_t` there. clang's wasm C    */
/*   ABI has the CALLER extend a narrow argument to i32 and lets the callee */
/*   rely on it, but the glue is not C: wasm-tools' glue forwards a flat    */
/*   argument's i32 unchanged (ours extends it), and the canonical ABI only */
/*   defines its low 8 or 16 bits. Taking the whole word makes the          */
/*   interpreter truncate it itself.                                        */
/* - `push_bool` takes `uint32_t` (any nonzero value is true) and           */
/*   `dealloc_bytes` a `uint32_t defer`, where that header says `bool`:     */
/*   wasm-tools' glue passes a bool's raw byte (ours makes it 0 or 1), and  */
/*   a C `bool` holding anything else is undefined behaviour.               */
/* - `pop_string` stores a `const uint8_t *`, there a `char *`: the bytes   */
/*   are UTF-8 with an explicit length, not a NUL-terminated C string, and  */
/*   the glue only reads them. `pop_list` likewise stores a `const void *`  */
/*   (there `void *`).                                                      */
/* - `push_list` takes `void *elems`, there `uint8_t *bytes`: the buffer    */
/*   holds `len` ELEMENTS of any type in canonical layout, not `len` bytes. */
/* - `pop_map` returns the entry count (`size_t`), there `void`: the glue   */
/*   of both generators imports it with an i32 result and uses it to size   */
/*   the buffer.                                                            */
/* - `push_map` returns nothing, there `bool`: the glue of both generators  */
/*   imports it without a result (there is no fast path for maps).          */
/* - `wit_flags_t.names` and `wit_enum_t.names` are `const char *const *`,  */
/*   there `const char **`: they point into read-only static data.          */
/* - The `new` function types of futures and streams take `(void)`, there   */
/*   `()` (an unprototyped function before C23).                            */
/* - `wit_dylib_resource_dtor`'s second argument is named `rep` (there      */
/*   `handle`; same type): it is the representation the interpreter gave   */
/*   `wit_resource_t.new`, not a handle.                                    */
/* - Declared here only: `cabi_realloc`, `wit_dylib_export_async_call` and  */
/*   `wit_dylib_export_async_callback` (imported by every world library of  */
/*   either generator), the error-context extension, `wit_dylib_script`,    */
/*   `wit_dylib_script_release` and `WIT_DYLIB_EXPORT`. The include guard    */
/*   differs too (`WIT_INTERPRETER_H` there), so do not include both        */
/*   headers.                                                               */
/* ------------------------------------------------------------------------ */

#endif /* WIT_DYLIB_ABI_H */
