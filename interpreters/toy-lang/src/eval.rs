//! Evaluating expressions. `eval` only dispatches; each form has its own
//! function so that the Rust frame of a recursion step holds the locals of
//! one form, not of all of them (the wasm stack is small).

use crate::ast::{Call, Expr, Let, Pos, When};
use crate::env::{Env, Scope};
use crate::interp::{Eval, Interp};
use crate::value::{FnKind, Function, Value};
use std::rc::Rc;

impl Interp {
    pub(crate) fn eval(&self, expr: &Expr, scope: &Scope) -> Eval {
        match expr {
            Expr::Const(value) => Ok(value.clone()),
            Expr::Var(name, pos) => self.lookup(name, pos, scope),
            Expr::Call(call) => self.eval_call(call, scope),
            Expr::If(parts) => self.eval_if(parts, scope),
            Expr::Define(define) => self.eval_define(&define.0, &define.1, scope),
            Expr::Set(set) => self.eval_set(&set.0, &set.1, &set.2, scope),
            Expr::Fn(lambda) => Ok(Value::Func(Rc::new(Function {
                name: lambda.name.clone(),
                kind: FnKind::Closure {
                    lambda: lambda.clone(),
                    scope: scope.clone(),
                },
            }))),
            Expr::Let(form) => self.eval_let(form, scope),
            Expr::Cond(clauses) => self.eval_cond(clauses, scope),
            Expr::When(form) => self.eval_when(form, scope),
            Expr::And(exprs) => self.eval_and_or(exprs, true, scope),
            Expr::Or(exprs) => self.eval_and_or(exprs, false, scope),
            Expr::Do(body) => self.eval_body(body, scope),
            Expr::While(form) => self.eval_while(&form.0, &form.1, scope),
        }
    }

    /// Evaluates in order; the value is the last one's (nil if empty).
    pub(crate) fn eval_body(&self, body: &[Expr], scope: &Scope) -> Eval {
        let mut last = Value::Nil;
        for expr in body {
            last = self.eval(expr, scope)?;
        }
        Ok(last)
    }

    fn lookup(&self, name: &Rc<str>, pos: &Pos, scope: &Scope) -> Eval {
        if let Some(value) = Env::lookup(scope, name) {
            return Ok(value);
        }
        let global = self.globals().borrow().get(name).cloned();
        global.ok_or_else(|| self.fail(pos, format!("unbound variable `{name}`")))
    }

    #[inline(never)]
    fn eval_call(&self, call: &Call, scope: &Scope) -> Eval {
        let f = self.eval(&call.func, scope)?;
        let mut args = Vec::with_capacity(call.args.len());
        for arg in call.args.iter() {
            args.push(self.eval(arg, scope)?);
        }
        self.apply(&f, args, &call.pos, None)
    }

    fn eval_if(&self, [cond, then, otherwise]: &[Expr; 3], scope: &Scope) -> Eval {
        let branch = if self.eval(cond, scope)?.is_truthy() {
            then
        } else {
            otherwise
        };
        self.eval(branch, scope)
    }

    #[inline(never)]
    fn eval_define(&self, name: &Rc<str>, value: &Expr, scope: &Scope) -> Eval {
        let value = self.eval(value, scope)?;
        match scope {
            Some(env) => env.define(name, value),
            None => {
                let old = self.globals().borrow_mut().insert(name.clone(), value);
                drop(old);
            }
        }
        Ok(Value::Nil)
    }

    #[inline(never)]
    fn eval_set(&self, name: &Rc<str>, value: &Expr, pos: &Pos, scope: &Scope) -> Eval {
        let value = self.eval(value, scope)?;
        let Err(value) = Env::assign(scope, name, value) else {
            return Ok(Value::Nil);
        };
        let mut globals = self.globals().borrow_mut();
        match globals.get_mut(name) {
            Some(slot) => {
                let old = std::mem::replace(slot, value);
                drop(globals);
                drop(old);
                Ok(Value::Nil)
            }
            None => {
                drop(globals);
                Err(self.fail(pos, format!("unbound variable `{name}`")))
            }
        }
    }

    #[inline(never)]
    fn eval_let(&self, form: &Let, scope: &Scope) -> Eval {
        let inner = Some(Env::new(
            Vec::with_capacity(form.bindings.len()),
            scope.clone(),
        ));
        let env = inner.as_ref().expect("just made");
        for (name, value) in form.bindings.iter() {
            let value = self.eval(value, &inner)?;
            env.define(name, value);
        }
        self.eval_body(&form.body, &inner)
    }

    #[inline(never)]
    fn eval_cond(&self, clauses: &[(Expr, Box<[Expr]>)], scope: &Scope) -> Eval {
        for (test, body) in clauses {
            let value = self.eval(test, scope)?;
            if value.is_truthy() {
                return if body.is_empty() {
                    Ok(value)
                } else {
                    self.eval_body(body, scope)
                };
            }
        }
        Ok(Value::Nil)
    }

    fn eval_when(&self, form: &When, scope: &Scope) -> Eval {
        if self.eval(&form.cond, scope)?.is_truthy() != form.negate {
            self.eval_body(&form.body, scope)
        } else {
            Ok(Value::Nil)
        }
    }

    /// `and` stops at the first false value, `or` at the first true one.
    fn eval_and_or(&self, exprs: &[Expr], is_and: bool, scope: &Scope) -> Eval {
        let mut last = Value::Bool(is_and);
        for expr in exprs {
            last = self.eval(expr, scope)?;
            if last.is_truthy() != is_and {
                break;
            }
        }
        Ok(last)
    }

    #[inline(never)]
    fn eval_while(&self, cond: &Expr, body: &[Expr], scope: &Scope) -> Eval {
        while self.eval(cond, scope)?.is_truthy() {
            self.eval_body(body, scope)?;
        }
        Ok(Value::Nil)
    }
}
