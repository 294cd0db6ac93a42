//! Every builtin group, and `show`/`same` semantics.

mod common;

use common::{err, ok, shown};
use toy_lang::{Value, same};

#[test]
fn arithmetic() {
    assert_eq!(
        shown("(list (+) (+ 1 2 3) (- 5) (- 10 1 2) (*) (* 2 3 4))"),
        "(0 6 -5 7 1 24)"
    );
    assert_eq!(
        shown("(list (+ 1 2.5) (* 2 1.5) (- 1.0) (- 0.0) (+ -0.0))"),
        "(3.5 3.0 -1.0 -0.0 -0.0)"
    );
    assert_eq!(
        shown("(list (/ 1 2) (/ 6 3) (/ 4) (/ 1 0) (/ -1 0))"),
        "(0.5 2.0 0.25 inf -inf)"
    );
    assert_eq!(
        shown("(list (quot 7 2) (quot -7 2) (rem 7 2) (rem -7 2))"),
        "(3 -3 1 -1)"
    );
    assert_eq!(err("(quot 1 0)"), "division by zero");
    assert_eq!(err("(rem 1 0)"), "division by zero");
    assert_eq!(
        err("(+ 170141183460469231731687303715884105727 1)"),
        "integer overflow"
    );
    assert_eq!(
        err("(* 0x1_0000_0000_0000_0000 0x1_0000_0000_0000_0000)"),
        "integer overflow"
    );
    assert_eq!(
        err("(- -170141183460469231731687303715884105728)"),
        "integer overflow"
    );
    assert_eq!(err("(+ 1 \"2\")"), "`+` expects a number, got string \"2\"");
    assert_eq!(err("(-)"), "`-` takes at least 1 argument, got 0");
    assert_eq!(
        shown("(list (abs -3) (abs -2.5) (min 3 1 2) (max 3 1.5 2))"),
        "(3 2.5 1 3)"
    );
}

#[test]
fn comparisons() {
    assert_eq!(
        shown("(list (< 1 2 3) (< 1 3 2) (<= 1 1 2) (> 3 2 1) (>= 2 2 3) (= 1 1 1))"),
        "(true false true true false true)"
    );
    // Mixed ints and floats compare exactly.
    assert_eq!(
        shown(
            "(list (= 1 1.0) (< 1 1.5) (> 2 1.5) (= 9007199254740993 9007199254740992.0) (< 0x7fffffffffffffffffffffffffffffff 1e40))"
        ),
        "(true true true false true)"
    );
    assert_eq!(
        shown("(list (= nan nan) (< nan 1) (= 0.0 -0.0) (> inf 1e308))"),
        "(false false true true)"
    );
    // `=` on non-numbers is `same`.
    assert_eq!(
        shown(
            "(list (= \"a\" \"a\") (= (list 1 2) (list 1 2)) (= 1 \"1\") (= 'a' 'a') (= nil nil))"
        ),
        "(true true false true true)"
    );
    assert_eq!(
        shown("(list (< \"abc\" \"abd\") (< 'a' 'b') (> \"b\" \"a\"))"),
        "(true true true)"
    );
    assert_eq!(err("(< 1 \"a\")"), "`<` cannot compare int and string");
    assert_eq!(
        shown("(list (not nil) (not false) (not 0))"),
        "(true true false)"
    );
}

#[test]
fn conversions() {
    assert_eq!(
        shown("(list (float 3) (int 3.9) (int -3.9) (int 7) (float 2.5))"),
        "(3.0 3 -3 7 2.5)"
    );
    assert_eq!(err("(int nan)"), "cannot convert nan to an int");
    assert_eq!(err("(int inf)"), "cannot convert inf to an int");
    assert_eq!(err("(int 1e39)"), "cannot convert 1e39 to an int");
    assert_eq!(ok("(int -1.7e38)"), Value::Int(-1.7e38 as i128));
    assert_eq!(ok("(f32 0.1)"), Value::Float(0.1f32 as f64));
    assert_eq!(
        shown("(list (nan? nan) (nan? 1.0) (nan? 1) inf (- inf) nan)"),
        "(true false false inf -inf nan)"
    );
}

#[test]
fn fixed_width_helpers() {
    assert_eq!(
        shown(
            "(list (wrap 255 8 true) (wrap 255 8 false) (wrap -1 64 false) (wrap 0x1_0000_0000_0000_0005 64 true) (wrap 128 8 true) (wrap 127 8 true) (wrap -1 1 true))"
        ),
        "(-1 255 18446744073709551615 5 -128 127 -1)"
    );
    assert_eq!(
        err("(wrap 1 65 false)"),
        "`wrap` expects a bit width from 1 to 64, got int 65"
    );
    assert_eq!(
        ok("(mul64 0xffffffffffffffff 2)"),
        Value::Int(0xffff_ffff_ffff_fffe)
    );
    assert_eq!(ok("(mul64 -1 -1)"), Value::Int(1));
    assert_eq!(
        shown("(list (band 12 10) (bor 12 10) (bxor 12 10) (band -1 255) (bxor -1 0) (bnot 0))"),
        "(8 14 6 255 -1 -1)"
    );
    assert_eq!(
        shown(
            "(list (shl 1 63) (shl 1 64) (shl 0xff 60) (shr -1 60) (shr 0x1_0000_0000_0000_0010 4) (shr 1 64))"
        ),
        "(9223372036854775808 0 17293822569102704640 15 1 0)"
    );
    assert_eq!(
        err("(shl 1 -1)"),
        "`shl` expects a non-negative shift, got int -1"
    );
}

/// The reference: splitmix64 as usually written in Rust.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[test]
fn splitmix64_matches_rust() {
    let source = "
        (define state 42)
        (define (next!)
          (set! state (wrap (+ state 0x9e3779b97f4a7c15) 64 false))
          (let ((z state))
            (set! z (mul64 (bxor z (shr z 30)) 0xbf58476d1ce4e5b9))
            (set! z (mul64 (bxor z (shr z 27)) 0x94d049bb133111eb))
            (bxor z (shr z 31))))
        (map (fn (_) (next!)) (range 6))";
    let mut state = 42;
    let expected: Vec<Value> = (0..6)
        .map(|_| Value::Int(splitmix64(&mut state).into()))
        .collect();
    assert_eq!(ok(source), Value::list(expected));
}

#[test]
fn strings_and_chars() {
    assert_eq!(
        ok("(str \"a\" 'b' 1 nil (list \"c\") 1.5)"),
        Value::str("ab1nil(\"c\")1.5")
    );
    assert_eq!(ok("(str)"), Value::str(""));
    assert_eq!(ok("(show \"a\\n\")"), Value::str("\"a\\n\""));
    assert_eq!(
        shown("(list (string-length \"ü\") (string-length \"\"))"),
        "(2 0)"
    );
    assert_eq!(ok("(string-repeat \"ab\" 3)"), Value::str("ababab"));
    assert_eq!(ok("(string-repeat \"ab\" 0)"), Value::str(""));
    assert_eq!(
        err("(string-repeat \"ab\" -1)"),
        "`string-repeat` expects a size, got int -1"
    );
    assert_eq!(shown("(string-chars \"aü🦀\")"), "('a' 'ü' '🦀')");
    assert_eq!(shown("(string-bytes \"aü\")"), "(97 195 188)");
    assert_eq!(
        shown("(list (char-code 'A') (code-char 129408) (code-char 0))"),
        "(65 '🦀' '\\0')"
    );
    assert_eq!(
        err("(code-char 55296)"),
        "55296 is not a Unicode scalar value"
    );
    assert_eq!(err("(code-char -1)"), "-1 is not a Unicode scalar value");
    assert_eq!(
        err("(char-code \"a\")"),
        "`char-code` expects a char, got string \"a\""
    );
}

#[test]
fn lists() {
    assert_eq!(shown("(list)"), "()");
    assert_eq!(
        shown("(list (len (list 1 2)) (len (dict 1 2)) (len \"ab\"))"),
        "(2 1 2)"
    );
    assert_eq!(shown("(nth (list 'a' 'b') 1)"), "'b'");
    assert_eq!(
        err("(nth (list 1 2) 2)"),
        "`nth` index 2 out of range for a list of 2"
    );
    assert_eq!(
        err("(nth (list 1 2) -1)"),
        "`nth` index -1 out of range for a list of 2"
    );
    assert_eq!(
        shown("(define l (list 1)) (list (append l 2) l)"),
        "((1 2) (1))"
    );
    assert_eq!(shown("(concat-lists (list 1 2) (list 3))"), "(1 2 3)");
    assert_eq!(
        shown("(list (range 4) (range 0) (range -2) (range 2 5))"),
        "((0 1 2 3) () () (2 3 4))"
    );
    assert_eq!(shown("(map (fn (x) (* x x)) (list 1 2 3))"), "(1 4 9)");
    assert_eq!(shown("(filter (fn (x) (> x 1)) (list 1 2 3))"), "(2 3)");
    assert_eq!(
        shown(
            "(define seen ()) (list (for-each (fn (x) (set! seen (append seen x))) (list 1 2)) seen)"
        ),
        "(nil (1 2))"
    );
    assert_eq!(shown("(fold (fn (acc x) (- acc x)) 10 (list 1 2 3))"), "4");
    assert_eq!(
        shown("(list (apply + (list 1 2 3)) (apply list ()))"),
        "(6 ())"
    );
    assert_eq!(
        shown("(list (empty? ()) (empty? (list 1)) (empty? \"\") (empty? (dict)) (empty? nil))"),
        "(true false true true true)"
    );
    assert_eq!(
        shown("(list (first (list 1 2)) (first ()) (rest (list 1 2)) (reverse (list 1 2 3)))"),
        "(1 nil (2) (3 2 1))"
    );
    assert_eq!(err("(map 1 (list 1))"), "not a function: 1");
    assert_eq!(err("(map (fn (x) x) 5)"), "`map` expects a list, got int 5");
}

#[test]
fn maps() {
    assert_eq!(shown("(dict \"a\" 1 \"b\" 2)"), "{\"a\" 1, \"b\" 2}");
    assert_eq!(shown("(dict)"), "{}");
    assert_eq!(shown("(dict 1 'a' 1 'b')"), "{1 'b'}");
    assert_eq!(
        err("(dict 1)"),
        "`dict` takes keys and values in pairs, got 1 arguments"
    );
    assert_eq!(
        shown(
            "(define m (dict \"a\" 1 (list 1) 2)) (list (get m \"a\") (get m (list 1)) (get m \"zz\") (get m \"zz\" 0) (has? m \"a\") (has? m 1))"
        ),
        "(1 2 nil 0 true false)"
    );
    // `put` replaces in place, keeping the order, and leaves the original.
    assert_eq!(
        shown("(define m (dict \"a\" 1 \"b\" 2)) (list (put m \"a\" 3) (put m \"c\" 4) m)"),
        "({\"a\" 3, \"b\" 2} {\"a\" 1, \"b\" 2, \"c\" 4} {\"a\" 1, \"b\" 2})"
    );
    assert_eq!(
        shown(
            "(define m (dict 'x' 1 'y' 2)) (list (keys m) (values m) (entries m) (remove m 'x'))"
        ),
        "(('x' 'y') (1 2) (('x' 1) ('y' 2)) {'y' 2})"
    );
    // Ints and floats are different keys.
    assert_eq!(
        shown("(get (dict 1 \"int\" 1.0 \"float\") 1.0)"),
        "\"float\""
    );
}

#[test]
fn variants() {
    assert_eq!(
        shown(
            "(list (variant \"red\") (variant \"rgb\" (list 1 2 3)) (some 5) (none) (ok) (ok 1) (err \"bad\"))"
        ),
        "((red) (rgb (1 2 3)) (some 5) (none) (ok) (ok 1) (err \"bad\"))"
    );
    assert_eq!(
        shown("(list (case-of (some 5)) (payload-of (some 5)) (payload-of (ok)))"),
        "(\"some\" 5 nil)"
    );
    assert_eq!(
        err("(variant 'a')"),
        "`variant` expects a string, got char 'a'"
    );
    assert_eq!(err("(case-of 5)"), "`case-of` expects a variant, got int 5");
    assert_eq!(err("(some)"), "`some` takes 1 argument, got 0");
    assert_eq!(
        shown(
            "(list (same? (some 1) (some 1)) (same? (some 1) (ok 1)) (same? (some 1) (some 1.0)))"
        ),
        "(true false false)"
    );
}

#[test]
fn types_and_misc() {
    assert_eq!(
        shown("(map type-of (list nil true 1 1.0 'a' \"s\" () (dict) (none) type-of))"),
        "(\"nil\" \"bool\" \"int\" \"float\" \"char\" \"string\" \"list\" \"map\" \"variant\" \"function\")"
    );
    assert_eq!(
        err("(error \"bad value: \" 42 ' ' (list 1))"),
        "bad value: 42 (1)"
    );
    assert_eq!(err("(error)"), "error");
    assert_eq!(ok("(assert (= 1 1) \"fine\")"), Value::Nil);
    assert_eq!(err("(assert (= 1 2) \"1 is not \" 2)"), "1 is not 2");
    assert_eq!(err("(assert false)"), "assertion failed");
    assert_eq!(
        shown(
            "(define-global (str \"test:x/api#\" \"f\") (fn (x) (* x 2))) (list ((global \"test:x/api#f\") 4) test:x/api#f (global \"missing\"))"
        ),
        "(8 <function anonymous> nil)"
    );
}

#[test]
fn show_formats() {
    assert_eq!(
        shown("(list 1 -2 1.5 -0.0 1e300 3.0 'a' '\\n' \"q\\\"\" nil true)"),
        "(1 -2 1.5 -0.0 1e300 3.0 'a' '\\n' \"q\\\"\" nil true)"
    );
    assert_eq!(
        shown("(string-repeat \"x\" 60)"),
        format!("\"{}\"", "x".repeat(60))
    );
    assert_eq!(shown("(string-repeat \"x\" 61)"), "<string of 61 bytes>");
    assert_eq!(
        shown("(dict \"a\" (list 1 (some (dict))))"),
        "{\"a\" (1 (some {}))}"
    );
    assert_eq!(Value::Float(f64::INFINITY).show(), "inf");
}

#[test]
fn same_semantics() {
    let f = |x: f64| Value::Float(x);
    assert!(!same(&f(0.0), &f(-0.0)));
    assert!(same(&f(f64::NAN), &f(-f64::NAN)));
    assert!(same(&f(1.5), &f(1.5)));
    assert!(!same(&Value::Int(1), &f(1.0)));
    assert!(same(&Value::Int(1), &Value::Int(1)));
    assert!(!same(&Value::str("a"), &Value::Char('a')));
    // Maps are sets of entries.
    assert_eq!(
        ok("(same? (dict 1 2 3 4) (dict 3 4 1 2))"),
        Value::Bool(true)
    );
    assert_eq!(
        ok("(same? (dict 1 2 3 4) (dict 1 2 3 5))"),
        Value::Bool(false)
    );
    assert_eq!(ok("(same? (dict 1 2) (dict 1 2 3 4))"), Value::Bool(false));
    // Lists are ordered.
    assert_eq!(ok("(same? (list 1 2) (list 2 1))"), Value::Bool(false));
    assert_eq!(ok("(same? (list nan) (list nan))"), Value::Bool(true));
    assert_eq!(ok("(same? 0.0 -0.0)"), Value::Bool(false));
    // Functions by identity.
    assert_eq!(
        ok("(define (f) 1) (list (same? f f) (same? (fn () 1) (fn () 1)))"),
        Value::list(vec![Value::Bool(true), Value::Bool(false)])
    );
}
