//! The parsed program: expressions with special forms already recognised, so
//! evaluation never looks at symbols to decide what a form means.

use crate::value::Value;
use std::rc::Rc;

/// A source position, kept by every form that can raise an error or make a
/// call (the toy stack shows call sites).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pos {
    pub file: Rc<str>,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug)]
pub(crate) enum Expr {
    Const(Value),
    Var(Rc<str>, Pos),
    /// `(define name value)`: a global at top level, else a local of the
    /// innermost scope.
    Define(Box<(Rc<str>, Expr)>),
    Set(Box<(Rc<str>, Expr, Pos)>),
    Fn(Rc<Lambda>),
    Let(Box<Let>),
    /// Condition, then, else.
    If(Box<[Expr; 3]>),
    /// Clauses of condition and body; `else` is a constant `true`.
    Cond(Box<[(Expr, Box<[Expr]>)]>),
    /// `when`, or `unless` when `negate`.
    When(Box<When>),
    And(Box<[Expr]>),
    Or(Box<[Expr]>),
    Do(Box<[Expr]>),
    While(Box<(Expr, Box<[Expr]>)>),
    Call(Box<Call>),
}

#[derive(Debug)]
pub(crate) struct Let {
    pub bindings: Box<[(Rc<str>, Expr)]>,
    pub body: Box<[Expr]>,
}

#[derive(Debug)]
pub(crate) struct When {
    pub cond: Expr,
    pub negate: bool,
    pub body: Box<[Expr]>,
}

#[derive(Debug)]
pub(crate) struct Call {
    pub func: Expr,
    pub args: Box<[Expr]>,
    pub pos: Pos,
}

/// The code of a function; closures pair it with their environment.
#[derive(Debug)]
pub(crate) struct Lambda {
    pub name: Rc<str>,
    pub params: Box<[Rc<str>]>,
    /// Receives the arguments after `params`, as a list.
    pub rest: Option<Rc<str>>,
    pub body: Box<[Expr]>,
    /// The `(fn` or `(define` form: where a call from the host "happens".
    pub pos: Pos,
}
