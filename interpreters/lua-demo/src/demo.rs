//! The default run: build the bundled example (or another script for its
//! world) and call it, playing the host.

use std::path::Path;

use anyhow::{Result, bail};
use lua_demo::{Script, componentize, load_world, runtime};
use wasmtime::component::Val;

const API: &str = "demo:app/api";

/// Runs `script` (the bundled `example/app.lua` when `None`). A script with
/// its own world next to it (`examples/words/words.lua` and `words.wit`)
/// runs with the host of that example.
pub fn run(script: Option<&Path>) -> Result<()> {
    if let Some(path) = script {
        let wit = path.with_extension("wit");
        if wit.exists() {
            let (resolve, _) = load_world(&wit, None)?;
            let defines = |name: &str| {
                resolve
                    .packages
                    .iter()
                    .any(|(_, p)| p.name.to_string() == name)
            };
            if defines("demo:words") {
                return crate::words::run(path, &wit);
            }
            if !defines("demo:app") {
                bail!(
                    "{} defines no world the demo has a host for (`demo:app` or `demo:words`)",
                    wit.display()
                );
            }
        }
    }
    let example = lua_demo::crate_dir().join("example");
    let script = Script::read(script.unwrap_or(&example.join("app.lua")))?;
    let (resolve, world) = load_world(&example.join("app.wit"), Some("app"))?;
    let component = componentize(&script, &resolve, world)?;
    println!(
        "built {} for world `app` into a component of {} KiB",
        script.name,
        component.len() / 1024
    );

    let engine = runtime::cached_engine_for(&component)?;
    let mut app = runtime::instantiate(&engine, &component, |linker, _| {
        let mut host = linker.instance("demo:app/host")?;
        host.func_new("log", |_, _, args, _| {
            if let [Val::String(message)] = args {
                println!("  [host] log: {message}");
            }
            Ok(())
        })?;
        host.func_new("current-weather", |_, _, args, results| {
            let [Val::String(city)] = args else {
                wasmtime::bail!("current-weather takes a city")
            };
            // A made-up but stable forecast.
            let celsius = (city.bytes().map(u32::from).sum::<u32>() % 40) as f32 - 5.5;
            results[0] = Val::Record(vec![
                ("city".into(), Val::String(city.clone())),
                ("celsius".into(), Val::Float32(celsius)),
            ]);
            Ok(())
        })?;
        Ok(())
    })?;

    let greeting = app.call(Some(API), "greet", &[Val::String("WebAssembly".into())])?;
    println!("greet(\"WebAssembly\") = {}", show(&greeting));

    let cities = Val::List(
        ["Lisbon", "Oslo", "Nairobi"]
            .map(|c| Val::String(c.into()))
            .to_vec(),
    );
    let summary = app.call(Some(API), "summarize", &[cities])?;
    println!("summarize([Lisbon, Oslo, Nairobi]) = {}", show(&summary));

    let circle = Val::Variant("circle".into(), Some(Box::new(Val::Float64(2.0))));
    let rectangle = Val::Variant(
        "rectangle".into(),
        Some(Box::new(Val::Tuple(vec![
            Val::Float64(3.0),
            Val::Float64(4.5),
        ]))),
    );
    for (label, shape) in [("circle(2)", circle), ("rectangle(3, 4.5)", rectangle)] {
        println!(
            "area({label}) = {}",
            show(&app.call(Some(API), "area", &[shape])?)
        );
    }

    let counter = app.call(Some(API), "[constructor]counter", &[Val::U32(10)])?;
    let [Val::Resource(handle)] = counter[..] else {
        bail!("the constructor returned {counter:?}")
    };
    let after = app.call(
        Some(API),
        "[method]counter.increment",
        &[Val::Resource(handle), Val::U32(5)],
    )?;
    let value = app.call(Some(API), "[method]counter.value", &[Val::Resource(handle)])?;
    handle
        .resource_drop(&mut app.store)
        .map_err(anyhow::Error::from)?;
    println!(
        "counter: new(10), increment(5) = {}, value() = {}, dropped",
        show(&after),
        show(&value)
    );
    Ok(())
}

/// A result list for printing: the single value, in a readable form.
fn show(results: &[Val]) -> String {
    match results {
        [value] => format_val(value),
        other => format!("{other:?}"),
    }
}

fn format_val(value: &Val) -> String {
    match value {
        Val::String(s) => format!("{s:?}"),
        Val::Float64(f) => format!("{f:.3}"),
        Val::U32(n) => n.to_string(),
        Val::List(items) => format!(
            "[{}]",
            items.iter().map(format_val).collect::<Vec<_>>().join(", ")
        ),
        other => format!("{other:?}"),
    }
}
