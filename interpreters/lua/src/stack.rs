//! The value stack of one call, holding Lua values: the SDK's `Call` for Lua.
//!
//! Pops convert a Lua value to what the canonical ABI needs and panic (trap)
//! with a message naming the call when it does not fit; Lua code that calls
//! an import gets its arguments checked beforehand (`check`) so that it sees
//! a Lua error instead.

use mlua::{Lua, Table, Value};
use wit_dylib_sdk::{
    Borrow, Bytes, Call, Callee, CanonicalList, Channel, Described, Enum, ErrorContext, Flags,
    Future, List, ListLowering, Map, Own, ReadEnd, Record, Resource, Stream, Tuple, Type, Variant,
    WitOption, WitResult,
};

use crate::channels;
use crate::resources;
use crate::values::{self, Mismatch};

enum Iter {
    List { items: Table, next: usize },
    Map(std::vec::IntoIter<(Value, Value)>),
}

/// The value stack of a call, boxed: the SDK and the interpreter move a
/// call's stack in and out of its frame and their spares, and wasmtime's
/// fuel counts every byte a move copies.
pub struct LuaStack(Box<Values>);

/// What a [`LuaStack`] holds.
pub struct Values {
    lua: Lua,
    stack: Vec<Value>,
    iters: Vec<Iter>,
    /// `(appended, length)` of each list being lifted, innermost last: the
    /// table's own length would cost a search per element. The glue appends
    /// exactly `length` elements, each complete (nested lists included)
    /// before it is appended.
    list_lens: Vec<(usize, usize)>,
    /// Names the call in error messages.
    context: Site,
}

/// What a value stack belongs to, for error messages.
#[derive(Copy, Clone)]
pub enum Site {
    Call(Callee),
    /// A read or write of a future or stream of this type.
    Channel(Type),
}

impl std::fmt::Display for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Site::Call(callee) => write!(f, "{callee}"),
            Site::Channel(ty) => write!(f, "{ty}"),
        }
    }
}

/// Unwraps a conversion, trapping with the call's name on a mismatch.
macro_rules! or_trap {
    ($self:ident, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(message) => $self.trap(&message),
        }
    };
}

macro_rules! integers {
    ($($pop:ident $push:ident $rust:ty, $wit:literal;)*) => {$(
        fn $pop(&mut self) -> $rust {
            // The common case, an integer in range, without the general
            // conversion (which works in i128) or the value's drop glue.
            if let Some(&Value::Integer(n)) = self.stack.last()
                && let Ok(n) = <$rust>::try_from(n)
            {
                std::mem::forget(self.stack.pop());
                return n;
            }
            let value = self.pop_value();
            match values::integer(&value, &$wit, <$rust>::MIN.into(), <$rust>::MAX.into()) {
                Ok(n) => n as $rust,
                Err(message) => self.trap_mismatch($wit, &message),
            }
        }

        fn $push(&mut self, value: $rust) {
            self.stack.push(Value::Integer(value.into()));
        }
    )*};
}

impl From<Callee> for Site {
    fn from(callee: Callee) -> Site {
        Site::Call(callee)
    }
}

impl std::ops::Deref for LuaStack {
    type Target = Values;

    fn deref(&self) -> &Values {
        &self.0
    }
}

impl std::ops::DerefMut for LuaStack {
    fn deref_mut(&mut self) -> &mut Values {
        &mut self.0
    }
}

impl LuaStack {
    pub fn new(lua: Lua, context: impl Into<Site>) -> LuaStack {
        LuaStack(Box::new(Values {
            lua,
            stack: Vec::new(),
            iters: Vec::new(),
            list_lens: Vec::new(),
            context: context.into(),
        }))
    }

    /// Readies an empty stack for another call.
    pub fn set_context(&mut self, context: impl Into<Site>) {
        self.context = context.into();
    }

    /// Drops every value and unfinished list on the stack.
    pub fn clear(&mut self) {
        self.stack.clear();
        self.iters.clear();
        self.list_lens.clear();
    }

    pub fn push(&mut self, value: Value) {
        self.stack.push(value);
    }

    pub fn pop_value(&mut self) -> Value {
        self.stack
            .pop()
            .unwrap_or_else(|| panic!("{}: the value stack is empty", self.context))
    }

    /// Pops a lifted value that goes where `nil` would leave a hole (a list
    /// element, map value, or result or option payload): a `none` becomes
    /// `wit.none`.
    fn pop_slot(&mut self) -> Value {
        let value = self.pop_value();
        values::hole(&self.lua, value)
    }

    /// Pops `count` values pushed in order, returning them in order.
    pub fn take(&mut self, count: usize) -> Vec<Value> {
        assert!(
            self.stack.len() >= count,
            "{}: expected {count} values",
            self.context
        );
        let at = self.stack.len() - count;
        self.stack.split_off(at)
    }

    fn trap(&self, message: &str) -> ! {
        panic!("{}: {message}", self.context)
    }

    /// Traps for a value that is not a `wit`. An export's stack holds its
    /// result, whose integers only this pop checks: the message is the one
    /// `finish` gives for results of other types.
    fn trap_mismatch(&self, wit: &str, message: &str) -> ! {
        match self.context {
            Site::Call(Callee::Export(func)) => panic!(
                "lua: export `{}` must return {wit}: {message}",
                func.qualified_name()
            ),
            _ => self.trap(message),
        }
    }

    fn lua_error(&self, err: mlua::Error) -> ! {
        panic!("{}: {err}", self.context)
    }

    fn new_table(&self, items: usize, fields: usize) -> Table {
        self.lua
            .create_table_with_capacity(items, fields)
            .unwrap_or_else(|e| self.lua_error(e))
    }

    fn field(&self, table: &Table, key: impl mlua::IntoLua) -> Value {
        table.raw_get(key).unwrap_or_else(|e| self.lua_error(e))
    }
}

impl Call for LuaStack {
    integers! {
        pop_u8 push_u8 u8, "u8";
        pop_s8 push_s8 i8, "s8";
        pop_u16 push_u16 u16, "u16";
        pop_s16 push_s16 i16, "s16";
        pop_u32 push_u32 u32, "u32";
        pop_s32 push_s32 i32, "s32";
        pop_s64 push_s64 i64, "s64";
    }

    fn pop_u64(&mut self) -> u64 {
        let value = self.pop_value();
        // Lua integers are 64-bit signed: u64 values above i64::MAX travel as
        // their two's-complement negative.
        match values::integer(&value, &"u64", i64::MIN.into(), u64::MAX.into()) {
            Ok(n) => n as u64,
            Err(message) => self.trap_mismatch("u64", &message),
        }
    }

    fn push_u64(&mut self, value: u64) {
        self.stack.push(Value::Integer(value as i64));
    }

    fn pop_bool(&mut self) -> bool {
        let value = self.pop_value();
        or_trap!(self, values::boolean(&value))
    }

    fn pop_char(&mut self) -> char {
        let value = self.pop_value();
        or_trap!(self, values::character(&value))
    }

    fn pop_f32(&mut self) -> f32 {
        let value = self.pop_value();
        or_trap!(self, values::float(&value, &"f32")) as f32
    }

    fn pop_f64(&mut self) -> f64 {
        let value = self.pop_value();
        or_trap!(self, values::float(&value, &"f64"))
    }

    fn pop_string(&mut self) -> Bytes {
        let value = self.pop_value();
        let s = or_trap!(self, values::string(&value));
        let (ptr, len) = {
            let bytes = s.as_bytes();
            (bytes.as_ptr(), bytes.len())
        };
        // SAFETY: Lua strings are immutable and never move; holding `s` (a
        // reference in Lua's registry) keeps the bytes alive.
        unsafe { Bytes::from_raw_parts(ptr, len, s) }
    }

    fn pop_flags(&mut self, ty: Flags) -> u32 {
        let value = self.pop_value();
        or_trap!(self, values::flags(&value, ty))
    }

    fn pop_enum(&mut self, ty: Enum) -> u32 {
        let value = self.pop_value();
        or_trap!(
            self,
            values::case_index(&value, || ty.names(), &format_args!("enum {}", ty.name()))
        )
    }

    fn pop_borrow(&mut self, ty: Resource) -> Borrow {
        let value = self.pop_value();
        or_trap!(self, resources::borrow_handle(&value, ty))
    }

    fn pop_own(&mut self, ty: Resource) -> Own {
        let value = self.pop_value();
        or_trap!(self, resources::own_handle(&self.lua, value, ty))
    }

    fn pop_record(&mut self, ty: Record) {
        let value = self.pop_value();
        let record = or_trap!(
            self,
            values::table(&value, &format_args!("record {}", ty.name()))
        );
        let fields: Vec<Value> = ty
            .fields()
            .map(|(name, _)| {
                values::record_field(&record, name).unwrap_or_else(|e| self.lua_error(e))
            })
            .collect();
        self.stack.extend(fields.into_iter().rev());
    }

    fn pop_tuple(&mut self, ty: Tuple) {
        let value = self.pop_value();
        let tuple = or_trap!(self, values::table(&value, &Described(Type::Tuple(ty))));
        let items: Vec<Value> = (1..=ty.types().len())
            .map(|i| self.field(&tuple, i))
            .collect();
        self.stack.extend(items.into_iter().rev());
    }

    fn pop_variant(&mut self, ty: Variant) -> u32 {
        let value = self.pop_value();
        let (case, payload) = or_trap!(self, values::variant(&value, ty));
        if ty
            .cases()
            .nth(case as usize)
            .is_some_and(|(_, t)| t.is_some())
        {
            self.stack.push(payload);
        }
        case
    }

    fn pop_option(&mut self, ty: WitOption) -> bool {
        let value = self.pop_value();
        match or_trap!(self, values::option(&value, ty)) {
            Some(payload) => {
                self.stack.push(payload);
                true
            }
            None => false,
        }
    }

    fn pop_result(&mut self, ty: WitResult) -> bool {
        let value = self.pop_value();
        let (is_err, payload) = or_trap!(self, values::result(&value));
        let has_payload = if is_err {
            ty.err().is_some()
        } else {
            ty.ok().is_some()
        };
        if has_payload {
            self.stack.push(payload);
        }
        is_err
    }

    fn pop_list(&mut self, ty: List) -> ListLowering {
        let value = self.pop_value();
        if let (Type::U8, Value::String(s)) = (ty.ty().dealias(), &value) {
            let (ptr, len) = {
                let bytes = s.as_bytes();
                (bytes.as_ptr(), bytes.len())
            };
            // SAFETY: as in `pop_string`.
            let bytes = unsafe { Bytes::from_raw_parts(ptr, len, s.clone()) };
            return ListLowering::Canonical { bytes, len };
        }
        let items = or_trap!(self, values::table(&value, &Described(Type::List(ty))));
        let len = items.raw_len();
        self.iters.push(Iter::List { items, next: 1 });
        ListLowering::Elements { len }
    }

    fn pop_list_iter_next(&mut self, _ty: List) {
        let next = match self.iters.last_mut() {
            Some(Iter::List { items, next }) => {
                *next += 1;
                items
                    .raw_get(*next - 1)
                    .unwrap_or_else(|e| panic!("list element: {e}"))
            }
            _ => self.trap("no list iterator on the stack"),
        };
        self.stack.push(next);
    }

    fn pop_list_iter(&mut self, _ty: List) {
        self.iters.pop();
    }

    fn pop_map(&mut self, ty: Map) -> usize {
        let value = self.pop_value();
        let map = or_trap!(self, values::table(&value, &Described(Type::Map(ty))));
        let entries: Vec<(Value, Value)> = map
            .pairs::<Value, Value>()
            .collect::<mlua::Result<_>>()
            .unwrap_or_else(|e| self.lua_error(e));
        let len = entries.len();
        self.iters.push(Iter::Map(entries.into_iter()));
        len
    }

    fn pop_map_iter_next(&mut self, _ty: Map) {
        let Some(Iter::Map(entries)) = self.iters.last_mut() else {
            self.trap("no map iterator on the stack")
        };
        let (key, value) = entries
            .next()
            .unwrap_or_else(|| panic!("map iterator exhausted"));
        self.stack.push(value);
        self.stack.push(key);
    }

    fn pop_map_iter(&mut self, _ty: Map) {
        self.iters.pop();
    }

    fn pop_future(&mut self, ty: Future) -> ReadEnd {
        let value = self.pop_value();
        or_trap!(self, channels::take(&value, Channel::Future(ty)))
    }

    fn pop_stream(&mut self, ty: Stream) -> ReadEnd {
        let value = self.pop_value();
        or_trap!(self, channels::take(&value, Channel::Stream(ty)))
    }

    // Scripts see an error-context as its debug message, a string.
    fn pop_error_context(&mut self) -> ErrorContext {
        let value = self.pop_value();
        let message = or_trap!(self, values::error_message(&value));
        or_trap!(self, ErrorContext::new(&message).map_err(|e| e.to_string()))
    }

    fn push_error_context(&mut self, value: ErrorContext) {
        self.push_string(value.debug_message());
    }

    fn push_future(&mut self, ty: Future, end: ReadEnd) {
        let end = channels::lift(&self.lua, Channel::Future(ty), end)
            .unwrap_or_else(|e| self.lua_error(e));
        self.stack.push(end);
    }

    fn push_stream(&mut self, ty: Stream, end: ReadEnd) {
        let end = channels::lift(&self.lua, Channel::Stream(ty), end)
            .unwrap_or_else(|e| self.lua_error(e));
        self.stack.push(end);
    }

    fn push_bool(&mut self, value: bool) {
        self.stack.push(Value::Boolean(value));
    }

    fn push_char(&mut self, value: char) {
        let s = self
            .lua
            .create_string(value.encode_utf8(&mut [0; 4]).as_bytes())
            .unwrap_or_else(|e| self.lua_error(e));
        self.stack.push(Value::String(s));
    }

    fn push_f32(&mut self, value: f32) {
        self.stack.push(Value::Number(value.into()));
    }

    fn push_f64(&mut self, value: f64) {
        self.stack.push(Value::Number(value));
    }

    fn push_string(&mut self, value: String) {
        let s = self
            .lua
            .create_string(value)
            .unwrap_or_else(|e| self.lua_error(e));
        self.stack.push(Value::String(s));
    }

    fn push_flags(&mut self, ty: Flags, bits: u32) {
        let set = values::flags_to_lua(&self.lua, ty, bits).unwrap_or_else(|e| self.lua_error(e));
        self.stack.push(set);
    }

    fn push_enum(&mut self, ty: Enum, case: u32) {
        let name = ty
            .names()
            .nth(case as usize)
            .expect("the SDK checked the case");
        self.push_string(lua_mapping::lua_name(name));
    }

    fn push_borrow(&mut self, ty: Resource, borrow: Borrow) {
        let value =
            resources::lift_borrow(&self.lua, ty, borrow).unwrap_or_else(|e| self.lua_error(e));
        self.stack.push(value);
    }

    fn push_own(&mut self, ty: Resource, own: Own) {
        let value = resources::lift_own(&self.lua, ty, own).unwrap_or_else(|e| self.lua_error(e));
        self.stack.push(value);
    }

    fn push_record(&mut self, ty: Record) {
        let fields = self.take(ty.fields().len());
        let record = self.new_table(0, fields.len());
        for ((name, _), value) in ty.fields().zip(fields) {
            record
                .raw_set(lua_mapping::lua_name(name), value)
                .unwrap_or_else(|e| self.lua_error(e));
        }
        self.stack.push(Value::Table(record));
    }

    fn push_tuple(&mut self, ty: Tuple) {
        let items = self.take(ty.types().len());
        let tuple = self.new_table(items.len(), 0);
        for (i, item) in items.into_iter().enumerate() {
            // By index: a `nil` element must still take its position.
            tuple
                .raw_set(i + 1, item)
                .unwrap_or_else(|e| self.lua_error(e));
        }
        self.stack.push(Value::Table(tuple));
    }

    fn push_variant(&mut self, ty: Variant, case: u32) {
        let (name, payload_ty) = ty
            .cases()
            .nth(case as usize)
            .expect("the SDK checked the case");
        let payload = if payload_ty.is_some() {
            self.pop_value()
        } else {
            Value::Nil
        };
        let variant = self.new_table(0, 2);
        variant
            .raw_set("tag", lua_mapping::lua_name(name))
            .unwrap_or_else(|e| self.lua_error(e));
        variant
            .raw_set("value", payload)
            .unwrap_or_else(|e| self.lua_error(e));
        self.stack.push(Value::Table(variant));
    }

    fn push_option(&mut self, ty: WitOption, is_some: bool) {
        if !is_some {
            self.stack.push(Value::Nil);
        } else if values::option_is_wrapped(ty) {
            let payload = self.pop_slot();
            let some = self.new_table(0, 1);
            some.raw_set("some", payload)
                .unwrap_or_else(|e| self.lua_error(e));
            self.stack.push(Value::Table(some));
        }
        // Otherwise the payload on top already is the value.
    }

    fn push_result(&mut self, ty: WitResult, is_err: bool) {
        let (key, has_payload) = if is_err {
            ("err", ty.err().is_some())
        } else {
            ("ok", ty.ok().is_some())
        };
        let payload = if has_payload {
            self.pop_slot()
        } else {
            Value::Boolean(true)
        };
        let result = self.new_table(0, 1);
        result
            .raw_set(key, payload)
            .unwrap_or_else(|e| self.lua_error(e));
        self.stack.push(Value::Table(result));
    }

    fn push_list_canonical(
        &mut self,
        ty: List,
        buffer: CanonicalList,
    ) -> Result<(), CanonicalList> {
        match buffer.as_slice::<u8>() {
            Some(bytes) if ty.ty().dealias() == Type::U8 => {
                let s = self
                    .lua
                    .create_string(bytes)
                    .unwrap_or_else(|e| self.lua_error(e));
                self.stack.push(Value::String(s));
                Ok(())
            }
            _ => Err(buffer),
        }
    }

    fn push_empty_list(&mut self, _ty: List, capacity: usize) {
        let list = self.new_table(capacity, 0);
        self.stack.push(Value::Table(list));
        if capacity > 0 {
            self.list_lens.push((0, capacity));
        }
    }

    fn list_append(&mut self, _ty: List) {
        let item = self.pop_slot();
        let Some((appended, length)) = self.list_lens.last_mut() else {
            self.trap("list_append without a list")
        };
        *appended += 1;
        let index = *appended;
        if index == *length {
            self.list_lens.pop();
        }
        match self.stack.last() {
            Some(Value::Table(list)) => list
                .raw_set(index, item)
                .unwrap_or_else(|e| self.lua_error(e)),
            _ => self.trap("list_append without a list on the stack"),
        }
    }

    fn push_map(&mut self, _ty: Map, capacity: usize) {
        let map = self.new_table(0, capacity);
        self.stack.push(Value::Table(map));
    }

    fn map_append(&mut self, _ty: Map) {
        let value = self.pop_slot();
        let key = self.pop_value();
        match self.stack.last() {
            Some(Value::Table(map)) => map
                .raw_set(key, value)
                .unwrap_or_else(|e| self.lua_error(e)),
            _ => self.trap("map_append without a map on the stack"),
        }
    }
}

/// Checks that `value` fits `ty` all the way down, so that lowering it cannot
/// fail; used on arguments Lua passes to imports and on results of exports.
pub fn check(ty: Type, value: &Value) -> Result<(), Mismatch> {
    let described = Described(ty);
    let int = |min: i128, max: i128| values::integer(value, &described, min, max).map(drop);
    match ty {
        Type::U8 => int(0, u8::MAX.into()),
        Type::S8 => int(i8::MIN.into(), i8::MAX.into()),
        Type::U16 => int(0, u16::MAX.into()),
        Type::S16 => int(i16::MIN.into(), i16::MAX.into()),
        Type::U32 => int(0, u32::MAX.into()),
        Type::S32 => int(i32::MIN.into(), i32::MAX.into()),
        Type::U64 => int(i64::MIN.into(), u64::MAX.into()),
        Type::S64 => int(i64::MIN.into(), i64::MAX.into()),
        Type::F32 | Type::F64 => values::float(value, &described).map(drop),
        Type::Bool => values::boolean(value).map(drop),
        Type::Char => values::character(value).map(drop),
        Type::String => values::string(value).map(drop),
        Type::Flags(f) => values::flags(value, f).map(drop),
        Type::Enum(e) => values::case_index(value, || e.names(), &described).map(drop),
        Type::Own(r) => resources::check_own(value, r),
        Type::Borrow(r) => resources::check_borrow(value, r),
        Type::Record(r) => {
            let t = values::table(value, &described)?;
            for (name, field_ty) in r.fields() {
                let field = values::record_field(&t, name).map_err(|e| e.to_string())?;
                check(field_ty, &field).map_err(|e| {
                    format!(
                        "field `{}` of record {}: {e}",
                        lua_mapping::lua_name(name),
                        r.name()
                    )
                })?;
            }
            Ok(())
        }
        Type::Tuple(t) => {
            let items = values::table(value, &described)?;
            for (i, item_ty) in t.types().enumerate() {
                let item: Value = items.raw_get(i + 1).map_err(|e| e.to_string())?;
                check(item_ty, &item)
                    .map_err(|e| format!("element {} of {described}: {e}", i + 1))?;
            }
            Ok(())
        }
        Type::Variant(v) => {
            let (case, payload) = values::variant(value, v)?;
            match v.cases().nth(case as usize).and_then(|(_, t)| t) {
                Some(payload_ty) => check(payload_ty, &payload),
                None => Ok(()),
            }
        }
        Type::Option(o) => match values::option(value, o)? {
            Some(payload) => check(o.ty(), &payload),
            None => Ok(()),
        },
        Type::Result(r) => {
            let (is_err, payload) = values::result(value)?;
            match if is_err { r.err() } else { r.ok() } {
                Some(payload_ty) => check(payload_ty, &payload),
                None => Ok(()),
            }
        }
        Type::List(l) => {
            if let (Type::U8, Value::String(_)) = (l.ty().dealias(), value) {
                return Ok(());
            }
            let items = values::table(value, &described)?;
            for i in 1..=items.raw_len() {
                let item: Value = items.raw_get(i).map_err(|e| e.to_string())?;
                check(l.ty(), &item).map_err(|e| format!("element {i} of {described}: {e}"))?;
            }
            Ok(())
        }
        Type::Map(m) => {
            let map = values::table(value, &described)?;
            for pair in map.pairs::<Value, Value>() {
                let (k, v) = pair.map_err(|e| e.to_string())?;
                check(m.key_ty(), &k)?;
                check(m.value_ty(), &v)?;
            }
            Ok(())
        }
        Type::Alias(a) => check(a.ty(), value),
        // A sequence of `len` elements, read by index like a tuple's, so
        // that `nil` (a `none`) may stand anywhere; more is an error.
        Type::FixedLengthList(l) => {
            let items = values::table(value, &described)?;
            if items.raw_len() > l.len() {
                let found = items.raw_len();
                return Err(format!(
                    "{described} has {} elements, found {found}",
                    l.len()
                ));
            }
            for i in 1..=l.len() {
                let item: Value = items.raw_get(i).map_err(|e| e.to_string())?;
                check(l.ty(), &item).map_err(|e| format!("element {i} of {described}: {e}"))?;
            }
            Ok(())
        }
        Type::Future(f) => channels::check(value, Channel::Future(f)),
        Type::Stream(s) => channels::check(value, Channel::Stream(s)),
        Type::ErrorContext => values::error_message(value).map(drop),
    }
}
