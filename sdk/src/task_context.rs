//! Where an async export's task waits between callbacks, and the stacks a
//! world library needs when it keeps its stack pointer in the task context
//! (docs/abi.md §8.7).
//!
//! Between two callbacks, the SDK must find the task an event is for. The
//! component model gives each task context slot 0 for that, and the SDK
//! uses it, unless the world library was generated with
//! `--stack-pointer task-context`: then slot 0 is the library's shadow stack
//! pointer, and the linker's task hook must put a stack there before the
//! library runs in a new task. The pipeline links a one-function library
//! that turns the linker's `__wasm_task_hook` into a call of the SDK's
//! `wit_dylib_task_hook` ([`task_hook`]), and only in that mode: so the SDK
//! knows the mode from whether the hook has ever run.
//!
//! With the hook:
//! * all tasks share one stack region: in the callback ABI a task runs until
//!   it returns to the event loop, and the world library frees its frames
//!   before that, so no frame outlives one run of a task;
//! * task `k` (1, 2, …) starts each run with slot 0 =
//!   `end - 16 k` (the region's end minus `16 k` bytes): the value tells the
//!   hook which task resumes, and the SDK keeps the task in its table under
//!   `k`. Sync tasks (sync exports, resource destructors, start-up) get
//!   `end` itself.

use std::alloc::Layout;
use std::cell::RefCell;

use crate::task::builtins;

/// The bytes of stack below every task's starting point: the world
/// library's frames only (the interpreter keeps its own stack in the
/// `__stack_pointer` global). As much as LLVM gives a whole program.
const GLUE_STACK_BYTES: usize = 1 << 20;

/// The most async export calls one instance may have in progress at once.
const MAX_TASKS: usize = 4096;

/// Distance between the starting stack pointers of two tasks: the canonical
/// ABI's stack alignment.
const STRIDE: usize = 16;

// The hook codes of `wit-component`'s linker.
const SYNC_START: u32 = 0;
const ASYNC_START: u32 = 2;
const ASYNC_RESUME: u32 = 3;
const ASYNC_FINISH: u32 = 5;
const INITIALIZE_START: u32 = 6;
const RESOURCE_DTOR_START: u32 = 8;

#[derive(Default)]
struct Tasks {
    /// Whether the task hook runs: slot 0 belongs to the world library.
    hooked: bool,
    /// One past the last byte of the stack region, 0 until it is needed.
    end: usize,
    /// The number of the async task running now.
    current: usize,
    /// The parked task of each number (index `k - 1`), 0 if none.
    parked: Vec<usize>,
    /// Numbers of finished tasks, to hand out again.
    free: Vec<usize>,
}

thread_local! {
    static TASKS: RefCell<Tasks> = RefCell::default();
}

impl Tasks {
    /// Allocates the stack region and the tables, once.
    fn prepare(&mut self) {
        if self.end != 0 {
            return;
        }
        let size = GLUE_STACK_BYTES + MAX_TASKS * STRIDE;
        let layout = Layout::from_size_align(size, STRIDE).expect("a valid layout");
        // SAFETY: the layout's size is not zero. The region is never freed:
        // the instance runs tasks until it ends.
        let start = unsafe { std::alloc::alloc(layout) };
        if start.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        self.end = start as usize + size;
        // The tables never grow afterwards: an interpreter that checks its
        // heap between calls sees no allocation from here on.
        self.parked.reserve_exact(MAX_TASKS);
        self.free.reserve_exact(MAX_TASKS);
    }

    /// The starting stack pointer of task `k` (0 for sync tasks).
    fn stack_for(&self, k: usize) -> u32 {
        (self.end - k * STRIDE) as u32
    }

    /// The task number whose starting stack pointer is `sp`.
    fn number_of(&self, sp: u32) -> usize {
        let back = self.end.wrapping_sub(sp as usize);
        let k = back / STRIDE;
        assert!(
            back.is_multiple_of(STRIDE) && (1..=self.parked.len()).contains(&k),
            "wit-dylib: an async task resumed with {sp:#x} in context slot 0, \
             not a stack pointer the task hook gave"
        );
        k
    }

    fn claim(&mut self) -> usize {
        match self.free.pop() {
            Some(k) => k,
            None => {
                assert!(
                    self.parked.len() < MAX_TASKS,
                    "wit-dylib: more than {MAX_TASKS} async export calls in progress in one instance"
                );
                self.parked.push(0);
                self.parked.len()
            }
        }
    }
}

/// `wit_dylib_task_hook`: the linker calls it, through the task hook
/// library, at the start and end of every task, with the code of the event.
pub fn task_hook(code: u32) {
    TASKS.with_borrow_mut(|tasks| {
        tasks.hooked = true;
        tasks.prepare();
        match code {
            // A destructor may run inside a task that has its stack.
            SYNC_START | INITIALIZE_START | RESOURCE_DTOR_START if builtins::context_get() == 0 => {
                builtins::context_set(tasks.stack_for(0));
            }
            ASYNC_START => {
                let k = tasks.claim();
                tasks.current = k;
                builtins::context_set(tasks.stack_for(k));
            }
            ASYNC_RESUME => tasks.current = tasks.number_of(builtins::context_get()),
            ASYNC_FINISH => {
                let k = tasks.current;
                debug_assert_eq!(tasks.parked[k - 1], 0, "a finished task stays parked");
                tasks.free.push(k);
            }
            _ => {}
        }
    })
}

/// Keeps `task` for the current async task until its next callback.
pub(crate) fn park(task: usize) {
    TASKS.with_borrow_mut(|tasks| match tasks.hooked {
        true => tasks.parked[tasks.current - 1] = task,
        false => builtins::context_set(task as u32),
    })
}

/// Takes back what [`park`] kept for the current task; 0 if nothing.
pub(crate) fn unpark() -> usize {
    TASKS.with_borrow_mut(|tasks| match tasks.hooked {
        true => std::mem::take(&mut tasks.parked[tasks.current - 1]),
        false => {
            let task = builtins::context_get() as usize;
            builtins::context_set(0);
            task
        }
    })
}
