//! Runtime errors: messages, positions and the toy stack.

mod common;

use common::{err, run_error};
use toy_lang::{Interp, Program, StackFrame, Value};

#[test]
fn error_position_and_stack() {
    let source = "\
(define (inner x)
  (error \"boom \" x))
(define (middle)
  (+ 1 (inner 5)))
(define (outer)
  (do
    (middle)))
(outer)
";
    assert_eq!(
        run_error(source),
        "\
main.toy:2:3: boom 5
toy stack (innermost first):
  in inner at main.toy:4:8
  in middle at main.toy:7:5
  in outer at main.toy:8:1"
    );
}

#[test]
fn error_fields() {
    let interp = Interp::new();
    let program = Program::parse(
        "f.toy",
        "(define (f) (g))\n(define (g) undefined-thing)\n(f)",
    )
    .unwrap();
    let error = interp.run(&program).unwrap_err();
    assert_eq!(error.message, "unbound variable `undefined-thing`");
    assert_eq!(
        (error.file.as_str(), error.line, error.column),
        ("f.toy", 2, 13)
    );
    let frame = |function: &str, line, column| StackFrame {
        function: function.into(),
        file: "f.toy".into(),
        line,
        column,
    };
    assert_eq!(error.stack, vec![frame("g", 1, 13), frame("f", 3, 1)]);
    let boxed: Box<dyn std::error::Error> = Box::new(error);
    assert!(
        boxed
            .to_string()
            .starts_with("f.toy:2:13: unbound variable")
    );
}

#[test]
fn top_level_errors_have_no_stack() {
    assert_eq!(
        run_error("\n  (nth (list) 0)"),
        "main.toy:2:3: `nth` index 0 out of range for a list of 0"
    );
}

#[test]
fn errors_inside_callbacks_of_builtins_keep_the_stack() {
    let source = "\
(define (check x)
  (assert (< x 2) \"too big: \" x))
(define (run)
  (map check (list 1 2 3)))
(run)";
    assert_eq!(
        run_error(source),
        "\
main.toy:2:3: too big: 2
toy stack (innermost first):
  in check at main.toy:4:3
  in run at main.toy:5:1"
    );
}

#[test]
fn arity_errors() {
    assert_eq!(
        err("(define (f a b) a) (f 1 2 3)"),
        "`f` takes 2 arguments, got 3"
    );
    assert_eq!(err("(define (f a) a) (f)"), "`f` takes 1 argument, got 0");
    assert_eq!(
        err("(define (f a . r) a) (f)"),
        "`f` takes at least 1 argument, got 0"
    );
    assert_eq!(err("((fn (x) x))"), "`anonymous` takes 1 argument, got 0");
    assert_eq!(err("(nth (list 1))"), "`nth` takes 2 arguments, got 1");
    assert_eq!(err("(range)"), "`range` takes 1 to 2 arguments, got 0");
    // Reported at the call site, outside the callee.
    assert_eq!(
        run_error("(define (f a) a)\n(define (g) (f))\n(g)"),
        "main.toy:2:13: `f` takes 1 argument, got 0\ntoy stack (innermost first):\n  in g at main.toy:3:1"
    );
}

#[test]
fn unbound_variables_and_non_functions() {
    assert_eq!(err("(+ 1 x)"), "unbound variable `x`");
    assert_eq!(err("(5 1)"), "not a function: 5");
    assert_eq!(err("(\"f\")"), "not a function: \"f\"");
}

fn deep_recursion(source: &str) -> String {
    // A bounded stack proves the limit fires before Rust's stack runs out.
    let source = source.to_string();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || run_error(&source))
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn deep_recursion_is_an_error_not_a_crash() {
    let error = deep_recursion("(define (down n) (+ 1 (down (+ n 1))))\n(down 0)");
    let mut lines = error.lines();
    assert_eq!(
        lines.next(),
        Some("main.toy:1:23: stack overflow (more than 200 nested calls)")
    );
    assert_eq!(lines.next(), Some("toy stack (innermost first):"));
    assert_eq!(lines.next(), Some("  in down at main.toy:1:23"));
    assert!(error.contains("  ... the same frame 196 more times\n  in down at main.toy:2:1"));
}

#[test]
fn deep_recursion_through_builtins_and_lets() {
    let source = "\
(define (down n)
  (let ((m (+ n 1)))
    (cond ((< n 0) 0)
          (else (first (map (fn (x) (down x)) (list m)))))))
(down 0)";
    let error = deep_recursion(source);
    assert!(
        error.starts_with("main.toy:4:37: stack overflow (more than 200 nested calls)"),
        "{error}"
    );
    // Long stacks are cut short in the middle.
    assert!(error.contains("more frames"), "{error}");
    assert!(error.lines().count() < 50);
}

#[test]
fn the_interpreter_is_usable_after_an_overflow() {
    let interp = Interp::new();
    let program = Program::parse("m.toy", "(define (down n) (+ 1 (down n)))").unwrap();
    interp.run(&program).unwrap();
    let down = interp.global("down").unwrap();
    for _ in 0..3 {
        let error = interp.call(&down, vec![Value::Int(0)]).unwrap_err();
        assert_eq!(error.stack.len(), 200);
    }
    let add = interp.global("+").unwrap();
    assert_eq!(
        interp
            .call(&add, vec![Value::Int(1), Value::Int(2)])
            .unwrap(),
        Value::Int(3)
    );
}
