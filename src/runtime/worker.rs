//! A worker: one OS thread that runs tasks, and the policy for choosing the
//! next one (Go's `schedule`/`findrunnable`, tokio's `worker.rs`).
//!
//! Each turn of the loop picks a task in this order:
//! 1. every [`GLOBAL_POLL_INTERVAL`] ticks, the injector first, so tasks
//!    scheduled from outside cannot be starved by a busy local queue;
//! 2. the LIFO slot, unless it has been taken [`MAX_LIFO_POLLS`] times in a
//!    row (two tasks waking each other would otherwise monopolise the
//!    worker while its ring waits);
//! 3. the local ring, then the LIFO slot even past the limit;
//! 4. a fair share of the injector;
//! 5. as a *searcher* (at most half the workers, see `idle.rs`): half of a
//!    random victim's ring, every victim in turn, then the injector again;
//!    last, a victim's LIFO slot if it stays occupied for a grace period;
//! 6. nothing found: park until woken.
//!
//! Besides, every [`IO_POLL_MIN`] to [`IO_POLL_MAX`] ticks a busy worker
//! polls the reactor without blocking, unless an idle worker is blocked in
//! it (`maintenance`): I/O and timers are noticed even when no worker ever
//! runs out of work.
//!
//! A task is polled with a fresh cooperative budget (`coop.rs`) and inside
//! `catch_unwind`, so nothing a task does can kill the worker.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering::Acquire;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_task::Runnable;

use super::metrics::WorkerStats;
use super::scheduler::Shared;
use super::{context, coop, trace};
use crate::task::{IdBlock, TaskId, TaskMeta};

/// Check the injector first every this many ticks. Go's number: prime, so
/// it does not fall into step with periodic task patterns.
const GLOBAL_POLL_INTERVAL: u32 = 61;

/// Bounds of the interval, in ticks, between a busy worker's non-blocking
/// polls of the reactor while no idle worker is blocked in it. The
/// interval drops to the minimum when a poll finds a batch of I/O events
/// ([`IO_POLL_BATCH`]) and doubles up to the maximum otherwise. With I/O
/// flowing, picking it up sooner keeps request/response traffic moving:
/// `tcp_echo` (50 connections, 2 workers, both always busy) did 184k
/// round trips/s polling every 61 ticks and 196k with this interval
/// (minimum 8: 194k, 31: 188k; a fixed 244: 180k).
const IO_POLL_MIN: u32 = 16;
/// See [`IO_POLL_MIN`]; tokio's fixed `event_interval` is 61 too.
const IO_POLL_MAX: u32 = 61;

/// A poll must find at least this many I/O events to bring the interval
/// down to [`IO_POLL_MIN`], so that its cost (five system calls with
/// `polling`'s epoll backend) is shared by several wake-ups. Shortening it
/// for any event at all cost a worker that ran tiny tasks next to a socket
/// receiving a byte every 5 µs 40% of its throughput (8.1M against 4.8M
/// `yield_now`s per second); with the batch rule it does as well as with a
/// fixed 61 (8.8M). Busy workers with idle or quiet sockets poll every 61
/// ticks, as before.
const IO_POLL_BATCH: usize = 4;

/// Run the LIFO slot at most this many times in a row (tokio's number).
const MAX_LIFO_POLLS: u32 = 3;

/// Rounds of trying every victim before giving up the search.
const STEAL_ROUNDS: usize = 2;

/// How long a thief lets a victim's LIFO slot stay occupied before taking
/// it: about the time the victim needs to finish its poll and take the slot
/// itself (Go waits 3 µs). A ping-pong pair thus stays on one warm core.
const RUNNEXT_GRACE: Duration = Duration::from_micros(3);

/// How long a worker that found nothing keeps watching the queues, still
/// counted as searching, before it parks. Parking and being woken cost a
/// futex call on each side and two context switches, several microseconds
/// of both threads' time, and the waker pays its share inside `spawn`
/// (worse: the kernel often runs the woken thread on the waker's core and
/// preempts the waker). While a worker spins it counts as searching, so
/// producers skip the wake-up entirely. Measured on the 1,000,000-task
/// `spawn_join` (2 workers, busy machine): 10 µs let the thief park about
/// 4,900 times (265 ns/task), 50 µs about 300 times (180 ns/task), 200 µs
/// was no better and burns more CPU when the runtime goes idle. Go's
/// "spinning" Ms do the same.
const SPIN_BEFORE_PARK: Duration = Duration::from_micros(50);

/// Pause instructions between two looks at the queues while spinning
/// (a pause is about 25 ns on the machines measured).
const SPIN_PAUSES: u32 = 8;

/// How long an idle spare worker waits before it looks for work again.
const SPARE_IDLE_WAIT: Duration = Duration::from_millis(1);

/// One worker thread's state. Lives on its thread's stack.
pub(crate) struct Worker {
    /// The runtime.
    pub(crate) shared: Arc<Shared>,
    /// Which worker this is: the index of its queue, parker and shards.
    pub(crate) index: usize,
    /// Turns of the scheduling loop, for `GLOBAL_POLL_INTERVAL`.
    tick: Cell<u32>,
    /// The tick of the last `maintenance`.
    maintained_at: Cell<u32>,
    /// Ticks from one `maintenance` to the next: [`IO_POLL_MIN`] to
    /// [`IO_POLL_MAX`].
    maintenance_interval: Cell<u32>,
    /// Consecutive tasks taken from the LIFO slot.
    lifo_streak: Cell<u32>,
    /// Whether this worker counts as searching in `Idle`.
    searching: Cell<bool>,
    /// xorshift state for choosing victims.
    rng: Cell<u64>,
    /// Task ids reserved for tasks spawned on this worker.
    ids: IdBlock,
    /// `&shared.stats[index]`, resolved once: touched on every poll.
    stats: *const WorkerStats,
}

impl Worker {
    pub(crate) fn new(shared: Arc<Shared>, index: usize) -> Worker {
        let stats: *const WorkerStats = &*shared.stats[index];
        Worker {
            stats,
            shared,
            index,
            tick: Cell::new(0),
            maintained_at: Cell::new(0),
            maintenance_interval: Cell::new(IO_POLL_MAX),
            lifo_streak: Cell::new(0),
            searching: Cell::new(false),
            ids: IdBlock::new(),
            rng: Cell::new(
                0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407),
            ),
        }
    }

    /// Whether this worker belongs to the runtime `shared`.
    #[inline]
    pub(crate) fn belongs_to(&self, shared: &Shared) -> bool {
        std::ptr::eq(&*self.shared, shared)
    }

    /// A fresh id for a task spawned on this worker.
    pub(crate) fn next_task_id(&self) -> TaskId {
        self.ids.next()
    }

    /// Pushes a task at the back of this worker's ring and, if that made
    /// the ring non-empty, lets a parked worker know (see
    /// [`Worker::after_push`]).
    #[inline]
    pub(crate) fn push_back(&self, runnable: Runnable<TaskMeta>) {
        let was_empty = self.shared.queues[self.index].push_back(runnable, &self.shared.injector);
        self.after_push(was_empty);
    }

    /// Puts a woken task in this worker's LIFO slot. The task it displaces,
    /// if any, moves to the ring, which may call for a thief.
    #[inline]
    pub(crate) fn push_runnext(&self, runnable: Runnable<TaskMeta>) {
        if let Some(was_empty) =
            self.shared.queues[self.index].push_runnext(runnable, &self.shared.injector)
        {
            self.after_push(was_empty);
        }
    }

    /// Wakes a parked worker, if none is searching, after a push that made
    /// this worker's ring non-empty.
    ///
    /// A push onto a ring that already held work wakes nobody: when that
    /// work arrived, this rule (or `Idle` rule 4) already made sure some
    /// worker is searching or about to look, and a thief that takes half
    /// and was the last searcher wakes the next one (rule 3). Skipping the
    /// `SeqCst` fence and the read of the shared idle state on those pushes
    /// is what makes a spawn loop cheap.
    #[inline]
    fn after_push(&self, was_empty: bool) {
        if was_empty {
            self.shared.notify_parked();
        }
    }

    /// The worker thread's main loop.
    pub(crate) fn run(&self) {
        let _enter = context::enter_worker(self);
        while !self.shared.is_shutdown() {
            if let Some(runnable) = self.next_task().or_else(|| self.steal_work()) {
                self.run_task(runnable);
            } else {
                self.park();
            }
        }
    }

    #[inline(always)]
    fn run_task(&self, runnable: Runnable<TaskMeta>) {
        if self.searching.replace(false) && self.shared.idle.transition_worker_from_searching() {
            // We were the last searcher and found work: there may be more.
            self.shared.notify_parked();
        }
        let budget = self.shared.config.budget;
        let stats = self.stats();
        let meta = runnable.metadata();
        stats.poll_started(meta);
        let _span = trace::poll(meta.id, meta.location);
        // The task's own poll catches panics (see `task::Guarded`); this
        // only guards against a panic in a destructor async-task runs.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            coop::with_budget(budget, || runnable.run())
        }));
        stats.poll_finished();
    }

    /// This worker's counters.
    #[inline]
    pub(crate) fn stats(&self) -> &WorkerStats {
        // SAFETY: `stats` points into `shared.stats`, a boxed slice that
        // lives as long as `shared`, which this worker holds.
        unsafe { &*self.stats }
    }

    /// Steps 1 to 4 of the module docs: work this worker can take without
    /// searching.
    #[inline(always)]
    fn next_task(&self) -> Option<Runnable<TaskMeta>> {
        let shared = &*self.shared;
        let queue = &shared.queues[self.index];
        let tick = self.tick.get().wrapping_add(1);
        self.tick.set(tick);
        if tick.wrapping_sub(self.maintained_at.get()) >= self.maintenance_interval.get() {
            self.maintained_at.set(tick);
            self.maintenance();
        }
        if tick % GLOBAL_POLL_INTERVAL == 0 {
            if let Some(runnable) = shared.injector.pop() {
                self.stats().injector_pops.incr();
                return Some(runnable);
            }
        }
        if self.lifo_streak.get() < MAX_LIFO_POLLS {
            if let Some(runnable) = queue.pop_runnext() {
                self.lifo_streak.set(self.lifo_streak.get() + 1);
                self.stats().lifo_hits.incr();
                return Some(runnable);
            }
        }
        self.lifo_streak.set(0);
        if let Some(runnable) = queue.pop() {
            return Some(runnable);
        }
        if let Some(runnable) = queue.pop_runnext() {
            self.stats().lifo_hits.incr();
            return Some(runnable);
        }
        self.pop_injector_batch()
    }

    /// A fair share of the injector into this worker's ring; returns the
    /// first task of it.
    fn pop_injector_batch(&self) -> Option<Runnable<TaskMeta>> {
        let shared = &*self.shared;
        let queue = &shared.queues[self.index];
        let before = queue.len();
        let runnable = shared
            .injector
            .pop_batch_into(queue, shared.config.workers)?;
        self.stats()
            .injector_pops
            .add(1 + u64::from(queue.len().saturating_sub(before)));
        Some(runnable)
    }

    /// Takes half of `victim`'s ring into this worker's; returns one task.
    fn steal_from(&self, victim: usize) -> Option<Runnable<TaskMeta>> {
        let shared = &*self.shared;
        let own = &shared.queues[self.index];
        let before = own.len();
        let runnable = shared.queues[victim].steal_into(own)?;
        self.stats()
            .steals
            .add(1 + u64::from(own.len().saturating_sub(before)));
        Some(runnable)
    }

    /// Work a busy worker does every [`IO_POLL_MIN`] to [`IO_POLL_MAX`]
    /// ticks, so that timers fire and I/O is noticed while no worker is
    /// idle to drive the reactor: poll for I/O without blocking (which also
    /// runs expired timers) if nobody is polling, else run expired timers.
    /// Sets the interval to the next time: short while polls find I/O in
    /// batches.
    fn maintenance(&self) {
        let reactor = &self.shared.reactor;
        if !reactor.has_interest() {
            return;
        }
        let found = if !reactor.is_polling() {
            reactor
                .drive(Some(Duration::ZERO), || false, || {})
                .unwrap_or(0)
        } else {
            // Cheap when nothing expired: one atomic read per shard. The
            // worker blocked in the reactor sees I/O as it comes.
            reactor.fire_timers(Instant::now());
            0
        };
        self.maintenance_interval.set(next_io_poll_interval(
            self.maintenance_interval.get(),
            found,
        ));
    }

    /// Step 5: steal, if this worker may search.
    fn steal_work(&self) -> Option<Runnable<TaskMeta>> {
        let shared = &*self.shared;
        // Even a lone worker becomes a searcher: only the last searcher's
        // final look at the queues before parking (`Idle` rule 4) closes
        // the race with a producer that saw it still unparked.
        if !self.searching.get() {
            if !shared.idle.transition_worker_to_searching() {
                return None;
            }
            self.searching.set(true);
        }
        // Spare workers' rings are victims too while any spare runs.
        let victims = shared.victims();
        for _ in 0..STEAL_ROUNDS {
            let start = self.next_random() as usize % victims;
            for i in 0..victims {
                let victim = (start + i) % victims;
                if victim == self.index {
                    continue;
                }
                if let Some(runnable) = self.steal_from(victim) {
                    return Some(runnable);
                }
            }
            if let Some(runnable) = self.pop_injector_batch() {
                return Some(runnable);
            }
        }
        self.steal_runnext()
    }

    /// A victim's LIFO slot, if it is still occupied after the grace period.
    fn steal_runnext(&self) -> Option<Runnable<TaskMeta>> {
        let shared = &*self.shared;
        for (victim, queue) in shared.queues.iter().enumerate() {
            if victim == self.index || !queue.has_runnext() {
                continue;
            }
            let start = Instant::now();
            while queue.has_runnext() && start.elapsed() < RUNNEXT_GRACE {
                spin(SPIN_PAUSES);
            }
            if let Some(runnable) = queue.steal_runnext() {
                self.stats().steals.incr();
                return Some(runnable);
            }
        }
        None
    }

    /// Step 6: sleeps until another thread hands this worker work.
    fn park(&self) {
        let shared = &*self.shared;
        if self.poll_reactor_now() {
            return;
        }
        // Spin only while no task waits on the reactor. A worker spinning
        // here would not notice I/O or timers (a parking one becomes the
        // driver), and with timers or sockets in play wake-ups come from
        // the driver in batches: spinning after each of them cost 30% more
        // CPU on the `timers` workload and won only about 4% on
        // `tcp_echo` (an adaptive spin was tried and did not pay its way).
        if !shared.reactor.has_interest() && self.spin_for_work() {
            return;
        }
        let was_searching = self.searching.replace(false);
        self.stats().parks.incr();
        trace::park(self.index);
        let parked = shared
            .idle
            .transition_worker_to_parked(self.index, was_searching);
        if parked.last_searcher && shared.has_pending_work() {
            // We were the last searcher, and work arrived meanwhile: make
            // sure someone (perhaps us) takes it.
            shared.notify_parked();
        }
        if parked.all_parked {
            // Every worker is idle now: a `block_on` waiting for its
            // future may be deadlocked (see `deadlock.rs`).
            shared.roots.all_workers_idle(shared);
        }
        loop {
            let drove = shared.parkers[self.index].park(&shared.reactor);
            if !shared.idle.is_parked(self.index) {
                // Whoever woke us counted us as searching
                // (`Idle::worker_to_notify`).
                self.searching.set(true);
                break;
            }
            if shared.is_shutdown() {
                return;
            }
            if drove && shared.has_pending_work() {
                // Our turn as the reactor's driver woke tasks (into our own
                // queue, or elsewhere): go and run them.
                shared.idle.unpark_self(self.index);
                self.searching.set(true);
                break;
            }
            if drove && shared.idle.all_parked() {
                // The turn may have fired the last timer: a waiting
                // `block_on` must check for a deadlock again.
                shared.roots.all_workers_idle(shared);
            }
        }
        self.stats().unparks.incr();
        trace::unpark(self.index);
        if shared.reactor.has_interest() && !shared.reactor.is_polling() {
            // Tasks still wait on timers or I/O and nobody is blocked in
            // the reactor: hand the driver role to a parked worker.
            shared.notify_parked();
        }
    }

    /// The loop of a spare worker (see `monitor.rs`): runs tasks while the
    /// worker in `slot` stays in the poll numbered `seq`, then hands its
    /// own queue to the injector. A spare never parks through `Idle`; when
    /// it finds nothing it waits in the reactor (or sleeps) for a
    /// millisecond and looks again.
    pub(crate) fn run_spare(&self, slot: usize, seq: u64) {
        let _enter = context::enter_worker(self);
        let shared = &*self.shared;
        let still_blocked = || shared.stats[slot].poll_seq.load(Acquire) == seq;
        while !shared.is_shutdown() && still_blocked() {
            if let Some(runnable) = self.next_task().or_else(|| self.spare_steal()) {
                self.run_task(runnable);
                continue;
            }
            if shared
                .reactor
                .drive(Some(SPARE_IDLE_WAIT), || true, || {})
                .is_none()
            {
                std::thread::park_timeout(SPARE_IDLE_WAIT);
            }
        }
        let queue = &shared.queues[self.index];
        let mut left = Vec::new();
        while let Some(runnable) = queue.pop().or_else(|| queue.pop_runnext()) {
            left.push(runnable);
        }
        if !left.is_empty() {
            shared.injector.push_batch(left.into_iter());
            shared.notify_parked();
        }
    }

    /// A spare's search: every other ring, LIFO slots included (their
    /// owners may be the blocked ones), then the injector.
    fn spare_steal(&self) -> Option<Runnable<TaskMeta>> {
        let shared = &*self.shared;
        for victim in 0..shared.queues.len() {
            if victim == self.index {
                continue;
            }
            if let Some(runnable) = self.steal_from(victim) {
                return Some(runnable);
            }
            if let Some(runnable) = shared.queues[victim].steal_runnext() {
                self.stats().steals.incr();
                return Some(runnable);
            }
        }
        self.pop_injector_batch()
    }

    /// Polls the reactor without blocking, if tasks wait on it and no
    /// worker is blocked in it (Go's `netpoll(0)` in `findrunnable`): I/O
    /// that became ready while every worker was busy is picked up before
    /// this worker spins or sleeps. Returns whether that produced work.
    fn poll_reactor_now(&self) -> bool {
        let shared = &*self.shared;
        let reactor = &shared.reactor;
        reactor.has_interest()
            && !reactor.is_polling()
            && reactor
                .drive(Some(Duration::ZERO), || false, || {})
                .is_some()
            && shared.has_pending_work()
    }

    /// Watches the queues for a short while before parking; returns whether
    /// work appeared. See [`SPIN_BEFORE_PARK`].
    fn spin_for_work(&self) -> bool {
        let start = Instant::now();
        while start.elapsed() < SPIN_BEFORE_PARK {
            spin(SPIN_PAUSES);
            if self.shared.has_pending_work() || self.shared.is_shutdown() {
                return true;
            }
        }
        false
    }

    fn next_random(&self) -> u64 {
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        x
    }
}

/// The ticks until the next `maintenance`, after one that was `interval`
/// ticks after the one before and whose reactor poll found `found` I/O
/// events (see [`IO_POLL_BATCH`]).
fn next_io_poll_interval(interval: u32, found: usize) -> u32 {
    if found >= IO_POLL_BATCH {
        IO_POLL_MIN
    } else {
        (interval * 2).min(IO_POLL_MAX)
    }
}

/// Executes `n` pause instructions: a polite busy wait.
fn spin(n: u32) {
    for _ in 0..n {
        std::hint::spin_loop();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_poll_that_finds_a_batch_of_io_events_shortens_the_interval_to_the_minimum() {
        assert_eq!(
            next_io_poll_interval(IO_POLL_MAX, IO_POLL_BATCH),
            IO_POLL_MIN
        );
        assert_eq!(next_io_poll_interval(IO_POLL_MIN, 100), IO_POLL_MIN);
    }

    #[test]
    fn a_poll_that_finds_fewer_events_doubles_the_interval_up_to_the_maximum() {
        assert_eq!(next_io_poll_interval(IO_POLL_MIN, 0), 2 * IO_POLL_MIN);
        assert_eq!(
            next_io_poll_interval(IO_POLL_MIN, IO_POLL_BATCH - 1),
            2 * IO_POLL_MIN
        );
        assert_eq!(next_io_poll_interval(IO_POLL_MAX, 0), IO_POLL_MAX);
        assert_eq!(next_io_poll_interval(4 * IO_POLL_MIN, 1), IO_POLL_MAX);
    }
}
