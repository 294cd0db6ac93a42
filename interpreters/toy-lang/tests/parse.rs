//! Syntax: atoms as written, and parse errors with exact positions.

mod common;

use common::{ok, shown};
use toy_lang::{ParseError, Program, Value};

fn parse_error(source: &str) -> String {
    match Program::parse("main.toy", source) {
        Ok(_) => panic!("expected a parse error for {source:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unclosed_paren_points_at_the_open_paren() {
    assert_eq!(
        parse_error("(define (f x)\n  (+ x 1)\n"),
        "main.toy:1:1: unclosed '('"
    );
    // The innermost unclosed list is the one reported.
    assert_eq!(
        parse_error("(do\n  (list 1\n    (f 2)\n  (g 3))\n    (h"),
        "main.toy:5:5: unclosed '('"
    );
    assert_eq!(
        parse_error("(do (list 1 (f 2)"),
        "main.toy:1:5: unclosed '('"
    );
}

#[test]
fn stray_close_paren() {
    assert_eq!(parse_error("(+ 1 2))"), "main.toy:1:8: unexpected ')'");
    assert_eq!(parse_error("\n\n  )"), "main.toy:3:3: unexpected ')'");
}

#[test]
fn unterminated_string_points_at_its_quote() {
    assert_eq!(
        parse_error("(str 1\n   \"abc\n def)"),
        "main.toy:2:4: unterminated string"
    );
}

#[test]
fn invalid_escapes() {
    assert_eq!(
        parse_error("(str \"a\\qb\")"),
        "main.toy:1:8: invalid escape \\q"
    );
    assert_eq!(
        parse_error("\"\\u{d800}\""),
        "main.toy:1:2: invalid escape \\u{d800}"
    );
    assert_eq!(
        parse_error("\"\\u{110000}\""),
        "main.toy:1:2: invalid escape \\u{110000}"
    );
    assert_eq!(parse_error("\"\\u41\""), "main.toy:1:2: invalid escape \\u");
    assert_eq!(parse_error("'\\x'"), "main.toy:1:2: invalid escape \\x");
}

#[test]
fn invalid_char_literals() {
    assert_eq!(
        parse_error("(list 'ab')"),
        "main.toy:1:7: invalid char literal"
    );
    assert_eq!(parse_error("''"), "main.toy:1:1: invalid char literal");
    assert_eq!(parse_error("  'a"), "main.toy:1:3: invalid char literal");
    assert_eq!(
        parse_error("(f don't)"),
        "main.toy:1:7: invalid char literal"
    );
}

#[test]
fn integer_out_of_range() {
    assert_eq!(
        parse_error("(+ 1 170141183460469231731687303715884105728)"),
        "main.toy:1:6: integer literal out of range"
    );
    assert_eq!(
        parse_error("0x1_0000_0000_0000_0000_0000_0000_0000_0000"),
        "main.toy:1:1: integer literal out of range"
    );
}

#[test]
fn columns_count_chars_not_bytes() {
    assert_eq!(parse_error("\"üü\" 'ö' )"), "main.toy:1:10: unexpected ')'");
}

#[test]
fn malformed_special_forms() {
    assert_eq!(
        parse_error("(if)"),
        "main.toy:1:1: `if` takes a condition, a then branch and an optional else branch"
    );
    assert_eq!(
        parse_error("(let ((x)) x)"),
        "main.toy:1:7: a `let` binding is (name value)"
    );
    assert_eq!(
        parse_error("\n (define 5 1)"),
        "main.toy:2:10: `define` expects a name here"
    );
    assert_eq!(
        parse_error("(fn (a b a) a)"),
        "main.toy:1:5: duplicate parameter `a`"
    );
    assert_eq!(
        parse_error("(fn (a . b c) a)"),
        "main.toy:1:8: `.` must be followed by one parameter name"
    );
    assert_eq!(
        parse_error("(set! x)"),
        "main.toy:1:1: `set!` takes a name and a value"
    );
    assert_eq!(
        parse_error("(define nil 1)"),
        "main.toy:1:9: `nil` cannot be bound"
    );
    assert_eq!(
        parse_error("(cond 1)"),
        "main.toy:1:7: a `cond` clause is (condition body...)"
    );
}

#[test]
fn parse_error_fields_and_trait() {
    let e = Program::parse("x.toy", "\n  )").unwrap_err();
    assert_eq!(
        e,
        ParseError {
            file: "x.toy".into(),
            line: 2,
            column: 3,
            message: "unexpected ')'".into()
        }
    );
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert_eq!(boxed.to_string(), "x.toy:2:3: unexpected ')'");
}

#[test]
fn integers() {
    assert_eq!(ok("42"), Value::Int(42));
    assert_eq!(ok("-7"), Value::Int(-7));
    assert_eq!(ok("+7"), Value::Int(7));
    assert_eq!(ok("1_000_000"), Value::Int(1_000_000));
    assert_eq!(ok("0x9e3779b97f4a7c15"), Value::Int(0x9e3779b97f4a7c15));
    assert_eq!(ok("-0xff"), Value::Int(-255));
    assert_eq!(ok("0xFFFF_FFFF_FFFF_FFFF"), Value::Int(u64::MAX.into()));
    assert_eq!(
        ok("-170141183460469231731687303715884105728"),
        Value::Int(i128::MIN)
    );
}

#[test]
fn floats_keep_the_sign_of_zero() {
    assert_eq!(ok("1.5"), Value::Float(1.5));
    assert_eq!(ok("-2.25"), Value::Float(-2.25));
    assert_eq!(ok("1e3"), Value::Float(1000.0));
    assert_eq!(ok("2.5E-2"), Value::Float(0.025));
    assert_eq!(ok("1_000.5"), Value::Float(1000.5));
    let Value::Float(z) = ok("-0.0") else {
        panic!()
    };
    assert!(z == 0.0 && z.is_sign_negative());
    let Value::Float(z) = ok("0.0") else { panic!() };
    assert!(z == 0.0 && z.is_sign_positive());
}

#[test]
fn strings_and_chars() {
    assert_eq!(
        ok(r#""a\nb\t\r\\\"\0\u{1F980}ü""#),
        Value::str("a\nb\t\r\\\"\0\u{1F980}ü")
    );
    assert_eq!(ok("\"two\nlines\""), Value::str("two\nlines"));
    assert_eq!(ok("'a'"), Value::Char('a'));
    assert_eq!(ok(r"'\0'"), Value::Char('\0'));
    assert_eq!(ok(r"'\u{10ffff}'"), Value::Char('\u{10ffff}'));
    assert_eq!(ok(r"'\''"), Value::Char('\''));
    assert_eq!(ok(r"'\\'"), Value::Char('\\'));
    assert_eq!(ok("'ü'"), Value::Char('ü'));
    assert_eq!(ok("'\"'"), Value::Char('"'));
}

#[test]
fn literals_symbols_and_comments() {
    assert_eq!(shown("(list nil true false)"), "(nil true false)");
    assert_eq!(
        shown(
            "; a comment\n(define test:x/api#[method]counter.tag 5) ; another\n\
             (define <=>?!*%.+ 6)\n(list test:x/api#[method]counter.tag <=>?!*%.+)"
        ),
        "(5 6)"
    );
    assert_eq!(shown("(define 1abc 1) 1abc"), "1");
    assert_eq!(shown("()"), "()");
}

#[test]
fn deep_nesting_is_a_parse_error() {
    let deep = "(".repeat(300) + &")".repeat(300);
    assert_eq!(
        parse_error(&deep),
        "main.toy:1:257: lists nested more than 256 deep"
    );
}
