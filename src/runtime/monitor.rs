//! The monitor: a thread that notices tasks holding a worker too long
//! (Go's `sysmon`), reports them, and keeps the runtime running meanwhile.
//!
//! A stackless task cannot be preempted, so a task that blocks its thread
//! (a `std::thread::sleep`, a blocking read, a long computation without
//! `.await`) holds its worker and everything queued behind it. Every
//! `threshold / 4` the monitor looks at each worker's `poll_seq` (see
//! `metrics.rs`): odd and unchanged since an earlier look means one poll
//! is still running. Once that has lasted `threshold`:
//!
//! 1. The task is reported, once, with its id and spawn location.
//! 2. Its worker's queue is handed to the others. If some worker is not
//!    blocked, the monitor wakes a parked one, which steals the blocked
//!    worker's ring and LIFO slot like any other victim's. If every worker
//!    is blocked, it starts a *spare* worker in a slot of its own (there
//!    are as many spare slots as workers), which runs tasks, steals, and
//!    drives the reactor until the worker it replaces returns from its
//!    poll; it then hands its own queue to the injector and exits. This is
//!    Go's hand-off of a `P` whose `M` is stuck in a syscall, with the
//!    difference that the blocked worker keeps its queue (only thieves
//!    take from it) and resumes as before.
//!
//! The monitor sleeps on a condvar between looks, so dropping the runtime
//! stops it at once. Cost to the workers: none beyond the two stores per
//! poll that the metrics keep anyway.

use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::scheduler::Shared;
use super::worker::Worker;
use crate::task::TaskId;

/// The default [`Builder::blocking_threshold`](crate::Builder::blocking_threshold).
pub(crate) const DEFAULT_BLOCKING_THRESHOLD: Duration = Duration::from_millis(100);

/// A user's blocking-report hook. It runs on the monitor thread, which
/// catches its panics.
pub(crate) type BlockingHook = Arc<dyn Fn(&BlockingReport) + Send + Sync>;

/// A task found holding a worker past the blocking threshold: what the
/// [`on_blocking`](crate::Builder::on_blocking) hook receives.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
///
/// let reports = Arc::new(Mutex::new(Vec::new()));
/// let sink = reports.clone();
/// let rt = gorun::Runtime::builder()
///     .blocking_threshold(Some(Duration::from_millis(20)))
///     .on_blocking(move |r| sink.lock().unwrap().push(r.location()))
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     // Blocks its worker: this is what the monitor is for.
///     gorun::spawn(async { std::thread::sleep(Duration::from_millis(200)) })
///         .await
///         .unwrap();
/// });
/// assert_eq!(reports.lock().unwrap().len(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct BlockingReport {
    task: TaskId,
    location: &'static Location<'static>,
    worker: usize,
    held: Duration,
}

impl BlockingReport {
    /// The blocking task.
    pub fn task(&self) -> TaskId {
        self.task
    }

    /// Where the task was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// The index of the worker it holds (spare workers come after the
    /// regular ones).
    pub fn worker(&self) -> usize {
        self.worker
    }

    /// How long the task had been in one poll when the monitor reported it
    /// (at least this long).
    pub fn held(&self) -> Duration {
        self.held
    }
}

impl fmt::Display for BlockingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "task {} (spawned at {}) has held worker {} for {} ms without yielding; \
             move blocking calls and long computations to gorun::spawn_blocking, \
             or yield in long loops (gorun::yield_now)",
            self.task,
            self.location,
            self.worker,
            self.held.as_millis()
        )
    }
}

/// The monitor's shared state, in `Shared`.
pub(crate) struct Monitor {
    /// Set to stop the monitor thread.
    stop: Mutex<bool>,
    wake: Condvar,
    /// Whether the monitor thread runs (it counts as one of the runtime's
    /// threads for the deadlock detector).
    pub(crate) running: AtomicBool,
    /// Which spare slots have a thread.
    spare_busy: Box<[AtomicBool]>,
    /// Spare threads alive.
    pub(crate) spares_alive: AtomicUsize,
    /// Spare threads to join on shutdown.
    spare_threads: Mutex<Vec<thread::JoinHandle<()>>>,
    /// Reports made.
    pub(crate) reports: AtomicU64,
    /// Spares started.
    pub(crate) spares_started: AtomicU64,
}

impl Monitor {
    pub(crate) fn new(spares: usize) -> Monitor {
        Monitor {
            stop: Mutex::new(false),
            wake: Condvar::new(),
            running: AtomicBool::new(false),
            spare_busy: (0..spares).map(|_| AtomicBool::new(false)).collect(),
            spares_alive: AtomicUsize::new(0),
            spare_threads: Mutex::new(Vec::new()),
            reports: AtomicU64::new(0),
            spares_started: AtomicU64::new(0),
        }
    }

    /// Stops the monitor thread and joins the spares (the caller joins the
    /// monitor thread itself).
    pub(crate) fn shutdown(&self) {
        *self.stop.lock().unwrap() = true;
        self.wake.notify_all();
    }

    /// Joins the spare threads; after `shutdown` and the workers' exit.
    pub(crate) fn join_spares(&self) {
        let threads = std::mem::take(&mut *self.spare_threads.lock().unwrap());
        for t in threads {
            let _ = t.join();
        }
    }

    /// Sleeps up to `d`; returns `false` if the monitor must stop.
    fn sleep(&self, d: Duration) -> bool {
        let stop = self.stop.lock().unwrap();
        if *stop {
            return false;
        }
        let (stop, _) = self.wake.wait_timeout(stop, d).unwrap();
        !*stop
    }
}

/// What the monitor remembers of one worker slot between looks.
#[derive(Clone, Copy)]
struct Seen {
    seq: u64,
    since: Instant,
    reported: bool,
    handed_off: bool,
}

/// The monitor thread's loop.
pub(crate) fn run(shared: Arc<Shared>, threshold: Duration) {
    let interval = (threshold / 4).max(Duration::from_millis(1));
    let slots = shared.stats.len();
    let workers = shared.config.workers;
    let start = Instant::now();
    let mut seen = vec![
        Seen {
            seq: 0,
            since: start,
            reported: false,
            handed_off: false,
        };
        slots
    ];
    while shared.monitor.sleep(interval) {
        let now = Instant::now();
        let mut blocked_regular = 0;
        let mut newly_blocked = Vec::new();
        for (slot, s) in seen.iter_mut().enumerate() {
            let (seq, id, location, _) = shared.stats[slot].current();
            if seq % 2 == 0 || seq != s.seq {
                *s = Seen {
                    seq,
                    since: now,
                    reported: false,
                    handed_off: false,
                };
                continue;
            }
            let held = now - s.since;
            if held < threshold {
                continue;
            }
            if slot < workers {
                blocked_regular += 1;
            }
            if !s.reported {
                s.reported = true;
                if let Some(location) = location {
                    report(
                        &shared,
                        BlockingReport {
                            task: TaskId::from_u64(id),
                            location,
                            worker: slot,
                            held,
                        },
                    );
                }
            }
            if !s.handed_off {
                newly_blocked.push(slot);
                s.handed_off = true;
            }
        }
        for slot in newly_blocked {
            if blocked_regular < workers {
                // A worker that is not blocked can take the queue: make
                // sure one is awake to steal it.
                shared.notify_parked();
            } else {
                start_spare(&shared, slot, seen[slot].seq);
            }
        }
    }
}

fn report(shared: &Shared, report: BlockingReport) {
    shared.monitor.reports.fetch_add(1, Relaxed);
    match &shared.config.on_blocking {
        Some(hook) => {
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(&report))).is_err() {
                eprintln!("gorun: the on_blocking hook panicked; report was: {report}");
            }
        }
        None => eprintln!("gorun: {report}"),
    }
}

/// Starts a spare worker to stand in for the worker in `slot`, blocked in
/// the poll numbered `seq`, if a spare slot is free.
fn start_spare(shared: &Arc<Shared>, slot: usize, seq: u64) {
    let monitor = &shared.monitor;
    let Some(free) = monitor
        .spare_busy
        .iter()
        .position(|busy| busy.compare_exchange(false, true, AcqRel, Relaxed).is_ok())
    else {
        return;
    };
    let index = shared.config.workers + free;
    let name = format!("{}-spare-{free}", shared.config.thread_name);
    let spare_shared = shared.clone();
    monitor.spares_alive.fetch_add(1, SeqCst);
    let started = thread::Builder::new().name(name).spawn(move || {
        Worker::new(spare_shared.clone(), index).run_spare(slot, seq);
        spare_shared.monitor.spares_alive.fetch_sub(1, SeqCst);
        spare_shared.monitor.spare_busy[free].store(false, Release);
    });
    match started {
        Ok(handle) => {
            monitor.spares_started.fetch_add(1, Relaxed);
            let mut threads = monitor.spare_threads.lock().unwrap();
            threads.retain(|t| !t.is_finished());
            threads.push(handle);
        }
        Err(e) => {
            monitor.spares_alive.fetch_sub(1, SeqCst);
            monitor.spare_busy[free].store(false, Release);
            eprintln!("gorun: cannot start a spare worker: {e}");
        }
    }
}
