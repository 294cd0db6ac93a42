//! Typed, safe views of the metadata (`wit_t`) a world library describes itself
//! with: its import and export functions and every type they mention.
//!
//! The metadata is a data segment of the world library, relocated before any
//! constructor runs and never written afterwards, so every view here is a
//! `Copy` handle holding a `'static` reference. Indices and type words come
//! from the same generator as the arrays they index; a value out of range means
//! the library is corrupt, and the SDK traps with a message.

use std::ffi::{CStr, c_char};

use wit_dylib_ffi as ffi;

/// The metadata of the whole world.
#[derive(Copy, Clone)]
pub struct Wit {
    raw: &'static ffi::wit_t,
}

impl Wit {
    /// Whether `self` and `other` are the same metadata.
    pub(crate) fn is(&self, other: Wit) -> bool {
        std::ptr::eq(self.raw, other.raw)
    }
}

/// Makes a slice of a `(count, pointer)` pair of the metadata.
fn table<T>(ptr: *const T, len: usize) -> &'static [T] {
    if len == 0 {
        return &[];
    }
    // SAFETY: the world library emits `len` initialised, aligned elements at
    // `ptr` inside its static data segment, which lives for the whole program
    // and is never written after relocation (see the module docs).
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// A NUL-terminated metadata string, or `None` for NULL.
fn string(ptr: *const c_char) -> Option<&'static str> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-NULL metadata strings point at NUL-terminated bytes in the
    // world library's static data segment (see `table`).
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    Some(std::str::from_utf8(bytes).expect("wit-dylib metadata: a name is not UTF-8"))
}

/// Refuses metadata of any version but the one this SDK reads: the layout
/// of another version (older or newer) would be misread.
fn check_version(version: u32) {
    assert!(
        version == ffi::WIT_CURRENT_VERSION,
        "the world library's wit-dylib metadata is version {version}, but this interpreter's \
         SDK reads only version {}: generate the world library with a matching generator",
        ffi::WIT_CURRENT_VERSION
    );
}

impl Wit {
    /// Wraps the pointer the world library passes to `wit_dylib_initialize`.
    ///
    /// # Safety
    ///
    /// `raw` must point at a `wit_t` (and everything it points to) that stays
    /// valid and unmodified for the rest of the program, as the generated
    /// world library's metadata does.
    pub unsafe fn from_raw(raw: *const ffi::wit_t) -> Wit {
        // SAFETY: guaranteed by the caller.
        let raw = unsafe { &*raw };
        check_version(raw.version);
        Wit { raw }
    }

    /// The metadata format version (always `WIT_CURRENT_VERSION`).
    pub fn version(&self) -> u32 {
        self.raw.version
    }

    /// The functions the world imports, in the order of their `which` index.
    pub fn import_funcs(&self) -> impl ExactSizeIterator<Item = ImportFunction> + use<> {
        let wit = *self;
        (0..self.raw.num_import_funcs).map(move |index| ImportFunction { wit, index })
    }

    /// The functions the world exports: world-level ones first, then the
    /// interfaces', in the order of the `which` index the glue passes.
    pub fn export_funcs(&self) -> impl ExactSizeIterator<Item = ExportFunction> + use<> {
        let wit = *self;
        (0..self.raw.num_export_funcs).map(move |index| ExportFunction { wit, index })
    }

    /// The import function at `index`; panics if there is none.
    pub fn import_func(&self, index: usize) -> ImportFunction {
        ImportFunction::at(*self, index)
    }

    /// The export function at `index`; panics if there is none.
    pub fn export_func(&self, index: usize) -> ExportFunction {
        ExportFunction::at(*self, index)
    }

    /// Every resource type: the imported ones, then the exported ones.
    pub fn resources(&self) -> impl ExactSizeIterator<Item = Resource> + use<> {
        let wit = *self;
        (0..self.raw.num_resources).map(move |index| Resource { wit, index })
    }

    /// The resource at `index`; panics if there is none.
    pub fn resource(&self, index: usize) -> Resource {
        Resource::at(*self, index)
    }

    /// Every `future<T>` type the world uses (each has its own built-ins).
    pub fn futures(&self) -> impl ExactSizeIterator<Item = Future> + use<> {
        let wit = *self;
        (0..self.raw.num_futures).map(move |index| Future { wit, index })
    }

    /// Every `stream<T>` type the world uses (each has its own built-ins).
    pub fn streams(&self) -> impl ExactSizeIterator<Item = Stream> + use<> {
        let wit = *self;
        (0..self.raw.num_streams).map(move |index| Stream { wit, index })
    }

    /// Decodes a type word of this metadata; `None` for "no type".
    pub fn decode_type(&self, word: ffi::wit_type_t) -> Option<Type> {
        if word == u32::MAX {
            return None;
        }
        let index = (word >> 8) as usize;
        let wit = *self;
        let checked = |count: usize| {
            assert!(
                index < count,
                "wit-dylib metadata: type word {word:#x} is out of range"
            );
            index
        };
        let r = self.raw;
        Some(match word & 0xff {
            ffi::WIT_TYPE_U8 => Type::U8,
            ffi::WIT_TYPE_U16 => Type::U16,
            ffi::WIT_TYPE_U32 => Type::U32,
            ffi::WIT_TYPE_U64 => Type::U64,
            ffi::WIT_TYPE_S8 => Type::S8,
            ffi::WIT_TYPE_S16 => Type::S16,
            ffi::WIT_TYPE_S32 => Type::S32,
            ffi::WIT_TYPE_S64 => Type::S64,
            ffi::WIT_TYPE_BOOL => Type::Bool,
            ffi::WIT_TYPE_CHAR => Type::Char,
            ffi::WIT_TYPE_F32 => Type::F32,
            ffi::WIT_TYPE_F64 => Type::F64,
            ffi::WIT_TYPE_STRING => Type::String,
            ffi::WIT_TYPE_ERROR_CONTEXT => Type::ErrorContext,
            ffi::WIT_TYPE_RECORD => Type::Record(Record {
                wit,
                index: checked(r.num_records),
            }),
            ffi::WIT_TYPE_OWN => Type::Own(Resource {
                wit,
                index: checked(r.num_resources),
            }),
            ffi::WIT_TYPE_BORROW => Type::Borrow(Resource {
                wit,
                index: checked(r.num_resources),
            }),
            ffi::WIT_TYPE_FLAGS => Type::Flags(Flags {
                wit,
                index: checked(r.num_flags),
            }),
            ffi::WIT_TYPE_TUPLE => Type::Tuple(Tuple {
                wit,
                index: checked(r.num_tuples),
            }),
            ffi::WIT_TYPE_VARIANT => Type::Variant(Variant {
                wit,
                index: checked(r.num_variants),
            }),
            ffi::WIT_TYPE_ENUM => Type::Enum(Enum {
                wit,
                index: checked(r.num_enums),
            }),
            ffi::WIT_TYPE_OPTION => Type::Option(WitOption {
                wit,
                index: checked(r.num_options),
            }),
            ffi::WIT_TYPE_RESULT => Type::Result(WitResult {
                wit,
                index: checked(r.num_results),
            }),
            ffi::WIT_TYPE_LIST => Type::List(List {
                wit,
                index: checked(r.num_lists),
            }),
            ffi::WIT_TYPE_MAP => Type::Map(Map {
                wit,
                index: checked(r.num_maps),
            }),
            ffi::WIT_TYPE_FIXED_LENGTH_LIST => Type::FixedLengthList(FixedLengthList {
                wit,
                index: checked(r.num_fixed_length_lists),
            }),
            ffi::WIT_TYPE_FUTURE => Type::Future(Future {
                wit,
                index: checked(r.num_futures),
            }),
            ffi::WIT_TYPE_STREAM => Type::Stream(Stream {
                wit,
                index: checked(r.num_streams),
            }),
            ffi::WIT_TYPE_ALIAS => Type::Alias(Alias {
                wit,
                index: checked(r.num_aliases),
            }),
            kind => panic!("wit-dylib metadata: unknown type kind {kind}"),
        })
    }

    fn types(
        &self,
        ptr: *const ffi::wit_type_t,
        len: usize,
    ) -> impl ExactSizeIterator<Item = Type> + use<> {
        let wit = *self;
        table(ptr, len).iter().map(move |&word| {
            wit.decode_type(word)
                .expect("wit-dylib metadata: a listed type is empty")
        })
    }
}

/// A WIT type as the metadata describes it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Type {
    U8,
    U16,
    U32,
    U64,
    S8,
    S16,
    S32,
    S64,
    Bool,
    Char,
    F32,
    F64,
    String,
    ErrorContext,
    Record(Record),
    Own(Resource),
    Borrow(Resource),
    Flags(Flags),
    Tuple(Tuple),
    Variant(Variant),
    Enum(Enum),
    Option(WitOption),
    Result(WitResult),
    List(List),
    Map(Map),
    FixedLengthList(FixedLengthList),
    Future(Future),
    Stream(Stream),
    Alias(Alias),
}

impl Type {
    /// The type with every alias resolved.
    pub fn dealias(self) -> Type {
        let mut ty = self;
        while let Type::Alias(alias) = ty {
            ty = alias.ty();
        }
        ty
    }

    /// A short description for error messages, such as `u32`, `string`,
    /// `record point` or `list<u8>`.
    pub fn describe(&self) -> String {
        let named = |kind: &str, name: Option<&str>, anon: String| match name {
            Some(name) => format!("{kind} {name}"),
            None => anon,
        };
        let inner = |ty: Option<Type>| ty.map_or("_".to_string(), |t| t.describe());
        match *self {
            Type::U8 => "u8".into(),
            Type::U16 => "u16".into(),
            Type::U32 => "u32".into(),
            Type::U64 => "u64".into(),
            Type::S8 => "s8".into(),
            Type::S16 => "s16".into(),
            Type::S32 => "s32".into(),
            Type::S64 => "s64".into(),
            Type::Bool => "bool".into(),
            Type::Char => "char".into(),
            Type::F32 => "f32".into(),
            Type::F64 => "f64".into(),
            Type::String => "string".into(),
            Type::ErrorContext => "error-context".into(),
            Type::Record(t) => format!("record {}", t.name()),
            Type::Own(t) => format!("own<{}>", t.name()),
            Type::Borrow(t) => format!("borrow<{}>", t.name()),
            Type::Flags(t) => format!("flags {}", t.name()),
            Type::Tuple(t) => named("tuple", t.name(), {
                let types: Vec<_> = t.types().map(|t| t.describe()).collect();
                format!("tuple<{}>", types.join(", "))
            }),
            Type::Variant(t) => format!("variant {}", t.name()),
            Type::Enum(t) => format!("enum {}", t.name()),
            Type::Option(t) => named("option", t.name(), format!("option<{}>", t.ty().describe())),
            Type::Result(t) => named(
                "result",
                t.name(),
                format!("result<{}, {}>", inner(t.ok()), inner(t.err())),
            ),
            Type::List(t) => named("list", t.name(), format!("list<{}>", t.ty().describe())),
            Type::Map(t) => named(
                "map",
                t.name(),
                format!(
                    "map<{}, {}>",
                    t.key_ty().describe(),
                    t.value_ty().describe()
                ),
            ),
            Type::FixedLengthList(t) => named(
                "list",
                t.name(),
                format!("list<{}, {}>", t.ty().describe(), t.len()),
            ),
            Type::Future(t) => named("future", t.name(), format!("future<{}>", inner(t.ty()))),
            Type::Stream(t) => named("stream", t.name(), format!("stream<{}>", inner(t.ty()))),
            Type::Alias(t) => t.name().to_string(),
        }
    }
}

/// [`Type::describe`], written only when displayed: for error messages
/// that are built far less often than the checks that might need them.
#[derive(Copy, Clone, Debug)]
pub struct Described(pub Type);

impl std::fmt::Display for Described {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.describe())
    }
}

/// Declares a `Copy` handle to entry `index` of one metadata table.
macro_rules! handle {
    ($(#[$doc:meta])* $name:ident => $raw:ident, $table:ident, $count:ident) => {
        $(#[$doc])*
        #[derive(Copy, Clone)]
        pub struct $name {
            wit: Wit,
            index: usize,
        }

        impl $name {
            /// The position of this entry in its metadata table.
            pub fn index(&self) -> usize {
                self.index
            }

            /// The entry at `index`; traps if the metadata has none.
            #[doc(hidden)]
            pub fn at(wit: Wit, index: usize) -> $name {
                assert!(
                    index < wit.raw.$count,
                    concat!("wit-dylib: no ", stringify!($name), " at index {}"),
                    index
                );
                $name { wit, index }
            }

            fn raw(&self) -> &'static ffi::$raw {
                &table(self.wit.raw.$table, self.wit.raw.$count)[self.index]
            }

            /// The interface that defines it (`a:b/c`, or the world key for
            /// an unnamed interface); `None` at world level.
            pub fn interface(&self) -> Option<&'static str> {
                string(self.raw().interface)
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.index == other.index && std::ptr::eq(self.wit.raw, other.wit.raw)
            }
        }

        impl Eq for $name {}

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}#{}", stringify!($name), self.index)
            }
        }
    };
}

handle!(
    /// A function the world imports; the interpreter may call it.
    ImportFunction => wit_import_func_t, import_funcs, num_import_funcs
);
handle!(
    /// A function the world exports; the interpreter implements it.
    ExportFunction => wit_export_func_t, export_funcs, num_export_funcs
);
handle!(
    /// A resource type, imported or exported.
    Resource => wit_resource_t, resources, num_resources
);
handle!(
    /// A `record` type.
    Record => wit_record_t, records, num_records
);
handle!(
    /// A `flags` type (at most 32 flags).
    Flags => wit_flags_t, flags, num_flags
);
handle!(
    /// A `tuple` type, named or anonymous.
    Tuple => wit_tuple_t, tuples, num_tuples
);
handle!(
    /// A `variant` type.
    Variant => wit_variant_t, variants, num_variants
);
handle!(
    /// An `enum` type.
    Enum => wit_enum_t, enums, num_enums
);
handle!(
    /// An `option<T>` type.
    WitOption => wit_option_t, options, num_options
);
handle!(
    /// A `result<T, E>` type.
    WitResult => wit_result_t, results, num_results
);
handle!(
    /// A `list<T>` type.
    List => wit_list_t, lists, num_lists
);
handle!(
    /// A `map<K, V>` type.
    Map => wit_map_t, maps, num_maps
);
handle!(
    /// A `list<T, N>` type (fixed length). Its values cross the ABI as
    /// tuples of `len()` elements: `push_tuple`/`pop_tuple` with an unnamed
    /// tuple type, and `Val::Tuple` in the `Val` layer.
    FixedLengthList => wit_fixed_length_list_t, fixed_length_lists, num_fixed_length_lists
);
handle!(
    /// A `future<T>` type.
    Future => wit_future_t, futures, num_futures
);
handle!(
    /// A `stream<T>` type.
    Stream => wit_stream_t, streams, num_streams
);
handle!(
    /// A named alias, `type a = b`.
    Alias => wit_alias_t, aliases, num_aliases
);

/// Accessors shared by import and export functions.
macro_rules! function_accessors {
    ($name:ident) => {
        impl $name {
            /// The function's WIT name, e.g. `run`, `[method]file.read`.
            pub fn name(&self) -> &'static str {
                string(self.raw().name).unwrap_or("")
            }

            /// `interface#name`, or just the name at world level.
            pub fn qualified_name(&self) -> String {
                match self.interface() {
                    Some(interface) => format!("{interface}#{}", self.name()),
                    None => self.name().to_string(),
                }
            }

            /// The parameter types, in order.
            pub fn params(&self) -> impl ExactSizeIterator<Item = Type> + use<> {
                self.wit.types(self.raw().params, self.raw().nparams)
            }

            /// The result type, if the function returns one.
            pub fn result(&self) -> Option<Type> {
                self.wit.decode_type(self.raw().result)
            }
        }
    };
}

function_accessors!(ImportFunction);
function_accessors!(ExportFunction);

/// An import or an export, for naming a call in messages: displays as
/// ``import `a:b/c#f` `` or ``export `run` ``.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Callee {
    Import(ImportFunction),
    Export(ExportFunction),
}

impl std::fmt::Display for Callee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Callee::Import(func) => write!(f, "import `{}`", func.qualified_name()),
            Callee::Export(func) => write!(f, "export `{}`", func.qualified_name()),
        }
    }
}

impl ImportFunction {
    /// The generated adapter that calls this import synchronously; `None` for
    /// an import the world library lowers as async.
    pub(crate) fn sync_impl(&self) -> Option<unsafe extern "C" fn(*mut std::ffi::c_void)> {
        self.raw().impl_
    }
}

impl ImportFunction {
    /// Whether the world library lowers this import as async (call it with
    /// [`ImportFunction::call_async`]).
    pub fn is_async(&self) -> bool {
        self.raw().async_impl.is_some()
    }

    /// The async adapters and the size and alignment of the ABI area, for an
    /// async import.
    #[allow(clippy::type_complexity)]
    pub(crate) fn async_parts(
        &self,
    ) -> Option<(
        unsafe extern "C" fn(*mut std::ffi::c_void, *mut std::ffi::c_void) -> u32,
        unsafe extern "C" fn(*mut std::ffi::c_void, *mut std::ffi::c_void),
        usize,
        usize,
    )> {
        let raw = self.raw();
        let start = raw.async_impl?;
        let lift = raw
            .async_lift_impl
            .expect("wit-dylib metadata: an async import has no result lifting function");
        Some((
            start,
            lift,
            raw.async_abi_area_size,
            raw.async_abi_area_align.max(1),
        ))
    }
}

impl ExportFunction {
    /// Whether this export is lowered as an async function.
    pub fn is_async(&self) -> bool {
        self.raw().task_return.is_some()
    }

    /// The glue's `task.return` for an async export.
    pub(crate) fn task_return(&self) -> Option<unsafe extern "C" fn(*mut std::ffi::c_void)> {
        self.raw().task_return
    }
}

impl Resource {
    pub fn name(&self) -> &'static str {
        string(self.raw().name).unwrap_or("")
    }

    /// Whether this component defines the resource (its `new` and `rep`
    /// intrinsics exist); borrows of such resources travel as reps.
    pub fn is_exported(&self) -> bool {
        self.raw().new.is_some()
    }

    pub(crate) fn raw_drop(&self) -> unsafe extern "C" fn(u32) {
        self.raw()
            .drop
            .expect("wit-dylib metadata: a resource has no drop function")
    }

    pub(crate) fn raw_new(&self) -> Option<unsafe extern "C" fn(usize) -> u32> {
        self.raw().new
    }

    pub(crate) fn raw_rep(&self) -> Option<unsafe extern "C" fn(u32) -> usize> {
        self.raw().rep
    }
}

impl Record {
    pub fn name(&self) -> &'static str {
        string(self.raw().name).unwrap_or("")
    }

    /// The fields, in order: `(name, type)`.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = (&'static str, Type)> + use<> {
        let wit = self.wit;
        table(self.raw().fields, self.raw().nfields)
            .iter()
            .map(move |field| {
                let ty = wit
                    .decode_type(field.ty)
                    .expect("wit-dylib metadata: a field has no type");
                (string(field.name).unwrap_or(""), ty)
            })
    }
}

impl Tuple {
    /// The tuple's name if it is a named type (`type pair = tuple<u8, u8>`).
    pub fn name(&self) -> Option<&'static str> {
        string(self.raw().name)
    }

    pub fn types(&self) -> impl ExactSizeIterator<Item = Type> + use<> {
        self.wit.types(self.raw().types, self.raw().ntypes)
    }
}

/// Names of flags or enum cases.
fn names(ptr: *const *const c_char, len: usize) -> impl ExactSizeIterator<Item = &'static str> {
    table(ptr, len)
        .iter()
        .map(|&name| string(name).unwrap_or(""))
}

impl Flags {
    pub fn name(&self) -> &'static str {
        string(self.raw().name).unwrap_or("")
    }

    /// The flag names; bit `i` of a flags value is flag `i`.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &'static str> + use<> {
        names(self.raw().names, self.raw().nnames)
    }
}

impl Enum {
    pub fn name(&self) -> &'static str {
        string(self.raw().name).unwrap_or("")
    }

    /// The case names; an enum value is an index into them.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &'static str> + use<> {
        names(self.raw().names, self.raw().nnames)
    }
}

impl Variant {
    pub fn name(&self) -> &'static str {
        string(self.raw().name).unwrap_or("")
    }

    /// The cases, in order: `(name, payload type)`.
    pub fn cases(&self) -> impl ExactSizeIterator<Item = (&'static str, Option<Type>)> + use<> {
        let wit = self.wit;
        table(self.raw().cases, self.raw().ncases)
            .iter()
            .map(move |case| (string(case.name).unwrap_or(""), wit.decode_type(case.ty)))
    }
}

impl WitOption {
    pub fn name(&self) -> Option<&'static str> {
        string(self.raw().name)
    }

    /// The payload type of `some`.
    pub fn ty(&self) -> Type {
        self.wit
            .decode_type(self.raw().ty)
            .expect("wit-dylib metadata: option without a type")
    }
}

impl WitResult {
    pub fn name(&self) -> Option<&'static str> {
        string(self.raw().name)
    }

    /// The payload type of `ok`, if it has one.
    pub fn ok(&self) -> Option<Type> {
        self.wit.decode_type(self.raw().ok)
    }

    /// The payload type of `err`, if it has one.
    pub fn err(&self) -> Option<Type> {
        self.wit.decode_type(self.raw().err)
    }
}

impl List {
    pub fn name(&self) -> Option<&'static str> {
        string(self.raw().name)
    }

    /// The element type.
    pub fn ty(&self) -> Type {
        self.wit
            .decode_type(self.raw().ty)
            .expect("wit-dylib metadata: list without a type")
    }
}

impl Map {
    pub fn name(&self) -> Option<&'static str> {
        string(self.raw().name)
    }

    pub fn key_ty(&self) -> Type {
        self.wit
            .decode_type(self.raw().key_type)
            .expect("wit-dylib metadata: map without a key type")
    }

    pub fn value_ty(&self) -> Type {
        self.wit
            .decode_type(self.raw().value_type)
            .expect("wit-dylib metadata: map without a value type")
    }
}

impl FixedLengthList {
    pub fn name(&self) -> Option<&'static str> {
        string(self.raw().name)
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.raw().size
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn ty(&self) -> Type {
        self.wit
            .decode_type(self.raw().ty)
            .expect("wit-dylib metadata: list without a type")
    }
}

impl Future {
    pub fn name(&self) -> Option<&'static str> {
        string(self.raw().name)
    }

    /// The payload type; `None` for `future`.
    pub fn ty(&self) -> Option<Type> {
        self.wit.decode_type(self.raw().ty)
    }
}

impl Future {
    pub(crate) fn raw_ops(&self) -> &'static ffi::wit_future_t {
        self.raw()
    }

    /// The metadata this type belongs to.
    pub(crate) fn wit(&self) -> Wit {
        self.wit
    }
}

impl Stream {
    pub(crate) fn raw_ops(&self) -> &'static ffi::wit_stream_t {
        self.raw()
    }

    /// The metadata this type belongs to.
    pub(crate) fn wit(&self) -> Wit {
        self.wit
    }

    pub fn name(&self) -> Option<&'static str> {
        string(self.raw().name)
    }

    /// The element type; `None` for `stream`.
    pub fn ty(&self) -> Option<Type> {
        self.wit.decode_type(self.raw().ty)
    }
}

impl Alias {
    pub fn name(&self) -> &'static str {
        string(self.raw().name).unwrap_or("")
    }

    /// The aliased type (possibly another alias).
    pub fn ty(&self) -> Type {
        self.wit
            .decode_type(self.raw().ty)
            .expect("wit-dylib metadata: alias without a type")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(version: u32) -> Option<String> {
        std::panic::catch_unwind(|| check_version(version))
            .err()
            .map(|payload| *payload.downcast::<String>().expect("a formatted message"))
    }

    #[test]
    fn only_the_current_metadata_version_is_accepted() {
        assert_eq!(refusal(ffi::WIT_CURRENT_VERSION), None);
        for other in [
            0,
            ffi::WIT_CURRENT_VERSION - 1,
            ffi::WIT_CURRENT_VERSION + 1,
        ] {
            let message = refusal(other).expect("another version is refused");
            assert!(
                message.contains(&format!("is version {other},"))
                    && message.contains(&format!("only version {}", ffi::WIT_CURRENT_VERSION)),
                "{message}"
            );
        }
    }
}
