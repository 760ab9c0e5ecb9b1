//! Helpers for tests of code that spawns tasks.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::Runtime;

/// How long [`assert_no_leaks`] lets tasks finish after the body returns.
const GRACE: Duration = Duration::from_secs(1);

/// Runs `body` on a fresh runtime and panics, with a task dump, if any task
/// it spawned is still alive afterwards: the check Go programmers do with
/// `runtime.NumGoroutine()` or `goleak`.
///
/// Tasks get a grace period of one second to finish after `body` returns
/// (a detached task may be completing its last poll); the runtime is then
/// dropped, which drops whatever is left.
///
/// # Panics
/// If tasks outlive the grace period, with their dump, or if `body` panics.
///
/// ```
/// gorun::testing::assert_no_leaks(async {
///     let (tx, rx) = gorun::chan::<u32>(0);
///     gorun::spawn(async move { tx.send(1).await.unwrap() });
///     assert_eq!(rx.recv().await, Some(1));
/// });
/// ```
///
/// A task left waiting on a channel nobody will send on is a leak:
///
/// ```should_panic
/// gorun::testing::assert_no_leaks(async {
///     let (tx, rx) = gorun::chan::<u32>(0);
///     gorun::spawn(async move { rx.recv().await });
///     std::mem::forget(tx); // the receiver waits forever
/// });
/// ```
#[track_caller]
pub fn assert_no_leaks<F: Future>(body: F) -> F::Output {
    let rt = Runtime::builder()
        .workers(2)
        .build()
        .unwrap_or_else(|e| panic!("assert_no_leaks: cannot start a runtime: {e}"));
    let output = rt.block_on(body);
    let deadline = Instant::now() + GRACE;
    while rt.num_goroutines() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    let left = rt.num_goroutines();
    if left > 0 {
        panic!(
            "assert_no_leaks: {left} task(s) still alive {GRACE:?} after the body returned:\n\n{}",
            rt.dump()
        );
    }
    output
}
