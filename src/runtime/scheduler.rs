//! The state all workers of one runtime share, and the scheduling policy
//! that routes a task to a queue.
//!
//! Where a task goes when it becomes runnable:
//! - spawned on a worker of its runtime: the back of that worker's ring;
//! - woken by the task running on a worker of its runtime: the worker's
//!   LIFO slot (Go's `runnext`), because the waker's data is hot in cache
//!   and the wakee is usually the next thing that can make progress;
//! - woken by itself while running (`yield_now`, a spent budget): the back
//!   of the ring, so everything queued runs before it again;
//! - from anywhere else (a plain thread, `block_on`, another runtime): the
//!   global injector.
//!
//! After a task lands in a ring or the injector, a parked worker is woken
//! if no worker is searching (see `idle.rs`). The LIFO slot is not offered
//! to thieves immediately, so filling it wakes nobody.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::Arc;
use std::time::Instant;

use async_task::Runnable;

use super::blocking::BlockingPool;
use super::deadlock::Roots;
use super::idle::Idle;
use super::injector::Injector;
use super::metrics::{Metrics, WorkerStats};
use super::monitor::Monitor;
use super::padded::CachePadded;
use super::park::Parker;
use super::queue::LocalQueue;
use super::tasks::TaskTable;
use super::worker::Worker;
use super::{context, Config};
use crate::reactor::timers::{Action, TimerKey};
use crate::reactor::Reactor;
use crate::task::TaskMeta;

/// Everything the workers of one runtime share. Aligned so the `Arc`'s
/// reference counts (touched by every spawn) do not share a cache line
/// with the read-mostly fields.
///
/// Per-worker arrays have a *slot* for each of the `N` workers and then
/// `N` more for spare workers (`monitor.rs`), which exist only while
/// workers are blocked.
#[repr(align(128))]
pub(crate) struct Shared {
    /// One run queue per worker slot.
    pub(crate) queues: Box<[CachePadded<LocalQueue>]>,
    /// One parker per worker slot.
    pub(crate) parkers: Box<[CachePadded<Parker>]>,
    /// Counters and the current poll, per worker slot.
    pub(crate) stats: Box<[CachePadded<WorkerStats>]>,
    /// Tasks spawned from threads that are not workers.
    external_spawned: AtomicU64,
    /// Budget-forced yields outside workers (`block_on` roots).
    pub(crate) external_budget_yields: AtomicU64,
    /// The blocking monitor's state and the spare workers.
    pub(crate) monitor: Monitor,
    /// The futures in `block_on` calls, for the deadlock detector and the
    /// dump.
    pub(crate) roots: Roots,
    /// The global queue.
    pub(crate) injector: Injector,
    /// Who is parked and who is searching.
    pub(crate) idle: Idle,
    /// Live-task counts and the registry of waiting tasks.
    pub(crate) tasks: TaskTable,
    /// I/O readiness and timers.
    pub(crate) reactor: Reactor,
    /// Threads for `spawn_blocking`.
    pub(crate) blocking: BlockingPool,
    /// Set when the runtime is dropped: workers exit their loops.
    pub(crate) shutdown: AtomicBool,
    /// The configuration the runtime was built with.
    pub(crate) config: Config,
}

impl Shared {
    pub(crate) fn new(config: Config) -> std::io::Result<Shared> {
        let workers = config.workers;
        let slots = 2 * workers;
        Ok(Shared {
            queues: (0..slots).map(|_| CachePadded(LocalQueue::new())).collect(),
            parkers: (0..slots).map(|_| CachePadded(Parker::new())).collect(),
            stats: (0..slots).map(|_| CachePadded::default()).collect(),
            external_spawned: AtomicU64::new(0),
            external_budget_yields: AtomicU64::new(0),
            monitor: Monitor::new(workers),
            roots: Roots::default(),
            injector: Injector::new(),
            idle: Idle::new(workers),
            tasks: TaskTable::new(slots),
            reactor: Reactor::new(slots + 1)?,
            blocking: BlockingPool::new(config.max_blocking_threads, config.thread_name.clone()),
            shutdown: AtomicBool::new(false),
            config,
        })
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(SeqCst)
    }

    /// How many rings a thief looks at: the workers', and the spares' too
    /// while any spare runs.
    #[inline]
    pub(crate) fn victims(&self) -> usize {
        if self.monitor.spares_alive.load(Relaxed) == 0 {
            self.config.workers
        } else {
            self.queues.len()
        }
    }

    /// Counts a spawn, on `worker`'s counters or the external one.
    #[inline]
    pub(crate) fn count_spawn(&self, worker: Option<&Worker>) {
        match worker {
            Some(w) => w.stats().spawned.incr(),
            None => {
                self.external_spawned.fetch_add(1, Relaxed);
            }
        }
    }

    /// A snapshot of the runtime's counters.
    pub(crate) fn metrics(&self) -> Metrics {
        let mut m = Metrics::collect(self.config.workers, &self.stats);
        m.tasks_spawned += self.external_spawned.load(Relaxed);
        m.budget_yields += self.external_budget_yields.load(Relaxed);
        m.tasks_alive = self.tasks.live();
        m.injector_pushes = self.injector.pushed();
        m.timers_armed = self.reactor.timers.armed();
        m.timers_pending = self.reactor.timers.len();
        m.reactor_wakeups = self.reactor.wakeups();
        m.blocking_reports = self.monitor.reports.load(Relaxed);
        m.spare_workers_started = self.monitor.spares_started.load(Relaxed);
        m
    }

    /// The index of the current thread's worker if it belongs to this
    /// runtime: the shard for per-worker bookkeeping.
    pub(crate) fn current_worker_index(&self) -> Option<usize> {
        context::with_worker(|w| w.filter(|w| w.belongs_to(self)).map(|w| w.index))
    }

    /// Arms a timer in the reactor: in the current worker's shard of the
    /// timer store (the last shard off the workers), and interrupts the
    /// driver if it may be sleeping past the new deadline. Every timer goes
    /// through here, so none can miss that interruption.
    pub(crate) fn arm_timer(&self, deadline: Instant, action: Action) -> TimerKey {
        let shard = self.current_worker_index().unwrap_or(self.queues.len());
        let key = self.reactor.timers.insert(shard, deadline, action);
        self.reactor.notify_if_later_than(deadline);
        key
    }

    /// Queues a woken task. `yielded` is async-task's
    /// `woken_while_running`: the task woke itself.
    pub(crate) fn schedule_woken(&self, runnable: Runnable<TaskMeta>, yielded: bool) {
        let remote = context::with_worker(|w| match w {
            Some(w) if w.belongs_to(self) => {
                if yielded {
                    w.push_back(runnable);
                } else {
                    w.push_runnext(runnable);
                }
                None
            }
            _ => Some(runnable),
        });
        if let Some(runnable) = remote {
            self.push_remote(runnable);
        }
    }

    /// Queues a task from outside this runtime's workers.
    pub(crate) fn push_remote(&self, runnable: Runnable<TaskMeta>) {
        if let Err(runnable) = self.injector.push(runnable) {
            // The runtime is gone: cancel the task (drops its future).
            drop(runnable);
            return;
        }
        self.notify_parked();
    }

    /// Queues a `spawn_blocking` task on the blocking pool. `this` is the
    /// runtime itself, for the thread the pool may start.
    pub(crate) fn schedule_blocking(this: &Arc<Shared>, runnable: Runnable<TaskMeta>) {
        this.blocking.submit(runnable, |name| {
            let shared = this.clone();
            std::thread::Builder::new()
                .name(name)
                .spawn(move || shared.blocking.run_thread(|| shared.after_blocking_task()))
        });
    }

    /// After a `spawn_blocking` task returns: if that left the whole
    /// runtime idle, a waiting `block_on` must look for a deadlock again
    /// (no worker parking will tell it).
    fn after_blocking_task(&self) {
        if self.idle.all_parked() {
            self.roots.all_workers_idle(self);
        }
    }

    /// Wakes a parked worker if work is waiting and nobody is searching.
    pub(crate) fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.parkers[index].unpark(&self.reactor);
        }
    }

    /// Whether any queue holds a task. Used by the last searcher before it
    /// parks (see `idle.rs`, rule 4).
    pub(crate) fn has_pending_work(&self) -> bool {
        !self.injector.is_empty() || self.queues.iter().any(|q| !q.is_empty())
    }

    /// Tells every worker to stop and wakes them.
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.store(true, SeqCst);
        self.monitor.shutdown();
        for parker in self.parkers.iter() {
            parker.unpark(&self.reactor);
        }
    }

    /// Drops every task left, after the workers have stopped: wakes each
    /// waiting task (which queues it), then drops everything queued, until
    /// nothing is left. Dropping a task's future can wake others, hence the
    /// loop. Finally closes the injector, so a task woken later (a waker held
    /// by a plain thread) is dropped instead of queued forever.
    pub(crate) fn drop_all_tasks(&self) {
        self.blocking.shutdown();
        self.reactor.shutdown();
        loop {
            let wakers = self.tasks.drain_wakers();
            let woke = !wakers.is_empty();
            wakers.into_iter().for_each(std::task::Waker::wake);
            let mut queued = self.injector.drain();
            for queue in self.queues.iter() {
                queued.extend(queue.drain());
            }
            if queued.is_empty() && !woke {
                break;
            }
            drop(queued);
        }
        drop(self.injector.close());
    }
}
