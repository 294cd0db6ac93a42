//! The two kinds of failure: a source file that does not parse, and a runtime
//! error carrying the toy call stack so that a failing export can say where
//! in the script it went wrong.

use std::fmt;

/// A syntax error, found before anything runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub file: String,
    /// 1-based.
    pub line: u32,
    /// 1-based, counted in chars.
    pub column: u32,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// An error raised while evaluating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    /// The toy function calls active when the error was raised, innermost
    /// first; each frame holds the position of that call.
    pub stack: Vec<StackFrame>,
    /// Where the error was raised (for errors of natives and builtins: their
    /// call site). `line` 0 means "no source position" (e.g. the host).
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// One active call of a toy function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackFrame {
    /// The function's name, or the label given to `Interp::call_named`.
    pub function: String,
    /// Where the call happened. A call from the host has no call site, so it
    /// points at the called function's definition instead.
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl Error {
    /// An error with no position or stack, for embedders building their own.
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            stack: Vec::new(),
            file: String::new(),
            line: 0,
            column: 0,
        }
    }
}

/// Frames repeated more often than this in a row (deep recursion) are
/// summarised in one line rather than printed hundreds of times.
const MAX_REPEATS_SHOWN: usize = 3;
/// Longer stacks show only their innermost and outermost lines.
const MAX_LINES: usize = 40;
const OUTERMOST_LINES: usize = 10;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.file.is_empty(), self.line) {
            (true, _) => write!(f, "{}", self.message)?,
            (false, 0) => write!(f, "{}: {}", self.file, self.message)?,
            (false, _) => write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )?,
        }
        if self.stack.is_empty() {
            return Ok(());
        }
        write!(f, "\ntoy stack (innermost first):")?;
        let lines = stack_lines(&self.stack);
        if lines.len() <= MAX_LINES {
            for (line, _) in &lines {
                write!(f, "\n  {line}")?;
            }
            return Ok(());
        }
        let (inner, rest) = lines.split_at(MAX_LINES - OUTERMOST_LINES - 1);
        let (omitted, outer) = rest.split_at(rest.len() - OUTERMOST_LINES);
        for (line, _) in inner {
            write!(f, "\n  {line}")?;
        }
        let frames: usize = omitted.iter().map(|(_, frames)| frames).sum();
        write!(f, "\n  ... {frames} more frames")?;
        for (line, _) in outer {
            write!(f, "\n  {line}")?;
        }
        Ok(())
    }
}

/// The lines showing `stack`, with how many frames each stands for.
fn stack_lines(stack: &[StackFrame]) -> Vec<(String, usize)> {
    let mut lines = Vec::new();
    let mut i = 0;
    while i < stack.len() {
        let frame = &stack[i];
        let run = stack[i..].iter().take_while(|f| *f == frame).count();
        for _ in 0..run.min(MAX_REPEATS_SHOWN) {
            lines.push((frame.to_string(), 1));
        }
        if run > MAX_REPEATS_SHOWN {
            let more = run - MAX_REPEATS_SHOWN;
            lines.push((format!("... the same frame {more} more times"), more));
        }
        i += run;
    }
    lines
}

impl fmt::Display for StackFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "in {} at {}", self.function, self.file)
        } else {
            write!(
                f,
                "in {} at {}:{}:{}",
                self.function, self.file, self.line, self.column
            )
        }
    }
}

impl std::error::Error for Error {}

/// Lets a native function propagate a failed [`crate::Interp::call`] with
/// `?`. Only the message is kept in the `String`, but the interpreter
/// recognises it and re-raises the original error with its full stack.
impl From<Error> for String {
    fn from(error: Error) -> String {
        error.message
    }
}
