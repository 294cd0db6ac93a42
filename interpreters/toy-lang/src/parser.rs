//! S-expressions to the AST: recognises the special forms and checks their
//! shape, so malformed code fails when the file is loaded rather than when
//! (or if) it runs.

use crate::ast::{Call, Expr, Lambda, Let, Pos, When};
use crate::error::ParseError;
use crate::syntax::{self, Datum, Interner, Syntax};
use crate::value::Value;
use std::rc::Rc;

/// The parsed top-level forms of one source file.
#[derive(Debug, Clone)]
pub struct Program {
    file: Rc<str>,
    pub(crate) forms: Rc<[Expr]>,
}

impl Program {
    /// Parses `source`; `file` names it in messages.
    pub fn parse(file: &str, source: &str) -> Result<Program> {
        let mut interner = Interner::default();
        let data = syntax::read(file, source, &mut interner)?;
        let parser = Parser {
            file: Rc::from(file),
        };
        let forms = data
            .iter()
            .map(|d| parser.expr(d))
            .collect::<Result<Rc<[Expr]>>>()?;
        Ok(Program {
            file: parser.file,
            forms,
        })
    }

    /// The name given to [`Program::parse`].
    pub fn file(&self) -> &str {
        &self.file
    }
}

struct Parser {
    file: Rc<str>,
}

type Result<T> = std::result::Result<T, ParseError>;

/// Named parameters, and the one taking the remaining arguments if any.
type Params = (Vec<Rc<str>>, Option<Rc<str>>);

impl Parser {
    fn pos(&self, s: &Syntax) -> Pos {
        Pos {
            file: self.file.clone(),
            line: s.line,
            column: s.column,
        }
    }

    fn error(&self, at: &Syntax, message: impl Into<String>) -> ParseError {
        ParseError {
            file: self.file.to_string(),
            line: at.line,
            column: at.column,
            message: message.into(),
        }
    }

    fn expr(&self, s: &Syntax) -> Result<Expr> {
        Ok(match &s.datum {
            Datum::Int(i) => Expr::Const(Value::Int(*i)),
            Datum::Float(f) => Expr::Const(Value::Float(*f)),
            Datum::Str(text) => Expr::Const(Value::Str(text.clone())),
            Datum::Char(c) => Expr::Const(Value::Char(*c)),
            Datum::Symbol(name) => match &**name {
                "nil" => Expr::Const(Value::Nil),
                "true" => Expr::Const(Value::Bool(true)),
                "false" => Expr::Const(Value::Bool(false)),
                _ => Expr::Var(name.clone(), self.pos(s)),
            },
            Datum::List(items) if items.is_empty() => Expr::Const(Value::list(Vec::new())),
            Datum::List(items) => {
                let args = &items[1..];
                match items[0].symbol().map(|s| &**s) {
                    Some("define") => self.define(s, args)?,
                    Some("fn") => Expr::Fn(self.lambda(s, "fn", None, args)?),
                    Some("let") => self.let_form(s, args)?,
                    Some("set!") => self.set(s, args)?,
                    Some("if") => self.if_form(s, args)?,
                    Some("cond") => self.cond(args)?,
                    Some("when") => self.when(s, "when", false, args)?,
                    Some("unless") => self.when(s, "unless", true, args)?,
                    Some("and") => Expr::And(self.body(args)?),
                    Some("or") => Expr::Or(self.body(args)?),
                    Some("do") => Expr::Do(self.body(args)?),
                    Some("while") => self.while_form(s, args)?,
                    _ => Expr::Call(Box::new(Call {
                        func: self.expr(&items[0])?,
                        args: self.body(args)?,
                        pos: self.pos(s),
                    })),
                }
            }
        })
    }

    fn body(&self, forms: &[Syntax]) -> Result<Box<[Expr]>> {
        forms.iter().map(|f| self.expr(f)).collect()
    }

    /// A symbol that may be bound (not a literal name).
    fn name(&self, s: &Syntax, form: &str) -> Result<Rc<str>> {
        match s.symbol() {
            Some(name) if matches!(&**name, "nil" | "true" | "false") => {
                Err(self.error(s, format!("`{name}` cannot be bound")))
            }
            Some(name) => Ok(name.clone()),
            None => Err(self.error(s, format!("`{form}` expects a name here"))),
        }
    }

    /// The value of a binding; a `fn` there takes the binding's name.
    fn named_value(&self, name: &Rc<str>, s: &Syntax) -> Result<Expr> {
        match s.list() {
            Some([head, args @ ..]) if head.symbol().is_some_and(|h| &**h == "fn") => {
                Ok(Expr::Fn(self.lambda(s, "fn", Some(name.clone()), args)?))
            }
            _ => self.expr(s),
        }
    }

    fn define(&self, s: &Syntax, args: &[Syntax]) -> Result<Expr> {
        let usage = "`define` takes a name and a value, or (name params...) and a body";
        let Some(target) = args.first() else {
            return Err(self.error(s, usage));
        };
        if let Some(signature) = target.list() {
            // (define (name params...) body...) is (define name (fn (params...) body...)).
            let Some(head) = signature.first() else {
                return Err(self.error(target, usage));
            };
            let name = self.name(head, "define")?;
            let params = self.params(target, &signature[1..], "define")?;
            let lambda = self.lambda_from(s, name.clone(), params, &args[1..])?;
            return Ok(Expr::Define(Box::new((name, Expr::Fn(lambda)))));
        }
        let name = self.name(target, "define")?;
        match args {
            [_, value] => Ok(Expr::Define(Box::new((
                name.clone(),
                self.named_value(&name, value)?,
            )))),
            _ => Err(self.error(s, usage)),
        }
    }

    fn lambda(
        &self,
        s: &Syntax,
        form: &str,
        name: Option<Rc<str>>,
        args: &[Syntax],
    ) -> Result<Rc<Lambda>> {
        let Some(params) = args.first() else {
            return Err(self.error(s, format!("`{form}` takes parameters and a body")));
        };
        let params = match params.list() {
            Some(list) => self.params(params, list, form)?,
            // (fn args body...) binds all arguments as a list.
            None => (Vec::new(), Some(self.name(params, form)?)),
        };
        let name = name.unwrap_or_else(|| Rc::from("anonymous"));
        self.lambda_from(s, name, params, &args[1..])
    }

    fn lambda_from(
        &self,
        s: &Syntax,
        name: Rc<str>,
        (params, rest): Params,
        body: &[Syntax],
    ) -> Result<Rc<Lambda>> {
        Ok(Rc::new(Lambda {
            name,
            params: params.into(),
            rest,
            body: self.body(body)?,
            pos: self.pos(s),
        }))
    }

    /// `(a b)` or `(a b . rest)`.
    fn params(&self, list: &Syntax, items: &[Syntax], form: &str) -> Result<Params> {
        let mut params: Vec<Rc<str>> = Vec::new();
        let mut rest = None;
        let mut i = 0;
        while i < items.len() {
            let item = &items[i];
            if item.symbol().is_some_and(|s| &**s == ".") {
                match &items[i + 1..] {
                    [last] => rest = Some(self.name(last, form)?),
                    _ => return Err(self.error(item, "`.` must be followed by one parameter name")),
                }
                break;
            }
            params.push(self.name(item, form)?);
            i += 1;
        }
        let mut seen: Vec<&Rc<str>> = Vec::new();
        for name in params.iter().chain(rest.iter()) {
            if seen.contains(&name) {
                return Err(self.error(list, format!("duplicate parameter `{name}`")));
            }
            seen.push(name);
        }
        Ok((params, rest))
    }

    fn let_form(&self, s: &Syntax, args: &[Syntax]) -> Result<Expr> {
        let usage = "`let` takes ((name value)...) and a body";
        let Some(bindings) = args.first().and_then(|b| b.list()) else {
            return Err(self.error(s, usage));
        };
        let bindings = bindings
            .iter()
            .map(|binding| match binding.list() {
                Some([name, value]) => {
                    let name = self.name(name, "let")?;
                    let value = self.named_value(&name, value)?;
                    Ok((name, value))
                }
                _ => Err(self.error(binding, "a `let` binding is (name value)")),
            })
            .collect::<Result<_>>()?;
        Ok(Expr::Let(Box::new(Let {
            bindings,
            body: self.body(&args[1..])?,
        })))
    }

    fn set(&self, s: &Syntax, args: &[Syntax]) -> Result<Expr> {
        match args {
            [name, value] => Ok(Expr::Set(Box::new((
                self.name(name, "set!")?,
                self.expr(value)?,
                self.pos(s),
            )))),
            _ => Err(self.error(s, "`set!` takes a name and a value")),
        }
    }

    fn if_form(&self, s: &Syntax, args: &[Syntax]) -> Result<Expr> {
        let (cond, then, otherwise) = match args {
            [c, t] => (c, t, None),
            [c, t, e] => (c, t, Some(e)),
            _ => {
                return Err(self.error(
                    s,
                    "`if` takes a condition, a then branch and an optional else branch",
                ));
            }
        };
        let otherwise = match otherwise {
            Some(e) => self.expr(e)?,
            None => Expr::Const(Value::Nil),
        };
        Ok(Expr::If(Box::new([
            self.expr(cond)?,
            self.expr(then)?,
            otherwise,
        ])))
    }

    fn cond(&self, args: &[Syntax]) -> Result<Expr> {
        let clauses = args
            .iter()
            .map(|clause| match clause.list() {
                Some([test, body @ ..]) => {
                    let test = if test.symbol().is_some_and(|s| &**s == "else") {
                        Expr::Const(Value::Bool(true))
                    } else {
                        self.expr(test)?
                    };
                    Ok((test, self.body(body)?))
                }
                _ => Err(self.error(clause, "a `cond` clause is (condition body...)")),
            })
            .collect::<Result<_>>()?;
        Ok(Expr::Cond(clauses))
    }

    fn when(&self, s: &Syntax, form: &str, negate: bool, args: &[Syntax]) -> Result<Expr> {
        let Some(cond) = args.first() else {
            return Err(self.error(s, format!("`{form}` takes a condition and a body")));
        };
        Ok(Expr::When(Box::new(When {
            cond: self.expr(cond)?,
            negate,
            body: self.body(&args[1..])?,
        })))
    }

    fn while_form(&self, s: &Syntax, args: &[Syntax]) -> Result<Expr> {
        let Some(cond) = args.first() else {
            return Err(self.error(s, "`while` takes a condition and a body"));
        };
        Ok(Expr::While(Box::new((
            self.expr(cond)?,
            self.body(&args[1..])?,
        ))))
    }
}
