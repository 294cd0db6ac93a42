//! calc, a small expression language: a script defines functions, one a line.
//!
//! ```text
//! # A comment runs to the end of its line.
//! greet(name) = "Hello, " ++ name ++ "!"
//! fact(n) = if n <= 1 then 1 else n * fact(n - 1)
//! ```
//!
//! Values are integers (128-bit, so that every WIT integer fits; overflow is
//! an error), floats, booleans, strings and `()`. Operators, loosest first:
//! `a; b` (`a`, then `b`), comparisons `== != < <= > >=` (of two numbers, two
//! strings or two booleans), `++` (joins the text of both sides), `+ -`,
//! `* / %` (on integers, `/` truncates), unary `-`. Operands are literals
//! (`42`, `2.5`, `"text"` with `\n \t \" \\`, `true`, `false`, `()`),
//! parameters, calls of definitions or imports (`f(x, y)`), `(...)` and
//! `if c then x else y`. Names are kebab-case, like WIT's (`is-leap`), so
//! `a-b` is a name: subtract with `a - b`.
//!
//! This module knows nothing of WIT: the interpreter hands it the world's
//! imports as [`Imports`].

use std::collections::HashMap;
use std::fmt;

/// A calc value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i128),
    Float(f64),
    Bool(bool),
    Str(String),
    /// What a function without a result returns.
    Unit,
}

impl Value {
    /// The value for messages, its kind first: `int 3`, `string "hi"`.
    pub fn describe(&self) -> String {
        match self {
            Value::Int(i) => format!("int {i}"),
            Value::Float(x) => format!("float {x:?}"),
            Value::Bool(b) => format!("bool {b}"),
            Value::Str(s) => format!("string {s:?}"),
            Value::Unit => "()".into(),
        }
    }

    fn number(&self) -> Option<f64> {
        match *self {
            Value::Int(i) => Some(i as f64),
            Value::Float(x) => Some(x),
            _ => None,
        }
    }
}

/// The text `++` joins: a string as it is, other values as written.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Str(s) => f.write_str(s),
            Value::Unit => f.write_str("()"),
        }
    }
}

/// The functions a script can call besides its own definitions.
pub trait Imports {
    /// Calls `name` with `args`; `None` if there is no such function.
    fn call(&self, name: &str, args: Vec<Value>) -> Option<Result<Value, String>>;
}

/// A parsed script.
pub struct Program {
    /// The script's name, for messages.
    script: String,
    defs: HashMap<String, Def>,
}

struct Def {
    params: usize,
    body: Expr,
}

/// Calls nest at most this deep: runaway recursion is an error, not a stack
/// overflow.
const MAX_DEPTH: usize = 1000;

impl Program {
    /// Parses `source`; `script` names it in messages.
    pub fn parse(script: &str, source: &str) -> Result<Program, String> {
        let mut defs = HashMap::new();
        for (i, line) in source.lines().enumerate() {
            let error = |(pos, message)| place(script, pos, message);
            let toks = lex(line, i + 1).map_err(error)?;
            let Some(&(_, start)) = toks.first() else {
                continue; // blank or a comment
            };
            let end = Pos { line: i + 1, col: line.chars().count() + 1 };
            let mut parser = Parser { toks, next: 0, end, params: Vec::new() };
            let (name, def) = parser.definition().map_err(error)?;
            if defs.insert(name.clone(), def).is_some() {
                return Err(place(script, start, format!("`{name}` is defined twice")));
            }
        }
        Ok(Program { script: script.into(), defs })
    }

    /// The number of parameters of definition `name`, if there is one.
    pub fn arity(&self, name: &str) -> Option<usize> {
        self.defs.get(name).map(|def| def.params)
    }

    /// Calls definition `name` with `args`.
    pub fn call(&self, name: &str, args: Vec<Value>, imports: &dyn Imports) -> Result<Value, String> {
        match self.defs.get(name) {
            Some(def) if def.params == args.len() => self.eval(&def.body, &args, imports, 0),
            _ => Err(format!("`{}` defines no `{name}` with {} parameters", self.script, args.len())),
        }
    }

    /// Evaluates `expr` in a definition called with `args`, `depth` calls deep.
    fn eval(&self, expr: &Expr, args: &[Value], imports: &dyn Imports, depth: usize) -> Result<Value, String> {
        let eval = |expr: &Expr| self.eval(expr, args, imports, depth);
        let fail = |pos: Pos, message: String| Err(place(&self.script, pos, message));
        match expr {
            Expr::Lit(value) => Ok(value.clone()),
            Expr::Param(index) => Ok(args[*index].clone()),
            Expr::Then(first, then) => {
                eval(first)?;
                eval(then)
            }
            Expr::If(cond, then, other, pos) => match eval(cond)? {
                Value::Bool(true) => eval(then),
                Value::Bool(false) => eval(other),
                value => fail(*pos, format!("`if` needs a bool, found {}", value.describe())),
            },
            Expr::Neg(operand, pos) => match eval(operand)? {
                Value::Int(i) => i.checked_neg().map(Value::Int).map_or_else(|| fail(*pos, "integer overflow in `-`".into()), Ok),
                Value::Float(x) => Ok(Value::Float(-x)),
                value => fail(*pos, format!("`-` needs a number, found {}", value.describe())),
            },
            Expr::Binary(op, lhs, rhs, pos) => binary(op, eval(lhs)?, eval(rhs)?).or_else(|message| fail(*pos, message)),
            Expr::Call(name, arg_exprs, pos) => {
                let values = arg_exprs.iter().map(eval).collect::<Result<Vec<_>, _>>()?;
                match self.defs.get(name) {
                    Some(def) if def.params != values.len() => {
                        fail(*pos, format!("`{name}` takes {} arguments, got {}", def.params, values.len()))
                    }
                    Some(_) if depth == MAX_DEPTH => fail(*pos, format!("calls nest deeper than {MAX_DEPTH}")),
                    Some(def) => self.eval(&def.body, &values, imports, depth + 1),
                    None => match imports.call(name, values) {
                        Some(result) => result.or_else(|message| fail(*pos, message)),
                        None => fail(*pos, format!("unknown function `{name}`")),
                    },
                }
            }
        }
    }
}

/// Applies binary operator `op`; an error says why it cannot.
fn binary(op: &str, lhs: Value, rhs: Value) -> Result<Value, String> {
    use Value::{Float, Int, Str};
    match (op, lhs, rhs) {
        ("++", lhs, rhs) => Ok(Str(format!("{lhs}{rhs}"))),
        ("==" | "!=" | "<" | "<=" | ">" | ">=", lhs, rhs) => compare(op, &lhs, &rhs).map(Value::Bool),
        ("/" | "%", Int(_), Int(0)) => Err("division by zero".into()),
        (_, Int(a), Int(b)) => match op {
            "+" => a.checked_add(b),
            "-" => a.checked_sub(b),
            "*" => a.checked_mul(b),
            "/" => a.checked_div(b),
            _ => a.checked_rem(b),
        }
        .map(Int)
        .ok_or_else(|| format!("integer overflow in `{op}`")),
        (_, lhs, rhs) => match (lhs.number(), rhs.number()) {
            (Some(a), Some(b)) => Ok(Float(match op {
                "+" => a + b,
                "-" => a - b,
                "*" => a * b,
                "/" => a / b,
                _ => a % b,
            })),
            _ => Err(format!("`{op}` needs numbers, found {} and {}", lhs.describe(), rhs.describe())),
        },
    }
}

/// Applies comparison `op`.
fn compare(op: &str, lhs: &Value, rhs: &Value) -> Result<bool, String> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let order = match (lhs, rhs) {
        (Value::Int(a), Value::Int(b)) => a.partial_cmp(b),
        (Value::Str(a), Value::Str(b)) => a.partial_cmp(b),
        (Value::Bool(a), Value::Bool(b)) => a.partial_cmp(b),
        _ => match (lhs.number(), rhs.number()) {
            (Some(a), Some(b)) => a.partial_cmp(&b), // `None` for NaN
            _ => return Err(format!("cannot compare {} with {}", lhs.describe(), rhs.describe())),
        },
    };
    Ok(match op {
        "==" => order == Some(Equal),
        "!=" => order != Some(Equal),
        "<" => order == Some(Less),
        "<=" => matches!(order, Some(Less | Equal)),
        ">" => order == Some(Greater),
        _ => matches!(order, Some(Greater | Equal)),
    })
}

/// A place in the script: line and column, from 1.
#[derive(Clone, Copy, Debug)]
struct Pos {
    line: usize,
    col: usize,
}

/// An error message that names the script and the place: `app.calc:3:14: ...`.
fn place(script: &str, pos: Pos, message: String) -> String {
    format!("{script}:{}:{}: {message}", pos.line, pos.col)
}

/// An expression; a `Pos` is where an error in it is reported.
enum Expr {
    Lit(Value),
    /// The parameter at this index of the definition.
    Param(usize),
    Call(String, Vec<Expr>, Pos),
    Neg(Box<Expr>, Pos),
    Binary(&'static str, Box<Expr>, Box<Expr>, Pos),
    If(Box<Expr>, Box<Expr>, Box<Expr>, Pos),
    /// `a; b`
    Then(Box<Expr>, Box<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Int(i128),
    Float(f64),
    Str(String),
    Name(String),
    Sym(&'static str),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Tok::Int(i) => write!(f, "`{i}`"),
            Tok::Float(x) => write!(f, "`{x:?}`"),
            Tok::Str(s) => write!(f, "`{s:?}`"),
            Tok::Name(s) | Tok::Sym(s) => write!(f, "`{s}`"),
        }
    }
}

/// Symbols, those that start with another symbol first.
const SYMBOLS: &[&str] = &[
    "++", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", "=", ";",
];

/// Binary operators by precedence, loosest first (`;` is looser still).
const LEVELS: &[&[&str]] = &[&["==", "!=", "<=", ">=", "<", ">"], &["++"], &["+", "-"], &["*", "/", "%"]];

const KEYWORDS: &[&str] = &["if", "then", "else", "true", "false"];

type Parsed<T> = Result<T, (Pos, String)>;

/// The tokens of line number `line`.
fn lex(text: &str, line: usize) -> Parsed<Vec<(Tok, Pos)>> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        let pos = Pos { line, col: i + 1 };
        let tok = match chars[i] {
            '#' => break,
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err((pos, "unterminated string".into())),
                        Some('"') => break,
                        Some('\\') => s.push(match chars.get(i + 1) {
                            Some('n') => '\n',
                            Some('t') => '\t',
                            Some('"') => '"',
                            Some('\\') => '\\',
                            _ => return Err((Pos { line, col: i + 1 }, "unknown escape: use \\n \\t \\\" or \\\\".into())),
                        }),
                        Some(&c) => s.push(c),
                    }
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
                Tok::Str(s)
            }
            c if c.is_ascii_digit() => {
                while chars.get(i).is_some_and(|c| c.is_ascii_digit() || *c == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let bad = |_| (pos, format!("`{text}` is not a number calc can hold"));
                match text.contains('.') {
                    true => Tok::Float(text.parse().map_err(bad)?),
                    false => Tok::Int(text.parse().map_err(bad)?),
                }
            }
            c if c.is_ascii_alphabetic() => {
                // Kebab-case: `-` continues a name when a letter follows it.
                let letter_at = |j: usize| chars.get(j).is_some_and(char::is_ascii_alphabetic);
                while chars.get(i).is_some_and(char::is_ascii_alphanumeric) || chars[i] == '-' && letter_at(i + 1) {
                    i += 1;
                }
                Tok::Name(chars[start..i].iter().collect())
            }
            c => {
                let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
                let sym = SYMBOLS.iter().find(|sym| rest.starts_with(**sym)).ok_or((pos, format!("unexpected `{c}`")))?;
                i += sym.len();
                Tok::Sym(sym)
            }
        };
        toks.push((tok, pos));
    }
    Ok(toks)
}

/// A recursive-descent parser of one line, a definition.
struct Parser {
    toks: Vec<(Tok, Pos)>,
    next: usize,
    /// Where the line ends.
    end: Pos,
    /// The parameters of the definition.
    params: Vec<String>,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.next).map(|(tok, _)| tok)
    }

    fn pos(&self) -> Pos {
        self.toks.get(self.next).map_or(self.end, |&(_, pos)| pos)
    }

    /// Takes the next token if it is `tok`.
    fn eat(&mut self, tok: &Tok) -> bool {
        let found = self.peek() == Some(tok);
        self.next += usize::from(found);
        found
    }

    fn expect(&mut self, tok: Tok) -> Parsed<()> {
        match self.eat(&tok) {
            true => Ok(()),
            false => Err(self.unexpected(&tok.to_string())),
        }
    }

    /// The error for a next token that is not what the grammar `wants`.
    fn unexpected(&self, wants: &str) -> (Pos, String) {
        let found = self.peek().map_or("the end of the line".into(), Tok::to_string);
        (self.pos(), format!("expected {wants}, found {found}"))
    }

    /// A name that is not a keyword.
    fn name(&mut self, wants: &str) -> Parsed<String> {
        match self.peek() {
            Some(Tok::Name(name)) if !KEYWORDS.contains(&name.as_str()) => {
                let name = name.clone();
                self.next += 1;
                Ok(name)
            }
            _ => Err(self.unexpected(wants)),
        }
    }

    /// The items of a parenthesised list, after its `(`.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Parser) -> Parsed<T>) -> Parsed<Vec<T>> {
        let mut items = Vec::new();
        if self.eat(&Tok::Sym(")")) {
            return Ok(items);
        }
        loop {
            items.push(item(self)?);
            if self.eat(&Tok::Sym(")")) {
                return Ok(items);
            }
            if !self.eat(&Tok::Sym(",")) {
                return Err(self.unexpected("`,` or `)`"));
            }
        }
    }

    /// `name(param, ...) = body`, the whole line.
    fn definition(&mut self) -> Parsed<(String, Def)> {
        let start = self.pos();
        let name = self.name("a definition, `name(parameters) = expression`")?;
        self.expect(Tok::Sym("("))?;
        self.params = self.list(|parser| parser.name("a parameter name"))?;
        if let Some((i, param)) = self.params.iter().enumerate().find(|(i, p)| self.params[..*i].contains(p)) {
            return Err((start, format!("parameter {} of `{name}`, `{param}`, repeats an earlier one", i + 1)));
        }
        self.expect(Tok::Sym("="))?;
        let body = self.sequence()?;
        if self.peek().is_some() {
            return Err(self.unexpected("an operator or the end of the line"));
        }
        Ok((name, Def { params: self.params.len(), body }))
    }

    /// `a; b; ...`
    fn sequence(&mut self) -> Parsed<Expr> {
        let mut expr = self.binary(0)?;
        while self.eat(&Tok::Sym(";")) {
            expr = Expr::Then(Box::new(expr), Box::new(self.binary(0)?));
        }
        Ok(expr)
    }

    /// The operators of `LEVELS[level]` and tighter ones, left-associative.
    fn binary(&mut self, level: usize) -> Parsed<Expr> {
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        let mut lhs = self.binary(level + 1)?;
        while let Some(&op) = ops.iter().find(|op| self.peek() == Some(&Tok::Sym(op))) {
            let pos = self.pos();
            self.next += 1;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(self.binary(level + 1)?), pos);
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Parsed<Expr> {
        let pos = self.pos();
        match self.eat(&Tok::Sym("-")) {
            true => Ok(Expr::Neg(Box::new(self.unary()?), pos)),
            false => self.operand(),
        }
    }

    fn operand(&mut self) -> Parsed<Expr> {
        let pos = self.pos();
        let Some(tok) = self.peek().cloned() else {
            return Err(self.unexpected("an expression"));
        };
        self.next += 1;
        Ok(match tok {
            Tok::Int(i) => Expr::Lit(Value::Int(i)),
            Tok::Float(x) => Expr::Lit(Value::Float(x)),
            Tok::Str(s) => Expr::Lit(Value::Str(s)),
            Tok::Sym("(") if self.eat(&Tok::Sym(")")) => Expr::Lit(Value::Unit),
            Tok::Sym("(") => {
                let expr = self.sequence()?;
                self.expect(Tok::Sym(")"))?;
                expr
            }
            Tok::Name(name) if name == "true" || name == "false" => Expr::Lit(Value::Bool(name == "true")),
            Tok::Name(name) if name == "if" => {
                let cond = self.binary(0)?;
                self.expect(Tok::Name("then".into()))?;
                let then = self.binary(0)?;
                self.expect(Tok::Name("else".into()))?;
                let other = self.binary(0)?;
                Expr::If(Box::new(cond), Box::new(then), Box::new(other), pos)
            }
            Tok::Name(name) if !KEYWORDS.contains(&name.as_str()) => {
                if self.eat(&Tok::Sym("(")) {
                    Expr::Call(name, self.list(|parser| parser.binary(0))?, pos)
                } else if let Some(index) = self.params.iter().position(|param| *param == name) {
                    Expr::Param(index)
                } else {
                    let hint = if name.contains('-') { " (to subtract, put spaces around `-`)" } else { "" };
                    return Err((pos, format!("unknown name `{name}`{hint}")));
                }
            }
            tok => return Err((pos, format!("expected an expression, found {tok}"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// Imports with one function, `log`, which records its arguments.
    #[derive(Default)]
    struct Log(RefCell<Vec<String>>);

    impl Imports for Log {
        fn call(&self, name: &str, args: Vec<Value>) -> Option<Result<Value, String>> {
            (name == "log").then(|| {
                self.0.borrow_mut().extend(args.iter().map(Value::to_string));
                Ok(Value::Unit)
            })
        }
    }

    /// Defines `f() = {expr}` and calls it.
    fn eval(expr: &str) -> Result<Value, String> {
        Program::parse("t.calc", &format!("f() = {expr}"))?.call("f", vec![], &Log::default())
    }

    #[test]
    fn sample_script() {
        let program = Program::parse("app.calc", include_str!("../app.calc")).unwrap();
        let log = Log::default();
        let call = |name, args| program.call(name, args, &log).unwrap();
        assert_eq!(call("add", vec![Value::Int(2), Value::Int(3)]), Value::Int(5));
        assert_eq!(call("greet", vec![Value::Str("you".into())]), Value::Str("Hello, you!".into()));
        assert_eq!(call("fact", vec![Value::Int(20)]), Value::Int(2432902008176640000));
        assert_eq!(call("is-leap", vec![Value::Int(1900)]), Value::Bool(false));
        assert_eq!(call("is-leap", vec![Value::Int(2024)]), Value::Bool(true));
        assert_eq!(call("count-down", vec![Value::Int(2)]), Value::Unit);
        assert_eq!(*log.0.borrow(), ["2...", "1...", "liftoff!"]);
    }

    #[test]
    fn operators() {
        let int = |expr| eval(expr).map(|v| v.to_string());
        assert_eq!(int("1 + 2 * 3 - 10 / 4").unwrap(), "5");
        assert_eq!(int("-7 / 2; -7 % 2").unwrap(), "-1");
        assert_eq!(int("\"n = \" ++ 1 + 2 ++ \" \" ++ 1.5 * 2 ++ true").unwrap(), "n = 3 3.0true");
        assert_eq!(int("2 < 2.5 == (\"a\" < \"b\")").unwrap(), "true");
        assert_eq!(int("if 1 != 1 then \"no\" else if 1 >= 1 then \"yes\" else \"no\"").unwrap(), "yes");
        assert_eq!(eval("(log(\"x\"); ())").unwrap(), Value::Unit);
    }

    #[test]
    fn parse_errors_name_the_place() {
        let error = |source| Program::parse("t.calc", source).err().unwrap();
        assert_eq!(error("f(x) = x +"), "t.calc:1:11: expected an expression, found the end of the line");
        assert_eq!(error("# comment\n\nf(x) = y"), "t.calc:3:8: unknown name `y`");
        assert_eq!(error("f(a, b) = a-b"), "t.calc:1:11: unknown name `a-b` (to subtract, put spaces around `-`)");
        assert_eq!(error("f() = \"open"), "t.calc:1:7: unterminated string");
        assert_eq!(error("f() = 1 2"), "t.calc:1:9: expected an operator or the end of the line, found `2`");
        assert_eq!(error("f(x, x) = x"), "t.calc:1:1: parameter 2 of `f`, `x`, repeats an earlier one");
        assert_eq!(error("f() = 1\nf() = 2"), "t.calc:2:1: `f` is defined twice");
        assert_eq!(error("if() = 1"), "t.calc:1:1: expected a definition, `name(parameters) = expression`, found `if`");
    }

    #[test]
    fn runtime_errors_name_the_place() {
        assert_eq!(eval("1 / (2 - 2)").unwrap_err(), "t.calc:1:9: division by zero");
        assert_eq!(eval("\"a\" + 1").unwrap_err(), "t.calc:1:11: `+` needs numbers, found string \"a\" and int 1");
        assert_eq!(eval("if 1 then 2 else 3").unwrap_err(), "t.calc:1:7: `if` needs a bool, found int 1");
        assert_eq!(eval("g(1)").unwrap_err(), "t.calc:1:7: unknown function `g`");
        assert_eq!(eval("f(1)").unwrap_err(), "t.calc:1:7: `f` takes 0 arguments, got 1");
        assert_eq!(eval("f()").unwrap_err(), "t.calc:1:7: calls nest deeper than 1000");
        let big = format!("{} * 2", i128::MAX);
        assert_eq!(eval(&big).unwrap_err(), format!("t.calc:1:{}: integer overflow in `*`", big.len() + 5));
    }
}
