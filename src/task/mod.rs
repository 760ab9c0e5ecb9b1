//! Tasks: what a spawned future becomes, and the handle to its result.
//!
//! A task is one `async_task` allocation holding the future wrapped in
//! [`Guarded`] and a [`TaskMeta`]. `Guarded` is where a task's life is
//! accounted for: it catches panics, obeys `abort`, registers the task in
//! the runtime's table the first time it waits, and counts the task as
//! finished when its future is dropped, whatever the reason.

mod guarded;
mod join;
pub(crate) mod wait;
mod yield_now;

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use async_task::{Runnable, ScheduleInfo, WithInfo};

pub(crate) use guarded::Guarded;
pub use join::{JoinError, JoinHandle};
pub use wait::{TaskState, WaitReason};
pub use yield_now::yield_now;

use crate::runtime::scheduler::Shared;
use crate::runtime::worker::Worker;
use crate::runtime::NO_SLOT;

/// A task's id: unique in the process, never reused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(u64);

impl TaskId {
    /// The id as a number.
    ///
    /// ```
    /// gorun::run(async {
    ///     let a = gorun::spawn(async {});
    ///     let b = gorun::spawn(async {});
    ///     assert_ne!(a.id().as_u64(), b.id().as_u64());
    /// });
    /// ```
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// The id with number `n`.
    pub(crate) fn from_u64(n: u64) -> TaskId {
        TaskId(n)
    }

    /// Allocates a fresh id on a thread that is not a worker.
    fn next() -> TaskId {
        std::thread_local! {
            static BLOCK: IdBlock = const { IdBlock::new() };
        }
        BLOCK.with(IdBlock::next)
    }
}

/// A range of task ids reserved by one thread. Threads take ids in blocks
/// of [`IdBlock::SIZE`] from a global counter, so spawning does not contend
/// on one cache line.
#[derive(Debug)]
pub(crate) struct IdBlock(Cell<(u64, u64)>);

impl IdBlock {
    /// Ids reserved at a time.
    const SIZE: u64 = 1024;

    pub(crate) const fn new() -> IdBlock {
        IdBlock(Cell::new((0, 0)))
    }

    /// The next id of the block, reserving a new block when it runs out.
    pub(crate) fn next(&self) -> TaskId {
        static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);
        let (mut next, mut end) = self.0.get();
        if next == end {
            next = NEXT_BLOCK.fetch_add(Self::SIZE, Relaxed);
            end = next + Self::SIZE;
        }
        self.0.set((next + 1, end));
        TaskId(next)
    }
}

impl fmt::Debug for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskId({})", self.0)
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a task carries besides its future, in the same allocation.
pub(crate) struct TaskMeta {
    /// The runtime the task belongs to.
    pub(crate) shared: Arc<Shared>,
    /// The task's id.
    pub(crate) id: TaskId,
    /// Where `spawn` was called, for the task dump.
    pub(crate) location: &'static Location<'static>,
    /// Where the task's waker is registered in the runtime's task table
    /// (`NO_SLOT` before it first waits and after it finished), and the
    /// [`ABORTED`] flag, in one word so `abort` and registration need no
    /// further ordering argument: see `Guarded`.
    pub(crate) state: AtomicU64,
    /// Running, runnable or waiting (on what), and when it was spawned:
    /// what the task dump shows.
    pub(crate) status: wait::TaskStatus,
}

/// Bit of `TaskMeta::state` set by `JoinHandle::abort`: the task drops its
/// future at its next poll.
pub(crate) const ABORTED: u64 = 1 << 63;

impl TaskMeta {
    /// The metadata of a task being spawned on `shared` from `worker` (or
    /// from a thread that is not one of its workers), counted as live and
    /// spawned from now on.
    fn new(
        shared: &Arc<Shared>,
        worker: Option<&Worker>,
        id: TaskId,
        location: &'static Location<'static>,
    ) -> TaskMeta {
        shared.tasks.on_spawn(worker.map(|w| w.index));
        shared.count_spawn(worker);
        crate::runtime::trace::spawn(id, location);
        TaskMeta {
            shared: shared.clone(),
            id,
            location,
            state: AtomicU64::new(NO_SLOT),
            status: wait::TaskStatus::new(),
        }
    }

    /// The task's registry slot, `NO_SLOT` if it has none.
    pub(crate) fn slot(state: u64) -> crate::runtime::Slot {
        state & !ABORTED
    }
}

/// async-task's schedule function: routes a runnable task to a queue of
/// its runtime.
#[inline]
fn schedule(runnable: Runnable<TaskMeta>, info: ScheduleInfo) {
    // Borrowing the runtime through the task keeps it alive for the call:
    // the runnable holds the task, and the task holds `shared`.
    let shared: *const Shared = &*runnable.metadata().shared;
    // SAFETY: `shared` points into an `Arc` owned by the task's metadata.
    // The scheduler either queues the runnable (a queue of that same
    // runtime, which the runtime itself keeps alive while we use it) or
    // drops it after its last use of `shared`.
    let shared = unsafe { &*shared };
    runnable.metadata().status.set_runnable();
    shared.schedule_woken(runnable, info.woken_while_running);
}

/// Spawns `future` onto the runtime `shared`. `worker` is the current
/// thread's worker, which must belong to `shared`, or `None` on any other
/// thread.
pub(crate) fn spawn_on<F>(
    shared: &Arc<Shared>,
    worker: Option<&Worker>,
    future: F,
    location: &'static Location<'static>,
) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let id = worker.map_or_else(TaskId::next, Worker::next_task_id);
    let meta = TaskMeta::new(shared, worker, id, location);
    let (runnable, task) = async_task::Builder::new()
        .metadata(meta)
        .spawn(|meta| Guarded::new(future, meta), WithInfo(schedule));
    match worker {
        Some(worker) => worker.push_back(runnable),
        None => shared.push_remote(runnable),
    }
    JoinHandle::new(task)
}

/// async-task's schedule function for `spawn_blocking` tasks.
fn schedule_blocking(runnable: Runnable<TaskMeta>) {
    let shared = runnable.metadata().shared.clone();
    Shared::schedule_blocking(&shared, runnable);
}

/// Runs `f` on the blocking pool of `shared`.
pub(crate) fn spawn_blocking_on<F, T>(
    shared: &Arc<Shared>,
    f: F,
    location: &'static Location<'static>,
) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let meta = TaskMeta::new(shared, None, TaskId::next(), location);
    let (runnable, task) = async_task::Builder::new().metadata(meta).spawn(
        |meta| Guarded::new(async move { f() }, meta),
        schedule_blocking,
    );
    runnable.schedule();
    JoinHandle::new(task)
}

/// Building tasks without a running runtime, for the loom models of the
/// scheduler's queues.
#[cfg(all(test, loom))]
pub(crate) mod testing {
    use super::*;

    /// A task of `shared` that does nothing; it is never scheduled.
    pub(crate) fn runnable(shared: &Arc<Shared>) -> Runnable<TaskMeta> {
        let meta = TaskMeta {
            shared: shared.clone(),
            id: TaskId::next(),
            location: Location::caller(),
            state: AtomicU64::new(NO_SLOT),
            status: wait::TaskStatus::new(),
        };
        let (runnable, task) = async_task::Builder::new()
            .metadata(meta)
            .spawn(|_| async {}, |_| {});
        task.detach();
        runnable
    }

    /// The id of a task.
    pub(crate) fn id_of(runnable: &Runnable<TaskMeta>) -> u64 {
        runnable.metadata().id.as_u64()
    }
}
