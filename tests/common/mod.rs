//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Counts how many times values holding it were dropped.
#[derive(Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

impl DropCounter {
    pub fn token(&self) -> DropToken {
        DropToken(self.0.clone())
    }

    pub fn dropped(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Increments its counter when dropped.
pub struct DropToken(Arc<AtomicUsize>);

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Fails the test run instead of letting a hang stall CI: if the guard is
/// still alive after `limit`, the process exits with a message.
pub struct Watchdog(std::sync::mpsc::Sender<()>);

pub fn watchdog(name: &'static str, limit: Duration) -> Watchdog {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
            eprintln!("watchdog: {name} did not finish within {limit:?}; it hangs");
            std::process::exit(101);
        }
    });
    Watchdog(tx)
}

/// A runtime with `n` workers.
pub fn runtime(n: usize) -> gorun::Runtime {
    gorun::Runtime::builder().workers(n).build().unwrap()
}

/// The text of a panic payload (`&str` or `String`), or "" for others.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// How long a task may take to show the expected state in the task dump.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// Takes dumps (sleeping a millisecond between them) until task `id` is
/// listed with a state `want` accepts; returns its record and that dump.
/// Panics with the last dump after [`PATIENCE`].
pub async fn wait_for(
    id: gorun::TaskId,
    want: impl Fn(gorun::debug::TaskState) -> bool,
) -> (gorun::debug::TaskRecord, gorun::debug::Dump) {
    let start = std::time::Instant::now();
    loop {
        let dump = gorun::dump();
        if let Some(t) = dump.tasks().iter().find(|t| t.id == id) {
            if want(t.state) {
                return (*t, dump);
            }
        }
        if start.elapsed() > PATIENCE {
            panic!("task {id} never reached the expected state; last dump:\n{dump}");
        }
        gorun::sleep(Duration::from_millis(1)).await;
    }
}

/// [`wait_for`] the state `Waiting(reason)` with a reason `want` accepts;
/// returns the reason and the dump's text.
pub async fn wait_for_reason(
    id: gorun::TaskId,
    want: impl Fn(gorun::debug::WaitReason) -> bool,
) -> (gorun::debug::WaitReason, String) {
    use gorun::debug::TaskState;
    let (record, dump) = wait_for(
        id,
        |state| matches!(state, TaskState::Waiting(r) if want(r)),
    )
    .await;
    let TaskState::Waiting(reason) = record.state else {
        unreachable!()
    };
    (reason, dump.to_string())
}
