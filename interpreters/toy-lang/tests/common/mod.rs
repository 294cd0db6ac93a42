//! Helpers shared by the integration tests.
#![allow(dead_code)]

use toy_lang::{Error, Interp, Program, Value};

/// Runs `source` in a fresh interpreter; the value of its last form.
pub fn eval(source: &str) -> Result<Value, Error> {
    eval_in(&Interp::new(), source)
}

/// Runs `source` in `interp`; the value of its last form. The source is
/// wrapped in a `do` on one line, so positions shift by one line.
pub fn eval_in(interp: &Interp, source: &str) -> Result<Value, Error> {
    let wrapped = format!("(define test-result (do\n{source}\n))");
    let program = Program::parse("test.toy", &wrapped).unwrap_or_else(|e| panic!("{e}"));
    interp.run(&program)?;
    Ok(interp.global("test-result").expect("defined"))
}

/// `eval`, panicking with the message on error.
pub fn ok(source: &str) -> Value {
    eval(source).unwrap_or_else(|e| panic!("{e}"))
}

/// `show` of the value of `source`.
pub fn shown(source: &str) -> String {
    ok(source).show()
}

/// The message of the error `source` raises.
pub fn err(source: &str) -> String {
    match eval(source) {
        Ok(v) => panic!("expected an error, got {}", v.show()),
        Err(e) => e.message,
    }
}

/// Runs a whole file named `main.toy`; the error it raises, displayed.
pub fn run_error(source: &str) -> String {
    let interp = Interp::new();
    let program = Program::parse("main.toy", source).unwrap_or_else(|e| panic!("{e}"));
    match interp.run(&program) {
        Ok(()) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}
