//! A dynamic value for every WIT type, and a value stack of them that lifts
//! and lowers any type the metadata describes.
//!
//! An interpreter that converts between its own values and [`Val`] needs no
//! knowledge of the stack protocol: use [`ValStack`] as the
//! [`Interpreter::CallCx`](crate::Interpreter::CallCx), take the arguments of
//! an export with [`ValStack::take_args`], and push its result with
//! [`ValStack::push`]. [`call_import`] does the same for imports.

use std::cell::Cell;
use std::fmt;
use std::mem::ManuallyDrop;

use crate::buffer::{Bytes, CanonicalList};
use crate::bulk;
use crate::call::{Call, ListLowering};
use crate::channel::Progress;
use crate::end::{EndError, ReadEnd, WriteEnd};
use crate::error_context::ErrorContext;
use crate::handle::{Borrow, Own};
use crate::metadata::{
    Callee, Described, Enum, ExportFunction, Flags, Future, ImportFunction, List, Map, Record,
    Resource, Stream, Tuple, Type, Variant, WitOption, WitResult,
};
use crate::runtime::{CallFrame, drop_if_allocated};

/// A WIT value. Handles are owning types, so a `Val` that holds one cannot
/// be cloned: [`Val::try_clone`] clones those that hold none.
#[derive(Debug, PartialEq)]
pub enum Val {
    Bool(bool),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    S8(i8),
    S16(i16),
    S32(i32),
    S64(i64),
    F32(f32),
    F64(f64),
    Char(char),
    String(String),
    /// Field values in declaration order.
    Record(Vec<Val>),
    Tuple(Vec<Val>),
    /// Bit `i` set = flag `i` set.
    Flags(u32),
    /// The case index.
    Enum(u32),
    /// The case index and its payload.
    Variant(u32, Option<Box<Val>>),
    Option(Option<Box<Val>>),
    Result(Result<Option<Box<Val>>, Option<Box<Val>>>),
    List(Vec<Val>),
    /// Entries in order.
    Map(Vec<(Val, Val)>),
    /// An owned resource handle.
    Own(Own),
    /// A borrowed resource.
    Borrow(Borrow),
    /// The readable end of a `future<T>`.
    Future(ReadEnd),
    /// The readable end of a `stream<T>`.
    Stream(ReadEnd),
    /// An error-context. Passing one passes a copy: the receiver gets its
    /// own handle.
    ErrorContext(ErrorContext),
}

impl Val {
    /// A copy of this value, unless it holds an owned handle or an end
    /// (borrows and error-contexts are shared).
    pub fn try_clone(&self) -> Option<Val> {
        let all = |items: &[Val]| items.iter().map(Val::try_clone).collect::<Option<Vec<_>>>();
        let payload = |p: &Option<Box<Val>>| match p {
            Some(v) => v.try_clone().map(|v| Some(Box::new(v))),
            None => Some(None),
        };
        Some(match self {
            Val::Bool(v) => Val::Bool(*v),
            Val::U8(v) => Val::U8(*v),
            Val::U16(v) => Val::U16(*v),
            Val::U32(v) => Val::U32(*v),
            Val::U64(v) => Val::U64(*v),
            Val::S8(v) => Val::S8(*v),
            Val::S16(v) => Val::S16(*v),
            Val::S32(v) => Val::S32(*v),
            Val::S64(v) => Val::S64(*v),
            Val::F32(v) => Val::F32(*v),
            Val::F64(v) => Val::F64(*v),
            Val::Char(v) => Val::Char(*v),
            Val::String(v) => Val::String(v.clone()),
            Val::Record(v) => Val::Record(all(v)?),
            Val::Tuple(v) => Val::Tuple(all(v)?),
            Val::Flags(v) => Val::Flags(*v),
            Val::Enum(v) => Val::Enum(*v),
            Val::Variant(case, p) => Val::Variant(*case, payload(p)?),
            Val::Option(p) => Val::Option(payload(p)?),
            Val::Result(Ok(p)) => Val::Result(Ok(payload(p)?)),
            Val::Result(Err(p)) => Val::Result(Err(payload(p)?)),
            Val::List(v) => Val::List(all(v)?),
            Val::Map(entries) => Val::Map(
                entries
                    .iter()
                    .map(|(k, v)| Some((k.try_clone()?, v.try_clone()?)))
                    .collect::<Option<_>>()?,
            ),
            Val::Borrow(b) => Val::Borrow(*b),
            Val::ErrorContext(e) => Val::ErrorContext(e.clone()),
            Val::Own(_) | Val::Future(_) | Val::Stream(_) => return None,
        })
    }

    /// The name of this value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Val::Bool(_) => "bool",
            Val::U8(_) => "u8",
            Val::U16(_) => "u16",
            Val::U32(_) => "u32",
            Val::U64(_) => "u64",
            Val::S8(_) => "s8",
            Val::S16(_) => "s16",
            Val::S32(_) => "s32",
            Val::S64(_) => "s64",
            Val::F32(_) => "f32",
            Val::F64(_) => "f64",
            Val::Char(_) => "char",
            Val::String(_) => "string",
            Val::Record(_) => "record",
            Val::Tuple(_) => "tuple",
            Val::Flags(_) => "flags",
            Val::Enum(_) => "enum",
            Val::Variant(..) => "variant",
            Val::Option(_) => "option",
            Val::Result(_) => "result",
            Val::List(_) => "list",
            Val::Map(_) => "map",
            Val::Own(_) => "own",
            Val::Borrow(_) => "borrow",
            Val::Future(_) => "future",
            Val::Stream(_) => "stream",
            Val::ErrorContext(_) => "error-context",
        }
    }
}

/// Iterators the glue drives between `pop_list`/`pop_map` and their end.
enum Iter {
    List(std::vec::IntoIter<Val>),
    Map(std::vec::IntoIter<(Val, Val)>),
}

/// A [`Call`] over [`Val`]s. Every pop checks the value against the type the
/// glue asks for and panics (traps) with a message naming the call, the
/// expected type and the value found.
///
/// Its insides are boxed, and the box of the last stack dropped serves the
/// next (see `Drop`): the SDK and interpreters move a call's stack in and
/// out of its frame, and wasmtime's fuel counts every byte a move copies.
pub struct ValStack(ManuallyDrop<Box<Values>>);

struct Values {
    stack: Vec<Val>,
    iters: Vec<Iter>,
    /// Names the call in error messages.
    context: Callee,
    /// Owned handles popped to pass as borrows: kept alive until the stack
    /// is dropped, after the call.
    lent: Vec<Own>,
    /// Whether lists of numbers (and records and tuples of them) move in one
    /// piece (see `bulk`).
    bulk: bool,
}

macro_rules! scalars {
    ($($pop:ident $push:ident $variant:ident $rust:ty, $wit:literal;)*) => {$(
        fn $pop(&mut self) -> $rust {
            match self.pop_val(&$wit) {
                Val::$variant(v) => v,
                other => self.mismatch(&$wit, &other),
            }
        }

        fn $push(&mut self, value: $rust) {
            self.0.stack.push(Val::$variant(value));
        }
    )*};
}

impl ValStack {
    /// An empty stack for a call of export `func`.
    pub fn for_export(func: ExportFunction) -> ValStack {
        ValStack::with_context(Callee::Export(func))
    }

    /// An empty stack for a call of import `func`.
    pub fn for_import(func: ImportFunction) -> ValStack {
        ValStack::with_context(Callee::Import(func))
    }

    /// An empty stack for work on behalf of `context` (which names it in
    /// messages), e.g. moving the elements of a future or stream.
    pub fn new(context: Callee) -> ValStack {
        ValStack::with_context(context)
    }

    fn with_context(context: Callee) -> ValStack {
        let values = match SPARE_VALUES.with(Cell::take) {
            Some(mut values) => {
                values.context = context;
                values.bulk = true;
                values
            }
            None => Box::new(Values {
                stack: Vec::new(),
                iters: Vec::new(),
                context,
                lent: Vec::new(),
                bulk: true,
            }),
        };
        ValStack(ManuallyDrop::new(values))
    }

    /// Moves every list element by element, as for lists of other types:
    /// the baseline against which benchmarks measure the bulk path.
    pub fn element_by_element(mut self) -> ValStack {
        self.0.bulk = false;
        self
    }

    /// Pushes a value.
    pub fn push(&mut self, value: Val) {
        self.0.stack.push(value);
    }

    /// Pops a value; panics on an empty stack.
    pub fn pop(&mut self) -> Val {
        self.0
            .stack
            .pop()
            .unwrap_or_else(|| panic!("value stack of {} is empty", self.0.context))
    }

    /// Pops the `count` arguments of an export (the last is on top) and
    /// returns them in order.
    pub fn take_args(&mut self, count: usize) -> Vec<Val> {
        assert!(
            self.0.stack.len() >= count,
            "{}: expected {count} arguments",
            self.0.context
        );
        let at = self.0.stack.len() - count;
        self.0.stack.split_off(at)
    }

    fn pop_val(&mut self, expected: &dyn fmt::Display) -> Val {
        self.0.stack.pop().unwrap_or_else(|| {
            panic!(
                "{}: expected a value of type {expected}, but the stack is empty",
                self.0.context
            )
        })
    }

    fn mismatch(&self, expected: &dyn fmt::Display, found: &Val) -> ! {
        panic!(
            "{}: expected a value of type {expected}, found {}",
            self.0.context,
            describe(found)
        )
    }

    fn pop_typed(&mut self, ty: Type) -> Val {
        self.pop_val(&Described(ty))
    }

    /// Pops `count` values pushed in order and returns them in order.
    fn pop_n(&mut self, count: usize, what: &str) -> Vec<Val> {
        assert!(
            self.0.stack.len() >= count,
            "{}: {what} needs {count} values on the stack",
            self.0.context
        );
        let at = self.0.stack.len() - count;
        self.0.stack.split_off(at)
    }

    /// Pushes `values` so that the first ends up on top.
    fn push_reversed(&mut self, values: Vec<Val>) {
        self.0.stack.extend(values.into_iter().rev());
    }

    fn payload(&mut self, has_payload: bool) -> Option<Box<Val>> {
        has_payload.then(|| Box::new(self.pop_val(&"payload")))
    }

    fn push_payload(&mut self, payload: Option<Box<Val>>, expected: bool, what: &dyn fmt::Display) {
        match (payload, expected) {
            (Some(p), true) => self.0.stack.push(*p),
            (None, false) => {}
            (Some(_), false) => panic!(
                "{}: {what} has a payload but its case has none",
                self.0.context
            ),
            (None, true) => panic!(
                "{}: {what} has no payload but its case needs one",
                self.0.context
            ),
        }
    }
}

/// A value for error messages: its kind, and the value itself when short.
fn describe(value: &Val) -> String {
    let shown = match value {
        Val::String(s) => format!("{s:?}"),
        Val::Char(c) => format!("{c:?}"),
        Val::Record(fields) => return format!("record of {} fields", fields.len()),
        Val::Tuple(items) => return format!("tuple of {} elements", items.len()),
        Val::List(items) => return format!("list of {} elements", items.len()),
        Val::Map(entries) => return format!("map of {} entries", entries.len()),
        other => format!("{other:?}"),
    };
    if shown.len() <= 60 {
        format!("{} {shown}", value.kind())
    } else {
        value.kind().to_string()
    }
}

thread_local! {
    /// The insides of the last stack dropped, emptied, for the next one: a
    /// call of a small function then allocates nothing for its stack.
    static SPARE_VALUES: Cell<Option<Box<Values>>> = const { Cell::new(None) };
}

/// The capacity of the spare's value vector. The spare always has exactly
/// this capacity, and empty `iters` and `lent` that never allocated, so the
/// memory it keeps is the same after every call (interpreters that check
/// for leaks compare the live bytes between calls), and a call that moved a
/// long list element by element does not hold its memory for good.
const SPARE_STACK_CAPACITY: usize = 8;

impl Drop for ValStack {
    fn drop(&mut self) {
        // SAFETY: the box is taken here, once, and not used again.
        let mut values = unsafe { ManuallyDrop::take(&mut self.0) };
        // Values and handles left over are released first: dropping a
        // handle may run code that makes and drops a stack of its own.
        values.stack.clear();
        drop_if_allocated(std::mem::take(&mut values.lent));
        drop_if_allocated(std::mem::take(&mut values.iters));
        if values.stack.capacity() != SPARE_STACK_CAPACITY {
            resize_spare(&mut values.stack);
        }
        // The spare is normally empty: a new stack took it.
        drop(SPARE_VALUES.with(|spare| spare.replace(Some(values))));
    }
}

/// Gives the empty `stack` the spare's capacity; out of line, as most
/// stacks already have it.
#[cold]
#[inline(never)]
fn resize_spare(stack: &mut Vec<Val>) {
    if stack.capacity() > SPARE_STACK_CAPACITY {
        stack.shrink_to(SPARE_STACK_CAPACITY);
    } else {
        stack.reserve_exact(SPARE_STACK_CAPACITY);
    }
}

impl Call for ValStack {
    scalars! {
        pop_bool push_bool Bool bool, "bool";
        pop_char push_char Char char, "char";
        pop_u8 push_u8 U8 u8, "u8";
        pop_s8 push_s8 S8 i8, "s8";
        pop_u16 push_u16 U16 u16, "u16";
        pop_s16 push_s16 S16 i16, "s16";
        pop_u32 push_u32 U32 u32, "u32";
        pop_s32 push_s32 S32 i32, "s32";
        pop_u64 push_u64 U64 u64, "u64";
        pop_s64 push_s64 S64 i64, "s64";
        pop_f32 push_f32 F32 f32, "f32";
        pop_f64 push_f64 F64 f64, "f64";
    }

    fn pop_string(&mut self) -> Bytes {
        match self.pop_val(&"string") {
            Val::String(s) => s.into(),
            other => self.mismatch(&"string", &other),
        }
    }

    fn pop_flags(&mut self, ty: Flags) -> u32 {
        match self.pop_typed(Type::Flags(ty)) {
            Val::Flags(bits) => bits,
            other => self.mismatch(&Type::Flags(ty).describe(), &other),
        }
    }

    fn pop_enum(&mut self, ty: Enum) -> u32 {
        match self.pop_typed(Type::Enum(ty)) {
            Val::Enum(case) => case,
            other => self.mismatch(&Type::Enum(ty).describe(), &other),
        }
    }

    fn pop_borrow(&mut self, ty: Resource) -> Borrow {
        match self.pop_typed(Type::Borrow(ty)) {
            Val::Borrow(borrow) => borrow,
            Val::Own(own) => {
                let borrow = own.borrow();
                self.0.lent.push(own);
                borrow
            }
            other => self.mismatch(&Type::Borrow(ty).describe(), &other),
        }
    }

    fn pop_own(&mut self, ty: Resource) -> Own {
        match self.pop_typed(Type::Own(ty)) {
            Val::Own(own) => own,
            other => self.mismatch(&Type::Own(ty).describe(), &other),
        }
    }

    fn pop_future(&mut self, ty: Future) -> ReadEnd {
        match self.pop_typed(Type::Future(ty)) {
            Val::Future(end) => end,
            other => self.mismatch(&Type::Future(ty).describe(), &other),
        }
    }

    fn pop_stream(&mut self, ty: Stream) -> ReadEnd {
        match self.pop_typed(Type::Stream(ty)) {
            Val::Stream(end) => end,
            other => self.mismatch(&Type::Stream(ty).describe(), &other),
        }
    }

    fn push_future(&mut self, _ty: Future, end: ReadEnd) {
        self.0.stack.push(Val::Future(end));
    }

    fn pop_error_context(&mut self) -> ErrorContext {
        match self.pop_val(&"error-context") {
            Val::ErrorContext(value) => value,
            other => self.mismatch(&"error-context", &other),
        }
    }

    fn push_error_context(&mut self, value: ErrorContext) {
        self.0.stack.push(Val::ErrorContext(value));
    }

    fn push_stream(&mut self, _ty: Stream, end: ReadEnd) {
        self.0.stack.push(Val::Stream(end));
    }

    fn pop_record(&mut self, ty: Record) {
        match self.pop_typed(Type::Record(ty)) {
            Val::Record(fields) if fields.len() == ty.fields().len() => self.push_reversed(fields),
            other => self.mismatch(&Type::Record(ty).describe(), &other),
        }
    }

    fn pop_tuple(&mut self, ty: Tuple) {
        match self.pop_typed(Type::Tuple(ty)) {
            Val::Tuple(items) if items.len() == ty.types().len() => self.push_reversed(items),
            other => self.mismatch(&Type::Tuple(ty).describe(), &other),
        }
    }

    fn pop_variant(&mut self, ty: Variant) -> u32 {
        let expected = Described(Type::Variant(ty));
        match self.pop_val(&expected) {
            Val::Variant(case, payload) => {
                let has_payload = ty
                    .cases()
                    .nth(case as usize)
                    .is_some_and(|(_, t)| t.is_some());
                self.push_payload(payload, has_payload, &expected);
                case
            }
            other => self.mismatch(&expected, &other),
        }
    }

    fn pop_option(&mut self, ty: WitOption) -> bool {
        let expected = Described(Type::Option(ty));
        match self.pop_val(&expected) {
            Val::Option(Some(payload)) => {
                self.0.stack.push(*payload);
                true
            }
            Val::Option(None) => false,
            other => self.mismatch(&expected, &other),
        }
    }

    fn pop_result(&mut self, ty: WitResult) -> bool {
        let expected = Described(Type::Result(ty));
        match self.pop_val(&expected) {
            Val::Result(Ok(payload)) => {
                self.push_payload(payload, ty.ok().is_some(), &expected);
                false
            }
            Val::Result(Err(payload)) => {
                self.push_payload(payload, ty.err().is_some(), &expected);
                true
            }
            other => self.mismatch(&expected, &other),
        }
    }

    fn pop_list(&mut self, ty: List) -> ListLowering {
        let expected = Described(Type::List(ty));
        let items = match self.pop_val(&expected) {
            Val::List(items) => items,
            other => self.mismatch(&expected, &other),
        };
        let encoded = match self.0.bulk {
            true => bulk::encode(ty.ty(), &items),
            false => None,
        };
        match encoded {
            Some(bytes) => ListLowering::Canonical {
                len: items.len(),
                bytes: bytes.into(),
            },
            None => {
                let len = items.len();
                self.0.iters.push(Iter::List(items.into_iter()));
                ListLowering::Elements { len }
            }
        }
    }

    fn pop_list_iter_next(&mut self, _ty: List) {
        let next = match self.0.iters.last_mut() {
            Some(Iter::List(iter)) => iter.next(),
            _ => None,
        };
        let next = next.unwrap_or_else(|| panic!("{}: list iterator exhausted", self.0.context));
        self.0.stack.push(next);
    }

    fn pop_list_iter(&mut self, _ty: List) {
        self.0.iters.pop();
    }

    fn pop_map(&mut self, ty: Map) -> usize {
        let expected = Described(Type::Map(ty));
        match self.pop_val(&expected) {
            Val::Map(entries) => {
                let len = entries.len();
                self.0.iters.push(Iter::Map(entries.into_iter()));
                len
            }
            other => self.mismatch(&expected, &other),
        }
    }

    fn pop_map_iter_next(&mut self, _ty: Map) {
        let next = match self.0.iters.last_mut() {
            Some(Iter::Map(iter)) => iter.next(),
            _ => None,
        };
        let (key, value) =
            next.unwrap_or_else(|| panic!("{}: map iterator exhausted", self.0.context));
        self.0.stack.push(value);
        self.0.stack.push(key);
    }

    fn pop_map_iter(&mut self, _ty: Map) {
        self.0.iters.pop();
    }

    fn push_string(&mut self, value: String) {
        self.0.stack.push(Val::String(value));
    }

    fn push_flags(&mut self, _ty: Flags, bits: u32) {
        self.0.stack.push(Val::Flags(bits));
    }

    fn push_enum(&mut self, _ty: Enum, case: u32) {
        self.0.stack.push(Val::Enum(case));
    }

    fn push_borrow(&mut self, _ty: Resource, borrow: Borrow) {
        self.0.stack.push(Val::Borrow(borrow));
    }

    fn push_own(&mut self, _ty: Resource, own: Own) {
        self.0.stack.push(Val::Own(own));
    }

    fn push_record(&mut self, ty: Record) {
        let fields = self.pop_n(ty.fields().len(), "a record");
        self.0.stack.push(Val::Record(fields));
    }

    fn push_tuple(&mut self, ty: Tuple) {
        let items = self.pop_n(ty.types().len(), "a tuple");
        self.0.stack.push(Val::Tuple(items));
    }

    fn push_variant(&mut self, ty: Variant, case: u32) {
        let has_payload = ty
            .cases()
            .nth(case as usize)
            .is_some_and(|(_, t)| t.is_some());
        let payload = self.payload(has_payload);
        self.0.stack.push(Val::Variant(case, payload));
    }

    fn push_option(&mut self, _ty: WitOption, is_some: bool) {
        let payload = self.payload(is_some);
        self.0.stack.push(Val::Option(payload));
    }

    fn push_result(&mut self, ty: WitResult, is_err: bool) {
        let value = if is_err {
            Err(self.payload(ty.err().is_some()))
        } else {
            Ok(self.payload(ty.ok().is_some()))
        };
        self.0.stack.push(Val::Result(value));
    }

    fn push_list_canonical(
        &mut self,
        ty: List,
        buffer: CanonicalList,
    ) -> Result<(), CanonicalList> {
        let decoded = match self.0.bulk {
            true => bulk::decode(ty.ty(), &buffer),
            false => None,
        };
        match decoded {
            Some(items) => {
                self.0.stack.push(Val::List(items));
                Ok(())
            }
            None => Err(buffer),
        }
    }

    fn push_empty_list(&mut self, _ty: List, capacity: usize) {
        self.0.stack.push(Val::List(Vec::with_capacity(capacity)));
    }

    fn list_append(&mut self, _ty: List) {
        let item = self.pop_val(&"list element");
        match self.0.stack.last_mut() {
            Some(Val::List(items)) => items.push(item),
            _ => panic!(
                "{}: list_append without a list on the stack",
                self.0.context
            ),
        }
    }

    fn push_map(&mut self, _ty: Map, capacity: usize) {
        self.0.stack.push(Val::Map(Vec::with_capacity(capacity)));
    }

    fn map_append(&mut self, _ty: Map) {
        let value = self.pop_val(&"map value");
        let key = self.pop_val(&"map key");
        match self.0.stack.last_mut() {
            Some(Val::Map(entries)) => entries.push((key, value)),
            _ => panic!("{}: map_append without a map on the stack", self.0.context),
        }
    }
}

/// Calls import `func` with `args` and returns its result.
pub fn call_import(func: ImportFunction, args: Vec<Val>) -> Option<Val> {
    assert_eq!(
        args.len(),
        func.params().len(),
        "import `{}` takes {} arguments",
        func.qualified_name(),
        func.params().len()
    );
    let mut frame = CallFrame::new(ValStack::for_import(func));
    // The import's glue pops the first argument first.
    frame.stack().push_reversed(args);
    func.call(&mut frame);
    func.result().map(|_| frame.stack().pop())
}

/// Calls async import `func` with `args`; completes with its result once the
/// import has returned. Await it inside an async export (see
/// [`task`](crate::task)).
pub async fn call_import_async(func: ImportFunction, args: Vec<Val>) -> Option<Val> {
    assert_eq!(
        args.len(),
        func.params().len(),
        "import `{}` takes {} arguments",
        func.qualified_name(),
        func.params().len()
    );
    let mut frame = CallFrame::new(ValStack::for_import(func));
    // The import's glue pops the first argument first.
    frame.stack().push_reversed(args);
    let mut frame = func.call_async(frame).await;
    func.result().map(|_| frame.stack().pop())
}

/// Reads at most `max` elements from stream end `end` (see
/// [`ReadEnd::read`]). Elements of a stream without payload are
/// `Val::Tuple(vec![])`.
pub fn read_stream(
    end: &ReadEnd,
    max: usize,
    context: Callee,
) -> Result<impl std::future::Future<Output = (Vec<Val>, Progress)> + 'static + use<>, EndError> {
    let has_payload = end.channel().payload().is_some();
    let read = end.read(CallFrame::new(ValStack::new(context)), max)?;
    Ok(async move {
        let (frame, progress) = read.await;
        let values = match has_payload {
            true => frame.into_inner().take_args(progress.count),
            false => (0..progress.count)
                .map(|_| Val::Tuple(Vec::new()))
                .collect(),
        };
        (values, progress)
    })
}

/// Writes `values` to stream end `end` (see [`WriteEnd::write`]); for a
/// stream without payload only their number counts.
pub fn write_stream(
    end: &WriteEnd,
    values: Vec<Val>,
    context: Callee,
) -> Result<impl std::future::Future<Output = Progress> + 'static + use<>, EndError> {
    let count = values.len();
    let mut frame = CallFrame::new(ValStack::new(context));
    if end.channel().payload().is_some() {
        frame.stack().push_reversed(values);
    }
    let write = end.write(frame, count)?;
    Ok(async move { write.await.1 })
}

/// Reads future end `end` (see [`ReadEnd::read`]): `None` if the writer
/// dropped it. The value of a future without payload is `Val::Tuple(vec![])`.
pub fn read_future(
    end: &ReadEnd,
    context: Callee,
) -> Result<impl std::future::Future<Output = Option<Val>> + 'static + use<>, EndError> {
    let has_payload = end.channel().payload().is_some();
    let read = end.read(CallFrame::new(ValStack::new(context)), 1)?;
    Ok(async move {
        let (mut frame, progress) = read.await;
        match (progress.count, has_payload) {
            (0, _) => None,
            (_, true) => Some(frame.stack().pop()),
            (_, false) => Some(Val::Tuple(Vec::new())),
        }
    })
}

/// Writes `value` to future end `end` (see [`WriteEnd::write`]); completes
/// with whether a reader took it.
pub fn write_future(
    end: &WriteEnd,
    value: Val,
    context: Callee,
) -> Result<impl std::future::Future<Output = bool> + 'static + use<>, EndError> {
    let mut frame = CallFrame::new(ValStack::new(context));
    if end.channel().payload().is_some() {
        frame.stack().push(value);
    }
    let write = end.write(frame, 1)?;
    Ok(async move { write.await.1.count == 1 })
}
