//! The global run queue ("injector"): tasks scheduled from outside a
//! worker, and the overflow of full local queues.
//!
//! A mutex around a `VecDeque`, like Go's `sched.runq`: every push and pop
//! moves a batch or comes from a slow path (a plain thread, a full ring), so
//! the lock is rarely contended, and a batch move is one lock instead of one
//! CAS per task. `len` is mirrored in an atomic so workers can check for
//! work without taking the lock.

use std::collections::VecDeque;

use async_task::Runnable;

use super::queue::{LocalQueue, LOCAL_QUEUE_CAPACITY};
use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Mutex;
use crate::task::TaskMeta;

struct State {
    queue: VecDeque<Runnable<TaskMeta>>,
    /// Set by `close` once the runtime has dropped all its tasks: a push
    /// after that hands the task back to be dropped.
    closed: bool,
    /// Tasks pushed so far, for the metrics.
    pushed: u64,
}

/// The global queue. See the module docs.
pub(crate) struct Injector {
    /// The tasks, oldest first, and whether the runtime is gone.
    state: Mutex<State>,
    /// `queue.len()`, readable without the lock. Written under the lock.
    len: AtomicUsize,
}

impl Injector {
    pub(crate) fn new() -> Injector {
        Injector {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                closed: false,
                pushed: 0,
            }),
            len: AtomicUsize::new(0),
        }
    }

    /// Whether the queue looks empty. `SeqCst` so that it is ordered after
    /// a parking worker's state change (see `idle.rs`).
    pub(crate) fn is_empty(&self) -> bool {
        self.len.load(SeqCst) == 0
    }

    /// Queues a task, or hands it back if the injector is closed.
    pub(crate) fn push(&self, runnable: Runnable<TaskMeta>) -> Result<(), Runnable<TaskMeta>> {
        let mut state = self.state.lock().unwrap();
        if state.closed {
            return Err(runnable);
        }
        state.queue.push_back(runnable);
        state.pushed += 1;
        self.len.store(state.queue.len(), SeqCst);
        Ok(())
    }

    /// Tasks pushed so far.
    pub(crate) fn pushed(&self) -> u64 {
        self.state.lock().unwrap().pushed
    }

    pub(crate) fn push_batch(&self, batch: impl Iterator<Item = Runnable<TaskMeta>>) {
        let mut state = self.state.lock().unwrap();
        let before = state.queue.len();
        state.queue.extend(batch);
        state.pushed += (state.queue.len() - before) as u64;
        self.len.store(state.queue.len(), SeqCst);
    }

    /// Takes the oldest task.
    pub(crate) fn pop(&self) -> Option<Runnable<TaskMeta>> {
        if self.is_empty() {
            return None;
        }
        let mut state = self.state.lock().unwrap();
        let queue = &mut state.queue;
        let task = queue.pop_front();
        self.len.store(queue.len(), SeqCst);
        task
    }

    /// Takes a fair share of the queue for a worker: one task to run now,
    /// and up to half a ring more pushed into `local` (which must belong to
    /// the calling worker). The share is `len / workers + 1`, Go's
    /// `globrunqget`, so one worker does not hoard what others could run.
    pub(crate) fn pop_batch_into(
        &self,
        local: &LocalQueue,
        workers: usize,
    ) -> Option<Runnable<TaskMeta>> {
        if self.is_empty() {
            return None;
        }
        let mut state = self.state.lock().unwrap();
        let queue = &mut state.queue;
        let first = queue.pop_front()?;
        let room = (LOCAL_QUEUE_CAPACITY - local.len()) as usize;
        let share = (queue.len() / workers.max(1))
            .min(LOCAL_QUEUE_CAPACITY as usize / 2)
            .min(room);
        // Straight into the caller's ring, under the lock: at most half a
        // ring of pointer moves, and no allocation. The ring has room, so
        // `push_back` cannot overflow back into this (locked) injector. No
        // thief needs waking: the ring's owner is about to work on it.
        for runnable in queue.drain(..share) {
            local.push_back(runnable, self);
        }
        self.len.store(queue.len(), SeqCst);
        Some(first)
    }

    /// Removes every task, for shutdown.
    pub(crate) fn drain(&self) -> Vec<Runnable<TaskMeta>> {
        let mut state = self.state.lock().unwrap();
        let all = state.queue.drain(..).collect();
        self.len.store(0, SeqCst);
        all
    }

    /// Closes the injector and returns what was left in it.
    pub(crate) fn close(&self) -> Vec<Runnable<TaskMeta>> {
        let mut state = self.state.lock().unwrap();
        state.closed = true;
        let all = state.queue.drain(..).collect();
        self.len.store(0, SeqCst);
        all
    }
}
