//! Printing what an export returned: WAVE for plain values; a stream read to
//! its end (up to a limit) and printed as a WAVE list, a future awaited and
//! its value printed, a resource or error-context described. WAVE itself has
//! no syntax for handles, so values that hold one are printed here.

use anyhow::{Result, bail};
use wasmtime::component::types::{ResultType, Type};
use wasmtime::component::wasm_wave::wasm::DisplayType;
use wasmtime::component::{FutureAny, FutureReader, StreamAny, StreamReader, Val, wasm_wave};
use wit_dylib_pipeline::runtime::{Running, block_on};
use wit_dylib_pipeline::streams::{Awaited, Collector};

/// Renders `val` of type `ty`, reading streams up to `max_items` items.
pub fn render(running: &mut Running, ty: &Type, val: Val, max_items: usize) -> Result<String> {
    Printer { running, max_items }.render(ty, val)
}

struct Printer<'a> {
    running: &'a mut Running,
    max_items: usize,
}

impl Printer<'_> {
    fn render(&mut self, ty: &Type, val: Val) -> Result<String> {
        if !holds_handle(ty) {
            return Ok(wasm_wave::to_string(&val)?);
        }
        Ok(match (ty, val) {
            (Type::Stream(stream), Val::Stream(any)) => {
                let Some(elem) = stream.ty() else {
                    bail!("`run` cannot read a stream without a payload type");
                };
                self.stream(&elem, any)?
            }
            (Type::Future(future), Val::Future(any)) => {
                let Some(payload) = future.ty() else {
                    bail!("`run` cannot await a future without a payload type");
                };
                match self.future(&payload, any)? {
                    Some(value) => format!("future({})", self.render(&payload, value)?),
                    None => "future dropped without a value".to_string(),
                }
            }
            (Type::Own(_), Val::Resource(_)) => "own<resource> (a handle `run` cannot call)".into(),
            (Type::Borrow(_), Val::Resource(_)) => "borrow<resource>".into(),
            (Type::ErrorContext, Val::ErrorContext(_)) => "error-context".into(),
            (Type::List(list), Val::List(items)) => {
                format!("[{}]", self.each(&list.ty(), items)?)
            }
            (Type::FixedLengthList(list), Val::FixedLengthList(items)) => {
                format!("[{}]", self.each(&list.ty(), items)?)
            }
            (Type::Tuple(tuple), Val::Tuple(items)) => {
                let parts = tuple
                    .types()
                    .zip(items)
                    .map(|(ty, item)| self.render(&ty, item))
                    .collect::<Result<Vec<_>>>()?;
                format!("({})", parts.join(", "))
            }
            (Type::Record(record), Val::Record(fields)) => {
                let parts = record
                    .fields()
                    .zip(fields)
                    .map(|(field, (name, value))| {
                        Ok(format!("{name}: {}", self.render(&field.ty, value)?))
                    })
                    .collect::<Result<Vec<_>>>()?;
                format!("{{{}}}", parts.join(", "))
            }
            (Type::Option(option), Val::Option(value)) => match value {
                Some(value) => format!("some({})", self.render(&option.ty(), *value)?),
                None => "none".into(),
            },
            (Type::Result(result), Val::Result(value)) => self.result(result, value)?,
            (Type::Variant(variant), Val::Variant(case, payload)) => {
                let ty = variant.cases().find(|c| c.name == case).and_then(|c| c.ty);
                match (ty, payload) {
                    (Some(ty), Some(payload)) => format!("{case}({})", self.render(&ty, *payload)?),
                    _ => case,
                }
            }
            (ty, _) => bail!("`run` cannot print a value of type {}", DisplayType(ty)),
        })
    }

    fn each(&mut self, ty: &Type, items: Vec<Val>) -> Result<String> {
        let parts = items
            .into_iter()
            .map(|item| self.render(ty, item))
            .collect::<Result<Vec<_>>>()?;
        Ok(parts.join(", "))
    }

    fn result(
        &mut self,
        ty: &ResultType,
        value: Result<Option<Box<Val>>, Option<Box<Val>>>,
    ) -> Result<String> {
        let (case, ty, payload) = match value {
            Ok(payload) => ("ok", ty.ok(), payload),
            Err(payload) => ("err", ty.err(), payload),
        };
        Ok(match (ty, payload) {
            (Some(ty), Some(payload)) => format!("{case}({})", self.render(&ty, *payload)?),
            _ => case.to_string(),
        })
    }

    /// Reads the stream to its end, or drops it after `max_items` items.
    fn stream(&mut self, elem: &Type, any: StreamAny) -> Result<String> {
        macro_rules! read {
            ($($kind:ident => $rust:ty),* $(,)?) => {
                match elem {
                    $(Type::$kind => {
                        let (items, ended) = self.read_stream::<$rust>(any)?;
                        let items = items.into_iter().map(|item| Val::$kind(item)).collect();
                        (items, ended)
                    })*
                    other => bail!(
                        "`run` can read streams of numbers, bools, chars and strings, \
                         not of {}",
                        DisplayType(other)
                    ),
                }
            };
        }
        let (items, ended): (Vec<Val>, bool) = read!(
            Bool => bool, U8 => u8, S8 => i8, U16 => u16, S16 => i16, U32 => u32,
            S32 => i32, U64 => u64, S64 => i64, Float32 => f32, Float64 => f64,
            Char => char, String => String,
        );
        let list = format!("[{}]", self.each(elem, items)?);
        Ok(match ended {
            true => format!("{list} (stream ended)"),
            false => format!(
                "{list} (stream cut after {} items; raise --max-items)",
                self.max_items
            ),
        })
    }

    /// The stream's items, and whether it ended by itself.
    fn read_stream<T>(&mut self, any: StreamAny) -> Result<(Vec<T>, bool)>
    where
        T: wasmtime::component::ComponentType + wasmtime::component::Lift + Send + Sync + 'static,
    {
        let reader = StreamReader::<T>::try_from_stream_any(any)?;
        // One item past the limit tells a cut stream from one that ended.
        let collector = Collector::<T>::new(256).stop_after(self.max_items + 1);
        let store = &mut self.running.store;
        reader.pipe(&mut *store, collector.consumer())?;
        let mut items = block_on(store.run_concurrent(async |_| collector.items().await))?;
        let ended = items.len() <= self.max_items;
        items.truncate(self.max_items);
        Ok((items, ended))
    }

    /// The future's value, or `None` if its writer dropped it unwritten.
    fn future(&mut self, payload: &Type, any: FutureAny) -> Result<Option<Val>> {
        macro_rules! await_value {
            ($($kind:ident => $rust:ty),* $(,)?) => {
                match payload {
                    $(Type::$kind => self.await_future::<$rust>(any)?.map(Val::$kind),)*
                    other => bail!(
                        "`run` can await futures of numbers, bools, chars and strings, \
                         not of {}",
                        DisplayType(other)
                    ),
                }
            };
        }
        Ok(await_value!(
            Bool => bool, U8 => u8, S8 => i8, U16 => u16, S16 => i16, U32 => u32,
            S32 => i32, U64 => u64, S64 => i64, Float32 => f32, Float64 => f64,
            Char => char, String => String,
        ))
    }

    fn await_future<T>(&mut self, any: FutureAny) -> Result<Option<T>>
    where
        T: wasmtime::component::ComponentType + wasmtime::component::Lift + Send + Sync + 'static,
    {
        let reader = FutureReader::<T>::try_from_future_any(any)?;
        let awaited = Awaited::<T>::default();
        let store = &mut self.running.store;
        reader.pipe(&mut *store, awaited.consumer())?;
        Ok(block_on(
            store.run_concurrent(async |_| awaited.value().await),
        )?)
    }
}

/// Whether a value of `ty` may hold a handle (which WAVE cannot print).
fn holds_handle(ty: &Type) -> bool {
    match ty {
        Type::Own(_) | Type::Borrow(_) | Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            true
        }
        Type::List(list) => holds_handle(&list.ty()),
        Type::FixedLengthList(list) => holds_handle(&list.ty()),
        Type::Map(map) => holds_handle(&map.key()) || holds_handle(&map.value()),
        Type::Tuple(tuple) => tuple.types().any(|ty| holds_handle(&ty)),
        Type::Record(record) => record.fields().any(|field| holds_handle(&field.ty)),
        Type::Option(option) => holds_handle(&option.ty()),
        Type::Result(result) => {
            result.ok().is_some_and(|ty| holds_handle(&ty))
                || result.err().is_some_and(|ty| holds_handle(&ty))
        }
        Type::Variant(variant) => variant
            .cases()
            .any(|case| case.ty.as_ref().is_some_and(holds_handle)),
        _ => false,
    }
}
