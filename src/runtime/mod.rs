//! The runtime: a work-stealing executor of stackless tasks.
//!
//! # Design
//!
//! A task is an [`async_task`] allocation: the future's state machine, a
//! small header, and a `TaskMeta` (see `src/task/`: the runtime, id, spawn
//! location, and the abort flag packed with the task's registry slot). No
//! stack per task, so a parked task costs what its future holds.
//!
//! Each of the `N` workers (Go's `P`s, `GOMAXPROCS` of them) is an OS
//! thread with a bounded ring of runnable tasks and a LIFO slot
//! (`queue.rs`). One global injector (`injector.rs`) takes tasks scheduled
//! from outside and the overflow of full rings. `worker.rs` holds the loop
//! that chooses the next task; `idle.rs` the protocol that parks workers
//! with nothing to do and wakes exactly one when work appears; `tasks.rs`
//! the count and registry of live tasks; `coop.rs` the per-poll budget that
//! makes busy tasks yield; `blocking.rs` the `spawn_blocking` pool.
//! `scheduler.rs` routes a runnable task to a queue. A worker with nothing
//! to do drives the reactor (`src/reactor/`) while it sleeps (`park.rs`).
//!
//! Seeing inside: `metrics.rs` (per-worker counters and the poll each
//! worker is in), `dump.rs` (the task dump), `deadlock.rs` (`block_on`'s
//! deadlock detector), `monitor.rs` (the blocking monitor and spare
//! workers) and `trace.rs` (the optional `tracing` events).
//!
//! Alternatives rejected:
//! - One global queue for everything (smol's single-executor default):
//!   every spawn and every wake contends on one lock or one cache line.
//! - Stackful coroutines (Go's goroutines, `may`): a stack per task costs
//!   kilobytes and needs unsafe context switching; stackless tasks parked
//!   on a channel cost about a hundred bytes.
//! - A dedicated I/O or timer thread: the reactor (`src/reactor/`) is driven
//!   by whichever worker is about to park, as Go's netpoller is.

mod blocking;
pub(crate) mod builder;
mod context;
pub(crate) mod coop;
mod deadlock;
pub(crate) mod dump;
mod idle;
mod injector;
pub(crate) mod metrics;
pub(crate) mod monitor;
pub(crate) mod padded;
mod park;
mod queue;
pub(crate) mod scheduler;
mod tasks;
pub(crate) mod trace;
pub(crate) mod worker;

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread;

pub use builder::{Builder, MAXPROCS_ENV};
pub use dump::{Dump, RootRecord, TaskRecord};
pub use metrics::{Metrics, WorkerMetrics};
pub use monitor::BlockingReport;
pub(crate) use tasks::{Slot, NO_SLOT};

use crate::task::{self, JoinHandle};
use scheduler::Shared;
use std::sync::atomic::Ordering::SeqCst;
use worker::Worker;

/// Settings fixed when a runtime is built.
pub(crate) struct Config {
    /// Number of worker threads.
    pub(crate) workers: usize,
    /// Cooperative budget per poll.
    pub(crate) budget: u32,
    /// Most threads the blocking pool may run at once.
    pub(crate) max_blocking_threads: usize,
    /// Prefix of the runtime's thread names.
    pub(crate) thread_name: String,
    /// Poll length past which the monitor reports a task; `None`: no
    /// monitor.
    pub(crate) blocking_threshold: Option<std::time::Duration>,
    /// Where blocking reports go (else standard error).
    pub(crate) on_blocking: Option<monitor::BlockingHook>,
    /// Whether `block_on` reports deadlocks.
    pub(crate) detect_deadlocks: bool,
}

#[cfg(test)]
impl Config {
    /// A configuration for models and unit tests that build a `Shared` by
    /// hand.
    pub(crate) fn for_tests(workers: usize) -> Config {
        Config {
            workers,
            budget: coop::DEFAULT_BUDGET,
            max_blocking_threads: 1,
            thread_name: "loom".to_owned(),
            blocking_threshold: None,
            on_blocking: None,
            detect_deadlocks: false,
        }
    }
}

/// A gorun runtime: worker threads and the tasks they run.
///
/// Most programs use the global runtime through [`run`] and
/// [`spawn`]. Build your own to choose the number of workers,
/// to isolate a group of tasks, or to shut tasks down by dropping it:
/// dropping a `Runtime` stops its workers, joins their threads, and drops
/// every task that is left, running their destructors.
///
/// ```
/// use gorun::Runtime;
///
/// let rt = Runtime::builder().workers(2).build().unwrap();
/// let sum = rt.block_on(async {
///     let handles: Vec<_> = (0..10u64).map(|i| gorun::spawn(async move { i * i })).collect();
///     let mut sum = 0;
///     for h in handles {
///         sum += h.await.unwrap();
///     }
///     sum
/// });
/// assert_eq!(sum, 285);
/// ```
pub struct Runtime {
    shared: Arc<Shared>,
    threads: Vec<thread::JoinHandle<()>>,
    monitor: Option<thread::JoinHandle<()>>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("workers", &self.shared.config.workers)
            .field("budget", &self.shared.config.budget)
            .field("live_tasks", &self.shared.tasks.live())
            .finish()
    }
}

impl Runtime {
    /// Builds a runtime with the default settings (see [`Builder::new`]).
    ///
    /// # Errors
    /// If a worker thread cannot be started.
    ///
    /// ```
    /// let rt = gorun::Runtime::new()?;
    /// assert_eq!(rt.block_on(async { "hi" }), "hi");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// Returns a [`Builder`] to configure a runtime.
    ///
    /// ```
    /// let rt = gorun::Runtime::builder().workers(4).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    fn start(config: Config) -> io::Result<Runtime> {
        let workers = config.workers;
        let thread_name = config.thread_name.clone();
        let shared = Arc::new(Shared::new(config)?);
        let mut runtime = Runtime {
            shared,
            threads: Vec::with_capacity(workers),
            monitor: None,
        };
        for index in 0..workers {
            let shared = runtime.shared.clone();
            let thread = thread::Builder::new()
                .name(format!("{thread_name}-{index}"))
                .spawn(move || Worker::new(shared, index).run())?;
            runtime.threads.push(thread);
        }
        if let Some(threshold) = runtime.shared.config.blocking_threshold {
            let shared = runtime.shared.clone();
            runtime.shared.monitor.running.store(true, SeqCst);
            let thread = thread::Builder::new()
                .name(format!("{thread_name}-monitor"))
                .spawn(move || monitor::run(shared, threshold));
            match thread {
                Ok(thread) => runtime.monitor = Some(thread),
                Err(e) => {
                    runtime.shared.monitor.running.store(false, SeqCst);
                    return Err(e);
                }
            }
        }
        Ok(runtime)
    }

    /// Runs `future` to completion on the current thread, while the
    /// runtime's workers run the tasks it spawns, and returns its output.
    ///
    /// Inside `future`, [`spawn`] spawns onto this runtime.
    /// `block_on` may be called again after it returns, and from several
    /// threads at once.
    ///
    /// # Panics
    /// If called from a worker thread of any gorun runtime (it would block
    /// the worker and every task queued behind it) or from inside another
    /// `block_on`. In async code, `.await` the future, or `spawn` it and
    /// await its `JoinHandle`, instead.
    ///
    /// ```
    /// let rt = gorun::Runtime::new().unwrap();
    /// let v = rt.block_on(async { gorun::spawn(async { 1 + 1 }).await.unwrap() });
    /// assert_eq!(v, 2);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        block_on(&self.shared, future)
    }

    /// Spawns a task onto this runtime and returns its [`JoinHandle`].
    ///
    /// ```
    /// let rt = gorun::Runtime::new().unwrap();
    /// let handle = rt.spawn(async { 40 + 2 });
    /// assert_eq!(rt.block_on(handle).unwrap(), 42);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let location = std::panic::Location::caller();
        context::with_worker(|worker| match worker {
            Some(w) if w.belongs_to(&self.shared) => {
                Ok(task::spawn_on(&w.shared, Some(w), future, location))
            }
            _ => Err(future),
        })
        .unwrap_or_else(|future| task::spawn_on(&self.shared, None, future, location))
    }

    /// Runs a blocking function on this runtime's blocking pool (see
    /// [`spawn_blocking`]).
    ///
    /// ```
    /// let rt = gorun::Runtime::new().unwrap();
    /// let handle = rt.spawn_blocking(|| std::thread::sleep(std::time::Duration::from_millis(1)));
    /// rt.block_on(handle).unwrap();
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, T>(&self, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        task::spawn_blocking_on(&self.shared, f, std::panic::Location::caller())
    }

    /// Number of live tasks spawned on this runtime (not counting the
    /// futures passed to `block_on`).
    ///
    /// ```
    /// let rt = gorun::Runtime::new().unwrap();
    /// assert_eq!(rt.num_goroutines(), 0);
    /// ```
    pub fn num_goroutines(&self) -> usize {
        self.shared.tasks.live()
    }

    /// A dump of this runtime's tasks: see [`Dump`].
    ///
    /// ```
    /// let rt = gorun::Runtime::new().unwrap();
    /// let (_tx, rx) = gorun::chan::<()>(0);
    /// let h = rt.spawn(async move { rx.recv().await });
    /// for _ in 0..1_000_000 {
    ///     if !rt.dump().tasks().is_empty() {
    ///         break;
    ///     }
    ///     std::thread::yield_now();
    /// }
    /// assert_eq!(rt.dump().tasks()[0].id, h.id());
    /// ```
    pub fn dump(&self) -> Dump {
        Dump::collect(&self.shared)
    }

    /// A snapshot of this runtime's counters: see
    /// [`Metrics`].
    ///
    /// ```
    /// let rt = gorun::Runtime::builder().workers(3).build().unwrap();
    /// assert_eq!(rt.metrics().per_worker.len(), 3);
    /// ```
    pub fn metrics(&self) -> Metrics {
        self.shared.metrics()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if crate::runtime::context::with_worker(|w| w.is_some_and(|w| w.belongs_to(&self.shared))) {
            panic!(
                "a gorun Runtime was dropped inside one of its own tasks; its workers \
                 cannot be joined from one of them. Drop it from outside the runtime."
            );
        }
        self.shared.begin_shutdown();
        for thread in self.threads.drain(..).chain(self.monitor.take()) {
            // A worker never panics (tasks' panics are caught), so `join`
            // fails only if the thread was killed; nothing to recover.
            let _ = thread.join();
        }
        self.shared.monitor.join_spares();
        self.shared.drop_all_tasks();
    }
}

/// The process-wide runtime behind [`run`] and
/// [`spawn`], started on first use.
fn global() -> &'static Runtime {
    static GLOBAL: OnceLock<Runtime> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        Runtime::new().unwrap_or_else(|e| panic!("gorun: cannot start the global runtime: {e}"))
    })
}

/// Runs `future` to completion on the global runtime, blocking the current
/// thread: Go's `func main()`.
///
/// Tasks spawned inside it run on the global runtime's workers (one per
/// CPU, or `GORUN_MAXPROCS`). May be called from several threads at once;
/// each call blocks its own thread.
///
/// # Panics
/// If called from a runtime worker thread or inside another `run` or
/// `block_on` (see [`Runtime::block_on`]).
///
/// ```
/// let answer = gorun::run(async {
///     let h = gorun::spawn(async { 21 * 2 });
///     h.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    global().block_on(future)
}

/// Spawns a task: Go's `go` statement.
///
/// Inside a runtime (in one of its tasks, or inside its `block_on`) the task
/// goes to that runtime, on the current worker's queue when there is one;
/// elsewhere it goes to the global runtime. Dropping the returned
/// [`JoinHandle`] detaches the task, which keeps running.
///
/// ```
/// gorun::run(async {
///     let handle = gorun::spawn(async { "from a task" });
///     assert_eq!(handle.await.unwrap(), "from a task");
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let location = std::panic::Location::caller();
    // The fast path: a task spawning onto its own worker's queue.
    context::with_worker(|worker| match worker {
        Some(w) => Ok(task::spawn_on(&w.shared, Some(w), future, location)),
        None => Err(future),
    })
    .unwrap_or_else(|future| task::spawn_on(&current_or_global(), None, future, location))
}

/// Number of live spawned tasks (Go's `runtime.NumGoroutine`), not counting
/// `run`/`block_on` root futures: of the current runtime inside one, else of
/// the global runtime.
///
/// ```
/// gorun::run(async {
///     let before = gorun::num_goroutines();
///     let (tx, rx) = std::sync::mpsc::channel::<()>();
///     let h = gorun::spawn(async move { let _ = rx; std::future::pending::<()>().await });
///     assert_eq!(gorun::num_goroutines(), before + 1);
///     h.abort();
///     let _ = h.await;
///     drop(tx);
/// });
/// ```
pub fn num_goroutines() -> usize {
    context::with_current(|shared| shared.map(|s| s.tasks.live()))
        .unwrap_or_else(|| global().num_goroutines())
}

/// A dump of every task (Go's goroutine dump): of the current runtime
/// inside one, else of the global runtime. See
/// [`Dump`]; print it with `{}`.
///
/// ```
/// gorun::run(async {
///     let h = gorun::spawn(gorun::sleep(std::time::Duration::from_millis(50)));
///     gorun::yield_now().await;
///     println!("{}", gorun::dump());
///     h.await.unwrap();
/// });
/// ```
pub fn dump() -> Dump {
    context::with_current(|shared| shared.map(|s| Dump::collect(s)))
        .unwrap_or_else(|| global().dump())
}

/// A snapshot of the runtime's counters (Go's `runtime/metrics`): of the
/// current runtime inside one, else of the global runtime. See
/// [`Metrics`].
///
/// ```
/// gorun::run(async {
///     let before = gorun::metrics();
///     gorun::spawn(async {}).await.unwrap();
///     assert!(gorun::metrics().tasks_spawned > before.tasks_spawned);
/// });
/// ```
pub fn metrics() -> Metrics {
    context::with_current(|shared| shared.map(|s| s.metrics()))
        .unwrap_or_else(|| global().metrics())
}

/// Runs a blocking function on the runtime's blocking thread pool, so it
/// does not hold up the workers, and returns a [`JoinHandle`] for its
/// result: what Go does implicitly for a goroutine in a blocking syscall.
///
/// The pool grows on demand up to [`Builder::max_blocking_threads`] threads
/// (512 by default) and shrinks after threads idle for 10 seconds. A panic
/// in `f` is caught and reported by the handle.
///
/// ```
/// gorun::run(async {
///     let contents = gorun::spawn_blocking(|| std::fs::read_to_string("Cargo.toml"));
///     assert!(contents.await.unwrap().unwrap().contains("[package]"));
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    task::spawn_blocking_on(&current_or_global(), f, std::panic::Location::caller())
}

/// The runtime of the current thread (worker or `block_on`), else the
/// global runtime: where timers and I/O sources created here are armed.
pub(crate) fn current_or_global() -> Arc<Shared> {
    context::with_current(|shared| shared.cloned()).unwrap_or_else(|| global().shared.clone())
}

#[track_caller]
fn block_on<F: Future>(shared: &Arc<Shared>, future: F) -> F::Output {
    if context::is_worker_thread() {
        panic!(
            "gorun: block_on/run called from a runtime worker thread. It would block \
             this worker and every task queued on it. Inside async code, `.await` the \
             future instead, or `gorun::spawn` it and await the JoinHandle."
        );
    }
    if context::is_in_block_on() {
        panic!(
            "gorun: block_on/run called inside another block_on/run on the same thread. \
             The outer future could not make progress meanwhile. `.await` the future \
             instead, or `gorun::spawn` it and await the JoinHandle."
        );
    }
    let _enter = context::enter_block_on(shared);
    let root = Arc::new(deadlock::Root::new(std::panic::Location::caller()));
    shared.roots.add(root.clone());
    /// Takes the root out of the runtime's list, however `block_on` ends.
    struct Leave<'a>(&'a Shared, &'a Arc<deadlock::Root>);
    impl Drop for Leave<'_> {
        fn drop(&mut self) {
            self.0.roots.remove(self.1);
        }
    }
    let _leave = Leave(shared, &root);
    let waker = Waker::from(root.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let budget = shared.config.budget;
    loop {
        root.clear_woken();
        root.status.set_running();
        crate::task::wait::clear();
        if let Poll::Ready(output) = coop::with_budget(budget, || future.as_mut().poll(&mut cx)) {
            return output;
        }
        root.status.set_waiting(crate::task::wait::take());
        sleep_until_woken(shared, &root);
    }
}

/// Parks a `block_on` thread until its future's waker is called, checking
/// for a deadlock (see `deadlock.rs`) whenever it would sleep.
fn sleep_until_woken(shared: &Shared, root: &deadlock::Root) {
    shared.roots.set_waiting(root, true);
    let mut pause = None;
    while !root.was_woken() {
        match deadlock::check(shared) {
            deadlock::Verdict::Live => {
                pause = None;
                thread::park();
            }
            deadlock::Verdict::Unsure => {
                let d = deadlock::next_pause(pause);
                pause = Some(d);
                thread::park_timeout(d);
            }
            deadlock::Verdict::Deadlock(dump) => {
                shared.roots.set_waiting(root, false);
                panic!("{}\n\n{dump}", deadlock::MESSAGE);
            }
        }
    }
    shared.roots.set_waiting(root, false);
}
