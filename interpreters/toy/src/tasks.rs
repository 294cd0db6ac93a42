//! How toy code waits. The evaluator is a plain recursive function that
//! cannot suspend, so toy code *blocks* instead: an operation that has to
//! wait (an async import, a future or stream read or write) runs under the
//! SDK's `block_on` inside the export's task, and the component model starts
//! no other async call of the instance meanwhile (wasmtime lets a sync export
//! run, which cannot wait itself; its borrows are its own, see `resources`).
//!
//! Concurrency comes from `(spawn f)`: the task is queued and starts the
//! next time toy code waits, once the awaited operation has started (so a
//! task writing a stream can feed the import call that reads it), or, if
//! nothing waits, after the export has returned its result (so a task can
//! keep writing a stream the export returned). A started task runs to its
//! end, waiting where it must; the code that started it resumes afterwards.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::rc::Rc;
use std::task::Poll;

use toy_lang::{HostObject, Interp, Value};
use wit_dylib_sdk::{Callee, block_on};

#[derive(Default)]
pub struct Scheduler {
    /// Spawned tasks not started yet, oldest first.
    queue: RefCell<VecDeque<Rc<ToyTask>>>,
    /// Whether toy code may wait now: only inside an async export's task.
    may_wait: Cell<bool>,
    /// The export being served (or that spawned the running task).
    current: Cell<Option<Callee>>,
}

/// A spawned toy function, as the script sees it (`(join task)`).
pub struct ToyTask {
    function: Value,
    spawned_by: Callee,
    state: RefCell<TaskState>,
}

enum TaskState {
    Queued,
    Running,
    Done(Value),
}

impl HostObject for ToyTask {
    fn describe(&self) -> String {
        let state = match &*self.state.borrow() {
            TaskState::Queued => "queued",
            TaskState::Running => "running",
            TaskState::Done(_) => "done",
        };
        format!("<task of {}, {state}>", self.spawned_by)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Scheduler {
    /// Runs `body` as export `func`: `async_` says whether it may wait.
    pub fn serve<R>(&self, func: Callee, async_: bool, body: impl FnOnce() -> R) -> R {
        let previous = (
            self.may_wait.replace(async_),
            self.current.replace(Some(func)),
        );
        let result = body();
        self.may_wait.set(previous.0);
        self.current.set(previous.1);
        result
    }

    /// The export being served, for `builtin`, which works only while one is.
    pub fn current(&self, builtin: &str) -> Result<Callee, String> {
        self.current
            .get()
            .ok_or_else(|| format!("`{builtin}` works only while an export runs"))
    }

    /// Waits for `op` (an SDK future), running queued tasks once it has
    /// started. `what` names the operation in the error for code that may
    /// not wait.
    pub fn wait<F: Future>(&self, interp: &Interp, what: &str, op: F) -> Result<F::Output, String> {
        self.check_may_wait(what)?;
        Ok(block_on(async {
            let mut op = std::pin::pin!(op);
            // Start the operation before anything it may depend on runs.
            let first = std::future::poll_fn(|cx| Poll::Ready(op.as_mut().poll(cx))).await;
            if let Poll::Ready(done) = first {
                return done;
            }
            self.run_queued(interp);
            op.await
        }))
    }

    /// Fails, naming `what`, unless toy code may wait now.
    pub fn check_may_wait(&self, what: &str) -> Result<(), String> {
        match self.may_wait.get() {
            true => Ok(()),
            false => Err(format!(
                "{what} may wait, which only code running in an async export may do \
                 (not a sync export, nor the script's top level)"
            )),
        }
    }

    /// Waits for `op`, or, `only_try`, polls it once: `None` if it would
    /// have to wait (it is then cancelled).
    pub fn wait_or_try<F: Future>(
        &self,
        interp: &Interp,
        what: &str,
        only_try: bool,
        op: F,
    ) -> Result<Option<F::Output>, String> {
        if !only_try {
            return self.wait(interp, what, op).map(Some);
        }
        // Within `wait`, so that the cancelled operation has a reactor.
        self.wait(interp, what, async {
            let mut op = std::pin::pin!(op);
            match std::future::poll_fn(|cx| Poll::Ready(op.as_mut().poll(cx))).await {
                Poll::Ready(done) => Some(done),
                Poll::Pending => None,
            }
        })
    }

    /// `(spawn f)`: queues a task.
    pub fn spawn(&self, function: Value) -> Result<Value, String> {
        let spawned_by = match (self.may_wait.get(), self.current.get()) {
            (true, Some(callee)) => callee,
            _ => {
                return Err(
                    "`spawn` needs an async export: tasks wait, which sync exports \
                            and the top level may not"
                        .into(),
                );
            }
        };
        let task = Rc::new(ToyTask {
            function,
            spawned_by,
            state: RefCell::new(TaskState::Queued),
        });
        self.queue.borrow_mut().push_back(task.clone());
        Ok(Value::Host(task))
    }

    /// `(join task)`: the task's result, running it now if it is queued.
    pub fn join(&self, interp: &Interp, task: &Value) -> Result<Value, String> {
        let task = match task {
            Value::Host(object) => object.as_any().downcast_ref::<ToyTask>(),
            _ => None,
        }
        .ok_or_else(|| format!("expected a task, found {}", task.show()))?;
        if matches!(*task.state.borrow(), TaskState::Queued) {
            let queued = self
                .queue
                .borrow_mut()
                .iter()
                .position(|t| std::ptr::eq(&**t, task));
            if let Some(queued) = queued.and_then(|i| self.queue.borrow_mut().remove(i)) {
                self.run(interp, &queued);
            }
        }
        match &*task.state.borrow() {
            TaskState::Done(value) => Ok(value.clone()),
            _ => Err(format!(
                "{} cannot be joined here: it is waiting for the code that joins it",
                task.describe()
            )),
        }
    }

    /// Runs every queued task (and those they queue) to its end. A task
    /// that waits runs the queue too, so a task queued behind it can supply
    /// what it waits for.
    pub fn run_queued(&self, interp: &Interp) {
        loop {
            let next = self.queue.borrow_mut().pop_front();
            match next {
                Some(task) => self.run(interp, &task),
                None => break,
            }
        }
    }

    /// Whether spawned tasks wait to start.
    pub fn has_queued(&self) -> bool {
        !self.queue.borrow().is_empty()
    }

    /// Runs one task to its end; a toy error traps, like one in an export.
    fn run(&self, interp: &Interp, task: &Rc<ToyTask>) {
        *task.state.borrow_mut() = TaskState::Running;
        let label = format!("task of {}", task.spawned_by);
        let result = self.serve(task.spawned_by, true, || {
            interp.call_named(&label, &task.function, Vec::new())
        });
        let value = result.unwrap_or_else(|err| panic!("toy: a {label} failed: {err}"));
        if let Some(writer) = crate::channels::take_unwritten() {
            panic!("toy: a {label} {writer}");
        }
        *task.state.borrow_mut() = TaskState::Done(value);
    }
}

/// Defines `spawn` and `join`.
pub fn install(interp: &Interp, tasks: &Rc<Scheduler>) {
    let spawner = tasks.clone();
    interp.define_native("spawn", move |_, args| match &args[..] {
        [function @ Value::Func(_)] => spawner.spawn(function.clone()),
        _ => Err("usage: (spawn function-of-no-arguments)".into()),
    });
    let joiner = tasks.clone();
    interp.define_native("join", move |interp, args| match &args[..] {
        [task] => joiner.join(interp, task),
        _ => Err("usage: (join task)".into()),
    });
}
