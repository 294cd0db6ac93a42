//! The description of a world that the generated library hands to the
//! interpreter (`wit_t`, docs/abi.md §4.2 to §4.9).
//!
//! [`Metadata`] is the in-memory model: one table per kind, in the order the
//! entries were registered. A [`TypeRef`] names a type by kind and by its
//! index in the matching table, exactly as the `wit_type_t` words in the
//! binary do. Function pointers are recorded as *element indices*: positions
//! in this library's element segment, which the loader places at
//! `__table_base`. [`crate::encode`] turns the model into the data segment.

use wit_parser::TypeId;

/// Everything the generated library describes to its interpreter.
#[derive(Debug, Default, Clone)]
pub struct Metadata {
    /// World imports, in world order (`wit_t.import_funcs`).
    pub import_funcs: Vec<ImportFunc>,
    /// World exports: world-level functions first, then interface functions
    /// (`wit_t.export_funcs`; the position is the `which` argument of
    /// `wit_dylib_export_*`).
    pub export_funcs: Vec<ExportFunc>,
    /// Imported resources (in import order), then exported ones.
    pub resources: Vec<Resource>,
    pub records: Vec<Record>,
    pub flags: Vec<NamedCases>,
    pub tuples: Vec<Tuple>,
    pub variants: Vec<Variant>,
    pub enums: Vec<NamedCases>,
    pub options: Vec<Wrapper>,
    pub results: Vec<WitResult>,
    pub lists: Vec<Wrapper>,
    pub maps: Vec<Map>,
    pub fixed_length_lists: Vec<FixedLengthList>,
    /// `future<T>` and `stream<T>` types; a type registered in both passes
    /// (an interface both imported and exported) has two entries sharing its
    /// built-ins.
    pub futures: Vec<Payload>,
    pub streams: Vec<Payload>,
    pub aliases: Vec<Alias>,
}

/// A type as the interpreter sees it: a kind plus, for compound kinds, an
/// index into the matching [`Metadata`] table (`OWN`/`BORROW` index
/// [`Metadata::resources`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeRef {
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
    Record(usize),
    Own(usize),
    Borrow(usize),
    Flags(usize),
    Tuple(usize),
    Variant(usize),
    Enum(usize),
    Option(usize),
    Result(usize),
    List(usize),
    Map(usize),
    /// `index` in [`Metadata::fixed_length_lists`]; the values cross the
    /// ABI as the tuple of N elements at `tuple` in [`Metadata::tuples`].
    FixedLengthList {
        index: usize,
        tuple: usize,
    },
    Future(usize),
    Stream(usize),
    Alias(usize),
}

impl TypeRef {
    /// The `wit_type_t` word: `(index << 8) | kind`.
    pub fn encode(self) -> u32 {
        let (kind, index) = match self {
            TypeRef::U8 => (0, 0),
            TypeRef::U16 => (1, 0),
            TypeRef::U32 => (2, 0),
            TypeRef::U64 => (3, 0),
            TypeRef::S8 => (4, 0),
            TypeRef::S16 => (5, 0),
            TypeRef::S32 => (6, 0),
            TypeRef::S64 => (7, 0),
            TypeRef::Bool => (8, 0),
            TypeRef::Char => (9, 0),
            TypeRef::F32 => (10, 0),
            TypeRef::F64 => (11, 0),
            TypeRef::String => (12, 0),
            TypeRef::ErrorContext => (13, 0),
            TypeRef::Record(i) => (14, i),
            TypeRef::Own(i) => (15, i),
            TypeRef::Borrow(i) => (16, i),
            TypeRef::Flags(i) => (17, i),
            TypeRef::Tuple(i) => (18, i),
            TypeRef::Variant(i) => (19, i),
            TypeRef::Enum(i) => (20, i),
            TypeRef::Option(i) => (21, i),
            TypeRef::Result(i) => (22, i),
            TypeRef::List(i) => (23, i),
            TypeRef::Map(i) => (24, i),
            TypeRef::FixedLengthList { index, .. } => (25, index),
            TypeRef::Future(i) => (26, i),
            TypeRef::Stream(i) => (27, i),
            TypeRef::Alias(i) => (28, i),
        };
        // Table sizes are checked against the 24-bit limit when registered.
        ((index as u32) << 8) | kind
    }
}

/// The `wit_type_t` word for "no type" (`WIT_TYPE_EMPTY`).
pub const EMPTY_TYPE: u32 = u32::MAX;

/// Largest table index a type word can carry.
pub const MAX_TYPE_INDEX: usize = (1 << 24) - 1;

/// An imported function (`wit_import_func_t`).
#[derive(Debug, Clone)]
pub struct ImportFunc {
    /// `name_world_key` of the interface, `None` for world-level functions.
    pub interface: Option<String>,
    /// The raw WIT name (`[method]r.f` for methods).
    pub name: String,
    /// How the interpreter calls it.
    pub call: ImportCall,
    pub params: Vec<TypeRef>,
    pub result: Option<TypeRef>,
}

/// The entry points of an imported function.
#[derive(Debug, Clone)]
pub enum ImportCall {
    /// Element index of the generated `adapter` (`impl`).
    Sync { adapter_elem: u32 },
    /// An async-lowered import (`async_impl`, `async_lift_impl` and the ABI
    /// area the caller allocates for the call).
    Async {
        adapter_elem: u32,
        lift_results_elem: u32,
        area_size: usize,
        area_align: usize,
    },
}

/// An exported function (`wit_export_func_t`).
#[derive(Debug, Clone)]
pub struct ExportFunc {
    pub interface: Option<String>,
    pub name: String,
    /// Element index of the generated `task.return` function; async exports
    /// only.
    pub task_return_elem: Option<u32>,
    pub params: Vec<TypeRef>,
    pub result: Option<TypeRef>,
}

/// A resource type (`wit_resource_t`).
#[derive(Debug, Clone)]
pub struct Resource {
    pub id: TypeId,
    pub interface: Option<String>,
    pub name: String,
    /// Element index of the `[resource-drop]` import.
    pub drop_elem: u32,
    /// Element indices of `[resource-new]` and `[resource-rep]`; only for
    /// resources this library exports.
    pub new_rep_elems: Option<(u32, u32)>,
}

#[derive(Debug, Clone)]
pub struct Record {
    pub id: TypeId,
    pub interface: Option<String>,
    pub name: String,
    pub fields: Vec<(String, TypeRef)>,
}

/// Flags and enums: a name and a list of case names.
#[derive(Debug, Clone)]
pub struct NamedCases {
    pub id: TypeId,
    pub interface: Option<String>,
    pub name: String,
    pub names: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Tuple {
    pub id: TypeId,
    pub interface: Option<String>,
    pub name: Option<String>,
    pub types: Vec<TypeRef>,
}

/// A `list<T, N>` (`wit_fixed_length_list_t`).
#[derive(Debug, Clone)]
pub struct FixedLengthList {
    pub interface: Option<String>,
    pub name: Option<String>,
    pub len: u32,
    pub ty: TypeRef,
}

#[derive(Debug, Clone)]
pub struct Variant {
    pub id: TypeId,
    pub interface: Option<String>,
    pub name: String,
    pub cases: Vec<(String, Option<TypeRef>)>,
}

/// Options and lists: one element type.
#[derive(Debug, Clone)]
pub struct Wrapper {
    pub id: TypeId,
    pub interface: Option<String>,
    pub name: Option<String>,
    pub ty: TypeRef,
}

#[derive(Debug, Clone)]
pub struct WitResult {
    pub id: TypeId,
    pub interface: Option<String>,
    pub name: Option<String>,
    pub ok: Option<TypeRef>,
    pub err: Option<TypeRef>,
}

#[derive(Debug, Clone)]
pub struct Map {
    pub id: TypeId,
    pub interface: Option<String>,
    pub name: Option<String>,
    pub key: TypeRef,
    pub value: TypeRef,
}

/// A `future<T>` or `stream<T>` type (`wit_future_t`/`wit_stream_t`).
#[derive(Debug, Clone)]
pub struct Payload {
    pub id: TypeId,
    pub interface: Option<String>,
    pub name: Option<String>,
    /// `None` for `future`/`stream` without a payload.
    pub ty: Option<TypeRef>,
    /// Element indices of the canonical built-ins, in `wit_future_t` order:
    /// new, read, write, cancel-read, cancel-write, drop-readable,
    /// drop-writable.
    pub intrinsic_elems: [u32; 7],
    /// Element indices of the generated one-element lift and lower
    /// functions; only with a payload.
    pub lift_lower_elems: Option<(u32, u32)>,
    pub abi_payload_size: usize,
    pub abi_payload_align: usize,
}

/// `type a = b`: named, transparent at the value level.
#[derive(Debug, Clone)]
pub struct Alias {
    pub id: TypeId,
    pub interface: Option<String>,
    pub name: String,
    pub ty: TypeRef,
}
