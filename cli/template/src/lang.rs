//! calc, a small expression language: a script defines functions, one a line.
//!
//! ```text
//! # A comment runs to the end of its line.
//! greet(name) = "Hello, " ++ name ++ "!"
//! fact(n) = if n <= 1 then 1 else n * fact(n - 1)
//! ```
//!
//! Values are integers (128-bit, so that every WIT integer fits; overflow is
//! an error), booleans, strings and `()`. Operators, loosest first: `a; b`
//! (`a`, then `b`), comparisons `== != < <= > >=` (of two values of a kind),
//! `++` (joins the text of both sides), `+ -`, `* / %` (`/` truncates),
//! unary `-`. Operands are literals (`42`, `"text"` without escapes, `true`,
//! `false`, `()`), parameters, calls of definitions or imports (`f(x, y)`),
//! `(...)` and `if c then x else y`. Names are kebab-case, like WIT's
//! (`is-leap`), so `a-b` is a name: subtract with `a - b`.
//!
//! This module knows nothing of WIT: the interpreter hands it the world's
//! imports as [`Imports`].

use std::collections::HashMap;
use std::fmt;

/// A calc value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i128),
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
            Value::Bool(b) => format!("bool {b}"),
            Value::Str(s) => format!("string {s:?}"),
            Value::Unit => "()".into(),
        }
    }
}

/// The text `++` joins: a string as it is, other values as written.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
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

/// An expression; a `Pos` is where an error in it is reported.
enum Expr {
    Lit(Value),
    /// The parameter at this index of the definition.
    Param(usize),
    Call(String, Vec<Expr>, Pos),
    Binary(&'static str, Box<Expr>, Box<Expr>, Pos),
    If(Box<Expr>, Box<Expr>, Box<Expr>, Pos),
    /// `a; b`
    Then(Box<Expr>, Box<Expr>),
}

/// A place in the script: line and column, from 1.
type Pos = (usize, usize);

/// An error message that names the script and the place: `app.calc:3:14: ...`.
fn place(script: &str, (line, col): Pos, message: &str) -> String {
    format!("{script}:{line}:{col}: {message}")
}

/// Evaluation nests at most this deep, counting every operator, `if`, `;`
/// and call, so that runaway recursion is an error rather than a stack
/// overflow. A level takes about 340 bytes of wasm stack, of the 512 KiB
/// wasmtime gives by default; `binary` stays out of `eval` to keep it so.
const MAX_DEPTH: usize = 1000;

impl Program {
    /// Parses `source`; `script` names it in messages.
    pub fn parse(script: &str, source: &str) -> Result<Program, String> {
        let mut defs = HashMap::new();
        for (i, line) in source.lines().enumerate() {
            let error = |(pos, message): (Pos, String)| place(script, pos, &message);
            let toks = lex(line, i + 1).map_err(error)?;
            let Some(&(_, start)) = toks.first() else {
                continue; // blank or a comment
            };
            let end = (i + 1, line.chars().count() + 1);
            let mut parser = Parser {
                toks,
                next: 0,
                end,
                params: Vec::new(),
            };
            let (name, def) = parser.definition().map_err(error)?;
            if defs.insert(name.clone(), def).is_some() {
                return Err(place(script, start, &format!("`{name}` is defined twice")));
            }
        }
        Ok(Program {
            script: script.into(),
            defs,
        })
    }

    /// The number of parameters of definition `name`, if there is one.
    pub fn arity(&self, name: &str) -> Option<usize> {
        self.defs.get(name).map(|def| def.params)
    }

    /// Calls definition `name` with `args`.
    pub fn call(&self, name: &str, args: &[Value], imports: &dyn Imports) -> Result<Value, String> {
        match self.defs.get(name) {
            Some(def) if def.params == args.len() => self.eval(&def.body, args, imports, 0),
            _ => Err(format!(
                "`{}` defines no `{name}` of {} parameters",
                self.script,
                args.len()
            )),
        }
    }

    /// Evaluates `expr`, `depth` levels deep, in a call of a definition
    /// with `args`. (Messages are made in helpers and closures, to keep its
    /// stack frame small.)
    fn eval(
        &self,
        expr: &Expr,
        args: &[Value],
        imports: &dyn Imports,
        depth: usize,
    ) -> Result<Value, String> {
        let eval = |expr: &Expr| self.eval(expr, args, imports, depth + 1);
        let at = |pos: Pos| move |message: String| place(&self.script, pos, &message);
        match expr {
            Expr::Lit(value) => Ok(value.clone()),
            Expr::Param(index) => Ok(args[*index].clone()),
            Expr::Then(first, then) => {
                eval(first)?;
                eval(then)
            }
            Expr::If(cond, then, other, pos) => {
                if truth(eval(cond)?).map_err(at(*pos))? {
                    eval(then)
                } else {
                    eval(other)
                }
            }
            Expr::Binary(op, lhs, rhs, pos) => binary(op, eval(lhs)?, eval(rhs)?).map_err(at(*pos)),
            Expr::Call(name, arg_exprs, pos) => {
                let args = arg_exprs.iter().map(eval).collect::<Result<Vec<_>, _>>()?;
                match self.definition(name, args.len(), depth).map_err(at(*pos))? {
                    Some(def) => self.eval(&def.body, &args, imports, depth + 1),
                    None => imports
                        .call(name, args)
                        .unwrap_or_else(|| Err(format!("unknown function `{name}`")))
                        .map_err(at(*pos)),
                }
            }
        }
    }

    /// The definition a call of `name` with `count` arguments runs, `None`
    /// if there is none (then it calls an import).
    fn definition(&self, name: &str, count: usize, depth: usize) -> Result<Option<&Def>, String> {
        match self.defs.get(name) {
            Some(def) if def.params != count => Err(format!(
                "`{name}` takes {} arguments, got {count}",
                def.params
            )),
            Some(_) if depth >= MAX_DEPTH => {
                Err(format!("evaluation nests deeper than {MAX_DEPTH} levels"))
            }
            def => Ok(def),
        }
    }
}

/// The boolean an `if` tests.
fn truth(value: Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(b),
        value => Err(format!("`if` needs a bool, found {}", value.describe())),
    }
}

/// Applies binary operator `op`; an error says why it cannot.
#[inline(never)]
fn binary(op: &str, lhs: Value, rhs: Value) -> Result<Value, String> {
    use Value::{Bool, Int, Str};
    match (op, lhs, rhs) {
        ("++", lhs, rhs) => Ok(Str(format!("{lhs}{rhs}"))),
        ("/" | "%", Int(_), Int(0)) => Err("division by zero".into()),
        ("+" | "-" | "*" | "/" | "%", Int(a), Int(b)) => match op {
            "+" => a.checked_add(b),
            "-" => a.checked_sub(b),
            "*" => a.checked_mul(b),
            "/" => a.checked_div(b),
            _ => a.checked_rem(b),
        }
        .map(Int)
        .ok_or_else(|| format!("integer overflow in `{op}`")),
        ("+" | "-" | "*" | "/" | "%", lhs, rhs) => Err(format!(
            "`{op}` needs integers, found {} and {}",
            lhs.describe(),
            rhs.describe()
        )),
        // The rest are comparisons.
        (_, Int(a), Int(b)) => Ok(Bool(compare(op, a.cmp(&b)))),
        (_, Str(a), Str(b)) => Ok(Bool(compare(op, a.cmp(&b)))),
        (_, Bool(a), Bool(b)) => Ok(Bool(compare(op, a.cmp(&b)))),
        (_, lhs, rhs) => Err(format!(
            "cannot compare {} with {}",
            lhs.describe(),
            rhs.describe()
        )),
    }
}

/// Applies comparison `op` to how its operands compare.
fn compare(op: &str, order: std::cmp::Ordering) -> bool {
    match op {
        "==" => order.is_eq(),
        "!=" => order.is_ne(),
        "<" => order.is_lt(),
        "<=" => order.is_le(),
        ">" => order.is_gt(),
        _ => order.is_ge(),
    }
}

/// Symbols, each before those it starts with.
const SYMBOLS: &[&str] = &[
    "++", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", "=", ";",
];

/// Binary operators by precedence, loosest first (`;` is looser still).
const LEVELS: &[&[&str]] = &[
    &["==", "!=", "<=", ">=", "<", ">"],
    &["++"],
    &["+", "-"],
    &["*", "/", "%"],
];

const KEYWORDS: &[&str] = &["if", "then", "else", "true", "false"];

type Parsed<T> = Result<T, (Pos, String)>;

/// The tokens of line number `line`, each with its place: names, numbers,
/// strings (with their quotes) and symbols.
fn lex(text: &str, line: usize) -> Parsed<Vec<(String, Pos)>> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c, pos) = (i, chars[i], (line, i + 1));
        i += 1;
        match c {
            '#' => break,
            _ if c.is_whitespace() => continue,
            '"' => match chars[i..].iter().position(|&c| c == '"') {
                Some(len) => i += len + 1,
                None => return Err((pos, "unterminated string".into())),
            },
            _ if c.is_ascii_digit() => {
                while chars.get(i).is_some_and(char::is_ascii_alphanumeric) {
                    i += 1;
                }
            }
            _ if c.is_ascii_alphabetic() => {
                // Kebab-case: `-` continues a name when a letter follows it.
                let letter_at = |j: usize| chars.get(j).is_some_and(char::is_ascii_alphabetic);
                while chars
                    .get(i)
                    .is_some_and(|&c| c.is_ascii_alphanumeric() || c == '-' && letter_at(i + 1))
                {
                    i += 1;
                }
            }
            _ => {
                let rest: String = chars[start..chars.len().min(start + 2)].iter().collect();
                let Some(sym) = SYMBOLS.iter().find(|sym| rest.starts_with(**sym)) else {
                    return Err((pos, format!("unexpected `{c}`")));
                };
                i = start + sym.len();
            }
        }
        toks.push((chars[start..i].iter().collect(), pos));
    }
    Ok(toks)
}

fn is_name(tok: &str) -> bool {
    tok.starts_with(|c: char| c.is_ascii_alphabetic()) && !KEYWORDS.contains(&tok)
}

/// A recursive-descent parser of one line, a definition.
struct Parser {
    toks: Vec<(String, Pos)>,
    next: usize,
    /// Where the line ends.
    end: Pos,
    /// The parameters of the definition.
    params: Vec<String>,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.next).map(|(tok, _)| tok.as_str())
    }

    fn pos(&self) -> Pos {
        self.toks.get(self.next).map_or(self.end, |&(_, pos)| pos)
    }

    /// Takes the next token if it is `tok`.
    fn eat(&mut self, tok: &str) -> bool {
        let found = self.peek() == Some(tok);
        self.next += usize::from(found);
        found
    }

    fn expect(&mut self, tok: &str) -> Parsed<()> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{tok}`")))
        }
    }

    /// The error for a next token that is not what the grammar `wants`.
    fn unexpected(&self, wants: &str) -> (Pos, String) {
        let found = self
            .peek()
            .map_or("the end of the line".into(), |tok| format!("`{tok}`"));
        (self.pos(), format!("expected {wants}, found {found}"))
    }

    /// A name that is not a keyword.
    fn name(&mut self, wants: &str) -> Parsed<String> {
        match self.peek().filter(|tok| is_name(tok)).map(str::to_string) {
            Some(name) => {
                self.next += 1;
                Ok(name)
            }
            None => Err(self.unexpected(wants)),
        }
    }

    /// The items of a parenthesised list, after its `(`.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Parser) -> Parsed<T>) -> Parsed<Vec<T>> {
        let mut items = Vec::new();
        while !self.eat(")") {
            if !items.is_empty() && !self.eat(",") {
                return Err(self.unexpected("`,` or `)`"));
            }
            items.push(item(self)?);
        }
        Ok(items)
    }

    /// `name(param, ...) = body`, the whole line.
    fn definition(&mut self) -> Parsed<(String, Def)> {
        let start = self.pos();
        let name = self.name("a definition, `name(parameters) = expression`")?;
        self.expect("(")?;
        self.params = self.list(|parser| parser.name("a parameter name"))?;
        for (i, param) in self.params.iter().enumerate() {
            if self.params[..i].contains(param) {
                return Err((start, format!("parameter `{param}` appears twice")));
            }
        }
        self.expect("=")?;
        let body = self.sequence()?;
        match self.peek() {
            None => Ok((
                name,
                Def {
                    params: self.params.len(),
                    body,
                },
            )),
            Some(_) => Err(self.unexpected("an operator or the end of the line")),
        }
    }

    /// `a; b; ...`
    fn sequence(&mut self) -> Parsed<Expr> {
        let mut expr = self.binary(0)?;
        while self.eat(";") {
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
        while let Some(&op) = ops.iter().find(|op| self.peek() == Some(op)) {
            let pos = self.pos();
            self.next += 1;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(self.binary(level + 1)?), pos);
        }
        Ok(lhs)
    }

    /// `-x`, which is `0 - x`.
    fn unary(&mut self) -> Parsed<Expr> {
        let pos = self.pos();
        if !self.eat("-") {
            return self.operand();
        }
        let zero = Box::new(Expr::Lit(Value::Int(0)));
        Ok(Expr::Binary("-", zero, Box::new(self.unary()?), pos))
    }

    fn operand(&mut self) -> Parsed<Expr> {
        let pos = self.pos();
        let Some(tok) = self.peek().map(str::to_string) else {
            return Err(self.unexpected("an expression"));
        };
        self.next += 1;
        let literal = |value| Ok(Expr::Lit(value));
        match tok.as_str() {
            "(" if self.eat(")") => literal(Value::Unit),
            "(" => {
                let expr = self.sequence()?;
                self.expect(")")?;
                Ok(expr)
            }
            "true" | "false" => literal(Value::Bool(tok == "true")),
            "if" => {
                let cond = self.binary(0)?;
                self.expect("then")?;
                let then = self.binary(0)?;
                self.expect("else")?;
                let other = self.binary(0)?;
                Ok(Expr::If(
                    Box::new(cond),
                    Box::new(then),
                    Box::new(other),
                    pos,
                ))
            }
            _ if tok.starts_with('"') => literal(Value::Str(tok[1..tok.len() - 1].into())),
            _ if tok.starts_with(|c: char| c.is_ascii_digit()) => match tok.parse() {
                Ok(i) => literal(Value::Int(i)),
                Err(_) => Err((pos, format!("`{tok}` is not an integer calc can hold"))),
            },
            _ if !is_name(&tok) => Err((pos, format!("expected an expression, found `{tok}`"))),
            _ if self.eat("(") => Ok(Expr::Call(tok, self.list(|parser| parser.binary(0))?, pos)),
            _ => match self.params.iter().position(|param| *param == tok) {
                Some(index) => Ok(Expr::Param(index)),
                None if tok.contains('-') => Err((
                    pos,
                    format!("unknown name `{tok}` (to subtract, put spaces around `-`)"),
                )),
                None => Err((pos, format!("unknown name `{tok}`"))),
            },
        }
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
                self.0
                    .borrow_mut()
                    .extend(args.iter().map(Value::to_string));
                Ok(Value::Unit)
            })
        }
    }

    /// Parses `source` and calls its `f()`: the result as text, or the error.
    fn run(source: &str) -> Result<String, String> {
        let program = Program::parse("t.calc", source)?;
        Ok(program.call("f", &[], &Log::default())?.to_string())
    }

    #[test]
    fn sample_script() {
        let program = Program::parse("app.calc", include_str!("../app.calc")).unwrap();
        let log = Log::default();
        let call = |name, args: &[Value]| program.call(name, args, &log).unwrap().to_string();
        assert_eq!(call("add", &[Value::Int(2), Value::Int(3)]), "5");
        assert_eq!(call("greet", &[Value::Str("you".into())]), "Hello, you!");
        assert_eq!(call("fact", &[Value::Int(20)]), "2432902008176640000");
        assert_eq!(call("is-leap", &[Value::Int(1900)]), "false");
        assert_eq!(call("is-leap", &[Value::Int(2024)]), "true");
        assert_eq!(call("count-down", &[Value::Int(2)]), "()");
        assert_eq!(*log.0.borrow(), ["2...", "1...", "liftoff!"]);
    }

    #[test]
    fn operators() {
        for (expr, result) in [
            ("1 + 2 * 3 - 10 / 4", "5"),
            (r#"-7 / 2 ++ " " ++ -7 % 2 ++ " " ++ 1 - -1"#, "-3 -1 2"),
            (r#""n = " ++ 1 + 2 ++ ", " ++ true ++ ()"#, "n = 3, true()"),
            (r#"1 < 2 == ("a" < "b")"#, "true"),
            ("if 1 != 1 then 0 else if 1 >= 1 then 1 else 2", "1"),
            (r#"log("x"); ()"#, "()"),
        ] {
            assert_eq!(run(&format!("f() = {expr}")).unwrap(), result, "{expr}");
        }
    }

    #[test]
    fn errors_name_the_place() {
        for (source, error) in [
            (
                "f(x) = x +",
                "1:11: expected an expression, found the end of the line",
            ),
            ("# comment\n\nf(x) = y", "3:8: unknown name `y`"),
            (
                "f(a, b) = a-b",
                "1:11: unknown name `a-b` (to subtract, put spaces around `-`)",
            ),
            ("f() = \"open", "1:7: unterminated string"),
            (
                "f() = 1 2",
                "1:9: expected an operator or the end of the line, found `2`",
            ),
            ("f(x, x) = x", "1:1: parameter `x` appears twice"),
            ("f() = 1\nf() = 2", "2:1: `f` is defined twice"),
            (
                "if() = 1",
                "1:1: expected a definition, `name(parameters) = expression`, found `if`",
            ),
            ("f() = 1 / (2 - 2)", "1:9: division by zero"),
            (
                "f() = \"a\" - 1",
                "1:11: `-` needs integers, found string \"a\" and int 1",
            ),
            (
                "f() = 1 < \"a\"",
                "1:9: cannot compare int 1 with string \"a\"",
            ),
            (
                "f() = if 1 then 2 else 3",
                "1:7: `if` needs a bool, found int 1",
            ),
            ("f() = g(1)", "1:7: unknown function `g`"),
            ("f() = f(1)", "1:7: `f` takes 0 arguments, got 1"),
            (
                "f() = 170141183460469231731687303715884105727 * 2",
                "1:47: integer overflow in `*`",
            ),
        ] {
            assert_eq!(
                run(source).unwrap_err(),
                format!("t.calc:{error}"),
                "{source}"
            );
        }
    }

    #[test]
    fn runaway_recursion_is_an_error() {
        // Debug builds have much bigger stack frames than release builds.
        let thread = std::thread::Builder::new().stack_size(16 << 20);
        let error = thread.spawn(|| run("f() = f()")).unwrap().join().unwrap();
        assert_eq!(
            error.unwrap_err(),
            "t.calc:1:7: evaluation nests deeper than 1000 levels"
        );
    }
}
