//! The [`export!`](crate::export) macro: defines every symbol a world library
//! imports from the interpreter and routes it to an [`Interpreter`](crate::Interpreter).

/// Makes `$ty` (an [`Interpreter`](crate::Interpreter)) the interpreter of this
/// dylib by defining `cabi_realloc` and every `wit_dylib_*` function.
///
/// Use it once, in the crate that builds the interpreter's `cdylib`:
///
/// ```ignore
/// wit_dylib_sdk::export!(MyVm);
/// ```
///
/// `export!(MyVm, async)` also runs async exports through
/// [`Interpreter::export_async`](crate::Interpreter::export_async) (see
/// [`task`](crate::task)); the interpreter dylib then imports the
/// component-model async built-ins, so only use it for async worlds.
#[macro_export]
macro_rules! export {
    ($ty:ty) => {
        $crate::__export!($ty; sync);
    };
    ($ty:ty, async) => {
        $crate::__export!($ty; async);
    };
}

/// The body of [`export!`]; `$mode` is `sync` or `async`.
#[doc(hidden)]
#[macro_export]
macro_rules! __export {
    ($ty:ty; $mode:ident) => {
        #[allow(unsafe_code)]
        const _: () = {
            use ::core::ffi::c_void;
            use $crate::__internal as rt;
            use rt::Call as _;

            ::std::thread_local! {
                // The interpreter lives for the rest of the program: async
                // export tasks keep a reference to it.
                static INSTANCE: ::core::cell::OnceCell<&'static $ty> = const { ::core::cell::OnceCell::new() };
            }

            fn with<R>(f: impl FnOnce(&'static $ty) -> R) -> R {
                INSTANCE.with(|cell| f(cell.get().expect("wit-dylib: interpreter used before wit_dylib_initialize")))
            }

            // SAFETY (every function below): only the world library's glue
            // calls these, with `cx` pointers the SDK gave it and buffers it
            // allocated with `cabi_realloc`, as the `rt` functions require.

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_initialize(wit: *const rt::ffi::wit_t) {
                let interp = unsafe { rt::initialize::<$ty>(wit) };
                INSTANCE.with(|cell| {
                    if cell.set(::std::boxed::Box::leak(::std::boxed::Box::new(interp))).is_err() {
                        panic!("wit-dylib: wit_dylib_initialize called twice");
                    }
                });
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn cabi_realloc(old: *mut c_void, old_size: usize, align: usize, new_size: usize) -> *mut c_void {
                unsafe { rt::cabi_realloc(old.cast(), old_size, align, new_size).cast() }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_dealloc_bytes(cx: *mut c_void, ptr: *mut c_void, size: usize, align: usize, defer: u32) {
                unsafe { rt::dealloc_bytes::<$ty>(cx, ptr.cast(), size, align, defer != 0) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_export_start(which: usize) -> *mut c_void {
                with(|i| rt::export_start(i, which))
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_export_call(cx: *mut c_void, which: usize) {
                with(|i| unsafe { rt::export_call(i, cx, which) })
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_export_finish(cx: *mut c_void, which: usize) {
                with(|i| unsafe { rt::export_finish(i, cx, which) })
            }

            $crate::__export_async_fns!($ty; $mode);

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_resource_dtor(ty: usize, rep: usize) {
                with(|i| rt::resource_dtor(i, ty, rep))
            }

            // Scalars go straight to the value stack.
            $crate::__export_stack_fns! { $ty;
                wit_dylib_pop_u8() -> u8 = pop_u8;
                wit_dylib_pop_u16() -> u16 = pop_u16;
                wit_dylib_pop_u32() -> u32 = pop_u32;
                wit_dylib_pop_u64() -> u64 = pop_u64;
                wit_dylib_pop_s8() -> i8 = pop_s8;
                wit_dylib_pop_s16() -> i16 = pop_s16;
                wit_dylib_pop_s32() -> i32 = pop_s32;
                wit_dylib_pop_s64() -> i64 = pop_s64;
                wit_dylib_pop_bool() -> bool = pop_bool;
                wit_dylib_pop_f32() -> f32 = pop_f32;
                wit_dylib_pop_f64() -> f64 = pop_f64;
                wit_dylib_push_u32(v: u32) = push_u32;
                wit_dylib_push_u64(v: u64) = push_u64;
                wit_dylib_push_s32(v: i32) = push_s32;
                wit_dylib_push_s64(v: i64) = push_s64;
                wit_dylib_push_f32(v: f32) = push_f32;
                wit_dylib_push_f64(v: f64) = push_f64;
            }

            // The glue passes small integers as i32; like the canonical ABI,
            // keep the low bits.
            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_u8(cx: *mut c_void, v: u32) {
                unsafe { rt::stack::<$ty>(cx) }.push_u8(v as u8)
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_s8(cx: *mut c_void, v: i32) {
                unsafe { rt::stack::<$ty>(cx) }.push_s8(v as i8)
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_u16(cx: *mut c_void, v: u32) {
                unsafe { rt::stack::<$ty>(cx) }.push_u16(v as u16)
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_s16(cx: *mut c_void, v: i32) {
                unsafe { rt::stack::<$ty>(cx) }.push_s16(v as i16)
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_pop_char(cx: *mut c_void) -> u32 {
                unsafe { rt::stack::<$ty>(cx) }.pop_char() as u32
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_bool(cx: *mut c_void, v: u32) {
                // Any non-zero value is `true` in the canonical ABI.
                unsafe { rt::stack::<$ty>(cx) }.push_bool(v != 0)
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_char(cx: *mut c_void, v: u32) {
                unsafe { rt::push_char::<$ty>(cx, v) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_pop_string(cx: *mut c_void, out: *mut *const u8) -> usize {
                unsafe { rt::pop_string::<$ty>(cx, out) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_string(cx: *mut c_void, ptr: *mut u8, len: usize) {
                unsafe { rt::push_string::<$ty>(cx, ptr, len) }
            }

            // Typed operations: the second argument indexes a metadata table.
            $crate::__export_typed_fns! { $ty;
                wit_dylib_pop_record(Record) = pop_record;
                wit_dylib_pop_tuple(Tuple) = pop_tuple;
                wit_dylib_pop_list_iter_next(List) = pop_list_iter_next;
                wit_dylib_pop_list_iter(List) = pop_list_iter;
                wit_dylib_pop_map(Map) -> usize = pop_map;
                wit_dylib_pop_map_iter_next(Map) = pop_map_iter_next;
                wit_dylib_pop_map_iter(Map) = pop_map_iter;
                wit_dylib_push_record(Record) = push_record;
                wit_dylib_push_tuple(Tuple) = push_tuple;
                wit_dylib_list_append(List) = list_append;
                wit_dylib_map_append(Map) = map_append;
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_pop_option(cx: *mut c_void, ty: usize) -> u32 {
                unsafe { rt::stack::<$ty>(cx) }.pop_option(rt::WitOption::at(rt::wit(), ty)) as u32
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_pop_result(cx: *mut c_void, ty: usize) -> u32 {
                unsafe { rt::stack::<$ty>(cx) }.pop_result(rt::WitResult::at(rt::wit(), ty)) as u32
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_borrow(cx: *mut c_void, ty: usize, v: u32) {
                unsafe { rt::push_borrow::<$ty>(cx, ty, v) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_own(cx: *mut c_void, ty: usize, v: u32) {
                unsafe { rt::push_own::<$ty>(cx, ty, v) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_pop_borrow(cx: *mut c_void, ty: usize) -> u32 {
                unsafe { rt::pop_borrow::<$ty>(cx, ty) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_pop_own(cx: *mut c_void, ty: usize) -> u32 {
                unsafe { rt::pop_own::<$ty>(cx, ty) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_map(cx: *mut c_void, ty: usize, len: usize) {
                unsafe { rt::stack::<$ty>(cx) }.push_map(rt::Map::at(rt::wit(), ty), len)
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_pop_flags(cx: *mut c_void, ty: usize) -> u32 {
                unsafe { rt::pop_flags::<$ty>(cx, ty) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_pop_enum(cx: *mut c_void, ty: usize) -> u32 {
                unsafe { rt::pop_enum::<$ty>(cx, ty) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_pop_variant(cx: *mut c_void, ty: usize) -> u32 {
                unsafe { rt::pop_variant::<$ty>(cx, ty) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_pop_list(cx: *mut c_void, ty: usize, out: *mut *const c_void) -> usize {
                unsafe { rt::pop_list::<$ty>(cx, ty, out.cast()) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_flags(cx: *mut c_void, ty: usize, v: u32) {
                unsafe { rt::push_flags::<$ty>(cx, ty, v) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_enum(cx: *mut c_void, ty: usize, v: u32) {
                unsafe { rt::push_enum::<$ty>(cx, ty, v) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_variant(cx: *mut c_void, ty: usize, v: u32) {
                unsafe { rt::push_variant::<$ty>(cx, ty, v) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_option(cx: *mut c_void, ty: usize, v: u32) {
                unsafe { rt::push_option::<$ty>(cx, ty, v) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_result(cx: *mut c_void, ty: usize, v: u32) {
                unsafe { rt::push_result::<$ty>(cx, ty, v) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_list(cx: *mut c_void, ty: usize, ptr: *mut c_void, len: usize) -> bool {
                unsafe { rt::push_list::<$ty>(cx, ty, ptr.cast(), len) }
            }

            // Futures and streams: ends, passed to the value stack (whose
            // default methods trap for interpreters without async support).
            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_pop_future(cx: *mut c_void, ty: usize) -> u32 {
                unsafe { rt::pop_end::<$ty>(cx, rt::Channel::Future(rt::Future::at(rt::wit(), ty))) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_pop_stream(cx: *mut c_void, ty: usize) -> u32 {
                unsafe { rt::pop_end::<$ty>(cx, rt::Channel::Stream(rt::Stream::at(rt::wit(), ty))) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_future(cx: *mut c_void, ty: usize, v: u32) {
                unsafe { rt::push_end::<$ty>(cx, rt::Channel::Future(rt::Future::at(rt::wit(), ty)), v) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_stream(cx: *mut c_void, ty: usize, v: u32) {
                unsafe { rt::push_end::<$ty>(cx, rt::Channel::Stream(rt::Stream::at(rt::wit(), ty)), v) }
            }

            // The error-context extension: only world libraries whose
            // functions pass error-contexts call these.
            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_error_context_builtins(
                new: rt::ffi::wit_error_context_new_fn_t,
                debug_message: rt::ffi::wit_error_context_debug_message_fn_t,
                drop: rt::ffi::wit_error_context_drop_fn_t,
            ) {
                $crate::error_context::register(new, debug_message, drop)
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_pop_error_context(cx: *mut c_void) -> u32 {
                unsafe { rt::pop_error_context::<$ty>(cx) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn wit_dylib_push_error_context(cx: *mut c_void, v: u32) {
                unsafe { rt::push_error_context::<$ty>(cx, v) }
            }

            // Every definition above has exactly the signature `wit_dylib.h`
            // declares: the header and the SDK cannot drift apart.
            $crate::__check_signatures! {
                wit_dylib_initialize, cabi_realloc, wit_dylib_dealloc_bytes, wit_dylib_export_start,
                wit_dylib_export_call, wit_dylib_export_async_call, wit_dylib_export_async_callback, wit_dylib_export_finish,
                wit_dylib_resource_dtor, wit_dylib_pop_u8, wit_dylib_pop_u16, wit_dylib_pop_u32,
                wit_dylib_pop_u64, wit_dylib_pop_s8, wit_dylib_pop_s16, wit_dylib_pop_s32,
                wit_dylib_pop_s64, wit_dylib_pop_bool, wit_dylib_pop_char, wit_dylib_pop_f32,
                wit_dylib_pop_f64, wit_dylib_pop_flags, wit_dylib_pop_enum, wit_dylib_pop_borrow,
                wit_dylib_pop_own, wit_dylib_pop_future, wit_dylib_pop_stream, wit_dylib_pop_record,
                wit_dylib_pop_tuple, wit_dylib_pop_variant, wit_dylib_pop_option, wit_dylib_pop_result,
                wit_dylib_pop_string, wit_dylib_pop_list, wit_dylib_pop_list_iter_next, wit_dylib_pop_list_iter,
                wit_dylib_pop_map, wit_dylib_pop_map_iter_next, wit_dylib_pop_map_iter, wit_dylib_push_bool,
                wit_dylib_push_char, wit_dylib_push_u8, wit_dylib_push_s8, wit_dylib_push_u16,
                wit_dylib_push_s16, wit_dylib_push_u32, wit_dylib_push_s32, wit_dylib_push_u64,
                wit_dylib_push_s64, wit_dylib_push_f32, wit_dylib_push_f64, wit_dylib_push_string,
                wit_dylib_push_record, wit_dylib_push_tuple, wit_dylib_push_flags, wit_dylib_push_enum,
                wit_dylib_push_borrow, wit_dylib_push_own, wit_dylib_push_future, wit_dylib_push_stream,
                wit_dylib_push_variant, wit_dylib_push_option, wit_dylib_push_result, wit_dylib_push_list,
                wit_dylib_list_append, wit_dylib_push_map, wit_dylib_map_append,
                wit_dylib_error_context_builtins, wit_dylib_pop_error_context,
                wit_dylib_push_error_context,
            }
        };
    };
}

/// Defines `wit_dylib_*` functions that forward a scalar to the value stack.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_stack_fns {
    ($interp:ty; $($symbol:ident($($arg:ident: $argty:ty)?) $(-> $ret:ty)? = $method:ident;)*) => {$(
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $symbol(cx: *mut ::core::ffi::c_void $(, $arg: $argty)?) $(-> $ret)? {
            use $crate::__internal::Call as _;
            // SAFETY: see `export!`.
            unsafe { $crate::__internal::stack::<$interp>(cx) }.$method($($arg)?)
        }
    )*};
}

/// Defines `wit_dylib_*` functions that forward a typed operation to the
/// value stack, turning the table index into a metadata handle.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_typed_fns {
    ($interp:ty; $($symbol:ident($handle:ident) $(-> $ret:ty)? = $method:ident;)*) => {$(
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $symbol(cx: *mut ::core::ffi::c_void, ty: usize) $(-> $ret)? {
            use $crate::__internal::Call as _;
            let ty = $crate::__internal::$handle::at($crate::__internal::wit(), ty);
            // SAFETY: see `export!`.
            unsafe { $crate::__internal::stack::<$interp>(cx) }.$method(ty)
        }
    )*};
}

/// Fails to compile unless each local function has the same type as the
/// declaration of the same name generated from `wit_dylib.h` (an array needs
/// one element type, which both function items must coerce to).
#[doc(hidden)]
#[macro_export]
macro_rules! __check_signatures {
    ($($symbol:ident),* $(,)?) => {
        #[allow(dead_code)]
        fn check_signatures() {
            $(let _ = [$crate::__internal::ffi::$symbol, $symbol];)*
        }
    };
}

/// The async entry points of [`export!`]: unsupported in `sync` mode (so that
/// the dylib imports no async built-in), the SDK's task driver in `async` mode.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_async_fns {
    ($ty:ty; sync) => {
        #[unsafe(no_mangle)]
        unsafe extern "C" fn wit_dylib_export_async_call(
            _cx: *mut ::core::ffi::c_void,
            _which: usize,
        ) -> u32 {
            $crate::__internal::unsupported("an async export (use `export!(T, async)`)")
        }

        #[unsafe(no_mangle)]
        unsafe extern "C" fn wit_dylib_export_async_callback(
            _e0: u32,
            _e1: u32,
            _e2: u32,
            _which: usize,
        ) -> u32 {
            $crate::__internal::unsupported("an async export (use `export!(T, async)`)")
        }
    };
    ($ty:ty; async) => {
        #[unsafe(no_mangle)]
        unsafe extern "C" fn wit_dylib_export_async_call(
            cx: *mut ::core::ffi::c_void,
            which: usize,
        ) -> u32 {
            // SAFETY: see `export!`; the glue hands over the `cx` of
            // `export_start`.
            with(|i| unsafe { $crate::__internal::export_async_call(i, cx, which) })
        }

        #[unsafe(no_mangle)]
        unsafe extern "C" fn wit_dylib_export_async_callback(
            code: u32,
            waitable: u32,
            payload: u32,
            _which: usize,
        ) -> u32 {
            // SAFETY: only the glue's `[callback]` export calls this, for a
            // task this dylib left pending.
            with(|i| unsafe {
                $crate::__internal::export_async_callback(i, code, waitable, payload)
            })
        }

        /// Called by the linker's `__wasm_task_hook` when the world library
        /// keeps its stack pointer in the task context.
        #[unsafe(no_mangle)]
        extern "C" fn wit_dylib_task_hook(code: u32) {
            $crate::__internal::task_hook(code)
        }
    };
}
