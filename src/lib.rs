//! Go's concurrency model for async Rust.
//!
//! gorun gives async Rust the way Go programs are written: cheap tasks
//! started with [`spawn`] (Go's `go`), run on a work-stealing scheduler of
//! stackless tasks with cooperative, budget-based preemption.
//!
//! # Go → gorun
//!
//! | Go | gorun |
//! |---|---|
//! | `go f()` | [`gorun::spawn(async move { .. })`](spawn) → [`JoinHandle<T>`] (drop = detach, like Go) |
//! | `func main()` runtime | [`gorun::run(async { .. })`](run), or [`Runtime::builder()`](Runtime::builder)`..build()?.block_on(..)` |
//! | `GOMAXPROCS` | [`Builder::workers(n)`](Builder::workers); default: the number of CPUs, or env `GORUN_MAXPROCS` |
//! | `runtime.Gosched()` | [`gorun::yield_now().await`](yield_now) |
//! | `runtime.NumGoroutine()` | [`gorun::num_goroutines()`](num_goroutines) |
//! | `make(chan T)` / `make(chan T, n)` | [`gorun::chan::<T>(0)`](chan()) / `gorun::chan::<T>(n)` → `(`[`Sender<T>`]`, `[`Receiver<T>`]`)` |
//! | `ch <- v` / `v, ok := <-ch` | `tx.send(v).await` → `Result<(), `[`SendError<T>`]`>` / `rx.recv().await` → `Option<T>` |
//! | `for v := range ch` | `while let Some(v) = rx.recv().await` (also `Receiver: Stream`) |
//! | `close(ch)`, `len(ch)`, `cap(ch)` | `tx.close()` (also when the last `Sender` drops), `tx.len()`, `tx.capacity()` |
//! | `select { .. default: .. }` | [`gorun::select! { .. default => .. }`](select!) |
//! | `reflect.Select` | [`gorun::Select`](Select) (a number of cases known at run time) |
//! | `time.Sleep(d)`, `time.After(d)` | [`gorun::sleep(d).await`](sleep), [`gorun::after(d)`](after) → `Receiver<Instant>` |
//! | `time.NewTimer`, `time.NewTicker`, `time.AfterFunc` | [`time::Timer`], [`time::Ticker`], [`time::after_func`] |
//! | `context.Background()`, `WithCancel`, `WithTimeout` | [`Context::background()`](Context::background), `ctx.with_cancel()`, `ctx.with_timeout(d)` |
//! | `<-ctx.Done()`, `ctx.Err()` | `ctx.done().await`, `ctx.err()` → `Option<`[`ContextError`]`>` |
//! | `sync.WaitGroup`, `sync.Mutex`, `sync.RWMutex`, `sync.Once` | [`sync::WaitGroup`], [`sync::Mutex`], [`sync::RwLock`], [`sync::Once`] |
//! | `errgroup.Group`, `semaphore.Weighted` | [`sync::ErrGroup`], [`sync::Semaphore`] |
//! | `net.Listen`, `net.Dial` | [`net::TcpListener`], [`net::TcpStream`], [`net::UdpSocket`], [`net::UnixListener`], [`net::UnixStream`] |
//! | blocking syscall hand-off | [`gorun::spawn_blocking(f)`](spawn_blocking) |
//! | a goroutine's panic | caught: the [`JoinHandle`] yields a [`JoinError`] with [`is_panic()`](JoinError::is_panic) |
//! | goroutine dump (`SIGQUIT`, pprof) | [`gorun::dump()`](dump) → [`debug::Dump`] |
//! | `all goroutines are asleep - deadlock!` | the same panic from [`run`] / [`Runtime::block_on`], with a dump |
//! | `runtime/metrics`, `sysmon` | [`gorun::metrics()`](metrics), [`Builder::blocking_threshold`] |
//! | `goleak` in tests | [`testing::assert_no_leaks`] |
//!
//! # Hello, goroutines
//!
//! ```
//! let total = gorun::run(async {
//!     // Fan out: one task per item, like `go work(i)` in a loop.
//!     let handles: Vec<_> = (1..=10u64)
//!         .map(|i| gorun::spawn(async move { i * i }))
//!         .collect();
//!     // Fan in: await each result.
//!     let mut total = 0;
//!     for h in handles {
//!         total += h.await.unwrap();
//!     }
//!     total
//! });
//! assert_eq!(total, 385);
//! ```
//!
//! # Channels
//!
//! ```
//! gorun::run(async {
//!     let (tx, rx) = gorun::chan::<u32>(0); // unbuffered, as make(chan uint32)
//!     gorun::spawn(async move {
//!         for i in 0..3 {
//!             tx.send(i).await.unwrap();
//!         }
//!     }); // the last Sender dropped: the channel is closed
//!     let mut got = Vec::new();
//!     while let Some(v) = rx.recv().await {
//!         got.push(v);
//!     }
//!     assert_eq!(got, [0, 1, 2]);
//! });
//! ```
//!
//! # select!
//!
//! Go's rules: among the cases ready at once one is chosen at random,
//! exactly one case commits (a send that was not chosen delivers nothing,
//! a value is never taken by a case that was not chosen), `default` runs
//! when nothing is ready, and a disabled case (`, if false`) is Go's nil
//! channel.
//!
//! ```
//! use std::time::Duration;
//!
//! gorun::run(async {
//!     let (tx, rx) = gorun::chan::<u32>(0);
//!     gorun::spawn(async move { tx.send(7).await.unwrap() });
//!     let got = gorun::select! {
//!         v = rx.recv() => v,
//!         _ = gorun::after(Duration::from_secs(5)).recv() => None,
//!     };
//!     assert_eq!(got, Some(7));
//! });
//! ```
//!
//! # Context
//!
//! ```
//! use std::time::Duration;
//! use gorun::{Context, ContextError};
//!
//! gorun::run(async {
//!     let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(5));
//!     let worker = {
//!         let ctx = ctx.clone();
//!         gorun::spawn(async move {
//!             ctx.done().await;
//!             ctx.err()
//!         })
//!     };
//!     assert_eq!(worker.await.unwrap(), Some(ContextError::DeadlineExceeded));
//! });
//! ```
//!
//! # Panics and cancellation
//!
//! A panic inside a task never takes down a worker or another task; its
//! handle reports it. [`JoinHandle::abort`] drops a task's future, running
//! its destructors.
//!
//! ```
//! gorun::run(async {
//!     let err = gorun::spawn(async { panic!("oops") }).await.unwrap_err();
//!     assert!(err.is_panic());
//!
//!     let forever = gorun::spawn(std::future::pending::<()>());
//!     forever.abort();
//!     assert!(forever.await.unwrap_err().is_cancelled());
//! });
//! ```
//!
//! # Fairness
//!
//! Tasks are not preempted, but every gorun operation spends a unit of a
//! per-poll budget (128 by default): a task that has done that much work
//! yields at its next operation. A loop that does pure computation can call
//! [`consume_budget`] to take part.
//!
//! ```
//! gorun::run(async {
//!     let mut acc = 0u64;
//!     for i in 0..1_000_000u64 {
//!         acc = acc.wrapping_add(i * i);
//!         if i % 1024 == 0 {
//!             gorun::consume_budget().await;
//!         }
//!     }
//!     assert_ne!(acc, 0);
//! });
//! ```
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod loom;
mod reactor;

pub mod chan;
pub mod context;
pub mod debug;
pub use chan::{chan, Receiver, SendError, Sender, TryRecvError, TrySendError};
pub use context::{CancelCauseFunc, CancelFunc, Context, ContextError};
pub mod io;
pub mod net;
pub mod runtime;
pub mod select;
pub use select::Select;
pub mod sync;
mod task;
pub mod testing;
pub mod time;

pub use runtime::coop::consume_budget;
pub use runtime::{dump, metrics, num_goroutines, run, spawn, spawn_blocking, Builder, Runtime};
pub use task::{yield_now, JoinError, JoinHandle, TaskId};
pub use time::{after, sleep, sleep_until, timeout};
