//! Deadlock detection: `block_on` panics with Go's `all goroutines are
//! asleep - deadlock!` and a task dump instead of hanging, when nothing can
//! ever wake its future again.
//!
//! Go knows every thread that could run Go code. gorun does not: a plain
//! thread holding a `Sender` may send in an hour. So the detector fires
//! only when it can prove that nothing at all can happen, that is, when all
//! of these hold at once:
//! 1. every `block_on` of the runtime is waiting for its future, and no
//!    waker of those futures has been called since they were last polled;
//! 2. every worker is parked, no spare worker runs, and no queue holds a
//!    task;
//! 3. no timer is armed and no I/O source is registered (a timer will fire,
//!    a socket may become ready);
//! 4. the blocking pool runs and queues nothing;
//! 5. every thread of the process is one of this runtime's (its workers,
//!    its pool threads, its monitor, the threads inside its `block_on`):
//!    there is no other thread that could wake anything. This is read from
//!    `/proc/self/task`, so the detector works on Linux only; elsewhere it
//!    never fires.
//!
//! After counting the threads, 1 to 4 are checked again: a change in
//! between means some thread was still doing something.
//!
//! When is it checked? By a `block_on` thread each time it is about to
//! sleep, and again whenever the last worker parks (`worker.rs` calls
//! [`Roots::all_workers_idle`], which wakes the `block_on` threads if the
//! cheap conditions hold). The two are ordered by `SeqCst` accesses (the
//! root's `waiting` flag against the idle count), so whichever comes last
//! sees the other. When only the thread count stands in the way, the root
//! looks again after a growing pause (a thread that is exiting still
//! counts until it is gone).

use std::panic::Location;
use std::sync::{Arc, Mutex};

use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::task::Wake;
use std::thread::Thread;
use std::time::Duration;

use super::dump::{Dump, RootRecord};
use super::scheduler::Shared;
use crate::task::wait::TaskStatus;

/// The first message line, as Go prints it.
pub(crate) const MESSAGE: &str = "all goroutines are asleep - deadlock!";

/// A future in `block_on`, and the waker that wakes its thread.
pub(crate) struct Root {
    thread: Thread,
    location: &'static Location<'static>,
    /// Set by the waker; cleared before each poll.
    woken: AtomicBool,
    /// Set while the thread sleeps (or is about to) for lack of progress.
    waiting: AtomicBool,
    /// Running, or waiting on what (for the dump).
    pub(crate) status: TaskStatus,
}

impl Root {
    pub(crate) fn new(location: &'static Location<'static>) -> Root {
        Root {
            thread: std::thread::current(),
            location,
            woken: AtomicBool::new(false),
            waiting: AtomicBool::new(false),
            status: TaskStatus::root(),
        }
    }

    /// Before a poll: forget earlier wake-ups.
    pub(crate) fn clear_woken(&self) {
        self.woken.store(false, SeqCst);
    }

    /// Whether the future's waker was called since `clear_woken`.
    pub(crate) fn was_woken(&self) -> bool {
        self.woken.load(SeqCst)
    }

    pub(crate) fn set_waiting(&self, waiting: bool) {
        self.waiting.store(waiting, SeqCst);
    }
}

impl Wake for Root {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, SeqCst);
        self.thread.unpark();
    }
}

/// The roots of one runtime.
pub(crate) struct Roots {
    list: Mutex<Vec<Arc<Root>>>,
    /// How many roots have `waiting` set (a cheap pre-check for workers).
    waiting: AtomicUsize,
}

impl Default for Roots {
    fn default() -> Roots {
        Roots {
            list: Mutex::default(),
            waiting: AtomicUsize::new(0),
        }
    }
}

impl Roots {
    /// Whether any root is waiting (what the last parking worker checks).
    pub(crate) fn any_waiting(&self) -> bool {
        self.waiting.load(SeqCst) != 0
    }

    pub(crate) fn add(&self, root: Arc<Root>) {
        self.list.lock().unwrap().push(root);
    }

    pub(crate) fn remove(&self, root: &Arc<Root>) {
        self.list.lock().unwrap().retain(|r| !Arc::ptr_eq(r, root));
    }

    /// Marks `root` as waiting (or not), keeping the count.
    pub(crate) fn set_waiting(&self, root: &Root, waiting: bool) {
        if waiting {
            self.waiting.fetch_add(1, SeqCst);
            root.set_waiting(true);
        } else {
            root.set_waiting(false);
            self.waiting.fetch_sub(1, SeqCst);
        }
    }

    /// Called by the worker that parked last: wakes the waiting roots so
    /// they run the check, if it can possibly succeed.
    pub(crate) fn all_workers_idle(&self, shared: &Shared) {
        if !self.any_waiting()
            || !shared.config.detect_deadlocks
            || shared.reactor.has_interest()
            || !shared.blocking.is_idle()
        {
            return;
        }
        for root in self.list.lock().unwrap().iter() {
            if root.waiting.load(SeqCst) {
                root.thread.unpark();
            }
        }
    }

    /// The roots, for a dump.
    pub(crate) fn records(&self) -> Vec<RootRecord> {
        self.list
            .lock()
            .unwrap()
            .iter()
            .map(|r| RootRecord {
                location: r.location,
                age: r.status.age(),
                state: r.status.state(),
            })
            .collect()
    }
}

/// What a check found.
pub(crate) enum Verdict {
    /// Something can still happen.
    Live,
    /// Everything but the thread count says deadlock: look again later.
    Unsure,
    /// Nothing can ever happen again: the dump.
    Deadlock(Dump),
}

/// Runs the check of the module docs for a root about to sleep.
pub(crate) fn check(shared: &Shared) -> Verdict {
    if !shared.config.detect_deadlocks {
        return Verdict::Live;
    }
    let Some(ours) = quiescent(shared) else {
        return Verdict::Live;
    };
    if process_threads() != Some(ours) {
        return Verdict::Unsure;
    }
    if quiescent(shared) != Some(ours) {
        return Verdict::Live;
    }
    Verdict::Deadlock(Dump::collect(shared))
}

/// Conditions 1 to 4; if they hold, the number of threads the runtime
/// accounts for.
fn quiescent(shared: &Shared) -> Option<usize> {
    let roots = {
        let list = shared.roots.list.lock().unwrap();
        if list
            .iter()
            .any(|r| !r.waiting.load(SeqCst) || r.woken.load(SeqCst))
        {
            return None;
        }
        list.len()
    };
    if !shared.idle.all_parked()
        || shared.monitor.spares_alive.load(SeqCst) != 0
        || shared.has_pending_work()
        || shared.reactor.has_interest()
        || shared.reactor.is_busy()
    {
        return None;
    }
    let pool = shared.blocking.idle_threads()?;
    let monitor = usize::from(shared.monitor.running.load(SeqCst));
    Some(shared.config.workers + pool + monitor + roots)
}

/// The number of threads in this process, where the OS tells.
fn process_threads() -> Option<usize> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        std::fs::read_dir("/proc/self/task")
            .ok()
            .map(|dir| dir.filter(|e| e.is_ok()).count())
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        None
    }
}

/// How long a root sleeps before checking again when the verdict was
/// `Unsure`: doubling from 1 ms up to 1 s.
pub(crate) fn next_pause(previous: Option<Duration>) -> Duration {
    previous.map_or(Duration::from_millis(1), |d| {
        (d * 2).min(Duration::from_secs(1))
    })
}

#[cfg(all(test, loom))]
mod loom_tests {
    use loom::sync::Arc;
    use loom::thread;

    use super::Roots;
    use crate::runtime::idle::Idle;

    /// The handshake between a `block_on` about to sleep and the last
    /// worker to park: either the root's check sees every worker parked, or
    /// the worker sees the root waiting (and wakes it to check). Never
    /// neither, which would leave a deadlocked program hanging unreported.
    #[test]
    fn the_root_or_the_last_parking_worker_always_sees_the_other() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(1));
            let roots = Arc::new(Roots::default());
            let worker = {
                let (idle, roots) = (idle.clone(), roots.clone());
                thread::spawn(move || {
                    let parked = idle.transition_worker_to_parked(0, false);
                    parked.all_parked && roots.any_waiting()
                })
            };
            // The root: marks itself waiting, then checks the workers.
            roots.waiting.fetch_add(1, super::SeqCst);
            let root_saw_all_parked = idle.all_parked();
            let worker_saw_root = worker.join().unwrap();
            assert!(root_saw_all_parked || worker_saw_root);
        });
    }
}
