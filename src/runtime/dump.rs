//! The task dump: Go's goroutine dump (`SIGQUIT`, pprof's `goroutine`
//! profile) for gorun tasks, as data and as text.
//!
//! Where the records come from, without any cost to the tasks that are not
//! being dumped:
//! - every task that has waited at least once is in the task table's
//!   registry (`tasks.rs`), whose entries point at the task's metadata:
//!   id, spawn location, spawn time and the status `Guarded` keeps;
//! - a task in its first poll is published by its worker (`metrics.rs`);
//! - a `spawn_blocking` task is listed by the pool while it runs;
//! - the futures inside `block_on` are listed by `deadlock.rs`.
//!
//! What is left is a task spawned and queued but never polled yet: a dump
//! counts those ([`Dump::not_started`]) instead of listing them, since
//! listing them would mean registering every task at spawn.

use std::collections::HashSet;
use std::fmt;
use std::panic::Location;
use std::time::Duration;

use super::scheduler::Shared;
use crate::task::wait::age_since;
use crate::task::{TaskId, TaskState};

/// One task in a [`Dump`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskRecord {
    /// The task's id.
    pub id: TaskId,
    /// Where it was spawned.
    pub location: &'static Location<'static>,
    /// How long ago it was spawned (to a few milliseconds).
    pub age: Duration,
    /// Running, runnable, or waiting on what.
    pub state: TaskState,
}

/// A future inside [`Runtime::block_on`](crate::Runtime::block_on) or
/// [`run`](crate::run): Go's `main` goroutine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RootRecord {
    /// Where `block_on` or `run` was called.
    pub location: &'static Location<'static>,
    /// How long ago it was called.
    pub age: Duration,
    /// Running or waiting on what.
    pub state: TaskState,
}

/// A snapshot of every task of a runtime: see [`dump`](crate::dump) and
/// [`Runtime::dump`](crate::Runtime::dump).
///
/// Its `Display` form reads like Go's goroutine dump, one paragraph per
/// task, oldest `block_on` first and then tasks by id:
///
/// ```text
/// block_on [chan receive (chan made at src/main.rs:4:22), 1.5s]:
///     called at src/main.rs:3:5
///
/// task 2 [sync.WaitGroup.Wait, 1.5s]:
///     spawned at src/main.rs:6:5
/// ```
///
/// ```
/// use gorun::debug::{TaskState, WaitReason};
///
/// let rt = gorun::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (tx, rx) = gorun::chan::<u32>(0);
///     let waiter = gorun::spawn(async move { rx.recv().await });
///     let id = waiter.id();
///     // Wait until the task is parked on the channel.
///     let mut parked = false;
///     for _ in 0..100_000 {
///         let dump = gorun::dump();
///         let record = dump.tasks().iter().find(|t| t.id == id).copied();
///         if let Some(t) = record {
///             if let TaskState::Waiting(WaitReason::ChanRecv { .. }) = t.state {
///                 assert!(dump.to_string().contains("chan receive"));
///                 parked = true;
///                 break;
///             }
///         }
///         gorun::yield_now().await;
///     }
///     assert!(parked);
///     tx.send(7).await.unwrap();
///     assert_eq!(waiter.await.unwrap(), Some(7));
/// });
/// ```
#[derive(Clone, Debug, Default)]
pub struct Dump {
    roots: Vec<RootRecord>,
    tasks: Vec<TaskRecord>,
    not_started: usize,
}

impl Dump {
    /// Every task listed, by id.
    pub fn tasks(&self) -> &[TaskRecord] {
        &self.tasks
    }

    /// The futures being run by `block_on`/`run` calls, oldest first.
    pub fn roots(&self) -> &[RootRecord] {
        &self.roots
    }

    /// Tasks spawned and queued that had not been polled yet when the dump
    /// was taken (counted, not listed: see the crate's `debug` docs).
    pub fn not_started(&self) -> usize {
        self.not_started
    }

    /// Takes a dump of the runtime `shared`.
    pub(crate) fn collect(shared: &Shared) -> Dump {
        let live = shared.tasks.live();
        let mut tasks = Vec::new();
        shared.tasks.for_each_registered(|meta| {
            tasks.push(TaskRecord {
                id: meta.id,
                location: meta.location,
                age: meta.status.age(),
                state: meta.status.state(),
            });
        });
        let mut listed: HashSet<TaskId> = tasks.iter().map(|t| t.id).collect();
        // Tasks in their first poll are not registered yet.
        for stats in shared.stats.iter() {
            let (seq, id, location, spawned_ms) = stats.current();
            let id = TaskId::from_u64(id);
            if let (1, Some(location)) = (seq % 2, location) {
                if listed.insert(id) {
                    tasks.push(TaskRecord {
                        id,
                        location,
                        age: age_since(spawned_ms),
                        state: TaskState::Running,
                    });
                }
            }
        }
        // A `spawn_blocking` task runs to completion in its one poll, so it
        // is never registered and never in a worker: only the pool lists it.
        tasks.extend(shared.blocking.running().into_iter().map(|r| TaskRecord {
            id: r.id,
            location: r.location,
            age: age_since(r.spawned_ms),
            state: TaskState::Blocking,
        }));
        tasks.sort_by_key(|t| t.id);
        Dump {
            roots: shared.roots.records(),
            not_started: live.saturating_sub(tasks.len()),
            tasks,
        }
    }
}

/// An age as a dump prints it: `4ms`, `2.5s`, `3m07s`.
struct Age(Duration);

impl fmt::Display for Age {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms < 1000 {
            write!(f, "{ms}ms")
        } else if ms < 60_000 {
            write!(f, "{:.1}s", self.0.as_secs_f64())
        } else {
            let s = self.0.as_secs();
            write!(f, "{}m{:02}s", s / 60, s % 60)
        }
    }
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut sep = |f: &mut fmt::Formatter<'_>| {
            if !std::mem::take(&mut first) {
                f.write_str("\n")?;
            }
            Ok(())
        };
        for root in &self.roots {
            sep(f)?;
            writeln!(f, "block_on [{}, {}]:", root.state, Age(root.age))?;
            writeln!(f, "    called at {}", root.location)?;
        }
        for task in &self.tasks {
            sep(f)?;
            writeln!(f, "task {} [{}, {}]:", task.id, task.state, Age(task.age))?;
            writeln!(f, "    spawned at {}", task.location)?;
        }
        if self.not_started > 0 {
            sep(f)?;
            writeln!(
                f,
                "... and {} task(s) queued that have not started yet",
                self.not_started
            )?;
        }
        if first {
            writeln!(f, "no tasks")?;
        }
        Ok(())
    }
}
