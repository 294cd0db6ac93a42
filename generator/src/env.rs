//! The 67 functions every generated library imports from module `env`: the
//! `wit_dylib_*` entry points an interpreter exports, plus `cabi_realloc`
//! (docs/abi.md §11.1). All of them are imported, used or not, so that any
//! interpreter written for `wit_dylib.h` links with any generated library.
//!
//! They are imported first and contiguously, so the function index of
//! [`Env::X`] is simply `X as u32` (see [`Env::index`]).

use wasm_encoder::ValType;

const I32: ValType = ValType::I32;
const I64: ValType = ValType::I64;
const F32: ValType = ValType::F32;
const F64: ValType = ValType::F64;

macro_rules! env_functions {
    ($( $variant:ident = $name:literal : [$($p:expr),*] -> [$($r:expr),*], )*) => {
        /// One `env` import; the discriminant is its function index.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(dead_code, reason = "every intrinsic is imported; not all are called")]
        pub enum Env { $($variant,)* }

        /// Name and core signature of each [`Env`] import, in import order.
        pub const ENV_FUNCTIONS: &[(&str, &[ValType], &[ValType])] = &[
            $(($name, &[$($p),*], &[$($r),*]),)*
        ];
    };
}

env_functions! {
    Initialize = "wit_dylib_initialize": [I32] -> [],
    CabiRealloc = "cabi_realloc": [I32, I32, I32, I32] -> [I32],
    DeallocBytes = "wit_dylib_dealloc_bytes": [I32, I32, I32, I32, I32] -> [],
    ExportStart = "wit_dylib_export_start": [I32] -> [I32],
    ExportCall = "wit_dylib_export_call": [I32, I32] -> [],
    ExportAsyncCall = "wit_dylib_export_async_call": [I32, I32] -> [I32],
    ExportAsyncCallback = "wit_dylib_export_async_callback": [I32, I32, I32, I32] -> [I32],
    ExportFinish = "wit_dylib_export_finish": [I32, I32] -> [],
    ResourceDtor = "wit_dylib_resource_dtor": [I32, I32] -> [],
    PopU8 = "wit_dylib_pop_u8": [I32] -> [I32],
    PopU16 = "wit_dylib_pop_u16": [I32] -> [I32],
    PopU32 = "wit_dylib_pop_u32": [I32] -> [I32],
    PopU64 = "wit_dylib_pop_u64": [I32] -> [I64],
    PopS8 = "wit_dylib_pop_s8": [I32] -> [I32],
    PopS16 = "wit_dylib_pop_s16": [I32] -> [I32],
    PopS32 = "wit_dylib_pop_s32": [I32] -> [I32],
    PopS64 = "wit_dylib_pop_s64": [I32] -> [I64],
    PopBool = "wit_dylib_pop_bool": [I32] -> [I32],
    PopChar = "wit_dylib_pop_char": [I32] -> [I32],
    PopF32 = "wit_dylib_pop_f32": [I32] -> [F32],
    PopF64 = "wit_dylib_pop_f64": [I32] -> [F64],
    PopFlags = "wit_dylib_pop_flags": [I32, I32] -> [I32],
    PopEnum = "wit_dylib_pop_enum": [I32, I32] -> [I32],
    PopBorrow = "wit_dylib_pop_borrow": [I32, I32] -> [I32],
    PopOwn = "wit_dylib_pop_own": [I32, I32] -> [I32],
    PopFuture = "wit_dylib_pop_future": [I32, I32] -> [I32],
    PopStream = "wit_dylib_pop_stream": [I32, I32] -> [I32],
    PopRecord = "wit_dylib_pop_record": [I32, I32] -> [],
    PopTuple = "wit_dylib_pop_tuple": [I32, I32] -> [],
    PopVariant = "wit_dylib_pop_variant": [I32, I32] -> [I32],
    PopOption = "wit_dylib_pop_option": [I32, I32] -> [I32],
    PopResult = "wit_dylib_pop_result": [I32, I32] -> [I32],
    PopString = "wit_dylib_pop_string": [I32, I32] -> [I32],
    PopList = "wit_dylib_pop_list": [I32, I32, I32] -> [I32],
    PopListIterNext = "wit_dylib_pop_list_iter_next": [I32, I32] -> [],
    PopListIter = "wit_dylib_pop_list_iter": [I32, I32] -> [],
    PopMap = "wit_dylib_pop_map": [I32, I32] -> [I32],
    PopMapIterNext = "wit_dylib_pop_map_iter_next": [I32, I32] -> [],
    PopMapIter = "wit_dylib_pop_map_iter": [I32, I32] -> [],
    PushBool = "wit_dylib_push_bool": [I32, I32] -> [],
    PushChar = "wit_dylib_push_char": [I32, I32] -> [],
    PushU8 = "wit_dylib_push_u8": [I32, I32] -> [],
    PushS8 = "wit_dylib_push_s8": [I32, I32] -> [],
    PushU16 = "wit_dylib_push_u16": [I32, I32] -> [],
    PushS16 = "wit_dylib_push_s16": [I32, I32] -> [],
    PushU32 = "wit_dylib_push_u32": [I32, I32] -> [],
    PushS32 = "wit_dylib_push_s32": [I32, I32] -> [],
    PushU64 = "wit_dylib_push_u64": [I32, I64] -> [],
    PushS64 = "wit_dylib_push_s64": [I32, I64] -> [],
    PushF32 = "wit_dylib_push_f32": [I32, F32] -> [],
    PushF64 = "wit_dylib_push_f64": [I32, F64] -> [],
    PushString = "wit_dylib_push_string": [I32, I32, I32] -> [],
    PushRecord = "wit_dylib_push_record": [I32, I32] -> [],
    PushTuple = "wit_dylib_push_tuple": [I32, I32] -> [],
    PushFlags = "wit_dylib_push_flags": [I32, I32, I32] -> [],
    PushEnum = "wit_dylib_push_enum": [I32, I32, I32] -> [],
    PushBorrow = "wit_dylib_push_borrow": [I32, I32, I32] -> [],
    PushOwn = "wit_dylib_push_own": [I32, I32, I32] -> [],
    PushFuture = "wit_dylib_push_future": [I32, I32, I32] -> [],
    PushStream = "wit_dylib_push_stream": [I32, I32, I32] -> [],
    PushVariant = "wit_dylib_push_variant": [I32, I32, I32] -> [],
    PushOption = "wit_dylib_push_option": [I32, I32, I32] -> [],
    PushResult = "wit_dylib_push_result": [I32, I32, I32] -> [],
    PushList = "wit_dylib_push_list": [I32, I32, I32, I32] -> [I32],
    ListAppend = "wit_dylib_list_append": [I32, I32] -> [],
    PushMap = "wit_dylib_push_map": [I32, I32, I32] -> [],
    MapAppend = "wit_dylib_map_append": [I32, I32] -> [],
}

impl Env {
    /// The function index of this import (they are the module's first).
    pub fn index(self) -> u32 {
        self as u32
    }
}
