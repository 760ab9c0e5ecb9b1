//! Which workers are parked, and which one to wake: the protocol that
//! keeps idle workers asleep without ever stranding a runnable task.
//!
//! After tokio's `idle.rs`, itself after Go's `spinning` Ms. The state is
//! one atomic word: the number of *unparked* workers and, of those, the
//! number *searching* for work (stealing, checking the injector).
//!
//! Rules:
//! 1. At most half of the workers search at once
//!    ([`Idle::transition_worker_to_searching`]), so a burst of wake-ups does
//!    not turn into every core hammering every other core's queue.
//! 2. New work wakes a parked worker only if no worker is searching
//!    ([`Idle::worker_to_notify`]): a searcher will find it. The woken worker
//!    is counted as unparked *and searching* before it runs, so a burst of
//!    pushes wakes one worker, not all of them.
//! 3. A searcher that finds work stops searching; if it was the last one it
//!    wakes another worker to take over the search, since there may be more
//!    work where it found some.
//! 4. A worker parks by first recording itself in `sleepers` and
//!    decrementing the counts (one `SeqCst` read-modify-write), and then, if
//!    it was the last searcher, looking at every queue once more. A producer
//!    pushes and then reads the counts (also `SeqCst`). Either the producer
//!    sees no searcher and wakes someone, or the parking worker's last look
//!    sees the new task: no wake-up is lost.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Mutex;

/// Bits of the state word that count searching workers.
const SEARCH_MASK: usize = (1 << UNPARK_SHIFT) - 1;
/// The number of unparked workers lives above this bit.
const UNPARK_SHIFT: usize = 16;

/// What `transition_worker_to_parked` found.
pub(crate) struct Parked {
    /// The worker was the last searcher (rule 4).
    pub(crate) last_searcher: bool,
    /// It was the last unparked worker: all are parked now.
    pub(crate) all_parked: bool,
}

/// See the module docs.
pub(crate) struct Idle {
    /// `unparked << UNPARK_SHIFT | searching`.
    state: AtomicUsize,
    /// Indices of the parked workers.
    sleepers: Mutex<Vec<usize>>,
    /// Number of workers in the runtime.
    workers: usize,
}

fn searching(state: usize) -> usize {
    state & SEARCH_MASK
}

fn unparked(state: usize) -> usize {
    state >> UNPARK_SHIFT
}

impl Idle {
    /// All workers start unparked and not searching.
    pub(crate) fn new(workers: usize) -> Idle {
        assert!(workers < SEARCH_MASK, "too many workers: {workers}");
        Idle {
            state: AtomicUsize::new(workers << UNPARK_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(workers)),
            workers,
        }
    }

    /// Rule 1: becomes a searcher unless half the workers already are.
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * searching(state) >= self.workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// Rule 3: stops searching; returns whether this was the last searcher
    /// (the caller must then call `worker_to_notify`).
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        debug_assert!(searching(prev) > 0);
        searching(prev) == 1
    }

    /// Rule 4: records worker `index` as parked. If it was the last
    /// searcher (`Parked::last_searcher`), the caller must look for work
    /// once more.
    pub(crate) fn transition_worker_to_parked(&self, index: usize, was_searching: bool) -> Parked {
        let mut sleepers = self.sleepers.lock().unwrap();
        let dec = (1 << UNPARK_SHIFT) | usize::from(was_searching);
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(index);
        Parked {
            last_searcher: was_searching && searching(prev) == 1,
            all_parked: unparked(prev) == 1,
        }
    }

    /// Whether every worker is parked right now.
    pub(crate) fn all_parked(&self) -> bool {
        unparked(self.state.fetch_add(0, SeqCst)) == 0
    }

    /// Rule 2: picks a parked worker to wake for new work, if one should be
    /// woken, and counts it as unparked and searching.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        if !self.should_notify() {
            return None;
        }
        let mut sleepers = self.sleepers.lock().unwrap();
        if !self.should_notify() {
            return None;
        }
        let index = sleepers.pop()?;
        self.state.fetch_add((1 << UNPARK_SHIFT) | 1, SeqCst);
        Some(index)
    }

    /// Records a parked worker that found work on its own (it drove the
    /// reactor) as unparked and searching. Returns `false` if another
    /// thread already did so through `worker_to_notify`.
    pub(crate) fn unpark_self(&self, index: usize) -> bool {
        let mut sleepers = self.sleepers.lock().unwrap();
        let Some(pos) = sleepers.iter().position(|&i| i == index) else {
            return false;
        };
        sleepers.swap_remove(pos);
        self.state.fetch_add((1 << UNPARK_SHIFT) | 1, SeqCst);
        true
    }

    /// Whether worker `index` is still recorded as parked (a wake-up that
    /// finds it so was spurious or came from shutdown).
    pub(crate) fn is_parked(&self, index: usize) -> bool {
        self.sleepers.lock().unwrap().contains(&index)
    }

    fn should_notify(&self) -> bool {
        // A read-modify-write, not a plain load: it reads the latest value
        // in `state`'s modification order, so it is ordered against the
        // parking worker's `fetch_sub` in `transition_worker_to_parked`
        // without relying on `SeqCst` fences (which loom cannot check).
        // Either it sees the worker still searching, and that worker's
        // later look at the queues sees the caller's push, or it sees the
        // worker parked and wakes it. Pushes call this only when a ring
        // goes from empty to non-empty, so the cache line is rarely pulled.
        let state = self.state.fetch_add(0, SeqCst);
        searching(state) == 0 && unparked(state) < self.workers
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use loom::sync::Arc;
    use loom::thread;

    use super::Idle;

    /// Rule 2 against rule 4: a producer that pushes work while the last
    /// searcher parks either wakes it, or the searcher's final look sees
    /// the work. Never neither.
    #[test]
    fn work_pushed_while_the_last_searcher_parks_is_never_stranded() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(1));
            let queue = Arc::new(AtomicUsize::new(0));
            let worker = {
                let (idle, queue) = (idle.clone(), queue.clone());
                thread::spawn(move || {
                    assert!(idle.transition_worker_to_searching());
                    if queue.load(SeqCst) > 0 {
                        return true;
                    }
                    let last = idle.transition_worker_to_parked(0, true).last_searcher;
                    // Rule 4: the last searcher looks once more.
                    last && queue.load(SeqCst) > 0
                })
            };
            queue.store(1, SeqCst);
            let woke_it = idle.worker_to_notify().is_some();
            let saw_it = worker.join().unwrap();
            assert!(
                saw_it || woke_it,
                "the task was pushed and nobody will run it"
            );
        });
    }
}
