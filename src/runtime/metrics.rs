//! Runtime metrics: counters each worker keeps about itself, and the
//! snapshot [`Metrics`] that adds them up.
//!
//! Every counter of a worker is written only by that worker's thread, with
//! a plain load and store (no read-modify-write, no lock prefix), in a
//! cache line of its own; a snapshot reads them with relaxed loads. That is
//! what makes the bookkeeping free in practice: a poll costs two extra
//! stores into a line the worker already owns. Counters kept by other
//! parts (the injector, the reactor, the timer store) are updated under
//! locks those parts take anyway.
//!
//! The same per-worker record says which task the worker is polling and
//! since when (`poll_seq` is odd during a poll), for the blocking monitor
//! (`monitor.rs`) and the task dump.

use std::panic::Location;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering::*};

use crate::task::TaskMeta;

/// A counter written by one thread only.
#[derive(Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`. Only the owning thread may call this.
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }

    #[inline]
    pub(crate) fn incr(&self) {
        self.add(1);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// One worker's counters and what it is polling now.
#[derive(Default)]
pub(crate) struct WorkerStats {
    /// Incremented before and after each poll: odd while a task is polled.
    /// Polls started so far: `poll_seq / 2` rounded up.
    pub(crate) poll_seq: AtomicU64,
    /// The id of the task being polled (valid while `poll_seq` is odd).
    pub(crate) current_id: AtomicU64,
    /// Its spawn location.
    pub(crate) current_location: AtomicPtr<Location<'static>>,
    /// When it was spawned (`TaskStatus::spawned_ms`).
    pub(crate) current_spawned_ms: AtomicU32,
    /// Tasks spawned from this worker.
    pub(crate) spawned: Counter,
    /// Tasks this worker stole from other workers' queues.
    pub(crate) steals: Counter,
    /// Tasks taken from this worker's own LIFO slot.
    pub(crate) lifo_hits: Counter,
    /// Tasks taken from the global injector.
    pub(crate) injector_pops: Counter,
    /// Times this worker went to sleep.
    pub(crate) parks: Counter,
    /// Times it woke up with work to look for.
    pub(crate) unparks: Counter,
    /// Operations that made their task yield because its budget was spent.
    pub(crate) budget_yields: Counter,
}

impl WorkerStats {
    /// A poll of the task `meta` starts.
    #[inline]
    pub(crate) fn poll_started(&self, meta: &TaskMeta) {
        self.current_id.store(meta.id.as_u64(), Relaxed);
        self.current_location
            .store(ptr::from_ref(meta.location).cast_mut(), Relaxed);
        self.current_spawned_ms
            .store(meta.status.spawned_ms(), Relaxed);
        // Release: the monitor that sees the odd value sees the task above.
        self.poll_seq
            .store(self.poll_seq.load(Relaxed).wrapping_add(1), Release);
    }

    /// The poll started by `poll_started` returned.
    #[inline]
    pub(crate) fn poll_finished(&self) {
        self.poll_seq
            .store(self.poll_seq.load(Relaxed).wrapping_add(1), Release);
    }

    /// The poll in progress: `(poll_seq, task id, spawn location, spawn
    /// time)`; the task is meaningful only when `poll_seq` is odd.
    ///
    /// Read like a sequence lock: `poll_seq` before and after the fields,
    /// and the fields are trusted only if it did not move, so a report never
    /// pairs one poll's number with the next poll's task. (Exact on x86's
    /// store order; elsewhere, where this is only a diagnostic, the window
    /// for a mismatch is the few instructions between two polls.)
    pub(crate) fn current(&self) -> (u64, u64, Option<&'static Location<'static>>, u32) {
        for _ in 0..4 {
            let seq = self.poll_seq.load(Acquire);
            let id = self.current_id.load(Relaxed);
            let location = self.current_location.load(Relaxed);
            let spawned_ms = self.current_spawned_ms.load(Relaxed);
            std::sync::atomic::fence(Acquire);
            if self.poll_seq.load(Relaxed) == seq {
                // SAFETY: only `poll_started` stores here, from a
                // `&'static Location`.
                return (seq, id, unsafe { location.as_ref() }, spawned_ms);
            }
        }
        // The worker is moving from task to task faster than we can read
        // it: it is not stuck in a poll.
        (0, 0, None, 0)
    }

    fn snapshot(&self) -> WorkerMetrics {
        WorkerMetrics {
            // Polls started, the one in progress included.
            polls: self.poll_seq.load(Relaxed).div_ceil(2),
            spawned: self.spawned.get(),
            steals: self.steals.get(),
            lifo_hits: self.lifo_hits.get(),
            injector_pops: self.injector_pops.get(),
            parks: self.parks.get(),
            unparks: self.unparks.get(),
            budget_yields: self.budget_yields.get(),
        }
    }
}

/// Counters of one worker, in a [`Metrics`] snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// Tasks polled.
    pub polls: u64,
    /// Tasks spawned from this worker (by its tasks).
    pub spawned: u64,
    /// Tasks stolen from other workers.
    pub steals: u64,
    /// Tasks taken from the LIFO slot (Go's `runnext`).
    pub lifo_hits: u64,
    /// Tasks taken from the global injector.
    pub injector_pops: u64,
    /// Times the worker parked for lack of work.
    pub parks: u64,
    /// Times it was woken to look for work.
    pub unparks: u64,
    /// Operations that made their task yield because its cooperative
    /// budget was spent.
    pub budget_yields: u64,
}

/// A snapshot of a runtime's counters: see [`Runtime::metrics`] and
/// [`metrics`](crate::metrics).
///
/// Counters only grow (except `tasks_alive` and `timers_pending`); take two
/// snapshots and subtract to measure an interval. Taking a snapshot reads a
/// few words per worker and takes no lock a worker waits on for long.
///
/// [`Runtime::metrics`]: crate::Runtime::metrics
///
/// ```
/// let rt = gorun::Runtime::builder().workers(2).build().unwrap();
/// rt.block_on(async {
///     for _ in 0..100 {
///         gorun::spawn(async {}).await.unwrap();
///     }
/// });
/// let m = rt.metrics();
/// assert_eq!(m.workers, 2);
/// assert_eq!(m.tasks_spawned, 100);
/// assert!(m.polls >= 100);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Worker threads (Go's `GOMAXPROCS`).
    pub workers: usize,
    /// Tasks spawned so far, `spawn_blocking` included.
    pub tasks_spawned: u64,
    /// Tasks alive now ([`num_goroutines`](crate::num_goroutines)).
    pub tasks_alive: usize,
    /// Task polls, all workers.
    pub polls: u64,
    /// Tasks stolen between workers.
    pub steals: u64,
    /// Tasks run from a LIFO slot.
    pub lifo_hits: u64,
    /// Tasks pushed onto the global injector (from outside the workers, and
    /// the overflow of full local queues).
    pub injector_pushes: u64,
    /// Worker parks.
    pub parks: u64,
    /// Worker wake-ups.
    pub unparks: u64,
    /// Yields forced by a spent cooperative budget.
    pub budget_yields: u64,
    /// Timers armed so far (sleeps, timeouts, tickers, `after_func`).
    pub timers_armed: u64,
    /// Timers armed and not yet fired or stopped.
    pub timers_pending: usize,
    /// Times the reactor's driver returned from waiting on the OS poller.
    pub reactor_wakeups: u64,
    /// Tasks reported for holding a worker longer than the blocking
    /// threshold (see [`Builder::blocking_threshold`]).
    ///
    /// [`Builder::blocking_threshold`]: crate::Builder::blocking_threshold
    pub blocking_reports: u64,
    /// Replacement workers started while workers were blocked.
    pub spare_workers_started: u64,
    /// Per worker, in index order (spare workers not included).
    pub per_worker: Vec<WorkerMetrics>,
}

impl Metrics {
    /// Builds a snapshot from the per-worker records (`stats`: regular
    /// workers first, then spares) and the runtime-wide counters.
    pub(crate) fn collect(
        workers: usize,
        stats: &[impl std::ops::Deref<Target = WorkerStats>],
    ) -> Metrics {
        let all: Vec<WorkerMetrics> = stats.iter().map(|s| s.snapshot()).collect();
        let mut m = Metrics {
            workers,
            per_worker: all[..workers].to_vec(),
            ..Metrics::default()
        };
        for w in &all {
            m.tasks_spawned += w.spawned;
            m.polls += w.polls;
            m.steals += w.steals;
            m.lifo_hits += w.lifo_hits;
            m.parks += w.parks;
            m.unparks += w.unparks;
            m.budget_yields += w.budget_yields;
        }
        m
    }
}
