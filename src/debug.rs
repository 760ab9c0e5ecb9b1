//! Seeing inside a running program: task dumps, metrics, blocking reports.
//!
//! | Go | gorun |
//! |---|---|
//! | `SIGQUIT` / `pprof.Lookup("goroutine")` | [`gorun::dump()`](crate::dump), [`Runtime::dump`](crate::Runtime::dump) |
//! | `fatal error: all goroutines are asleep - deadlock!` | the same panic from [`run`](crate::run) / [`block_on`](crate::Runtime::block_on), with a dump |
//! | `runtime.NumGoroutine()` | [`num_goroutines`](crate::num_goroutines); [`testing::assert_no_leaks`](crate::testing::assert_no_leaks) |
//! | `sysmon` preempting a long-running goroutine | the blocking monitor ([`Builder::blocking_threshold`](crate::Builder::blocking_threshold)) |
//! | `runtime/metrics` | [`gorun::metrics()`](crate::metrics), [`Runtime::metrics`](crate::Runtime::metrics) |
//!
//! A dump lists every task that has started running, with its id, spawn
//! location, age and state, and for a waiting task what it waits on
//! ([`WaitReason`]): a channel (and where it was made), a `select!`, a
//! timer, I/O, a sync primitive, a context, another task. Tasks spawned but
//! not yet polled are counted ([`Dump::not_started`]), not listed: listing
//! them would cost every spawn a registration, and a dump of a stuck
//! program never has any.
//!
//! Keeping this information costs a few plain stores per poll into memory
//! the worker owns; nothing is collected until a dump or a snapshot is
//! asked for.
//!
//! ```
//! let rt = gorun::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let (_tx, rx) = gorun::chan::<()>(0);
//!     gorun::spawn(async move { rx.recv().await });
//!     gorun::yield_now().await;
//!     // Prints, among others:
//!     // task 3 [chan receive (chan made at src/main.rs:3:21), 0ms]:
//!     //     spawned at src/main.rs:4:5
//!     println!("{}", gorun::dump());
//! });
//! ```

pub use crate::runtime::{BlockingReport, Dump, Metrics, RootRecord, TaskRecord, WorkerMetrics};
pub use crate::task::{TaskState, WaitReason};
