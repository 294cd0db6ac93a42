//! Tokens to s-expressions: the shape of the source before special forms mean
//! anything. Symbols are interned here so that the evaluator mostly compares
//! names by pointer.

use crate::error::ParseError;
use crate::lexer::{Lexer, Tok};
use std::collections::HashMap;
use std::rc::Rc;

/// How deeply lists may nest. Parsing and evaluation recurse over the
/// nesting, and the wasm stack is small.
pub(crate) const MAX_NESTING: usize = 256;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Datum {
    Int(i128),
    Float(f64),
    Str(Rc<str>),
    Char(char),
    Symbol(Rc<str>),
    List(Vec<Syntax>),
}

/// A datum and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Syntax {
    pub datum: Datum,
    pub line: u32,
    pub column: u32,
}

impl Syntax {
    pub fn symbol(&self) -> Option<&Rc<str>> {
        match &self.datum {
            Datum::Symbol(s) => Some(s),
            _ => None,
        }
    }

    pub fn list(&self) -> Option<&[Syntax]> {
        match &self.datum {
            Datum::List(items) => Some(items),
            _ => None,
        }
    }
}

/// Hands out one shared `Rc<str>` per distinct name.
#[derive(Default)]
pub(crate) struct Interner {
    names: HashMap<Box<str>, Rc<str>>,
}

impl Interner {
    pub fn intern(&mut self, name: &str) -> Rc<str> {
        if let Some(rc) = self.names.get(name) {
            return rc.clone();
        }
        let rc: Rc<str> = Rc::from(name);
        self.names.insert(name.into(), rc.clone());
        rc
    }
}

/// Reads all top-level data of a source file.
pub(crate) fn read(
    file: &str,
    source: &str,
    interner: &mut Interner,
) -> Result<Vec<Syntax>, ParseError> {
    let mut lexer = Lexer::new(file, source);
    // Open lists: where each starts and its items so far. Iterative, so that
    // the nesting limit is the only thing bounding depth.
    let mut open: Vec<(u32, u32, Vec<Syntax>)> = Vec::new();
    let mut top = Vec::new();
    while let Some(token) = lexer.next_token()? {
        let datum = match token.tok {
            Tok::Open => {
                if open.len() == MAX_NESTING {
                    return Err(lexer.error(
                        token.line,
                        token.column,
                        format!("lists nested more than {MAX_NESTING} deep"),
                    ));
                }
                open.push((token.line, token.column, Vec::new()));
                continue;
            }
            Tok::Close => match open.pop() {
                Some((line, column, items)) => {
                    let list = Syntax {
                        datum: Datum::List(items),
                        line,
                        column,
                    };
                    push(&mut open, &mut top, list);
                    continue;
                }
                None => return Err(lexer.error(token.line, token.column, "unexpected ')'")),
            },
            Tok::Int(i) => Datum::Int(i),
            Tok::Float(f) => Datum::Float(f),
            Tok::Str(s) => Datum::Str(Rc::from(s)),
            Tok::Char(c) => Datum::Char(c),
            Tok::Symbol(s) => Datum::Symbol(interner.intern(&s)),
        };
        let syntax = Syntax {
            datum,
            line: token.line,
            column: token.column,
        };
        push(&mut open, &mut top, syntax);
    }
    match open.pop() {
        Some((line, column, _)) => Err(lexer.error(line, column, "unclosed '('")),
        None => Ok(top),
    }
}

fn push(open: &mut [(u32, u32, Vec<Syntax>)], top: &mut Vec<Syntax>, syntax: Syntax) {
    match open.last_mut() {
        Some((_, _, items)) => items.push(syntax),
        None => top.push(syntax),
    }
}
