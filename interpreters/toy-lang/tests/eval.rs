//! Special forms, scoping and closures.

mod common;

use common::{err, ok, shown};
use toy_lang::{Interp, Program, Value};

#[test]
fn closures_capture_and_mutate() {
    let source = "
        (define (make-counter)
          (let ((n 0))
            (fn () (set! n (+ n 1)) n)))
        (define a (make-counter))
        (define b (make-counter))
        (a) (a) (b)
        (list (a) (b))";
    assert_eq!(shown(source), "(3 2)");
}

#[test]
fn closures_see_later_changes_of_captured_variables() {
    let source = "
        (define (f)
          (define x 1)
          (define get (fn () x))
          (set! x 2)
          (get))
        (f)";
    assert_eq!(ok(source), Value::Int(2));
}

#[test]
fn recursion() {
    let source = "
        (define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
        (fib 20)";
    assert_eq!(ok(source), Value::Int(6765));
}

#[test]
fn mutual_recursion_of_local_functions() {
    let source = "
        (define (parity n)
          (define (even? n) (if (= n 0) true (odd? (- n 1))))
          (define (odd? n) (if (= n 0) false (even? (- n 1))))
          (list (even? n) (odd? n)))
        (parity 7)";
    assert_eq!(shown(source), "(false true)");
}

#[test]
fn variadic_functions() {
    assert_eq!(shown("((fn args args) 1 2 3)"), "(1 2 3)");
    assert_eq!(shown("((fn args args))"), "()");
    assert_eq!(
        shown("((fn (a b . rest) (list a b rest)) 1 2 3 4)"),
        "(1 2 (3 4))"
    );
    assert_eq!(shown("((fn (a . rest) (list a rest)) 1)"), "(1 ())");
    assert_eq!(shown("(define (f . xs) (len xs)) (f 1 2 3)"), "3");
    assert_eq!(shown("(define (g a . xs) (list a xs)) (g 1 2)"), "(1 (2))");
}

#[test]
fn let_is_sequential_and_scoped() {
    assert_eq!(ok("(let ((x 1) (y (+ x 1))) (* x y 10))"), Value::Int(20));
    assert_eq!(shown("(define x 1) (list (let ((x 2)) x) x)"), "(2 1)");
    assert_eq!(
        err("(let ((inner 1)) inner) inner"),
        "unbound variable `inner`"
    );
    assert_eq!(ok("(let () 5)"), Value::Int(5));
    assert_eq!(ok("(let ((x 1)))"), Value::Nil);
}

#[test]
fn define_in_a_body_is_local() {
    let source = "
        (define x 1)
        (define (f) (define x 2) (define y 3) (+ x y))
        (list (f) x (global \"y\"))";
    assert_eq!(shown(source), "(5 1 nil)");
}

#[test]
fn set_assigns_the_nearest_binding() {
    let source = "
        (define x 1)
        (define (bump) (set! x (+ x 10)))
        (bump)
        (define (shadow) (let ((x 5)) (set! x 6) x))
        (list x (shadow) x)";
    assert_eq!(shown(source), "(11 6 11)");
    assert_eq!(err("(set! nope 1)"), "unbound variable `nope`");
    assert_eq!(
        err("(define (f) (set! nope 1)) (f)"),
        "unbound variable `nope`"
    );
}

#[test]
fn if_and_truthiness() {
    assert_eq!(
        shown(
            "(list (if 0 'y' 'n') (if () 'y' 'n') (if \"\" 'y' 'n') (if nil 'y' 'n') (if false 'y' 'n'))"
        ),
        "('y' 'y' 'y' 'n' 'n')"
    );
    assert_eq!(ok("(if false 1)"), Value::Nil);
}

#[test]
fn cond_when_unless() {
    let source = "
        (define (classify n)
          (cond ((< n 0) \"negative\")
                ((= n 0) \"zero\")
                (else \"positive\")))
        (list (classify -5) (classify 0) (classify 5))";
    assert_eq!(shown(source), r#"("negative" "zero" "positive")"#);
    assert_eq!(ok("(cond (false 1))"), Value::Nil);
    assert_eq!(ok("(cond (nil 1) (7))"), Value::Int(7));
    assert_eq!(ok("(cond (true))"), Value::Bool(true));
    assert_eq!(
        shown("(list (when true 1 2) (when false 1) (unless false 3) (unless 0 4))"),
        "(2 nil 3 nil)"
    );
}

#[test]
fn and_or_return_the_deciding_value() {
    assert_eq!(
        shown(
            "(list (and) (or) (and 1 2) (and 1 nil 2) (or nil false) (or nil 3 4) (and false (error \"not evaluated\")))"
        ),
        "(true false 2 nil false 3 false)"
    );
    assert_eq!(ok("(or 1 (error \"not evaluated\"))"), Value::Int(1));
}

#[test]
fn while_loops() {
    let source = "
        (define i 0)
        (define total 0)
        (define result (while (< i 10) (set! total (+ total i)) (set! i (+ i 1))))
        (list total i result)";
    assert_eq!(shown(source), "(45 10 nil)");
}

#[test]
fn do_and_empty_bodies() {
    assert_eq!(ok("(do 1 2 3)"), Value::Int(3));
    assert_eq!(ok("(do)"), Value::Nil);
    assert_eq!(ok("((fn ()))"), Value::Nil);
}

#[test]
fn functions_are_values() {
    assert_eq!(ok("((if true + -) 5 3)"), Value::Int(8));
    assert_eq!(
        ok("(define (compose f g) (fn (x) (f (g x)))) ((compose - abs) -4)"),
        Value::Int(-4)
    );
    assert_eq!(
        shown("(define (f) 1) (list f (fn (x) x) +)"),
        "(<function f> <function anonymous> <function +>)"
    );
    assert_eq!(shown("(define g (fn () 1)) g"), "<function g>");
    assert_eq!(shown("(let ((h (fn () 1))) h)"), "<function h>");
}

#[test]
fn globals_defined_later_are_visible_to_earlier_functions() {
    assert_eq!(ok("(define (f) (g)) (define (g) 42) (f)"), Value::Int(42));
}

#[test]
fn programs_share_the_interpreter() {
    let interp = Interp::new();
    let first = Program::parse("a.toy", "(define (twice x) (* 2 x))").unwrap();
    let second = Program::parse("b.toy", "(define y (twice 21))").unwrap();
    interp.run(&first).unwrap();
    drop(first);
    interp.run(&second).unwrap();
    assert_eq!(interp.global("y"), Some(Value::Int(42)));
}

#[test]
fn many_calls_run_fast_enough() {
    // Thousands of calls per test are normal for embedders.
    let source = "
        (define (loop i acc) (if (= i 0) acc (loop (- i 1) (+ acc i))))
        (define total 0)
        (for-each (fn (_) (set! total (+ total (loop 150 0)))) (range 1000))
        total";
    assert_eq!(ok(source), Value::Int(1000 * 150 * 151 / 2));
}
