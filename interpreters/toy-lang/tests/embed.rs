//! The embedding API: natives, calls from the host, host objects.

use std::any::Any;
use std::cell::Cell;
use std::rc::Rc;
use toy_lang::{Error, Function, HostObject, Interp, Program, Value};

fn load(interp: &Interp, source: &str) {
    let program = Program::parse("main.toy", source).unwrap_or_else(|e| panic!("{e}"));
    interp.run(&program).unwrap_or_else(|e| panic!("{e}"));
}

fn call(interp: &Interp, name: &str, args: Vec<Value>) -> Result<Value, Error> {
    let f = interp
        .global(name)
        .unwrap_or_else(|| panic!("no global {name}"));
    interp.call(&f, args)
}

#[test]
fn define_global_and_call() {
    let interp = Interp::new();
    interp.define("base", Value::Int(100));
    load(&interp, "(define (add x) (+ base x))");
    assert_eq!(
        call(&interp, "add", vec![Value::Int(5)]).unwrap(),
        Value::Int(105)
    );
    assert!(interp.global("missing").is_none());
    let add = interp.global("add").unwrap();
    let Value::Func(f) = &add else { panic!() };
    assert_eq!(f.name(), "add");
    assert!(!f.is_native());
}

#[test]
fn natives_are_called_with_their_arguments() {
    let interp = Interp::new();
    interp.define_native("host-sum", |_, args| {
        let mut total = 0;
        for arg in args {
            match arg {
                Value::Int(i) => total += i,
                other => return Err(format!("not an int: {}", other.show())),
            }
        }
        Ok(Value::Int(total))
    });
    load(&interp, "(define r (host-sum 1 2 3))");
    assert_eq!(interp.global("r"), Some(Value::Int(6)));
}

#[test]
fn native_errors_are_raised_at_the_call_site() {
    let interp = Interp::new();
    interp.define_native("fail", |_, _| Err("the host says no".to_string()));
    let program = Program::parse("main.toy", "(define (f)\n  (fail 1))\n(f)").unwrap();
    let error = interp.run(&program).unwrap_err();
    assert_eq!(
        error.to_string(),
        "main.toy:2:3: the host says no\ntoy stack (innermost first):\n  in f at main.toy:3:1"
    );
}

#[test]
fn natives_call_back_into_toy_code() {
    let interp = Interp::new();
    interp.define_native("call-twice", |interp, args| {
        let [f, x] = <[Value; 2]>::try_from(args).map_err(|_| "2 args".to_string())?;
        let once = interp.call(&f, vec![x])?;
        Ok(interp.call(&f, vec![once])?)
    });
    load(&interp, "(define r (call-twice (fn (x) (* x 3)) 2))");
    assert_eq!(interp.global("r"), Some(Value::Int(18)));
    // Re-entrant: toy -> native -> toy -> native -> toy.
    load(
        &interp,
        "(define (inc x) (+ x 1))\n(define r2 (call-twice (fn (x) (call-twice inc x)) 0))",
    );
    assert_eq!(interp.global("r2"), Some(Value::Int(4)));
}

#[test]
fn errors_in_callbacks_of_natives_keep_the_whole_stack() {
    let interp = Interp::new();
    interp.define_native("with-callback", |interp, mut args| {
        let f = args.pop().ok_or("no callback")?;
        interp.call(&f, vec![])?;
        Ok(Value::Nil)
    });
    let source = "\
(define (leaf)
  (error \"deep\"))
(define (cb)
  (leaf))
(define (top)
  (with-callback cb))
(top)";
    let program = Program::parse("main.toy", source).unwrap();
    assert_eq!(
        interp.run(&program).unwrap_err().to_string(),
        "\
main.toy:2:3: deep
toy stack (innermost first):
  in leaf at main.toy:4:3
  in cb at main.toy:6:3
  in top at main.toy:7:1"
    );
}

#[test]
fn a_native_may_replace_a_callback_error() {
    let interp = Interp::new();
    interp.define_native("guarded", |interp, mut args| {
        let f = args.pop().ok_or("no callback")?;
        match interp.call(&f, vec![]) {
            Ok(v) => Ok(v),
            Err(e) => Err(format!("callback failed: {}", e.message)),
        }
    });
    let program = Program::parse(
        "main.toy",
        "(define (top) (guarded (fn () (error \"x\"))))\n(top)",
    )
    .unwrap();
    assert_eq!(
        interp.run(&program).unwrap_err().to_string(),
        "main.toy:1:15: callback failed: x\ntoy stack (innermost first):\n  in top at main.toy:2:1"
    );
}

#[test]
fn calls_from_the_host() {
    let interp = Interp::new();
    load(
        &interp,
        "(define x 1)\n\n(define (boom y)\n  (error \"boom \" y))",
    );
    let boom = interp.global("boom").unwrap();
    // From the host, the frame points at the function's definition.
    let error = interp.call(&boom, vec![Value::Int(7)]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "main.toy:4:3: boom 7\ntoy stack (innermost first):\n  in boom at main.toy:3:1"
    );
    let error = interp
        .call_named("test:x/api#boom", &boom, vec![Value::Int(7)])
        .unwrap_err();
    assert_eq!(error.stack[0].function, "test:x/api#boom");
    // Arity is checked at the same place.
    let error = interp.call(&boom, vec![]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "main.toy:3:1: `boom` takes 1 argument, got 0"
    );
    // Not a function.
    let error = interp.call(&Value::Int(3), vec![]).unwrap_err();
    assert_eq!(error.message, "not a function: 3");
    assert_eq!(error.to_string(), "<host>: not a function: 3");
    // Natives and builtins can be called too.
    let plus = interp.global("+").unwrap();
    assert_eq!(
        interp
            .call(&plus, vec![Value::Int(1), Value::Float(0.5)])
            .unwrap(),
        Value::Float(1.5)
    );
    let error = interp.call(&plus, vec![Value::Nil]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "<host>: `+` expects a number, got nil nil"
    );
}

#[derive(Debug)]
struct Counter {
    handle: u32,
    drops: Rc<Cell<u32>>,
}

impl HostObject for Counter {
    fn describe(&self) -> String {
        format!("<counter handle {}>", self.handle)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

#[test]
fn host_objects() {
    let drops = Rc::new(Cell::new(0));
    {
        let interp = Interp::new();
        let counter = Value::host(Counter {
            handle: 3,
            drops: drops.clone(),
        });
        let other = Value::host(Counter {
            handle: 4,
            drops: drops.clone(),
        });
        interp.define("c", counter.clone());
        interp.define("d", other);
        interp.define_native("handle-of", |_, args| match args.first() {
            Some(Value::Host(h)) => match h.as_any().downcast_ref::<Counter>() {
                Some(c) => Ok(Value::Int(c.handle.into())),
                None => Err("not a counter".into()),
            },
            _ => Err("not a host object".into()),
        });
        load(
            &interp,
            "(define r (list (handle-of c) (same? c c) (same? c d) (type-of c) (show c) (str c)))",
        );
        assert_eq!(
            interp.global("r").unwrap().show(),
            "(3 true false \"host\" \"<counter handle 3>\" \"<counter handle 3>\")"
        );
        assert_eq!(format!("{counter:?}"), "<counter handle 3>");
        // Replacing a global drops the old object.
        load(&interp, "(define d nil)");
        assert_eq!(drops.get(), 1);
    }
    assert_eq!(drops.get(), 2);
}

#[test]
fn function_values_made_by_the_host() {
    let interp = Interp::new();
    let method = Value::Func(Rc::new(Function::native("counter.tag", |_, args| {
        Ok(Value::from(format!("tag of {}", args.len())))
    })));
    interp.define("methods", Value::map(vec![(Value::str("tag"), method)]));
    load(
        &interp,
        "(define r ((get methods \"tag\") 1 2))\n(define name (show (get methods \"tag\")))",
    );
    assert_eq!(interp.global("r"), Some(Value::str("tag of 2")));
    assert_eq!(
        interp.global("name"),
        Some(Value::str("<function counter.tag>"))
    );
}

#[test]
fn value_helpers() {
    let m = Value::map(vec![(Value::str("a"), Value::Int(1))]);
    assert_eq!(m.map_get(&Value::str("a")), Some(&Value::Int(1)));
    assert_eq!(m.map_get(&Value::str("b")), None);
    assert_eq!(Value::variant("some", Value::Int(1)).show(), "(some 1)");
    assert_eq!(
        Value::from(vec![Value::from(1i64), Value::from('x'), Value::from(true)]).show(),
        "(1 'x' true)"
    );
    assert!(
        Value::Int(0).is_truthy() && !Value::Nil.is_truthy() && !Value::Bool(false).is_truthy()
    );
    assert_eq!(Value::Nil.type_name(), "nil");
}

#[test]
fn readme_example() -> Result<(), Box<dyn std::error::Error>> {
    let program = Program::parse(
        "main.toy",
        r#"
    (define (greet name) (str "hello, " (shout name)))
"#,
    )?;
    let interp = Interp::new();
    interp.define_native("shout", |_interp, args| match &args[..] {
        [Value::Str(s)] => Ok(Value::from(s.to_uppercase())),
        _ => Err("`shout` takes a string".to_string()),
    });
    interp.run(&program)?;
    let greet = interp.global("greet").expect("defined by the script");
    let hello = interp.call(&greet, vec![Value::from("you")])?;
    assert_eq!(hello, Value::from("hello, YOU"));
    Ok(())
}
