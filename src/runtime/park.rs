//! Putting one worker thread to sleep and waking it: a flag plus a condvar,
//! or the reactor when the worker sleeps as its driver.
//!
//! States of a `Parker`:
//! 1. `EMPTY`: no pending notification, the owner is not asleep.
//! 2. `PARKED`: the owner is asleep (or about to wait) on the condvar.
//! 3. `DRIVING`: the owner is blocked in the reactor's `Poller::wait`.
//! 4. `NOTIFIED`: an `unpark` arrived; the next `park` returns at once.
//!
//! `unpark` before `park` is never lost: it leaves `NOTIFIED` behind, and a
//! worker about to drive the reactor moves `EMPTY` to `DRIVING` by CAS, so
//! it either sees the notification or `unpark` sees `DRIVING` and
//! interrupts the wait with `Poller::notify` (which the poller remembers if
//! the wait has not started yet). The mutex is taken by `unpark` only when
//! the owner may be waiting on the condvar, so a notification to a running
//! worker costs one atomic swap.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Condvar, Mutex};
use crate::reactor::Reactor;

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;
const DRIVING: usize = 3;

/// One worker's sleep/wake-up handle.
pub(crate) struct Parker {
    /// `EMPTY`, `PARKED`, `DRIVING` or `NOTIFIED`.
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
    /// already was). If no other worker drives the reactor, the owner
    /// blocks in it instead of on the condvar, and also returns when I/O
    /// is ready or a timer fired. Returns whether it drove the reactor. May
    /// return spuriously; callers re-check their state.
    pub(crate) fn park(&self, reactor: &Reactor) -> bool {
        if self.consume_notification() {
            return false;
        }
        let drove = reactor.drive(
            None,
            || {
                self.state
                    .compare_exchange(EMPTY, DRIVING, SeqCst, SeqCst)
                    .is_ok()
            },
            || {
                self.state.swap(EMPTY, SeqCst);
            },
        );
        if drove.is_some() {
            // A notification that vetoed the blocking wait is consumed here.
            self.consume_notification();
            return true;
        }
        self.park_on_condvar();
        false
    }

    fn consume_notification(&self) -> bool {
        self.state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
    }

    fn park_on_condvar(&self) {
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
            if self.consume_notification() {
                return;
            }
        }
    }

    /// Wakes the owner, or makes its next `park` return at once.
    pub(crate) fn unpark(&self, reactor: &Reactor) {
        match self.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            DRIVING => reactor.notify(),
            PARKED => {
                // Taking the lock orders this notify after the owner's wait.
                drop(self.lock.lock().unwrap());
                self.condvar.notify_one();
            }
            state => unreachable!("parker in unknown state {state}"),
        }
    }
}
