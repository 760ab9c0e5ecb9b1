//! Putting one worker thread to sleep and waking it: a flag plus a condvar.
//!
//! States of a `Parker`:
//! 1. `EMPTY`: no pending notification, the owner is not asleep.
//! 2. `PARKED`: the owner is asleep (or about to wait) on the condvar.
//! 3. `NOTIFIED`: an `unpark` arrived; the next `park` returns at once.
//!
//! `unpark` before `park` is never lost: it leaves `NOTIFIED` behind. The
//! mutex is taken by `unpark` only when the owner may be waiting, so a
//! notification to a running worker costs one atomic swap.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Condvar, Mutex};

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

/// One worker's sleep/wake-up handle.
pub(crate) struct Parker {
    /// `EMPTY`, `PARKED` or `NOTIFIED`.
    state: AtomicUsize,
    /// Held while moving into and out of `PARKED`.
    lock: Mutex<()>,
    /// The owner waits here while `PARKED`.
    condvar: Condvar,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            state: AtomicUsize::new(EMPTY),
            lock: Mutex::new(()),
            condvar: Condvar::new(),
        }
    }

    /// Blocks the owner until `unpark` is called (or returns at once if it
    /// already was). May return spuriously; callers re-check their state.
    pub(crate) fn park(&self) {
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        let mut guard = self.lock.lock().unwrap();
        match self.state.compare_exchange(EMPTY, PARKED, SeqCst, SeqCst) {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.store(EMPTY, SeqCst);
                return;
            }
            Err(state) => unreachable!("parker in state {state} while its owner parks"),
        }
        loop {
            guard = self.condvar.wait(guard).unwrap();
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return;
            }
        }
    }

    /// Wakes the owner, or makes its next `park` return at once.
    pub(crate) fn unpark(&self) {
        match self.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED => {
                // Taking the lock orders this notify after the owner's wait.
                drop(self.lock.lock().unwrap());
                self.condvar.notify_one();
            }
            state => unreachable!("parker in unknown state {state}"),
        }
    }
}
