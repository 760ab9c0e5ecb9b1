//! The blocking pool: threads for `spawn_blocking`, so blocking calls never
//! stall the workers (Go hands its P to another M when a goroutine blocks
//! in a syscall; gorun asks you to say so with `spawn_blocking`).
//!
//! The pool starts empty, starts a thread when a task arrives and no
//! thread is idle (up to `Builder::max_blocking_threads`, default 512;
//! beyond that, tasks queue), and a thread that has been idle for
//! [`KEEP_ALIVE`] exits. One mutex guards the queue and the counts; a
//! blocking task takes far longer than the lock, so it is never contended
//! for long.
//!
//! On shutdown, queued tasks that have not started are dropped (their
//! handles report cancellation) and the runtime's drop waits for the
//! running ones to return, as tokio does.

use std::collections::VecDeque;
use std::io;
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::Duration;

use async_task::Runnable;

use crate::task::TaskMeta;

/// How long an idle blocking thread waits for work before it exits.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Default cap on blocking threads (tokio's figure).
pub(crate) const DEFAULT_MAX_THREADS: usize = 512;

struct State {
    queue: VecDeque<Runnable<TaskMeta>>,
    /// Threads alive.
    threads: usize,
    /// Threads waiting for work.
    idle: usize,
    /// Set on shutdown: threads exit once the queue is empty.
    shutdown: bool,
    /// Handles of exited-or-running threads, joined on shutdown.
    handles: Vec<thread::JoinHandle<()>>,
    /// The tasks running now, for the task dump.
    running: Vec<Running>,
}

/// A blocking task that is running, as the dump shows it.
#[derive(Clone, Copy)]
pub(crate) struct Running {
    pub(crate) id: crate::task::TaskId,
    pub(crate) location: &'static std::panic::Location<'static>,
    /// `TaskStatus::spawned_ms`.
    pub(crate) spawned_ms: u32,
}

/// See the module docs.
pub(crate) struct BlockingPool {
    state: Mutex<State>,
    /// Idle threads wait here.
    condvar: Condvar,
    max_threads: usize,
    thread_name: String,
}

impl BlockingPool {
    pub(crate) fn new(max_threads: usize, thread_name: String) -> BlockingPool {
        BlockingPool {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                threads: 0,
                idle: 0,
                shutdown: false,
                handles: Vec::new(),
                running: Vec::new(),
            }),
            condvar: Condvar::new(),
            max_threads,
            thread_name,
        }
    }

    /// Queues a blocking task and makes sure a thread will run it;
    /// `spawn_thread` starts a thread with the given name that runs
    /// [`BlockingPool::run_thread`] of this pool.
    pub(crate) fn submit(
        &self,
        runnable: Runnable<TaskMeta>,
        spawn_thread: impl FnOnce(String) -> io::Result<thread::JoinHandle<()>>,
    ) {
        let mut state = self.state.lock().unwrap();
        if state.shutdown {
            drop(state);
            // The runtime is gone: cancel the task.
            drop(runnable);
            return;
        }
        state.queue.push_back(runnable);
        if state.idle > 0 {
            self.condvar.notify_one();
        } else if state.threads < self.max_threads {
            let name = format!("{}-blocking-{}", self.thread_name, state.threads);
            match spawn_thread(name) {
                Ok(handle) => {
                    state.threads += 1;
                    state.handles.retain(|h| !h.is_finished());
                    state.handles.push(handle);
                }
                // No thread now: the task waits for a running thread to
                // come back, or for the next submit to try again.
                Err(_) if state.threads > 0 => {}
                Err(e) => panic!("gorun: cannot start a blocking thread: {e}"),
            }
        }
    }

    /// The loop of a blocking thread. `after_task` runs after each task,
    /// outside the lock.
    pub(crate) fn run_thread(&self, after_task: impl Fn()) {
        let mut state = self.state.lock().unwrap();
        loop {
            if let Some(runnable) = state.queue.pop_front() {
                let meta = runnable.metadata();
                let id = meta.id;
                state.running.push(Running {
                    id,
                    location: meta.location,
                    spawned_ms: meta.status.spawned_ms(),
                });
                drop(state);
                // Panics are caught inside the task (`task::Guarded`).
                runnable.run();
                state = self.state.lock().unwrap();
                if let Some(i) = state.running.iter().position(|r| r.id == id) {
                    state.running.swap_remove(i);
                }
                drop(state);
                after_task();
                state = self.state.lock().unwrap();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (next, wait) = self.condvar.wait_timeout(state, KEEP_ALIVE).unwrap();
            state = next;
            state.idle -= 1;
            if wait.timed_out() && state.queue.is_empty() && !state.shutdown {
                break;
            }
        }
        state.threads -= 1;
    }

    /// The tasks running now.
    pub(crate) fn running(&self) -> Vec<Running> {
        self.state.lock().unwrap().running.clone()
    }

    /// The number of pool threads, if all of them are idle and nothing is
    /// queued; `None` if the pool is doing anything.
    pub(crate) fn idle_threads(&self) -> Option<usize> {
        let state = self.state.lock().unwrap();
        // `running`, not `idle`: a thread that has finished its task (and
        // is about to wait) counts as idle already, so the deadlock check
        // that `after_task` may trigger sees the pool at rest.
        (state.queue.is_empty() && state.running.is_empty()).then_some(state.threads)
    }

    /// Whether the pool runs or queues any task.
    pub(crate) fn is_idle(&self) -> bool {
        self.idle_threads().is_some()
    }

    /// Drops the tasks that have not started and waits for the running
    /// ones. Must not be called from a blocking thread of this pool.
    pub(crate) fn shutdown(&self) {
        let (queued, handles) = {
            let mut state = self.state.lock().unwrap();
            state.shutdown = true;
            let queued: Vec<_> = state.queue.drain(..).collect();
            (queued, std::mem::take(&mut state.handles))
        };
        self.condvar.notify_all();
        drop(queued);
        for handle in handles {
            let _ = handle.join();
        }
    }
}
