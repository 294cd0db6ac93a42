//! Roundtrip worlds from `wit-smith`: a seed becomes random WIT packages,
//! and those become one WIT document with a `caller` world (imports every
//! interface, exports `run`) and a `callee` world (exports them).
//!
//! The smith packages are adjusted so that the `val` interpreter can play
//! them, and every adjustment is reported:
//!
//! * every resource gets the matrix convention's `constructor(tag: u32)`
//!   and `tag: func() -> u32` (replacing its own constructor and `tag`);
//! * functions `val` cannot play are removed, each with the reason;
//! * a named type holding a future or stream that no function passes gets
//!   an async function taking it (`roundtrip-keep-*`), because such types
//!   have no canonical built-ins and no generator accepts them.
//!
//! The two worlds also carry `settle: func()`, which the caller calls after
//! every round: the callee must then hold no resource and no future or
//! stream end, and its heap must be back where it was (see `val`).

use std::collections::HashSet;

use anyhow::{Context, Result};
use arbitrary::Unstructured;
use wit_component::{Output, WitPrinter};
use wit_parser::decoding::{DecodedWasm, decode};
use wit_parser::{
    Function, FunctionKind, Handle, InterfaceId, Param, Resolve, Type, TypeDef, TypeDefKind,
    TypeId, TypeOwner, WorldId, WorldItem,
};

/// Bytes of input per seed (as in the generator's smith test).
const INPUT_LEN: usize = 65536;

/// Which optional WIT features the random packages use.
#[derive(Copy, Clone, Debug)]
pub struct Features {
    pub async_: bool,
    pub futures: bool,
    pub streams: bool,
    pub fixed_length_lists: bool,
    pub error_context: bool,
}

/// A roundtrip case's WIT, ready to build.
pub struct SmithWorlds {
    /// The WIT document (the smith packages nested in `test:roundtrip`).
    pub wit: String,
    pub resolve: Resolve,
    pub caller: WorldId,
    pub callee: WorldId,
    /// Which of the seed's inputs made these worlds (see [`derive`]).
    pub attempt: u32,
    /// Qualified names (`ns:pkg/iface#func`) of the functions played.
    pub functions: Vec<String>,
    /// Functions removed because `val` cannot play them, with the reason.
    pub skipped: Vec<(String, &'static str)>,
    /// Whether any function is async or passes a future or stream.
    pub is_async: bool,
    /// Why Lua cannot play these worlds even with `Keep::lua`: a function
    /// added by `keep_payload_types` passes what Lua's side cannot.
    pub lua_blocked: Option<&'static str>,
}

/// Why wit-smith produced nothing usable for a seed.
#[derive(Debug)]
pub enum NoWorld {
    /// wit-smith gave up on the input (not enough bytes for its choices).
    SmithGaveUp,
    /// The packages have no interface function left to call.
    NoFunctions,
}

/// What to keep of the random packages.
#[derive(Copy, Clone, Default)]
pub struct Keep<'a> {
    /// Just this function (a qualified name), for shrinking a failure.
    pub only: Option<&'a str>,
    /// Drop the functions the Lua matrix script cannot play too (it plays
    /// every type `val` does, but futures and streams only at the top).
    pub lua: bool,
}

/// The worlds for `seed`, from its input number `attempt`: a seed has
/// several inputs, so that a caller can try the next one when wit-smith
/// gives up or leaves no function (attempt 0 is the seed's first input).
pub fn derive(
    seed: u64,
    attempt: u32,
    features: Features,
    keep: Keep<'_>,
) -> Result<std::result::Result<SmithWorlds, NoWorld>> {
    let config = wit_smith::Config {
        async_: features.async_,
        futures: features.futures,
        streams: features.streams,
        fixed_length_lists: features.fixed_length_lists,
        error_context: features.error_context,
        ..wit_smith::Config::default()
    };
    let input = input(seed, attempt);
    let Ok(wasm) = wit_smith::smith(&config, &mut Unstructured::new(&input)) else {
        return Ok(Err(NoWorld::SmithGaveUp));
    };
    let mut resolve = match decode(&wasm).context("decoding wit-smith's package")? {
        DecodedWasm::WitPackage(resolve, _) => resolve,
        DecodedWasm::Component(..) => anyhow::bail!("wit-smith produced a component"),
    };
    strip_external_ids(&mut resolve);
    pair_lists_to_maps(&mut resolve);
    no_error_context_payloads(&mut resolve);
    // Named interfaces only: a world's inline interfaces cannot be imported
    // by another world.
    let interfaces: Vec<InterfaceId> = resolve
        .interfaces
        .iter()
        .map(|(id, _)| id)
        .filter(|id| resolve.id_of(*id).is_some())
        .collect();
    let mut skipped = Vec::new();
    for &iface in &interfaces {
        skip_unplayable(&mut resolve, iface, keep, &mut skipped);
        add_tag_convention(&mut resolve, iface);
    }
    keep_payload_types(&mut resolve, &interfaces);
    let lua_blocked = interfaces
        .iter()
        .flat_map(|&iface| resolve.interfaces[iface].functions.values())
        .find_map(|func| unplayable(&resolve, func, true));

    let mut functions = Vec::new();
    let mut is_async = false;
    for &iface in &interfaces {
        let name = resolve
            .id_of(iface)
            .context("an interface without a name")?;
        for func in resolve.interfaces[iface].functions.values() {
            is_async |= func.kind.is_async() || !func.find_futures_and_streams(&resolve).is_empty();
            if !is_helper(&func.name) {
                functions.push(format!("{name}#{}", func.name));
            }
        }
    }
    if functions.is_empty() {
        return Ok(Err(NoWorld::NoFunctions));
    }
    let wit = document(&resolve, &interfaces, is_async)?;
    // wit-smith marks items `@unstable(feature = ...)`: keep them all.
    let mut parsed = Resolve {
        all_features: true,
        ..Resolve::default()
    };
    let package = parsed
        .push_source("roundtrip.wit", &wit)
        .map_err(|err| anyhow::anyhow!("parsing the derived WIT: {err:#}\n\n{wit}"))?;
    let caller = parsed.select_world(&[package], Some("caller"))?;
    let callee = parsed.select_world(&[package], Some("callee"))?;
    Ok(Ok(SmithWorlds {
        wit,
        resolve: parsed,
        attempt,
        caller,
        callee,
        functions,
        skipped,
        is_async,
        lua_blocked,
    }))
}

/// wit-smith 0.263 writes no maps, so some lists become maps: every
/// `list<tuple<K, V>>` whose `K` can key a map and whose `V` holds no
/// handle or error-context (the component model forbids them in map
/// values) becomes
/// `map<K, V>`, and every other `list<K>` of such a `K` becomes `map<K, K>`.
fn pair_lists_to_maps(resolve: &mut Resolve) {
    let is_key = |t: Type| !matches!(t, Type::Id(_) | Type::F32 | Type::F64 | Type::ErrorContext);
    // Error-contexts count as handles here too.
    let is_handle = |k: &TypeDefKind| {
        matches!(
            k,
            TypeDefKind::Handle(_)
                | TypeDefKind::Resource
                | TypeDefKind::Future(_)
                | TypeDefKind::Stream(_)
        ) || parts(k).contains(&Type::ErrorContext)
    };
    let ids: Vec<TypeId> = resolve.types.iter().map(|(id, _)| id).collect();
    for id in ids {
        let TypeDefKind::List(element) = resolve.types[id].kind else {
            continue;
        };
        let map = match element {
            Type::Id(pair) => match &resolve.types[pair].kind {
                TypeDefKind::Tuple(t)
                    if t.types.len() == 2
                        && is_key(t.types[0])
                        && t.types[1] != Type::ErrorContext
                        && !holds(resolve, &t.types[1], &is_handle, &mut HashSet::new()) =>
                {
                    TypeDefKind::Map(t.types[0], t.types[1])
                }
                _ => continue,
            },
            key if is_key(key) && id.index() % 2 == 0 => TypeDefKind::Map(key, key),
            _ => continue,
        };
        resolve.types[id].kind = map;
    }
}

/// wasmtime 48 miscounts error-contexts copied through futures and streams
/// (bytecodealliance/wasmtime#13652), so our generator refuses them in
/// payloads: every future or stream payload holding one becomes a string.
fn no_error_context_payloads(resolve: &mut Resolve) {
    let direct = |k: &TypeDefKind| parts(k).contains(&Type::ErrorContext);
    let ids: Vec<TypeId> = resolve.types.iter().map(|(id, _)| id).collect();
    for id in ids {
        let (TypeDefKind::Future(Some(payload)) | TypeDefKind::Stream(Some(payload))) =
            resolve.types[id].kind
        else {
            continue;
        };
        let holds_one =
            payload == Type::ErrorContext || holds(resolve, &payload, &direct, &mut HashSet::new());
        if holds_one {
            resolve.types[id].kind = match resolve.types[id].kind {
                TypeDefKind::Future(_) => TypeDefKind::Future(Some(Type::String)),
                _ => TypeDefKind::Stream(Some(Type::String)),
            };
        }
    }
}

/// External ids (`@external-id`) need wasmtime's `cm-implements` feature
/// and mean nothing to the ABI: they are dropped.
fn strip_external_ids(resolve: &mut Resolve) {
    for (_, ty) in resolve.types.iter_mut() {
        ty.external_id = None;
    }
    for (_, iface) in resolve.interfaces.iter_mut() {
        for func in iface.functions.values_mut() {
            func.external_id = None;
        }
    }
    for (_, world) in resolve.worlds.iter_mut() {
        for item in world.imports.values_mut().chain(world.exports.values_mut()) {
            match item {
                WorldItem::Interface { external_id, .. } => *external_id = None,
                WorldItem::Function(func) => func.external_id = None,
                WorldItem::Type { .. } => {}
            }
        }
    }
}

/// The resource helpers of the tag convention, which `val` does not test.
fn is_helper(name: &str) -> bool {
    name.starts_with("[constructor]") || (name.starts_with("[method]") && name.ends_with(".tag"))
}

/// Why `val` (or, with `lua`, the Lua matrix script) cannot play `func`, if so.
fn unplayable(resolve: &Resolve, func: &Function, lua: bool) -> Option<&'static str> {
    let name = func.item_name();
    if name.starts_with("fail-")
        || [
            "early-reader",
            "early-writer",
            "cancel-read",
            "cancel-write",
        ]
        .contains(&name)
    {
        return Some("its name selects a special behaviour in val");
    }
    if !func.kind.is_async() && !func.find_futures_and_streams(resolve).is_empty() {
        return Some("val passes futures and streams through async functions only");
    }
    let mut types = func.params.iter().map(|p| p.ty).chain(func.result);
    if lua && types.any(|t| nested_channel(resolve, &t)) {
        return Some("the Lua matrix script passes futures and streams at the top level only");
    }
    None
}

/// Whether `ty` holds a future or stream anywhere but at its top (a
/// parameter or result that is one, with a payload that holds none).
fn nested_channel(resolve: &Resolve, ty: &Type) -> bool {
    let payload = match dealias(resolve, *ty) {
        Some(TypeDefKind::Future(t) | TypeDefKind::Stream(t)) => *t,
        _ => Some(*ty),
    };
    let is_channel = |k: &TypeDefKind| matches!(k, TypeDefKind::Future(_) | TypeDefKind::Stream(_));
    payload.is_some_and(|t| holds(resolve, &t, &is_channel, &mut HashSet::new()))
}

/// Whether `ty` holds a type whose kind `is` accepts, at any depth.
fn holds(
    resolve: &Resolve,
    ty: &Type,
    is: &dyn Fn(&TypeDefKind) -> bool,
    seen: &mut HashSet<TypeId>,
) -> bool {
    let Type::Id(id) = ty else { return false };
    if !seen.insert(*id) {
        return false;
    }
    let kind = &resolve.types[*id].kind;
    if is(kind) {
        return true;
    }
    parts(kind).iter().any(|t| holds(resolve, t, is, seen))
}

/// The types a defined type is made of, one level down.
fn parts(kind: &TypeDefKind) -> Vec<Type> {
    match kind {
        TypeDefKind::Future(t) | TypeDefKind::Stream(t) => t.iter().copied().collect(),
        TypeDefKind::Record(r) => r.fields.iter().map(|f| f.ty).collect(),
        TypeDefKind::Tuple(t) => t.types.clone(),
        TypeDefKind::Variant(v) => v.cases.iter().filter_map(|c| c.ty).collect(),
        TypeDefKind::Option(t)
        | TypeDefKind::List(t)
        | TypeDefKind::Type(t)
        | TypeDefKind::FixedLengthList(t, _) => vec![*t],
        TypeDefKind::Result(r) => r.ok.into_iter().chain(r.err).collect(),
        TypeDefKind::Map(k, v) => vec![*k, *v],
        _ => Vec::new(),
    }
}

/// The kind behind `ty`'s aliases, for a defined type.
fn dealias(resolve: &Resolve, mut ty: Type) -> Option<&TypeDefKind> {
    loop {
        let Type::Id(id) = ty else { return None };
        match &resolve.types[id].kind {
            TypeDefKind::Type(t) => ty = *t,
            kind => return Some(kind),
        }
    }
}

fn skip_unplayable(
    resolve: &mut Resolve,
    iface: InterfaceId,
    keep: Keep<'_>,
    skipped: &mut Vec<(String, &'static str)>,
) {
    let prefix = resolve.id_of(iface).unwrap_or_default();
    let mut removed = Vec::new();
    for (key, func) in &resolve.interfaces[iface].functions {
        let qualified = format!("{prefix}#{}", func.name);
        if let Some(reason) = unplayable(resolve, func, keep.lua) {
            skipped.push((qualified, reason));
            removed.push(key.clone());
        } else if keep.only.is_some_and(|only| only != qualified) {
            removed.push(key.clone());
        }
    }
    for key in removed {
        resolve.interfaces[iface].functions.shift_remove(&key);
    }
}

/// Gives every resource of `iface` the matrix convention's constructor and
/// `tag` method (see `val`).
fn add_tag_convention(resolve: &mut Resolve, iface: InterfaceId) {
    let resources: Vec<(String, TypeId)> = resolve.interfaces[iface]
        .types
        .iter()
        .filter(|(_, id)| matches!(resolve.types[**id].kind, TypeDefKind::Resource))
        .map(|(name, id)| (name.clone(), *id))
        .collect();
    for (name, resource) in resources {
        let own = anonymous(resolve, TypeDefKind::Handle(Handle::Own(resource)));
        let borrow = anonymous(resolve, TypeDefKind::Handle(Handle::Borrow(resource)));
        let functions = &mut resolve.interfaces[iface].functions;
        let constructor = format!("[constructor]{name}");
        let tag = format!("[method]{name}.tag");
        functions.shift_remove(&constructor);
        functions.shift_remove(&tag);
        let u32_param = param("tag", Type::U32);
        functions.insert(
            constructor.clone(),
            function(
                constructor,
                FunctionKind::Constructor(resource),
                vec![u32_param],
                Some(Type::Id(own)),
            ),
        );
        functions.insert(
            tag.clone(),
            function(
                tag,
                FunctionKind::Method(resource),
                vec![param("self", Type::Id(borrow))],
                Some(Type::U32),
            ),
        );
    }
}

/// Adds `roundtrip-keep-*: async func(x: T)` for every named type `T` that
/// holds a future or stream no function passes.
fn keep_payload_types(resolve: &mut Resolve, interfaces: &[InterfaceId]) {
    let mut used = HashSet::new();
    for &iface in interfaces {
        for func in resolve.interfaces[iface].functions.values() {
            used.extend(func.find_futures_and_streams(resolve));
        }
    }
    let mut count = 0;
    for &iface in interfaces {
        let types: Vec<TypeId> = resolve.interfaces[iface].types.values().copied().collect();
        for ty in types {
            if !holds_unused_payload(resolve, &used, &Type::Id(ty)) {
                continue;
            }
            let name = format!("roundtrip-keep-{}", letters(count));
            count += 1;
            let func = function(
                name.clone(),
                FunctionKind::AsyncFreestanding,
                vec![param("x", Type::Id(ty))],
                None,
            );
            used.extend(func.find_futures_and_streams(resolve));
            resolve.interfaces[iface].functions.insert(name, func);
        }
    }
}

/// `n` in letters (`a`, `b`, …, `ba`, …): WIT words cannot start with digits.
fn letters(mut n: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'a' + (n % 26) as u8);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII")
}

fn holds_unused_payload(resolve: &Resolve, used: &HashSet<TypeId>, ty: &Type) -> bool {
    let Type::Id(id) = ty else { return false };
    let any = |types: Vec<Type>| types.iter().any(|t| holds_unused_payload(resolve, used, t));
    match &resolve.types[*id].kind {
        TypeDefKind::Future(_) | TypeDefKind::Stream(_) if !used.contains(id) => true,
        TypeDefKind::Future(t) | TypeDefKind::Stream(t) => any(t.iter().copied().collect()),
        TypeDefKind::Record(r) => any(r.fields.iter().map(|f| f.ty).collect()),
        TypeDefKind::Tuple(t) => any(t.types.clone()),
        TypeDefKind::Variant(v) => any(v.cases.iter().filter_map(|c| c.ty).collect()),
        TypeDefKind::Option(t)
        | TypeDefKind::List(t)
        | TypeDefKind::Type(t)
        | TypeDefKind::FixedLengthList(t, _) => any(vec![*t]),
        TypeDefKind::Result(r) => any(r.ok.into_iter().chain(r.err).collect()),
        TypeDefKind::Map(k, v) => any(vec![*k, *v]),
        _ => false,
    }
}

/// The WIT document: `test:roundtrip` with the two worlds, then every
/// smith package nested in it.
fn document(resolve: &Resolve, interfaces: &[InterfaceId], is_async: bool) -> Result<String> {
    let run = if is_async { "async func" } else { "func" };
    let mut imports = String::new();
    let mut exports = String::new();
    for &iface in interfaces {
        let name = reference(resolve, iface)?;
        imports.push_str(&format!("  import {name};\n"));
        exports.push_str(&format!("  export {name};\n"));
    }
    let mut wit = format!(
        "package test:roundtrip;\n\n\
         world caller {{\n{imports}  import settle: func();\n  export run: {run}(iteration: u32);\n}}\n\n\
         world callee {{\n{exports}  export settle: func();\n}}\n\n"
    );
    let mut printer = WitPrinter::default();
    printer.emit_docs(false);
    for (id, _) in resolve.packages.iter() {
        printer.print_package(resolve, id, false)?;
        printer.output.newline();
    }
    wit.push_str(&printer.output.to_string());
    Ok(wit)
}

/// `%ns:%pkg/%iface@version`: every name escaped, since wit-smith may use
/// keywords (`u8`, `type`) as names.
fn reference(resolve: &Resolve, iface: InterfaceId) -> Result<String> {
    let interface = &resolve.interfaces[iface];
    let name = interface
        .name
        .as_deref()
        .context("an interface without a name")?;
    let package = interface
        .package
        .context("an interface without a package")?;
    let package = &resolve.packages[package].name;
    let version = match &package.version {
        Some(version) => format!("@{version}"),
        None => String::new(),
    };
    Ok(format!(
        "%{}:%{}/%{name}{version}",
        package.namespace, package.name
    ))
}

fn anonymous(resolve: &mut Resolve, kind: TypeDefKind) -> TypeId {
    resolve.types.alloc(TypeDef {
        name: None,
        kind,
        owner: TypeOwner::None,
        docs: Default::default(),
        stability: Default::default(),
        span: Default::default(),
        external_id: Default::default(),
    })
}

fn param(name: &str, ty: Type) -> Param {
    Param {
        name: name.into(),
        ty,
        span: Default::default(),
    }
}

fn function(
    name: String,
    kind: FunctionKind,
    params: Vec<Param>,
    result: Option<Type>,
) -> Function {
    Function {
        name,
        kind,
        params,
        result,
        docs: Default::default(),
        stability: Default::default(),
        span: Default::default(),
        external_id: Default::default(),
    }
}

/// The bytes wit-smith builds seed `seed`'s WIT from: splitmix64 bytes
/// whose low bit (wit-smith's "one more item?") is biased towards 1 in
/// 1/2, 3/4, 7/8 or 15/16 of them, cycling with the seed, so that worlds
/// range from tiny to large. Each later `attempt` starts the stream
/// elsewhere and lowers the bias by one step: the strongest biases are
/// the ones wit-smith most often gives up on.
fn input(seed: u64, attempt: u32) -> Vec<u8> {
    let mut state = seed.wrapping_add(u64::from(attempt).wrapping_mul(0xd1b5_4a32_d192_ed03));
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let bias = (seed % 4).saturating_sub(u64::from(attempt));
    (0..INPUT_LEN)
        .map(|_| {
            let (byte, draw) = (next() as u8, next());
            if bias > 0 && draw % (1 << bias) != 0 {
                byte | 1
            } else {
                byte
            }
        })
        .collect()
}
