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
