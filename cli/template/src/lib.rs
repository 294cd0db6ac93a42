//! A wit-dylib interpreter for calc, a small expression language ([`lang`]).
//!
//! A component built with this interpreter runs the calc script linked into
//! it: each export of the world is the script's definition of the same
//! name, and the world's imports are functions the script calls by their
//! WIT names. [`values`] maps WIT values to calc values and back.
//!
//! Errors (a script that does not parse or does not fit the world, a
//! failing call, a result that does not fit its type) panic with a message
//! naming the script or the export. The panic traps the component, and the
//! SDK's panic hook writes the message to stderr first.

mod lang;
mod values;

use std::collections::HashMap;

use lang::{Imports, Program, Value};
use wit_dylib_sdk::{
    Callee, ExportFunction, ImportFunction, Interpreter, Resource, ValStack, Wit, linked_script,
    release_linked_script,
};

/// Starts every message, so that the host's stderr says who is speaking.
const NAME: &str = env!("CARGO_PKG_NAME");

struct Calc {
    program: Program,
    /// The world-level imports, by WIT name.
    imports: HashMap<&'static str, ImportFunction>,
}

impl Interpreter for Calc {
    type CallCx = ValStack;

    fn initialize(wit: Wit) -> Self {
        let script = linked_script();
        let source = std::str::from_utf8(script.source)
            .unwrap_or_else(|err| panic!("{NAME}: `{}` is not UTF-8: {err}", script.name));
        let program =
            Program::parse(script.name, source).unwrap_or_else(|err| panic!("{NAME}: {err}"));
        let problems: Vec<String> = wit
            .export_funcs()
            .filter_map(|func| implements(&program, func).err())
            .collect();
        assert!(
            problems.is_empty(),
            "{NAME}: `{}` does not implement the world:\n  {}",
            script.name,
            problems.join("\n  ")
        );
        // SAFETY: `Program` owns copies of everything it took from the
        // source, and nothing reads `script` again. Released, the source is
        // not in a pre-initialised component's snapshot.
        unsafe { release_linked_script() };
        let imports = wit
            .import_funcs()
            .filter(|func| func.interface().is_none())
            .map(|func| (func.name(), func))
            .collect();
        Calc { program, imports }
    }

    fn export_start(&self, func: ExportFunction) -> ValStack {
        ValStack::for_export(func)
    }

    fn export_call(&self, func: ExportFunction, cx: &mut ValStack) {
        let fail = |err: String| -> ! { panic!("{NAME}: export `{}` failed: {err}", func.name()) };
        let args: Vec<Value> = cx
            .take_args(func.params().len())
            .into_iter()
            .map(values::lift)
            .collect();
        let result = self
            .program
            .call(func.name(), &args, self)
            .unwrap_or_else(|err| fail(err));
        if let Some(ty) = func.result() {
            let val =
                values::lower(ty, result).unwrap_or_else(|err| fail(format!("its result: {err}")));
            cx.push(val);
        }
    }

    // Calc values are never resources (start-up refuses their types), so
    // no handle of ours exists to be dropped.
    fn resource_dtor(&self, _ty: Resource, _rep: usize) {}
}

/// Whether `program` implements export `func`, or why not: `func` must be
/// a world-level function of types calc has, defined with as many
/// parameters.
fn implements(program: &Program, func: ExportFunction) -> Result<(), String> {
    let export = Callee::Export(func);
    if func.interface().is_some() {
        return Err(format!(
            "{export} is in an interface; calc implements world-level functions only"
        ));
    }
    values::check(export)?;
    let (name, params) = (func.name(), func.params().len());
    match program.arity(name) {
        Some(n) if n == params => Ok(()),
        Some(n) => Err(format!(
            "{export} takes {params} parameters, but `{name}` is defined with {n}"
        )),
        None => {
            let params: Vec<String> = (1..=params).map(|i| format!("p{i}")).collect();
            let params = params.join(", ");
            Err(format!(
                "{export} has no definition: add a line `{name}({params}) = ...`"
            ))
        }
    }
}

/// The world's imports, as calc functions.
impl Imports for Calc {
    fn call(&self, name: &str, args: Vec<Value>) -> Option<Result<Value, String>> {
        let func = *self.imports.get(name)?;
        Some(call_import(func, args))
    }
}

/// Calls import `func` with calc arguments, lowered to its WIT types.
fn call_import(func: ImportFunction, args: Vec<Value>) -> Result<Value, String> {
    let import = Callee::Import(func);
    values::check(import)?;
    let params = func.params().len();
    if args.len() != params {
        return Err(format!(
            "{import} takes {params} arguments, got {}",
            args.len()
        ));
    }
    let args = func
        .params()
        .zip(args)
        .enumerate()
        .map(|(i, (ty, arg))| {
            values::lower(ty, arg).map_err(|err| format!("argument {} of {import}: {err}", i + 1))
        })
        .collect::<Result<_, _>>()?;
    Ok(wit_dylib_sdk::call_import(func, args).map_or(Value::Unit, values::lift))
}

wit_dylib_sdk::export!(Calc);
