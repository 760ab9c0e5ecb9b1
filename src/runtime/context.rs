//! What the current thread is to the runtime: one of its workers, a thread
//! inside `block_on`, or neither.
//!
//! Two scoped thread-locals hold raw pointers to values that live on the
//! stack frame of the worker loop or of `block_on`; they are set for exactly
//! that frame's lifetime by a guard that restores the previous value, and
//! are only dereferenced inside `with_*` closures, which cannot leak the
//! reference.

use std::cell::Cell;
use std::ptr;
use std::sync::Arc;

use super::scheduler::Shared;
use super::worker::Worker;

std::thread_local! {
    /// The worker this thread is running, if it is a worker thread.
    static WORKER: Cell<*const Worker> = const { Cell::new(ptr::null()) };
    /// The runtime of the `block_on` this thread is inside, if any.
    static BLOCK_ON: Cell<*const Arc<Shared>> = const { Cell::new(ptr::null()) };
}

/// Restores a thread-local to its previous value when dropped.
pub(crate) struct Reset<T: 'static> {
    key: &'static std::thread::LocalKey<Cell<*const T>>,
    prev: *const T,
}

impl<T> Drop for Reset<T> {
    fn drop(&mut self) {
        self.key.with(|c| c.set(self.prev));
    }
}

/// Marks this thread as running `worker` until the guard drops. The worker
/// must outlive the guard.
pub(crate) fn enter_worker(worker: &Worker) -> Reset<Worker> {
    let prev = WORKER.with(|c| c.replace(worker));
    Reset { key: &WORKER, prev }
}

/// Marks this thread as inside `block_on` of `shared` until the guard
/// drops. `shared` must outlive the guard.
pub(crate) fn enter_block_on(shared: &Arc<Shared>) -> Reset<Arc<Shared>> {
    let prev = BLOCK_ON.with(|c| c.replace(shared));
    Reset {
        key: &BLOCK_ON,
        prev,
    }
}

/// Calls `f` with the worker this thread runs, if any.
#[inline]
pub(crate) fn with_worker<R>(f: impl FnOnce(Option<&Worker>) -> R) -> R {
    WORKER.with(|c| {
        let ptr = c.get();
        // SAFETY: `WORKER` is non-null only while `enter_worker`'s guard is
        // alive on this thread, and the worker outlives that guard; the
        // reference cannot escape `f`.
        f(unsafe { ptr.as_ref() })
    })
}

/// Calls `f` with the runtime this thread belongs to: its worker's, else
/// the one whose `block_on` it is inside.
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Arc<Shared>>) -> R) -> R {
    with_worker(|worker| match worker {
        Some(worker) => f(Some(&worker.shared)),
        None => BLOCK_ON.with(|c| {
            // SAFETY: as for `WORKER`, set only while `enter_block_on`'s
            // guard lives, and `shared` outlives it.
            f(unsafe { c.get().as_ref() })
        }),
    })
}

/// Whether this thread is a worker of any runtime.
pub(crate) fn is_worker_thread() -> bool {
    with_worker(|w| w.is_some())
}

/// Whether this thread is inside a `block_on`.
pub(crate) fn is_in_block_on() -> bool {
    BLOCK_ON.with(|c| !c.get().is_null())
}
