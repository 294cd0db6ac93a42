//! Source text to tokens. Numbers, strings and chars are decoded here, so the
//! reader above only deals with parentheses and atoms.

use crate::error::ParseError;
use std::iter::Peekable;
use std::str::Chars;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Open,
    Close,
    Int(i128),
    Float(f64),
    Str(String),
    Char(char),
    Symbol(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub line: u32,
    pub column: u32,
}

pub(crate) struct Lexer<'a> {
    file: &'a str,
    chars: Peekable<Chars<'a>>,
    line: u32,
    column: u32,
}

/// Chars that end a symbol or number.
fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"' | '\'' | ';')
}

impl<'a> Lexer<'a> {
    pub fn new(file: &'a str, source: &'a str) -> Lexer<'a> {
        Lexer {
            file,
            chars: source.chars().peekable(),
            line: 1,
            column: 1,
        }
    }

    pub fn error(&self, line: u32, column: u32, message: impl Into<String>) -> ParseError {
        ParseError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    /// The next token, or `None` at the end of the source.
    pub fn next_token(&mut self) -> Result<Option<Token>, ParseError> {
        loop {
            match self.chars.peek() {
                None => return Ok(None),
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some(';') => {
                    while self.chars.peek().is_some_and(|&c| c != '\n') {
                        self.bump();
                    }
                }
                Some(_) => break,
            }
        }
        let (line, column) = (self.line, self.column);
        let tok = match self.bump() {
            Some('(') => Tok::Open,
            Some(')') => Tok::Close,
            Some('"') => self.string(line, column)?,
            Some('\'') => self.char_literal(line, column)?,
            Some(first) => {
                let mut text = String::from(first);
                while let Some(&c) = self.chars.peek() {
                    if is_delimiter(c) {
                        break;
                    }
                    text.push(c);
                    self.bump();
                }
                match number(&text) {
                    Some(Ok(tok)) => tok,
                    Some(Err(message)) => return Err(self.error(line, column, message)),
                    None => Tok::Symbol(text),
                }
            }
            None => unreachable!("peeked a char"),
        };
        Ok(Some(Token { tok, line, column }))
    }

    fn string(&mut self, line: u32, column: u32) -> Result<Tok, ParseError> {
        let mut text = String::new();
        loop {
            let (esc_line, esc_column) = (self.line, self.column);
            match self.bump() {
                None => return Err(self.error(line, column, "unterminated string")),
                Some('"') => return Ok(Tok::Str(text)),
                Some('\\') => text.push(self.escape(esc_line, esc_column)?),
                Some(c) => text.push(c),
            }
        }
    }

    fn char_literal(&mut self, line: u32, column: u32) -> Result<Tok, ParseError> {
        let invalid = |lexer: &Self| lexer.error(line, column, "invalid char literal");
        let (esc_line, esc_column) = (self.line, self.column);
        let c = match self.bump() {
            None | Some('\'') => return Err(invalid(self)),
            Some('\\') => self.escape(esc_line, esc_column)?,
            Some(c) => c,
        };
        match self.bump() {
            Some('\'') => Ok(Tok::Char(c)),
            _ => Err(invalid(self)),
        }
    }

    /// Decodes the escape after a backslash at `line:column`.
    fn escape(&mut self, line: u32, column: u32) -> Result<char, ParseError> {
        let c = match self.bump() {
            Some('n') => '\n',
            Some('t') => '\t',
            Some('r') => '\r',
            Some('0') => '\0',
            Some(c @ ('\\' | '"' | '\'')) => c,
            Some('u') => return self.unicode_escape(line, column),
            Some(c) => return Err(self.error(line, column, format!("invalid escape \\{c}"))),
            None => return Err(self.error(line, column, "invalid escape at end of input")),
        };
        Ok(c)
    }

    /// `\u{1F980}`: one to six hex digits naming a Unicode scalar value.
    fn unicode_escape(&mut self, line: u32, column: u32) -> Result<char, ParseError> {
        let mut written = String::from("\\u");
        let mut digits = String::new();
        let mut closed = false;
        if self.chars.peek() == Some(&'{') {
            written.push('{');
            self.bump();
            while let Some(&c) = self.chars.peek() {
                if c == '}' {
                    written.push('}');
                    self.bump();
                    closed = true;
                    break;
                }
                if !c.is_ascii_hexdigit() || digits.len() == 6 {
                    break;
                }
                digits.push(c);
                written.push(c);
                self.bump();
            }
        }
        let decoded = u32::from_str_radix(&digits, 16)
            .ok()
            .and_then(char::from_u32);
        match decoded {
            Some(c) if closed => Ok(c),
            _ => Err(self.error(line, column, format!("invalid escape {written}"))),
        }
    }
}

/// Classifies a run of symbol chars: `None` if it is not number syntax (so a
/// symbol), else the number or why it cannot be one.
fn number(text: &str) -> Option<Result<Tok, &'static str>> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        if !is_digits(hex, 16) {
            return None;
        }
        return Some(integer(negative, hex, 16));
    }
    if is_digits(body, 10) {
        return Some(integer(negative, body, 10));
    }
    if is_float(body) {
        let cleaned: String = text.chars().filter(|&c| c != '_').collect();
        return Some(
            cleaned
                .parse::<f64>()
                .map(Tok::Float)
                .map_err(|_| "invalid float literal"),
        );
    }
    None
}

/// Digits of `radix` and underscores, starting with a digit.
fn is_digits(s: &str, radix: u32) -> bool {
    s.chars().next().is_some_and(|c| c.is_digit(radix))
        && s.chars().all(|c| c == '_' || c.is_digit(radix))
}

/// `digits [. digits] [e [sign] digits]` with a fraction or an exponent.
fn is_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    if !is_digits(whole, 10) || fraction.is_some_and(|f| !is_digits(f, 10)) {
        return false;
    }
    match exponent {
        Some(e) => is_digits(e.strip_prefix(['+', '-']).unwrap_or(e), 10),
        None => fraction.is_some(),
    }
}

fn integer(negative: bool, digits: &str, radix: u32) -> Result<Tok, &'static str> {
    let out_of_range = "integer literal out of range";
    let mut magnitude: u128 = 0;
    for c in digits.chars().filter(|&c| c != '_') {
        let digit = c.to_digit(radix).expect("checked digits") as u128;
        magnitude = magnitude
            .checked_mul(radix as u128)
            .and_then(|m| m.checked_add(digit))
            .ok_or(out_of_range)?;
    }
    let value = if negative {
        0i128.checked_sub_unsigned(magnitude)
    } else {
        i128::try_from(magnitude).ok()
    };
    value.map(Tok::Int).ok_or(out_of_range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(source: &str) -> Vec<Tok> {
        let mut lexer = Lexer::new("t", source);
        let mut out = Vec::new();
        while let Some(token) = lexer.next_token().unwrap() {
            out.push(token.tok);
        }
        out
    }

    #[test]
    fn numbers_and_symbols() {
        assert_eq!(
            toks("42 -7 +3 1_000 0x10 -0x10 1.5 1e3 -2.5e-1 - -x 1abc 0x"),
            vec![
                Tok::Int(42),
                Tok::Int(-7),
                Tok::Int(3),
                Tok::Int(1000),
                Tok::Int(16),
                Tok::Int(-16),
                Tok::Float(1.5),
                Tok::Float(1000.0),
                Tok::Float(-0.25),
                Tok::Symbol("-".into()),
                Tok::Symbol("-x".into()),
                Tok::Symbol("1abc".into()),
                Tok::Symbol("0x".into()),
            ]
        );
    }

    #[test]
    fn integer_limits() {
        let max = i128::MAX.to_string();
        let min = i128::MIN.to_string();
        assert_eq!(toks(&max), vec![Tok::Int(i128::MAX)]);
        assert_eq!(toks(&min), vec![Tok::Int(i128::MIN)]);
        let mut lexer = Lexer::new("t", "170141183460469231731687303715884105728");
        assert_eq!(
            lexer.next_token().unwrap_err().message,
            "integer literal out of range"
        );
    }

    #[test]
    fn negative_zero_float() {
        let [Tok::Float(z)] = toks("-0.0")[..] else {
            panic!()
        };
        assert!(z == 0.0 && z.is_sign_negative());
    }

    #[test]
    fn positions_count_chars() {
        let mut lexer = Lexer::new("t", "\"ü\" x\n  y");
        let positions: Vec<_> = std::iter::from_fn(|| lexer.next_token().unwrap())
            .map(|t| (t.line, t.column))
            .collect();
        assert_eq!(positions, vec![(1, 1), (1, 5), (2, 3)]);
    }
}
