//! Async exports, async imports, futures and streams as Rust futures.
//!
//! The component model's async ABI is callback based: an async export returns
//! a code that says "wait for an event on this waitable set", and the runtime
//! calls the export's callback with each event. The SDK turns that into
//! *tasks*: an async export is a [`std::future::Future`] (a [`Task`]) that the
//! SDK polls when the export starts and again whenever an event arrives for
//! something it waits on. Inside a task, calling an async import
//! ([`ImportFunction::call_async`], or [`call_import_async`](crate::call_import_async)
//! with `Val`s), reading or writing a future or a stream simply `await`s: the
//! interpreter's code stays straight-line, and a language with coroutines
//! (Lua) can resume a coroutine from its task's `poll`.
//!
//! # The model
//!
//! * Each async export call is one task with its own waitable set. A
//!   finished task's set, with nothing joined to it any more, serves a later
//!   task: one call at a time makes one `waitable-set.new` per instance,
//!   not one per call. Between callbacks the SDK keeps the task in the
//!   component-model *context* slot 0, or, when the world library keeps its
//!   stack pointer there, in a table the linker's task hook indexes
//!   ([`crate::task_context`]).
//! * Every operation that can block (a subtask, a future or stream read or
//!   write) joins its waitable to the waitable set of the task polling it, and
//!   completes when the event for that waitable arrives. Tasks are polled with
//!   a no-op waker: the SDK polls a task again after each event for it.
//! * When the task's future completes, its value stack holds the export's
//!   result: the SDK drops the borrows the export received, calls
//!   `task.return` with it, releases the task and calls
//!   [`Interpreter::export_finish`].
//! * Outside a task (at start-up, in a sync export), [`block_on`] runs a
//!   future to completion by waiting on a waitable set of its own. The
//!   component model lets only async tasks block, so this is for code that
//!   runs inside one.
//!
//! Buffers handed to the canonical ABI (the ABI area of an async import, the
//! elements of a future or stream read or write) belong to the SDK until the
//! operation completes or, when its future is dropped early, is cancelled.
//!
//! Async support is opt-in: `export!(MyVm, async)` defines the async entry
//! points and makes the interpreter dylib import the component-model
//! built-ins it needs (`waitable-set.new/wait/drop`, `waitable.join`,
//! `subtask.cancel/drop`, `context.get/set`), which a host must enable
//! (wasmtime: `Config::wasm_component_model_async`), and exports
//! `wit_dylib_task_hook`. Plain `export!(MyVm)` imports none of them.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::call::Call;
use crate::interpreter::Interpreter;
use crate::metadata::{Callee, ExportFunction, ImportFunction, Resource};
use crate::runtime::{self, CallFrame};
use crate::spare::SpareBox;
use crate::task_context;

/// An async export in progress: completes with the export's value stack, its
/// result (if any) on top.
pub type Task<C> = Pin<Box<dyn Future<Output = C>>>;

/// The component-model built-ins the SDK calls, imported from `$root` with
/// the names `wit-component` gives them.
#[cfg(target_arch = "wasm32")]
pub(crate) mod builtins {
    #[link(wasm_import_module = "$root")]
    unsafe extern "C" {
        #[link_name = "[waitable-set-new]"]
        pub safe fn waitable_set_new() -> u32;
        #[link_name = "[waitable-set-wait]"]
        pub fn waitable_set_wait(set: u32, event: *mut u32) -> u32;
        #[link_name = "[waitable-set-drop]"]
        pub safe fn waitable_set_drop(set: u32);
        #[link_name = "[waitable-join]"]
        pub safe fn waitable_join(waitable: u32, set: u32);
        #[link_name = "[subtask-cancel]"]
        pub safe fn subtask_cancel(subtask: u32) -> u32;
        #[link_name = "[subtask-drop]"]
        pub safe fn subtask_drop(subtask: u32);
        #[link_name = "[context-get-0]"]
        pub safe fn context_get() -> u32;
        #[link_name = "[context-set-0]"]
        pub safe fn context_set(value: u32);
    }
}

/// Off wasm (the SDK's own unit tests) there is no component model.
#[cfg(not(target_arch = "wasm32"))]
#[allow(clippy::missing_safety_doc)]
pub(crate) mod builtins {
    fn absent() -> ! {
        panic!("wit-dylib: the component-model async built-ins exist only in wasm")
    }
    pub fn waitable_set_new() -> u32 {
        absent()
    }
    pub unsafe fn waitable_set_wait(_set: u32, _event: *mut u32) -> u32 {
        absent()
    }
    pub fn waitable_set_drop(_set: u32) {
        absent()
    }
    pub fn waitable_join(_waitable: u32, _set: u32) {
        absent()
    }
    pub fn subtask_cancel(_subtask: u32) -> u32 {
        absent()
    }
    pub fn subtask_drop(_subtask: u32) {
        absent()
    }
    pub fn context_get() -> u32 {
        absent()
    }
    pub fn context_set(_value: u32) {
        absent()
    }
}

// Codes of the canonical ABI.
const EVENT_NONE: u32 = 0;
const EVENT_SUBTASK: u32 = 1;
const EVENT_CANCELLED: u32 = 6;
const CALLBACK_EXIT: u32 = 0;
const CALLBACK_YIELD: u32 = 1;
const CALLBACK_WAIT: u32 = 2;
const SUBTASK_RETURNED: u32 = 2;

/// The events of one task (or one [`block_on`]) and the waitable set that
/// delivers them.
#[derive(Default)]
struct Reactor {
    /// The waitable set, created when the first waitable joins; 0 = none yet.
    set: Cell<u32>,
    /// Waitables currently joined to `set`.
    joined: Cell<usize>,
    /// Events delivered but not yet taken: (waitable, code, payload).
    events: RefCell<Vec<(u32, u32, u32)>>,
    /// Futures started with [`spawn`], still running.
    spawned: RefCell<Vec<Pin<Box<dyn Future<Output = ()>>>>>,
}

impl Reactor {
    fn set(&self) -> u32 {
        if self.set.get() == 0 {
            self.set.set(builtins::waitable_set_new());
        }
        self.set.get()
    }

    fn deliver(&self, code: u32, waitable: u32, payload: u32) {
        match code {
            // Nothing happened (after a yield): just poll again.
            EVENT_NONE => {}
            // The caller asked to cancel the export. The SDK lets the task
            // run to completion and return its result, which the component
            // model allows.
            EVENT_CANCELLED => {}
            _ => self.events.borrow_mut().push((waitable, code, payload)),
        }
    }

    fn take(&self, waitable: u32) -> Option<(u32, u32)> {
        let mut events = self.events.borrow_mut();
        let index = events.iter().position(|&(w, _, _)| w == waitable)?;
        let (_, code, payload) = events.remove(index);
        Some((code, payload))
    }

    /// What the callback returns while the task is pending.
    fn callback_code(&self) -> u32 {
        match self.joined.get() {
            // Pending on nothing the component model can signal: run again
            // after other work.
            0 => CALLBACK_YIELD,
            _ => CALLBACK_WAIT | (self.set() << 4),
        }
    }
}

impl Drop for Reactor {
    fn drop(&mut self) {
        if self.set.get() != 0 {
            builtins::waitable_set_drop(self.set.get());
        }
    }
}

thread_local! {
    /// The reactor of the task being polled.
    static CURRENT: RefCell<Option<Rc<Reactor>>> = const { RefCell::new(None) };
}

fn current_reactor() -> Rc<Reactor> {
    CURRENT.with(|c| c.borrow().clone()).expect(
        "wit-dylib: an async operation was awaited outside an async export task or `block_on`",
    )
}

/// Polls the main future once, through `poll_main`, with `reactor` as the
/// current one, then every future spawned on the reactor (including those
/// spawned meanwhile).
fn poll_with<T>(
    reactor: &Rc<Reactor>,
    poll_main: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    let previous = CURRENT.with(|c| c.replace(Some(reactor.clone())));
    let mut cx = Context::from_waker(Waker::noop());
    let result = poll_main(&mut cx);
    if !reactor.spawned.borrow().is_empty() {
        poll_spawned(reactor, &mut cx);
    }
    CURRENT.with(|c| *c.borrow_mut() = previous);
    result
}

fn poll_spawned(reactor: &Reactor, cx: &mut Context<'_>) {
    let mut still_running = Vec::new();
    loop {
        let batch = std::mem::take(&mut *reactor.spawned.borrow_mut());
        if batch.is_empty() {
            break;
        }
        for mut future in batch {
            if future.as_mut().poll(cx).is_pending() {
                still_running.push(future);
            }
        }
    }
    *reactor.spawned.borrow_mut() = still_running;
}

/// Runs `future` in the background of the current task (or [`block_on`]):
/// it is polled with the task and keeps the task alive after its result has
/// been returned. Use it for work that must go on after an export returns,
/// such as writing a stream the export returned.
pub fn spawn(future: impl Future<Output = ()> + 'static) {
    current_reactor()
        .spawned
        .borrow_mut()
        .push(Box::pin(future));
}

/// Waits for the next event on `waitable`; returns its code and payload.
pub(crate) struct NextEvent {
    waitable: u32,
    /// The reactor whose set `waitable` is joined to.
    joined: Option<Rc<Reactor>>,
}

pub(crate) fn next_event(waitable: u32) -> NextEvent {
    NextEvent {
        waitable,
        joined: None,
    }
}

impl NextEvent {
    fn leave(&mut self) {
        if let Some(reactor) = self.joined.take() {
            builtins::waitable_join(self.waitable, 0);
            reactor.joined.set(reactor.joined.get() - 1);
            // An event nobody waits for any more must not be mistaken for
            // one of a later waitable with the same handle number.
            let waitable = self.waitable;
            reactor
                .events
                .borrow_mut()
                .retain(|&(w, _, _)| w != waitable);
        }
    }
}

impl Future for NextEvent {
    type Output = (u32, u32);

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<(u32, u32)> {
        let reactor = current_reactor();
        if let Some(event) = reactor.take(self.waitable) {
            self.leave();
            return Poll::Ready(event);
        }
        if !self
            .joined
            .as_ref()
            .is_some_and(|joined| Rc::ptr_eq(joined, &reactor))
        {
            self.leave();
            builtins::waitable_join(self.waitable, reactor.set());
            reactor.joined.set(reactor.joined.get() + 1);
            self.joined = Some(reactor);
        }
        Poll::Pending
    }
}

impl Drop for NextEvent {
    fn drop(&mut self) {
        self.leave();
    }
}

/// Runs `future` to completion, blocking the current task while it waits
/// (`waitable-set.wait`). Only async tasks may block: call it from code that
/// runs inside an async export, not from a sync export.
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    let reactor = Rc::new(Reactor::default());
    let mut future = std::pin::pin!(future);
    let mut value = None;
    loop {
        if value.is_none() {
            if let Poll::Ready(done) = poll_with(&reactor, |cx| future.as_mut().poll(cx)) {
                value = Some(done);
            }
        } else {
            let _ = poll_with(&reactor, |_| Poll::<()>::Pending);
        }
        if reactor.spawned.borrow().is_empty()
            && let Some(value) = value.take()
        {
            return value;
        }
        assert!(
            reactor.joined.get() != 0,
            "wit-dylib: block_on: the future is pending but waits for nothing"
        );
        let mut event = [0u32; 2];
        // SAFETY: `waitable-set.wait` writes the waitable and the payload,
        // two u32, to the buffer it is given.
        let code = unsafe { builtins::waitable_set_wait(reactor.set(), event.as_mut_ptr()) };
        reactor.deliver(code, event[0], event[1]);
    }
}

/// An async export call in progress: the interpreter's future and its
/// events.
struct ExportTask<I: Interpreter> {
    main: MainFuture<I>,
    reactor: Rc<Reactor>,
}

/// The interpreter's future of an async export call, and what returning
/// its result takes.
struct MainFuture<I: Interpreter> {
    func: ExportFunction,
    /// The interpreter's future, until it completes.
    future: Option<Task<I::CallCx>>,
    /// The glue's `task.return` for `func`.
    task_return: unsafe extern "C" fn(*mut c_void),
    /// Borrows the export received, dropped before it returns.
    borrows: Vec<(Resource, u32)>,
    /// The value stack once the result has been returned, while spawned
    /// futures still run.
    returned: Option<I::CallCx>,
}

impl<I: Interpreter> MainFuture<I> {
    /// Polls the interpreter's future; once it completes, returns the
    /// export's result with `task.return`. Ready once that is done.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(future) = self.future.as_mut() else {
            return Poll::Ready(());
        };
        let Poll::Ready(call) = future.as_mut().poll(cx) else {
            return Poll::Pending;
        };
        self.future = None;
        // Borrows must be dropped before the task returns.
        for (resource, handle) in self.borrows.drain(..) {
            resource.drop_borrow(handle);
        }
        let mut frame = CallFrame::new(call);
        frame.set_owner(Callee::Export(self.func));
        // SAFETY: `task_return` is the glue's `task.return` adapter for this
        // export; it pops the result through the `wit_dylib_*` functions with
        // the pointer we pass, which `frame_of` turns back into this frame of
        // the interpreter's `CallCx`; `frame` is not touched meanwhile.
        unsafe { (self.task_return)((&mut frame as *mut CallFrame<I::CallCx>).cast()) };
        self.returned = Some(frame.into_inner());
        Poll::Ready(())
    }
}

thread_local! {
    /// The allocation of an [`ExportTask`] of the exported interpreter,
    /// kept between calls.
    static SPARE_TASK: SpareBox = const { SpareBox::new() };
    /// A reactor no task uses, for the next one, with its waitable set if
    /// it has made one.
    static SPARE_REACTOR: Cell<Option<Rc<Reactor>>> = const { Cell::new(None) };
}

/// Makes the allocations an async export call takes (see [`crate::spare`]);
/// at start-up, for a world with async exports.
pub(crate) fn prepare_spares<I: Interpreter>() {
    SpareBox::prepare::<ExportTask<I>>(&SPARE_TASK);
    SPARE_REACTOR.with(|spare| spare.set(Some(Rc::default())));
}

/// Keeps the reactor of a finished task for the next one, unless something
/// still holds it. Its waitable set stays (nothing is joined to it any
/// more); vectors that grew are freed, so that the spare's size never
/// changes.
fn recycle_reactor(reactor: Rc<Reactor>) {
    if Rc::strong_count(&reactor) != 1 || reactor.joined.get() != 0 {
        return;
    }
    runtime::drop_if_allocated(reactor.events.take());
    runtime::drop_if_allocated(reactor.spawned.take());
    SPARE_REACTOR.with(|spare| spare.set(Some(reactor)));
}

/// Starts async export `which` (`wit_dylib_export_async_call`).
///
/// # Safety
/// `cx` must come from `export_start` and is consumed.
pub unsafe fn export_async_call<I: Interpreter>(
    interp: &'static I,
    cx: *mut c_void,
    which: usize,
) -> u32 {
    let func = runtime::wit().export_func(which);
    let task_return = func
        .task_return()
        .unwrap_or_else(|| panic!("wit-dylib: export `{}` is not async", func.qualified_name()));
    // SAFETY: the glue hands over the `cx` of `export_start`.
    let (call, borrows) = unsafe { runtime::take_export_parts::<I::CallCx>(cx) };
    let main = MainFuture::<I> {
        func,
        future: Some(interp.export_async(func, call)),
        task_return,
        borrows,
        returned: None,
    };
    let reactor = SPARE_REACTOR.with(Cell::take).unwrap_or_default();
    let task = SpareBox::put(&SPARE_TASK, ExportTask { main, reactor });
    drive(interp, task)
}

/// Delivers an event to the task of the current export call
/// (`wit_dylib_export_async_callback`).
///
/// # Safety
/// Only the glue's callback calls this, for a task `export_async_call` left
/// pending, which it parked.
pub unsafe fn export_async_callback<I: Interpreter>(
    interp: &'static I,
    code: u32,
    waitable: u32,
    payload: u32,
) -> u32 {
    let task = NonNull::new(task_context::unpark() as *mut ExportTask<I>)
        .expect("wit-dylib: an async callback without a pending task");
    // SAFETY: `drive` parked this task, which `export_async_call` put in
    // `SPARE_TASK`'s allocation; `unpark` gave it back once.
    unsafe { task.as_ref() }
        .reactor
        .deliver(code, waitable, payload);
    drive(interp, task)
}

/// Polls a task; returns the callback code for the component model.
///
/// `task` must hold a live task from [`SpareBox::put`] on `SPARE_TASK`,
/// which nothing else uses: it is parked again or consumed.
fn drive<I: Interpreter>(interp: &'static I, task: NonNull<ExportTask<I>>) -> u32 {
    // SAFETY: as required above; the reference ends before the task is
    // parked or taken.
    let running = unsafe { &mut *task.as_ptr() };
    let _ = poll_with(&running.reactor, |cx| running.main.poll(cx));
    let finished = running.main.returned.is_some() && running.reactor.spawned.borrow().is_empty();
    if !finished {
        let code = running.reactor.callback_code();
        task_context::park(task.as_ptr() as usize);
        return code;
    }
    // What the finished task holds moves out of it in place (a move of the
    // whole task would copy it, which wasmtime's fuel counts by the byte).
    let func = running.main.func;
    let returned = running.main.returned.take().expect("finished");
    let borrows = std::mem::take(&mut running.main.borrows);
    // SAFETY: as required above, and the task is consumed here: its
    // reactor moves out and nothing else in it needs a drop (its future
    // completed and was dropped; the rest was taken above or is `Copy`).
    let reactor = unsafe {
        let reactor = std::ptr::read(&raw const (*task.as_ptr()).reactor);
        SpareBox::give_back(&SPARE_TASK, task);
        reactor
    };
    // Everything the task held is released before the interpreter sees the
    // end of the call, for its accounting.
    runtime::drop_if_allocated(borrows);
    recycle_reactor(reactor);
    interp.export_finish(func, returned);
    CALLBACK_EXIT
}

/// A call of an async import in progress. Owns the frame the glue reads the
/// arguments from and lifts the result into, and the ABI area; dropping it
/// before the import returned cancels the subtask.
struct ImportCall<C: Call + 'static> {
    func: ImportFunction,
    frame: NonNull<CallFrame<C>>,
    area: *mut u8,
    layout: std::alloc::Layout,
    lift: unsafe extern "C" fn(*mut c_void, *mut c_void),
    /// The subtask, while the import has not returned.
    subtask: Option<u32>,
}

impl<C: Call + 'static> ImportCall<C> {
    fn start(func: ImportFunction, mut frame: CallFrame<C>) -> ImportCall<C> {
        runtime::check_call_type::<C>(func);
        let (start, lift, size, align) = func
            .async_parts()
            .unwrap_or_else(|| panic!("wit-dylib: import `{}` is sync", func.qualified_name()));
        frame.set_owner(Callee::Import(func));
        let layout = std::alloc::Layout::from_size_align(size, align)
            .expect("wit-dylib metadata: invalid async ABI area");
        let area = if size == 0 {
            // A zero-size area is never read or written: any aligned pointer.
            align as *mut u8
        } else {
            // SAFETY: `layout` has a non-zero size.
            let area = unsafe { std::alloc::alloc(layout) };
            if area.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            area
        };
        let frame = NonNull::from(Box::leak(Box::new(frame)));
        // SAFETY: `start` is the glue's async adapter for this import: it pops
        // the arguments through the `wit_dylib_*` functions with the frame
        // pointer (a frame of the interpreter's `CallCx`, checked above) and
        // writes to `area`, which has the size and alignment the metadata
        // asks for. Both stay alive, untouched, until the subtask resolves.
        let status = unsafe { start(frame.as_ptr().cast(), area.cast()) };
        let mut call = ImportCall {
            func,
            frame,
            area,
            layout,
            lift,
            subtask: None,
        };
        match status & 0xf {
            SUBTASK_RETURNED => call.lift_result(),
            0 | 1 => call.subtask = Some(status >> 4),
            state => panic!(
                "wit-dylib: import `{}` returned the unknown state {state}",
                func.qualified_name()
            ),
        }
        call
    }

    /// Lifts the result from the ABI area onto the frame.
    fn lift_result(&mut self) {
        // SAFETY: the import has returned, so the canonical ABI has written
        // its result to the area; the lift adapter pushes it onto the frame
        // (see `start`).
        unsafe { (self.lift)(self.frame.as_ptr().cast(), self.area.cast()) };
    }

    async fn finish(mut self) -> CallFrame<C> {
        while let Some(subtask) = self.subtask {
            let (code, status) = next_event(subtask).await;
            assert_eq!(
                code, EVENT_SUBTASK,
                "wit-dylib: unexpected event on a subtask"
            );
            if status == SUBTASK_RETURNED {
                self.subtask = None;
                self.lift_result();
                builtins::subtask_drop(subtask);
            }
        }
        self.take_frame()
    }

    fn take_frame(mut self) -> CallFrame<C> {
        self.free_area();
        // SAFETY: the frame came from `Box::leak` in `start` and the glue is
        // done with it (the subtask has returned); `self` is forgotten below
        // so that it is not freed twice.
        let frame = *unsafe { Box::from_raw(self.frame.as_ptr()) };
        std::mem::forget(self);
        frame
    }

    fn free_area(&mut self) {
        if self.layout.size() != 0 && !self.area.is_null() {
            // SAFETY: allocated in `start` with `self.layout`.
            unsafe { std::alloc::dealloc(self.area, self.layout) };
            self.area = std::ptr::null_mut();
        }
    }
}

impl<C: Call + 'static> Drop for ImportCall<C> {
    fn drop(&mut self) {
        if let Some(subtask) = self.subtask.take() {
            // Dropped before the import returned: cancel it (this waits for
            // the callee to acknowledge). If it returned after all, lift the
            // result so that what it owns is released with the frame.
            if builtins::subtask_cancel(subtask) == SUBTASK_RETURNED {
                self.lift_result();
            }
            builtins::subtask_drop(subtask);
        }
        self.free_area();
        // SAFETY: as in `take_frame`; the subtask is resolved.
        drop(unsafe { Box::from_raw(self.frame.as_ptr()) });
        let _ = self.func;
    }
}

impl ImportFunction {
    /// Calls this async import with the arguments on `frame` (the first on
    /// top); the returned future completes, once the import has returned,
    /// with the frame and the import's result, if any, on top.
    ///
    /// Await it inside an async export (or [`block_on`]). Dropping the future
    /// early cancels the call. Panics if the frame's stack is not the
    /// exported interpreter's [`Interpreter::CallCx`] or the import is sync.
    pub fn call_async<C: Call + 'static>(
        &self,
        frame: CallFrame<C>,
    ) -> impl Future<Output = CallFrame<C>> + 'static {
        let call = ImportCall::start(*self, frame);
        call.finish()
    }
}

/// Lets other tasks run: the task is suspended once (the callback asks the
/// runtime to yield) and resumes with the next event, which may be "none".
pub fn yield_now() -> impl Future<Output = ()> {
    let mut yielded = false;
    std::future::poll_fn(move |_| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            Poll::Pending
        }
    })
}

/// Runs `futures` concurrently (each is polled whenever the task is); the
/// results come back in order.
pub async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut pending = false;
        for (future, result) in futures.iter_mut().zip(results.iter_mut()) {
            if result.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *result = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(
                results
                    .iter_mut()
                    .map(|r| r.take().expect("every future is done"))
                    .collect(),
            )
        }
    })
    .await
}
