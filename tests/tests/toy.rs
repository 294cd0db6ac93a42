//! The toy interpreter end to end: scripts linked with the `checks` world of
//! worlds/toy.wit and run under wasmtime; values of every kind through its
//! mapping, imported resources, and scripts that fail to parse, fail at run
//! time or return a value of the wrong type.

use anyhow::Result;
use wasmtime::component::Val;
use wit_dylib_pipeline::Script;
use wit_dylib_tests::component::{self, World};
use wit_dylib_tests::host::{Instance, Recorder};
use wit_dylib_tests::{compose, interpreters};

/// A script that implements every export of `checks`.
const GOOD: &str = r#"
; Swaps x and y, adds to the flags, moves the color and shape along.
(export "mirror"
  (fn (p access c s)
    (log (str "mirror " (get p "label")))
    (list (dict "x" (get p "y") "y" (get p "x") "label" (str (get p "label") "!"))
          (append access "exec")
          (cond ((= c "red") "green") ((= c "green") "blue") (else "red"))
          (if (= (case-of s) "circle")
              (variant "square" (int (payload-of s)))
              (variant "empty")))))

(export "nest"
  (fn (o r chars big neg)
    (list o
          (if (= (case-of r) "ok") (err (string-length (payload-of r))) (ok (show (payload-of r))))
          (map (fn (c) (code-char (+ (char-code c) 1))) chars)
          big
          neg)))

(export "small" (fn (n) n))

; Handles: dropped explicitly, moved by the garbage of a `let`, and a
; dropped handle cannot be used.
(export "use-things"
  (fn (tag)
    (let ((a (test:toy/things#[constructor]thing tag))
          (b (test:toy/things#[constructor]thing (+ tag 1))))
      (let ((total (+ (test:toy/things#[method]thing.tag a)
                      (test:toy/things#[method]thing.tag b))))
        (drop a)
        total))))

(export "keep" (fn (t) (test:toy/things#[method]thing.tag t)))

; A string where an error-context goes becomes one with that message.
(export "wrap" (fn (message) (err message)))
"#;

fn build(source: &str) -> Result<Vec<u8>> {
    let (world, script) = checks(source)?;
    interpreters::link(&script, &component::ours_world_dylib(&world)?)
}

/// The component [`build`] makes, and the same built by the pipeline with
/// pre-initialisation: the script's top level already ran, in the build
/// sandbox. Both must behave the same.
fn both_builds(source: &str) -> Result<[Vec<u8>; 2]> {
    let (world, script) = checks(source)?;
    let preinitialised =
        interpreters::componentize(&script, &world.resolve, world.world, &Default::default())?;
    Ok([build(source)?, preinitialised])
}

fn checks(source: &str) -> Result<(World, Script)> {
    let wit = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("worlds/toy.wit");
    let script = Script {
        name: "test.toy".into(),
        source: source.as_bytes().to_vec(),
    };
    Ok((World::load(&wit, "checks")?, script))
}

fn start(component: &[u8], log: &Recorder) -> Result<Instance> {
    let log = log.clone();
    Instance::new(
        component,
        vec![(
            "log",
            Box::new(move |args: &[Val]| {
                let [Val::String(msg)] = args else {
                    anyhow::bail!("log takes a string")
                };
                log.record(msg.clone());
                Ok(vec![])
            }),
        )],
    )
}

/// The trap message of starting `source` and calling `small(n)`.
fn failure(source: &str, n: u32) -> String {
    let run = || -> Result<Vec<Val>> {
        let mut instance = start(&build(source)?, &Recorder::default())?;
        instance.call("small", &[Val::U32(n)])
    };
    format!("{:#}", run().expect_err("the script must fail"))
}

fn record(fields: &[(&str, Val)]) -> Val {
    Val::Record(
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn records_flags_enums_and_variants_cross_both_ways() -> Result<()> {
    for component in both_builds(GOOD)? {
        records_flags_enums_and_variants(&component)?;
    }
    Ok(())
}

fn records_flags_enums_and_variants(component: &[u8]) -> Result<()> {
    let log = Recorder::default();
    let mut instance = start(component, &log)?;
    let point = record(&[
        ("x", Val::S32(-5)),
        ("y", Val::S32(i32::MAX)),
        ("label", Val::String("ü✓".into())),
    ]);
    let results = instance.call(
        "mirror",
        &[
            point,
            Val::Flags(names(&["read"])),
            Val::Enum("blue".into()),
            Val::Variant("circle".into(), Some(Box::new(Val::Float64(7.9)))),
        ],
    )?;
    let expected = Val::Tuple(vec![
        record(&[
            ("x", Val::S32(i32::MAX)),
            ("y", Val::S32(-5)),
            ("label", Val::String("ü✓!".into())),
        ]),
        Val::Flags(names(&["read", "exec"])),
        Val::Enum("red".into()),
        Val::Variant("square".into(), Some(Box::new(Val::U32(7)))),
    ]);
    assert_eq!(results, vec![expected]);
    assert_eq!(log.entries(), vec!["mirror ü✓".to_string()]);
    Ok(())
}

#[test]
fn options_results_lists_and_64_bit_integers_cross_both_ways() -> Result<()> {
    for component in both_builds(GOOD)? {
        options_results_lists_and_64_bit_integers(&component)?;
    }
    Ok(())
}

fn options_results_lists_and_64_bit_integers(component: &[u8]) -> Result<()> {
    let mut instance = start(component, &Recorder::default())?;
    let some_none = Val::Option(Some(Box::new(Val::Option(None))));
    let results = instance.call(
        "nest",
        &[
            some_none.clone(),
            Val::Result(Ok(Some(Box::new(Val::String("four".into()))))),
            Val::List(vec![Val::Char('a'), Val::Char('\u{1f97f}')]),
            Val::U64(u64::MAX),
            Val::S64(i64::MIN),
        ],
    )?;
    let expected = Val::Tuple(vec![
        some_none,
        Val::Result(Err(Some(Box::new(Val::U32(4))))),
        Val::List(vec![Val::Char('b'), Val::Char('\u{1f980}')]),
        Val::U64(u64::MAX),
        Val::S64(i64::MIN),
    ]);
    assert_eq!(results, vec![expected]);

    let results = instance.call(
        "nest",
        &[
            Val::Option(None),
            Val::Result(Err(Some(Box::new(Val::U32(9))))),
            Val::List(vec![]),
            Val::U64(0),
            Val::S64(-1),
        ],
    )?;
    let Val::Tuple(items) = &results[0] else {
        panic!("nest returned {results:?}")
    };
    assert_eq!(items[0], Val::Option(None));
    assert_eq!(
        items[1],
        Val::Result(Ok(Some(Box::new(Val::String("9".into())))))
    );
    Ok(())
}

#[test]
fn imported_handles_are_created_used_and_dropped() -> Result<()> {
    for component in both_builds(GOOD)? {
        let mut instance = start(&component, &Recorder::default())?;
        // Tags 10 and 11, read back through the host's `tag` method; `a` is
        // dropped by the script, `b` when its last toy value goes.
        for _ in 0..3 {
            assert_eq!(
                instance.call("use-things", &[Val::U32(10)])?,
                vec![Val::U32(21)]
            );
        }
    }
    Ok(())
}

#[test]
fn a_dropped_handle_cannot_be_used() {
    let source = GOOD.replace(
        "(drop a)\n        total",
        "(drop a)\n        (test:toy/things#[method]thing.tag a)",
    );
    let run = || -> Result<Vec<Val>> {
        let mut instance = start(&build(&source)?, &Recorder::default())?;
        instance.call("use-things", &[Val::U32(1)])
    };
    let message = format!("{:#}", run().expect_err("using a dropped handle must fail"));
    assert!(message.contains("was dropped or moved"), "{message}");
    assert!(
        message.contains("argument 0 of `test:toy/things#[method]thing.tag`"),
        "{message}"
    );
}

#[test]
fn a_syntax_error_names_file_line_and_column() {
    let source = "(export \"small\" (fn (n) n))\n\n(define (f x)\n  (+ x 1)";
    let message = failure(source, 1);
    assert!(
        message.contains("toy: test.toy:3:1: unclosed '('"),
        "{message}"
    );
    // The host-side check gives the same message before anything is linked.
    let err = toy_lang::Program::parse("test.toy", source).expect_err("a parse error");
    assert_eq!(err.to_string(), "test.toy:3:1: unclosed '('");

    let message = failure("(export \"small\" (fn (n) 'ab'))", 1);
    assert!(message.contains("toy: test.toy:1:25:"), "{message}");
}

#[test]
fn a_missing_export_is_named() {
    let message = failure(
        "(export \"small\" (fn (n) n))\n(export \"keep\" (fn (t) 1))",
        1,
    );
    assert!(
        message.contains("toy: `test.toy` does not export `mirror`, `nest`, `use-things`"),
        "{message}"
    );
}

#[test]
fn exporting_a_function_the_world_lacks_is_an_error() {
    let message = failure("(export \"smal\" (fn (n) n))", 1);
    assert!(
        message.contains(
            "toy: running `test.toy` failed: test.toy:1:1: the world exports no function `smal`"
        ),
        "{message}"
    );
}

#[test]
fn a_runtime_error_traps_with_message_and_toy_stack() {
    let source = GOOD.replace(
        "(export \"small\" (fn (n) n))",
        "(define (inner n) (error \"boom \" n))\n\
         (define (outer n) (inner (* n 2)))\n\
         (export \"small\" (fn (n) (outer n)))",
    );
    let message = failure(&source, 21);
    assert!(message.contains("toy: export `small` failed"), "{message}");
    assert!(message.contains("boom 42"), "{message}");
    assert!(message.contains("toy stack"), "{message}");
    let inner = message.find("in inner").expect("inner in the stack");
    let outer = message.find("in outer").expect("outer in the stack");
    assert!(inner < outer, "innermost frame first:\n{message}");
    // The host's entry is labelled with the export's WIT name.
    assert!(message.contains("in small at test.toy:"), "{message}");
}

#[test]
fn a_result_of_the_wrong_type_names_export_type_and_value() {
    let source = GOOD.replace(
        "(export \"small\" (fn (n) n))",
        "(export \"small\" (fn (n) \"many\"))",
    );
    let message = failure(&source, 1);
    assert!(
        message.contains("toy: export `small` returned \"many\", which is not a u8: expected u8, found string \"many\""),
        "{message}"
    );
}

#[test]
fn a_string_becomes_an_error_context_and_anything_else_is_refused() -> Result<()> {
    let mut instance = start(&build(GOOD)?, &Recorder::default())?;
    let got = instance.call("wrap", &[Val::String("disk full".into())])?;
    assert!(
        matches!(&got[..], [Val::Result(Err(Some(e)))] if matches!(**e, Val::ErrorContext(_))),
        "{got:?}"
    );
    let source = GOOD.replace("(err message)", "(err 42)");
    let mut instance = start(&build(&source)?, &Recorder::default())?;
    let message = format!(
        "{:#}",
        instance
            .call("wrap", &[Val::String("x".into())])
            .unwrap_err()
    );
    assert!(message.contains("export `wrap`"), "{message}");
    assert!(
        message.contains("expected error-context, found int 42"),
        "{message}"
    );
    Ok(())
}

#[test]
fn an_out_of_range_integer_names_the_range() {
    let message = failure(GOOD, 300);
    assert!(
        message.contains("integer 300 is out of range for u8"),
        "{message}"
    );
    // The same component answers in range.
    let mut instance = start(&build(GOOD).unwrap(), &Recorder::default()).unwrap();
    assert_eq!(
        instance.call("small", &[Val::U32(255)]).unwrap(),
        vec![Val::U8(255)]
    );
}

#[test]
fn a_wrong_argument_to_an_import_names_import_and_argument() {
    let source = GOOD.replace(
        "(export \"small\" (fn (n) n))",
        "(export \"small\" (fn (n) (log n) n))",
    );
    let message = failure(&source, 3);
    assert!(
        message.contains("argument 0 of `log`: expected string, found int 3"),
        "{message}"
    );
}

// Async: a `front` toy component waiting on a `back` toy component
// (worlds/toy-async.wit), composed.

const BACK: &str = r#"
(define last-write nil)
(export "test:toy-async/back#shout" (fn (s) (str s "!")))
; Returns the stream at once; a task writes it afterwards.
(export "test:toy-async/back#numbers"
  (fn (n)
    (let ((ends (stream-new "stream<u32>")))
      (spawn (fn ()
               (set! last-write (some (stream-write (nth ends 1) (range n))))
               (drop (nth ends 1))))
      (nth ends 0))))
(export "test:toy-async/back#last-write" (fn () last-write))
(export "test:toy-async/back#open-ends" (fn () (wit-open-ends)))
"#;

const FRONT: &str = r#"
(define (back name) (global (str "test:toy-async/back#" name)))

(export "greet" (fn (name) (str ((back "shout") (str "hello " name)) " (via front)")))

; Task a calls, then waits for what task b writes; b runs its own call in
; between.
(export "interleave"
  (fn ()
    (let ((order (list))
          (ends (stream-new "stream<u32>")))
      (define (note x) (set! order (append order x)))
      (let ((a (spawn (fn ()
                        (note "a calls")
                        (note ((back "shout") "a"))
                        (note (str "a read " (show (stream-read (nth ends 0) 5))))
                        (drop (nth ends 0)))))
            (b (spawn (fn ()
                        (note "b calls")
                        (note ((back "shout") "b"))
                        (stream-write (nth ends 1) (list 7))
                        (note "b wrote")
                        (drop (nth ends 1))))))
        (join a)
        (join b)
        order))))

; Reads one number and drops the stream.
(export "first-number"
  (fn (n)
    (let ((s ((back "numbers") n)))
      (let ((got (stream-read s 1)))
        (drop s)
        (if got (some (nth got 0)) nil)))))

(export "ends" (fn () (list (wit-open-ends) ((back "open-ends")))))
(export "last-write" (fn () ((back "last-write"))))
(export "fails-after-wait" (fn () (let ((r ((back "shout") "x"))) (error "boom after " r))))
(export "bad-stream"
  (fn () (let ((ends (stream-new "stream<u8>"))) (stream-write (nth ends 1) (list 1 300)) (nth ends 0))))
(export "bad-future"
  (fn () (let ((ends (future-new "future<u32>"))) (future-write (nth ends 1) "seven") (nth ends 0))))
(export "sync-waits" (fn () ((back "shout") "x")))

(export "misuse"
  (fn (case)
    (let ((s (stream-new "stream<u32>")))
      (cond
        ((= case "read-a-writer") (stream-read (nth s 1) 1))
        ((= case "unknown-type") (future-new "future<u64>"))
        ((= case "drop-unwritten") (drop (nth (future-new "future<u32>") 1)))
        ((= case "let-go-unwritten") (future-new "future<u32>") "done")
        ((= case "read-after-drop") (drop (nth s 0)) (stream-read (nth s 0) 1))
        (else (error "no case " case))))))
"#;

const FRONT_EXPORTS: &[&str] = &[
    "greet",
    "interleave",
    "first-number",
    "ends",
    "last-write",
    "fails-after-wait",
    "bad-stream",
    "bad-future",
    "sync-waits",
    "misuse",
];

/// The front and back scripts composed (each linked with our generator's
/// world library) and instantiated.
fn front_and_back(front: &str, back: &str) -> Result<Instance> {
    Instance::new(&composed(front, back)?, vec![])
}

fn composed(front: &str, back: &str) -> Result<Vec<u8>> {
    let wit = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("worlds/toy-async.wit");
    let side = |world: &str, name: &str, source: &str| -> Result<Vec<u8>> {
        let world = World::load(&wit, world)?;
        let script = Script {
            name: name.into(),
            source: source.as_bytes().to_vec(),
        };
        interpreters::link(&script, &component::ours_world_dylib(&world)?)
    };
    let back = side("back-end", "back.toy", back)?;
    let front = side("front", "front.toy", front)?;
    compose::chain(&[("back", &back), ("front", &front)], FRONT_EXPORTS)
}

fn string(s: &str) -> Val {
    Val::String(s.into())
}

#[test]
fn an_async_export_returns_what_an_async_import_returned() -> Result<()> {
    let mut instance = front_and_back(FRONT, BACK)?;
    for name in ["you", "again"] {
        let result = instance.call("greet", &[string(name)])?;
        assert_eq!(
            result,
            [string(&format!("hello {name}! (via front)"))],
            "greet({name})"
        );
    }
    Ok(())
}

#[test]
fn a_waiting_task_lets_another_run_its_call() -> Result<()> {
    let mut instance = front_and_back(FRONT, BACK)?;
    let order = instance.call("interleave", &[])?;
    let steps = ["a calls", "a!", "b calls", "b!", "b wrote", "a read (7)"];
    assert_eq!(order, [Val::List(steps.map(string).to_vec())]);
    assert_eq!(instance.call("ends", &[])?, [tuple_u32(0, 0)]);
    Ok(())
}

fn tuple_u32(a: u32, b: u32) -> Val {
    Val::Tuple(vec![Val::U32(a), Val::U32(b)])
}

#[test]
fn a_reader_dropped_early_neither_leaks_nor_traps() -> Result<()> {
    let mut instance = front_and_back(FRONT, BACK)?;
    for _ in 0..3 {
        let first = instance.call("first-number", &[Val::U32(1000)])?;
        assert_eq!(first, [Val::Option(Some(Box::new(Val::U32(0))))]);
        // The back's writer saw the reader go and stopped; nobody holds an end.
        let write = instance.call("last-write", &[])?;
        assert_eq!(write, [Val::Option(Some(Box::new(Val::Bool(false))))]);
        assert_eq!(instance.call("ends", &[])?, [tuple_u32(0, 0)]);
    }
    // An empty stream ends at once, and its writer wrote everything (nothing).
    let first = instance.call("first-number", &[Val::U32(0)])?;
    assert_eq!(first, [Val::Option(None)]);
    let write = instance.call("last-write", &[])?;
    assert_eq!(write, [Val::Option(Some(Box::new(Val::Bool(true))))]);
    Ok(())
}

/// The error of calling `export` of the front, which must fail.
fn async_failure(export: &str) -> String {
    let run = || -> Result<Vec<Val>> { front_and_back(FRONT, BACK)?.call(export, &[]) };
    format!("{:#}", run().expect_err("the call must fail"))
}

#[test]
fn a_toy_error_after_waiting_traps_with_the_toy_message() {
    let message = async_failure("fails-after-wait");
    assert!(
        message.contains("toy: export `fails-after-wait` failed: front.toy:")
            && message.contains("boom after x!"),
        "{message}"
    );
}

#[test]
fn writing_a_wrong_value_names_the_stream_or_future_type() {
    let message = async_failure("bad-stream");
    assert!(
        message.contains("writing to stream<u8>: item 1: integer 300 is out of range for u8"),
        "{message}"
    );
    let message = async_failure("bad-future");
    assert!(
        message.contains(r#"writing to future<u32>: expected u32, found string "seven""#),
        "{message}"
    );
}

#[test]
fn a_sync_export_calling_an_async_import_is_an_error_naming_it() {
    let message = async_failure("sync-waits");
    assert!(
        message.contains("async import `test:toy-async/back#shout` may wait, which only code running in an async export may do"),
        "{message}"
    );
}

#[test]
fn misused_futures_and_streams_are_errors_naming_the_end() -> Result<()> {
    let component = composed(FRONT, BACK)?;
    for (case, expected) in [
        (
            "read-a-writer",
            "`stream-read` needs a reader, found <stream<u32> writer ",
        ),
        ("unknown-type", "the world uses no type `future<u64>`"),
        (
            "drop-unwritten",
            "has not written its value, and a future's writer may not be dropped before",
        ),
        (
            "let-go-unwritten",
            "toy: export `misuse` let go of <future<u32> writer ",
        ),
        ("read-after-drop", "> was dropped or moved"),
    ] {
        let mut instance = Instance::new(&component, vec![])?;
        let message = match instance.call("misuse", &[string(case)]) {
            Ok(result) => panic!("{case}: returned {result:?}"),
            Err(err) => format!("{err:#}"),
        };
        assert!(message.contains(expected), "{case}: {message}");
    }
    Ok(())
}
