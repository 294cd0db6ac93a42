//! The interpreter state and the embedding API: globals, the toy call stack,
//! and calling functions. Everything takes `&self` so that natives, which get
//! `&Interp`, can call back into toy code.

use crate::ast::{Lambda, Pos};
use crate::builtins;
use crate::env::{Env, Scope};
use crate::error::{Error, StackFrame};
use crate::parser::Program;
use crate::value::{FnKind, Function, Value};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

/// Type of host-provided functions: get the arguments, return a value or an
/// error message. A native that fails because an [`Interp::call`] it made
/// failed should return that error (`?` converts it): the interpreter then
/// re-raises the original error, stack and all.
pub type NativeFn = dyn Fn(&Interp, Vec<Value>) -> Result<Value, String>;

/// Nested toy calls allowed before giving up: the wasm stack is small, and
/// running out of it aborts instead of raising a catchable error.
pub const MAX_CALL_DEPTH: usize = 200;

/// Errors travel boxed inside the evaluator: it keeps `Result` small, and so
/// the Rust stack used per toy call.
pub(crate) type Eval = Result<Value, Box<Error>>;

/// The globals and call stack of one running script. Values are `Rc`-based,
/// so an interpreter stays on the thread that made it.
pub struct Interp {
    globals: RefCell<HashMap<Rc<str>, Value>>,
    /// Active calls, innermost last. Natives are on it too (but not shown):
    /// their call site is where toy code they call back appears to be called.
    calls: RefCell<Vec<ActiveCall>>,
    /// Active toy (not native) calls.
    depth: Cell<usize>,
}

struct ActiveCall {
    function: Rc<str>,
    site: Pos,
    native: bool,
    /// The last error of an `Interp::call` made by this native.
    nested_error: Option<Box<Error>>,
}

/// Summarises: the globals include every builtin, which says little.
impl fmt::Debug for Interp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interp")
            .field("globals", &self.globals.borrow().len())
            .field("depth", &self.depth.get())
            .finish()
    }
}

impl Default for Interp {
    fn default() -> Interp {
        Interp::new()
    }
}

impl Interp {
    /// An interpreter with all builtins defined.
    pub fn new() -> Interp {
        let interp = Interp {
            globals: RefCell::new(HashMap::new()),
            calls: RefCell::new(Vec::new()),
            depth: Cell::new(0),
        };
        builtins::install(&interp);
        interp
    }

    /// Sets a global.
    pub fn define(&self, name: &str, value: Value) {
        let old = self.globals.borrow_mut().insert(Rc::from(name), value);
        drop(old);
    }

    /// Defines a global function value named `name`.
    pub fn define_native(
        &self,
        name: &str,
        f: impl Fn(&Interp, Vec<Value>) -> Result<Value, String> + 'static,
    ) {
        self.define(name, Value::Func(Rc::new(Function::native(name, f))));
    }

    pub fn global(&self, name: &str) -> Option<Value> {
        self.globals.borrow().get(name).cloned()
    }

    /// Evaluates the program's top-level forms in order.
    pub fn run(&self, program: &Program) -> Result<(), Error> {
        for form in program.forms.iter() {
            self.eval(form, &None).map_err(|e| *e)?;
        }
        Ok(())
    }

    /// Calls a function value. From the host, the call is labelled with the
    /// function's own name; see [`Interp::call_named`].
    pub fn call(&self, f: &Value, args: Vec<Value>) -> Result<Value, Error> {
        self.call_labelled(None, f, args)
    }

    /// Calls a function value; `name` labels this entry in the toy call stack
    /// (e.g. the WIT export name).
    pub fn call_named(&self, name: &str, f: &Value, args: Vec<Value>) -> Result<Value, Error> {
        self.call_labelled(Some(Rc::from(name)), f, args)
    }

    fn call_labelled(
        &self,
        label: Option<Rc<str>>,
        f: &Value,
        args: Vec<Value>,
    ) -> Result<Value, Error> {
        let caller = self
            .calls
            .borrow()
            .last()
            .map(|c| (c.native, c.site.clone()));
        let from_native = matches!(caller, Some((true, _)));
        let site = match caller {
            // Called back by a native: toy code sees the native's call site.
            Some((true, site)) => site,
            // From the host: there is no call site, so the definition.
            _ => match f {
                Value::Func(func) => match &func.kind {
                    FnKind::Closure { lambda, .. } => lambda.pos.clone(),
                    FnKind::Native(_) => host_pos(),
                },
                _ => host_pos(),
            },
        };
        self.apply(f, args, &site, label).map_err(|error| {
            if from_native && let Some(call) = self.calls.borrow_mut().last_mut() {
                call.nested_error = Some(error.clone());
            }
            *error
        })
    }

    /// Calls `f` from `site`, labelling the frame `label` if given.
    pub(crate) fn apply(
        &self,
        f: &Value,
        args: Vec<Value>,
        site: &Pos,
        label: Option<Rc<str>>,
    ) -> Eval {
        let Value::Func(func) = f else {
            return Err(self.fail(site, format!("not a function: {}", f.show())));
        };
        let label = label.unwrap_or_else(|| func.name.clone());
        match &func.kind {
            FnKind::Closure { lambda, scope } => {
                self.apply_closure(label, lambda, scope, args, site)
            }
            FnKind::Native(native) => self.apply_native(label, native, args, site),
        }
    }

    fn apply_closure(
        &self,
        label: Rc<str>,
        lambda: &Lambda,
        scope: &Scope,
        args: Vec<Value>,
        site: &Pos,
    ) -> Eval {
        let scope = self.bind(&label, lambda, scope, args, site)?;
        self.push(label, site, false);
        self.depth.set(self.depth.get() + 1);
        let result = self.eval_body(&lambda.body, &Some(scope));
        self.depth.set(self.depth.get() - 1);
        self.pop();
        result
    }

    /// The scope of a call: parameters bound to arguments. Kept out of
    /// `apply_closure`, which is on every recursion path, so its locals do
    /// not stay on the stack during the call.
    #[inline(never)]
    fn bind(
        &self,
        label: &str,
        lambda: &Lambda,
        scope: &Scope,
        args: Vec<Value>,
        site: &Pos,
    ) -> Result<Rc<Env>, Box<Error>> {
        let wanted = lambda.params.len();
        let variadic = lambda.rest.is_some();
        if args.len() != wanted && !(variadic && args.len() > wanted) {
            let max = if variadic { None } else { Some(wanted) };
            return Err(self.fail(site, arity_message(label, wanted, max, args.len())));
        }
        if self.depth.get() >= MAX_CALL_DEPTH {
            return Err(self.fail(
                site,
                format!("stack overflow (more than {MAX_CALL_DEPTH} nested calls)"),
            ));
        }
        let mut vars = Vec::with_capacity(wanted + usize::from(variadic));
        let mut args = args.into_iter();
        for (param, arg) in lambda.params.iter().zip(&mut args) {
            vars.push((param.clone(), arg));
        }
        if let Some(rest) = &lambda.rest {
            vars.push((rest.clone(), Value::list(args.collect())));
        }
        Ok(Env::new(vars, scope.clone()))
    }

    fn apply_native(
        &self,
        label: Rc<str>,
        native: &NativeFn,
        args: Vec<Value>,
        site: &Pos,
    ) -> Eval {
        self.push(label, site, true);
        let result = native(self, args);
        let call = self.pop();
        result.map_err(|message| match call.nested_error {
            Some(error) if error.message == message => error,
            _ => self.fail(site, message),
        })
    }

    fn push(&self, function: Rc<str>, site: &Pos, native: bool) {
        self.calls.borrow_mut().push(ActiveCall {
            function,
            site: site.clone(),
            native,
            nested_error: None,
        });
    }

    fn pop(&self) -> ActiveCall {
        let call = self.calls.borrow_mut().pop();
        call.expect("pushed by the caller")
    }

    /// A runtime error raised at `pos`, with the current toy stack.
    pub(crate) fn fail(&self, pos: &Pos, message: impl Into<String>) -> Box<Error> {
        let stack = self
            .calls
            .borrow()
            .iter()
            .rev()
            .filter(|call| !call.native)
            .map(|call| StackFrame {
                function: call.function.to_string(),
                file: call.site.file.to_string(),
                line: call.site.line,
                column: call.site.column,
            })
            .collect();
        Box::new(Error {
            message: message.into(),
            stack,
            file: pos.file.to_string(),
            line: pos.line,
            column: pos.column,
        })
    }

    pub(crate) fn globals(&self) -> &RefCell<HashMap<Rc<str>, Value>> {
        &self.globals
    }
}

/// Where calls from the host appear to come from when there is no better
/// position.
fn host_pos() -> Pos {
    Pos {
        file: Rc::from("<host>"),
        line: 0,
        column: 0,
    }
}

/// E.g. "`f` takes 2 arguments, got 3"; `max` is `None` for variadic ones.
pub(crate) fn arity_message(name: &str, min: usize, max: Option<usize>, got: usize) -> String {
    let count = |n: usize| format!("{n} argument{}", if n == 1 { "" } else { "s" });
    match max {
        Some(max) if max == min => format!("`{name}` takes {}, got {got}", count(min)),
        Some(max) => format!("`{name}` takes {min} to {}, got {got}", count(max)),
        None => format!("`{name}` takes at least {}, got {got}", count(min)),
    }
}
