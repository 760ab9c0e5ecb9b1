//! `ErrGroup`: a group of tasks working on parts of one job, where the
//! first error fails the job (`golang.org/x/sync/errgroup`).
//!
//! # What it does
//!
//! [`ErrGroup::go`] spawns a task returning `Result<(), E>`;
//! [`ErrGroup::wait`] waits for every task and returns the first error. A
//! group made by [`ErrGroup::with_context`] also derives a [`Context`] that
//! is cancelled by the first error (its cause is that error) and, at the
//! latest, when `wait` returns, so the other tasks can stop early by
//! watching it. [`set_limit`](ErrGroup::set_limit) caps how many tasks run
//! at once.
//!
//! # State
//!
//! - `tasks`: a [`WaitGroup`] counting the tasks started or queued and not
//!   yet finished; `wait` is its `wait`, and `set_limit` reads its count
//!   (Go panics when the limit changes while tasks are active).
//! - `outcome`: under a lock, the first error (Go's `errOnce`: once an
//!   error was seen, later ones are dropped) and the first panic payload.
//! - `limit` and `slots`: with a limit, the number of running tasks and the
//!   FIFO queue of tasks waiting for a slot, under one lock.
//!
//! # Protocol
//!
//! 1. `go`: count the task (`tasks.add(1)`); without a limit,
//!    spawn it. With one, under the `slots` lock: if fewer than `limit` run,
//!    take a slot and spawn, else queue the future.
//! 2. Each task runs its future, catching a panic. An `Err` or a panic is
//!    recorded in `outcome` and cancels the derived context.
//! 3. When the task ends (however: completed, panicked, or dropped because
//!    the runtime shut down) a guard hands its slot to the first queued
//!    future, spawning it, or frees the slot; then it un-counts itself.
//! 4. `wait` waits for the count to reach zero, cancels the derived
//!    context, re-raises a recorded panic, and hands over the first error.
//!
//! # Differences from Go
//!
//! Documented on [`ErrGroup`] itself, where users read them: `go` queues
//! instead of blocking (it is not `async`), panics are caught and resumed
//! by `wait`, the first error is handed over once, and dropping the group
//! cancels its context.
//!
//! # Rejected alternatives
//!
//! - An `async fn go` that waits for a slot: every caller would have to
//!   `.await` even without a limit, and a task calling `go` from a loop
//!   would hold up its worker's other work on a lock-step handshake.
//! - A semaphore permit acquired inside each spawned task: the tasks beyond
//!   the limit would exist (and count in `num_goroutines`) while waiting;
//!   queuing the future costs one box and no task.

use std::any::Any;
use std::collections::VecDeque;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context as TaskContext, Poll};

use pin_project_lite::pin_project;

use super::WaitGroup;
use crate::context::{CancelCauseFunc, Context};

/// `limit` when there is none (Go's negative limit).
const NO_LIMIT: usize = usize::MAX;

/// A queued task's future, boxed.
type Queued<E> = Pin<Box<dyn Future<Output = Result<(), E>> + Send>>;

/// A panic payload.
type Payload = Box<dyn Any + Send>;

/// A group of tasks whose first error (or panic) fails the whole job:
/// Go's `errgroup.Group`.
///
/// Share it through an `Arc` to let tasks add more tasks.
///
/// # Differences from Go, and why
///
/// - **`go` never blocks.** Go's `Group.Go` blocks its caller while
///   `limit` goroutines run. Here [`go`](ErrGroup::go) is a plain (not
///   `async`) function, as a spawn should be, so it cannot wait; instead
///   the future is queued and started, in `go` order, as running tasks
///   finish. The limit on *running* tasks is the same; the caller keeps
///   going, and the queued futures take memory. Use
///   [`try_go`](ErrGroup::try_go) for back-pressure instead.
/// - **Panics are propagated.** Go's errgroup does not recover panics, so a
///   panicking goroutine ends the program. gorun catches the panic (a
///   task's panic never takes down the runtime), treats it like an error
///   (the derived context is cancelled), and [`wait`](ErrGroup::wait)
///   resumes it once every task has finished, so the panic reaches the code
///   that waited on the group, as proposed for Go in golang/go#53757.
/// - **The first error is handed over once.** `wait` returns
///   `Result<(), E>` without requiring `E: Clone`, so the first `wait` after
///   the error takes it; later waits return `Ok(())` (Go returns the same
///   error again). Errors after the first are dropped, as in Go.
/// - **Dropping the group cancels its context** once its tasks are done
///   too: the group's cancel function lives as long as the group and its
///   tasks, and dropping a cancel function cancels.
/// - [`with_context`](ErrGroup::with_context) needs `E: Clone` and
///   convertible into `Box<dyn Error + Send + Sync>`, so the error can
///   be both returned and the context's cause.
///
/// ```
/// use gorun::sync::ErrGroup;
///
/// gorun::run(async {
///     let group = ErrGroup::<String>::new();
///     for url in ["a.example", "b.example", "c.example"] {
///         group.go(async move {
///             if url.starts_with('b') {
///                 return Err(format!("fetch {url}: not found"));
///             }
///             Ok(())
///         });
///     }
///     assert_eq!(group.wait().await, Err("fetch b.example: not found".to_string()));
/// });
/// ```
pub struct ErrGroup<E> {
    /// The state shared with the group's tasks.
    shared: Arc<Shared<E>>,
}

/// What an [`ErrGroup`] shares with its tasks.
struct Shared<E> {
    /// Counts tasks started or queued and not yet finished.
    tasks: WaitGroup,
    /// The first error and the first panic.
    outcome: Mutex<Outcome<E>>,
    /// The derived context's cancel function, for `with_context` groups.
    canceller: Option<Canceller<E>>,
    /// The most tasks that may run at once; `NO_LIMIT` for none.
    limit: AtomicUsize,
    /// Running tasks and the queue, when there is a limit.
    slots: Mutex<Slots<E>>,
}

/// How the group ended, so far.
struct Outcome<E> {
    /// Whether an error was seen (stays `true` after `wait` takes it).
    failed: bool,
    /// The first error, until `wait` takes it.
    error: Option<E>,
    /// The first panic, until `wait` resumes it.
    panic: Option<Payload>,
}

/// Cancels the derived context of a `with_context` group.
struct Canceller<E> {
    /// The derived context's cancel function.
    cancel: CancelCauseFunc,
    /// Turns the first error into the context's cause.
    to_cause: fn(&E) -> Arc<dyn Error + Send + Sync>,
}

/// The running tasks and the queue of a limited group.
struct Slots<E> {
    /// Tasks running (started and not finished).
    running: usize,
    /// Futures waiting for a slot, in `go` order.
    queue: VecDeque<Queued<E>>,
}

/// The cause of a `with_context` group's context for error `e`: `e` itself.
fn cause_of<E>(e: &E) -> Arc<dyn Error + Send + Sync>
where
    E: Clone + Into<Box<dyn Error + Send + Sync>>,
{
    Arc::from(e.clone().into())
}

/// Locks `mutex`, taking a poisoned one over (no code panics while holding
/// these locks).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<E> ErrGroup<E> {
    /// A group without a limit or a context (Go's zero `errgroup.Group`).
    fn with_canceller(canceller: Option<Canceller<E>>) -> ErrGroup<E> {
        ErrGroup {
            shared: Arc::new(Shared {
                tasks: WaitGroup::new(),
                outcome: Mutex::new(Outcome {
                    failed: false,
                    error: None,
                    panic: None,
                }),
                canceller,
                limit: AtomicUsize::new(NO_LIMIT),
                slots: Mutex::new(Slots {
                    running: 0,
                    queue: VecDeque::new(),
                }),
            }),
        }
    }

    /// Creates a group with no limit and no context (Go's zero
    /// `errgroup.Group`): an error does not cancel anything, it is just
    /// returned by [`wait`](ErrGroup::wait).
    ///
    /// ```
    /// gorun::run(async {
    ///     let group = gorun::sync::ErrGroup::<std::io::Error>::new();
    ///     group.go(async { Ok(()) });
    ///     assert!(group.wait().await.is_ok());
    /// });
    /// ```
    pub fn new() -> ErrGroup<E> {
        ErrGroup::with_canceller(None)
    }

    /// Creates a group and a context derived from `ctx` (Go's
    /// `errgroup.WithContext`). The context is cancelled by the first task
    /// that returns an error (or panics) and, at the latest, when
    /// [`wait`](ErrGroup::wait) returns.
    ///
    /// The context's [`cause`](Context::cause) is then the first error:
    /// `E` must be `Clone` (one copy is returned by `wait`, the other
    /// becomes the cause) and convertible into a boxed error. For an `E`
    /// that implements [`Error`], the cause downcasts to `E`; a `String`
    /// or `&str` error becomes a cause that displays it. For an error type
    /// that is not `Clone`, such as `std::io::Error`, use `Arc<E>`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use gorun::sync::ErrGroup;
    /// use gorun::Context;
    ///
    /// gorun::run(async {
    ///     let (group, ctx) = ErrGroup::<Arc<std::io::Error>>::with_context(&Context::background());
    ///     let watcher = ctx.clone();
    ///     group.go(async move {
    ///         watcher.done().await; // stops when a sibling fails
    ///         Ok(())
    ///     });
    ///     group.go(async { Err(Arc::new(std::io::Error::other("boom"))) });
    ///     assert_eq!(group.wait().await.unwrap_err().to_string(), "boom");
    ///     assert!(ctx.cause().unwrap().downcast_ref::<Arc<std::io::Error>>().is_some());
    /// });
    /// ```
    pub fn with_context(ctx: &Context) -> (ErrGroup<E>, Context)
    where
        E: Clone + Into<Box<dyn Error + Send + Sync>>,
    {
        let (derived, cancel) = ctx.with_cancel_cause();
        let canceller = Canceller {
            cancel,
            to_cause: cause_of::<E>,
        };
        (ErrGroup::with_canceller(Some(canceller)), derived)
    }

    /// Limits the number of tasks of this group running at once to `limit`
    /// (Go's `SetLimit`); `usize::MAX` removes the limit (Go's negative
    /// limit). Tasks started by [`go`](ErrGroup::go) beyond the limit are
    /// queued and started in order as running ones finish;
    /// [`try_go`](ErrGroup::try_go) refuses them. With a limit of zero,
    /// `try_go` refuses everything and `go` panics.
    ///
    /// # Panics
    ///
    /// If tasks of the group are active (running or queued), with Go's
    /// message: the limit must be set between rounds.
    ///
    /// ```
    /// gorun::run(async {
    ///     let group = gorun::sync::ErrGroup::<String>::new();
    ///     group.set_limit(2);
    ///     for _ in 0..10 {
    ///         group.go(async { Ok(()) }); // at most 2 run at once
    ///     }
    ///     group.wait().await.unwrap();
    /// });
    /// ```
    pub fn set_limit(&self, limit: usize) {
        let active = self.shared.tasks.count();
        if active != 0 {
            panic!(
                "errgroup: modify limit while {active} goroutines in the group are still active"
            );
        }
        self.shared.limit.store(limit, Ordering::Release);
    }

    /// Spawns `future` as a task of the group (Go's `Group.Go`), or queues
    /// it if the group's limit is reached; never blocks. Its error, if it
    /// is the first, is what [`wait`](ErrGroup::wait) returns and cancels
    /// the group's context.
    ///
    /// # Panics
    ///
    /// If the limit is zero: the task could never start (Go's `Go` would
    /// block forever).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// gorun::run(async {
    ///     let group = gorun::sync::ErrGroup::<String>::new();
    ///     let sum = Arc::new(AtomicUsize::new(0));
    ///     for i in 1..=4 {
    ///         let sum = sum.clone();
    ///         group.go(async move {
    ///             sum.fetch_add(i, Ordering::Relaxed);
    ///             Ok(())
    ///         });
    ///     }
    ///     group.wait().await.unwrap();
    ///     assert_eq!(sum.load(Ordering::Relaxed), 10);
    /// });
    /// ```
    #[track_caller]
    pub fn go<F>(&self, future: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: Send + 'static,
    {
        let limit = self.shared.limit.load(Ordering::Acquire);
        assert!(
            limit != 0,
            "errgroup: go with a limit of 0 could never start its task"
        );
        self.shared.count_one();
        if limit == NO_LIMIT {
            crate::spawn(supervise(self.shared.clone(), future));
            return;
        }
        let mut slots = lock(&self.shared.slots);
        if slots.running < limit {
            slots.running += 1;
            drop(slots);
            crate::spawn(supervise(self.shared.clone(), future));
        } else {
            slots.queue.push_back(Box::pin(future));
        }
    }

    /// Spawns `future` as a task of the group only if fewer than the limit
    /// are running (Go's `TryGo`), and returns whether it did. A refused
    /// future is dropped without ever being polled.
    ///
    /// ```
    /// gorun::run(async {
    ///     let group = gorun::sync::ErrGroup::<String>::new();
    ///     group.set_limit(1);
    ///     let (tx, rx) = gorun::chan::<()>(0);
    ///     assert!(group.try_go(async move {
    ///         let _ = rx.recv().await; // hold the only slot
    ///         Ok(())
    ///     }));
    ///     assert!(!group.try_go(async { unreachable!("refused") }));
    ///     drop(tx);
    ///     group.wait().await.unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn try_go<F>(&self, future: F) -> bool
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: Send + 'static,
    {
        let limit = self.shared.limit.load(Ordering::Acquire);
        if limit != NO_LIMIT {
            let mut slots = lock(&self.shared.slots);
            if slots.running >= limit {
                return false;
            }
            slots.running += 1;
        }
        self.shared.count_one();
        crate::spawn(supervise(self.shared.clone(), future));
        true
    }

    /// Waits for every task of the group (queued ones included) to finish,
    /// cancels the group's context, and returns the first error (Go's
    /// `Group.Wait`).
    ///
    /// The first error is handed over once: a later `wait` returns
    /// `Ok(())`, and errors after the first are dropped, as Go's group
    /// keeps only the first.
    ///
    /// # Panics
    ///
    /// If a task panicked, `wait` resumes the first panic (with its
    /// original payload) once every task has finished.
    ///
    /// ```
    /// gorun::run(async {
    ///     let group = gorun::sync::ErrGroup::<&str>::new();
    ///     group.go(async { Err("first") });
    ///     assert_eq!(group.wait().await, Err("first"));
    /// });
    /// ```
    pub async fn wait(&self) -> Result<(), E> {
        self.shared.tasks.wait().await;
        if let Some(canceller) = &self.shared.canceller {
            canceller.cancel.cancel(None);
        }
        let mut outcome = lock(&self.shared.outcome);
        if let Some(payload) = outcome.panic.take() {
            drop(outcome);
            panic::resume_unwind(payload);
        }
        outcome.error.take().map_or(Ok(()), Err)
    }
}

impl<E> Default for ErrGroup<E> {
    fn default() -> ErrGroup<E> {
        ErrGroup::new()
    }
}

impl<E> fmt::Debug for ErrGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let limit = self.shared.limit.load(Ordering::Relaxed);
        f.debug_struct("ErrGroup")
            .field("active", &self.shared.tasks.count())
            .field("limit", &(limit != NO_LIMIT).then_some(limit))
            .field("failed", &lock(&self.shared.outcome).failed)
            .finish()
    }
}

impl<E> Shared<E> {
    /// Step 1: counts a task started or queued.
    fn count_one(&self) {
        self.tasks.add(1);
    }

    /// Step 2: records `error` if it is the first, and cancels the context.
    fn record_error(&self, error: E) {
        let mut outcome = lock(&self.outcome);
        if outcome.failed {
            return;
        }
        outcome.failed = true;
        let cause = self.canceller.as_ref().map(|c| (c.to_cause)(&error));
        outcome.error = Some(error);
        drop(outcome);
        if let (Some(canceller), Some(cause)) = (&self.canceller, cause) {
            canceller.cancel.cancel(Some(cause));
        }
    }

    /// Step 2: records a panic if it is the first, and cancels the context.
    fn record_panic(&self, payload: Payload) {
        let mut outcome = lock(&self.outcome);
        if outcome.panic.is_none() {
            outcome.panic = Some(payload);
        }
        drop(outcome);
        if let Some(canceller) = &self.canceller {
            canceller.cancel.cancel(None);
        }
    }
}

/// Step 3: when a task ends, hands its slot on and un-counts it.
struct Finish<E: Send + 'static>(Arc<Shared<E>>);

impl<E: Send + 'static> Drop for Finish<E> {
    fn drop(&mut self) {
        let shared = &self.0;
        if shared.limit.load(Ordering::Acquire) != NO_LIMIT {
            let mut slots = lock(&shared.slots);
            match slots.queue.pop_front() {
                // The slot passes to the next queued future.
                Some(next) => {
                    drop(slots);
                    crate::spawn(supervise(shared.clone(), next));
                }
                None => slots.running -= 1,
            }
        }
        shared.tasks.done();
    }
}

/// The body of every task of a group: steps 2 and 3.
async fn supervise<E, F>(shared: Arc<Shared<E>>, future: F)
where
    E: Send + 'static,
    F: Future<Output = Result<(), E>>,
{
    let finish = Finish(shared);
    match (CatchUnwind { future }).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => finish.0.record_error(error),
        Err(payload) => finish.0.record_panic(payload),
    }
}

pin_project! {
    /// Catches a panic of the inner future's `poll`.
    struct CatchUnwind<F> {
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Payload>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let future = self.project().future;
        // AssertUnwindSafe: after a panic the future is never polled again
        // (the task ends), and the payload goes to `wait`, which resumes it.
        match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}
