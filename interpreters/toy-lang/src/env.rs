//! Lexical environments: a chain of small frames, one per function call or
//! `let`. Frames hold a handful of names, so a linear search beats hashing.

use crate::value::Value;
use std::cell::RefCell;
use std::rc::Rc;

/// The innermost frame, or `None` at top level (where names are globals).
pub(crate) type Scope = Option<Rc<Env>>;

pub(crate) struct Env {
    vars: RefCell<Vec<(Rc<str>, Value)>>,
    parent: Scope,
}

/// Names are interned per program, so the pointer test usually decides.
fn same_name(a: &Rc<str>, b: &Rc<str>) -> bool {
    Rc::ptr_eq(a, b) || a == b
}

impl Env {
    pub fn new(vars: Vec<(Rc<str>, Value)>, parent: Scope) -> Rc<Env> {
        Rc::new(Env {
            vars: RefCell::new(vars),
            parent,
        })
    }

    /// The value of the nearest binding of `name`.
    pub fn lookup(scope: &Scope, name: &Rc<str>) -> Option<Value> {
        let mut frame = scope.as_deref();
        while let Some(env) = frame {
            let vars = env.vars.borrow();
            if let Some((_, value)) = vars.iter().find(|(n, _)| same_name(n, name)) {
                return Some(value.clone());
            }
            frame = env.parent.as_deref();
        }
        None
    }

    /// Binds `name` in this frame, replacing a binding it already has.
    pub fn define(&self, name: &Rc<str>, value: Value) {
        let mut vars = self.vars.borrow_mut();
        let old = match vars.iter_mut().find(|(n, _)| same_name(n, name)) {
            Some((_, slot)) => Some(std::mem::replace(slot, value)),
            None => {
                vars.push((name.clone(), value));
                None
            }
        };
        // The old value may own a host object whose drop does anything.
        drop(vars);
        drop(old);
    }

    /// Assigns the nearest binding of `name`; gives the value back if there
    /// is none.
    pub fn assign(scope: &Scope, name: &Rc<str>, value: Value) -> Result<(), Value> {
        let mut frame = scope.as_deref();
        while let Some(env) = frame {
            let mut vars = env.vars.borrow_mut();
            if let Some((_, slot)) = vars.iter_mut().find(|(n, _)| same_name(n, name)) {
                let old = std::mem::replace(slot, value);
                drop(vars);
                drop(old);
                return Ok(());
            }
            frame = env.parent.as_deref();
        }
        Err(value)
    }
}
