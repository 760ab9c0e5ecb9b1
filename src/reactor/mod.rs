//! The reactor: I/O readiness from the OS (through the [`polling`] crate)
//! and timers, driven by the scheduler the way Go's netpoller is.
//!
//! There is no reactor thread. A worker that finds nothing to run and is
//! about to park becomes the *driver* instead, if no other worker is (at
//! most one at a time): it blocks in `Poller::wait` with a timeout equal to
//! the nearest timer deadline. Ready I/O and fired timers wake their tasks
//! into that worker's queues; it then leaves the driver role and runs them,
//! and hands the role to a parked worker if anything is still waiting. A
//! worker that parks while another drives sleeps on its own condvar.
//!
//! Everything else reaches the driver through `Poller::notify`: waking a
//! parked worker that happens to be the driver (see `park.rs`) interrupts
//! its wait, so new work never waits for a timeout. Busy workers also fire
//! expired timers and poll I/O without blocking every 16 to 61 scheduler
//! ticks (16 while polls find I/O), so timers stay on time and I/O is
//! picked up while no worker is idle.

pub(crate) mod source;
pub(crate) mod timers;

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::{Duration, Instant};

use polling::{Event, Events, PollMode, Poller};

use source::{Direction, Source};
use timers::Timers;

/// The granularity of the driver's timer wake-ups. A poll timeout is
/// rounded up to a whole number of these, so timers whose deadlines fall
/// within one such slot fire in one wake-up (tokio's timer wheel has the
/// same 1 ms resolution). Without it, 100,000 sleeps spread over 100 ms
/// woke the driver about 30 times per millisecond (`timers` workload:
/// 3,900 context switches against tokio's 800). A timer never fires early.
const TIMER_RESOLUTION: Duration = Duration::from_millis(1);

/// `timeout` rounded up to a multiple of [`TIMER_RESOLUTION`].
fn round_up_to_resolution(timeout: Duration) -> Duration {
    let step = TIMER_RESOLUTION.as_nanos();
    let steps = timeout.as_nanos().div_ceil(step);
    Duration::from_nanos(u64::try_from(steps * step).unwrap_or(u64::MAX))
}

/// See the module docs.
pub(crate) struct Reactor {
    /// The OS poller (epoll, kqueue, ...).
    poller: Poller,
    /// Whether sources are registered edge-triggered (else one-shot).
    edge: bool,
    /// Registered sources by key; `None` marks a free key.
    sources: Mutex<Vec<Option<Arc<Source>>>>,
    /// Keys free for reuse.
    free_keys: Mutex<Vec<usize>>,
    /// The event buffer; its lock is the driver role.
    events: Mutex<Events>,
    /// Whether a worker is blocked in `Poller::wait` right now.
    polling: AtomicBool,
    /// The pending timers.
    pub(crate) timers: Timers,
    /// Number of registered sources, readable without a lock.
    num_sources: AtomicUsize,
    /// Returns from `Poller::wait` that blocked, for the metrics. Written
    /// by the driver only.
    wakeups: AtomicU64,
    /// Set while a driver handles what its poll found, from the end of the
    /// wait until the last timer callback returned. The driver counts as
    /// parked meanwhile, so the deadlock detector must know it may still
    /// wake tasks or arm timers. It is set before a timer leaves the store,
    /// so a detector that sees the store empty then sees `busy`.
    busy: AtomicBool,
}

impl Reactor {
    /// A reactor whose timer store has `shards` shards.
    pub(crate) fn new(shards: usize) -> io::Result<Reactor> {
        let poller = Poller::new()?;
        Ok(Reactor {
            edge: poller.supports_edge(),
            poller,
            sources: Mutex::new(Vec::new()),
            free_keys: Mutex::new(Vec::new()),
            events: Mutex::new(Events::new()),
            polling: AtomicBool::new(false),
            timers: Timers::new(shards),
            num_sources: AtomicUsize::new(0),
            wakeups: AtomicU64::new(0),
            busy: AtomicBool::new(false),
        })
    }

    /// Registers a non-blocking file descriptor for both directions.
    ///
    /// # Safety
    /// `fd` must stay open until [`Reactor::deregister`] is called for the
    /// returned source.
    pub(crate) unsafe fn register(&self, fd: RawFd) -> io::Result<Arc<Source>> {
        let key = self.free_keys.lock().unwrap().pop();
        let mut sources = self.sources.lock().unwrap();
        let key = key.unwrap_or(sources.len());
        let source = Arc::new(Source::new(fd, key));
        let mode = if self.edge {
            PollMode::Edge
        } else {
            PollMode::Oneshot
        };
        let interest = if self.edge {
            Event::all(key)
        } else {
            Event::none(key)
        };
        // SAFETY: the caller keeps `fd` open until `deregister`, which
        // deletes it from the poller first.
        unsafe { self.poller.add_with_mode(fd, interest, mode)? };
        self.num_sources.fetch_add(1, SeqCst);
        if key == sources.len() {
            sources.push(Some(source.clone()));
        } else {
            sources[key] = Some(source.clone());
        }
        Ok(source)
    }

    /// Removes a source and wakes anything still waiting on it.
    pub(crate) fn deregister(&self, source: &Source) -> io::Result<()> {
        // SAFETY: `source.fd` is still open (the caller's contract).
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(source.fd) };
        let result = self.poller.delete(fd);
        self.sources.lock().unwrap()[source.key] = None;
        self.free_keys.lock().unwrap().push(source.key);
        self.num_sources.fetch_sub(1, SeqCst);
        source.wake_all();
        result
    }

    /// In one-shot mode, re-arms interest in the directions tasks wait on.
    pub(crate) fn arm(&self, source: &Source) -> io::Result<()> {
        if self.edge {
            return Ok(());
        }
        let interest = Event::new(
            source.key,
            source.has_waiters(Direction::Read),
            source.has_waiters(Direction::Write),
        );
        // SAFETY: as in `deregister`.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(source.fd) };
        self.poller
            .modify_with_mode(fd, interest, PollMode::Oneshot)
    }

    /// Interrupts a blocked `poll` (or makes the next one return at once).
    pub(crate) fn notify(&self) {
        // Failing to write to the poller's eventfd would mean the process
        // is out of file descriptors or memory; nothing sensible to do.
        let _ = self.poller.notify();
    }

    /// Interrupts a blocked `poll` whose timeout may end after `deadline`,
    /// so it picks up a newly armed timer.
    pub(crate) fn notify_if_later_than(&self, deadline: Instant) {
        if self.is_polling() && self.timers.next_deadline() == Some(deadline) {
            // The new timer is the earliest: the driver may be sleeping
            // past it.
            self.notify();
        }
    }

    /// Blocking waits in the OS poller that returned so far.
    pub(crate) fn wakeups(&self) -> u64 {
        self.wakeups.load(Relaxed)
    }

    /// Whether a worker is blocked in `poll` now.
    pub(crate) fn is_polling(&self) -> bool {
        self.polling.load(SeqCst)
    }

    /// Whether anything waits on the reactor: a timer or a source.
    pub(crate) fn has_interest(&self) -> bool {
        self.num_sources.load(SeqCst) != 0 || !self.timers.is_empty()
    }

    /// Becomes the driver, if nobody else is, and polls: blocks up to
    /// `timeout` (`None`: until an event or a notification; the nearest
    /// timer shortens it), then wakes the tasks whose I/O is ready and runs
    /// expired timers. Returns `None` if another worker is the driver, else
    /// the number of I/O events the wait returned.
    ///
    /// `before_wait` runs after the role is taken and before blocking, and
    /// may veto the blocking wait (it returns `false` when a wake-up arrived
    /// meanwhile, see `park.rs`); `after_wait` runs right after the wait,
    /// before any task is woken.
    pub(crate) fn drive(
        &self,
        timeout: Option<Duration>,
        before_wait: impl FnOnce() -> bool,
        after_wait: impl FnOnce(),
    ) -> Option<usize> {
        let Ok(mut events) = self.events.try_lock() else {
            return None;
        };
        // `polling` is set before the nearest deadline is read. A task
        // arming a timer stores its deadline and then reads `polling`
        // (`notify_if_later_than`); with both sides `SeqCst`, either this
        // read sees the new deadline or that one sees `polling` and
        // interrupts the wait. Read the other way round, both could miss,
        // and the driver slept past the timer with nobody to wake it.
        self.polling.store(true, SeqCst);
        let now = Instant::now();
        let timer_timeout = self
            .timers
            .next_deadline()
            .map(|at| round_up_to_resolution(at.saturating_duration_since(now)));
        let timeout = match (timeout, timer_timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let block = timeout != Some(Duration::ZERO) && before_wait();
        events.clear();
        // An error from the poller (EINTR is handled by `polling`) leaves
        // no events; the caller simply runs its loop again.
        let _ = self.poller.wait(
            &mut events,
            if block { timeout } else { Some(Duration::ZERO) },
        );
        // Before any timer leaves the store (see `busy`).
        self.busy.store(true, SeqCst);
        self.polling.store(false, SeqCst);
        if block {
            // Only the driver (holding `events`) writes this counter.
            self.wakeups.store(self.wakeups.load(Relaxed) + 1, Relaxed);
            after_wait();
        }
        let mut wakers = Vec::new();
        {
            let sources = self.sources.lock().unwrap();
            for event in events.iter() {
                let Some(Some(source)) = sources.get(event.key) else {
                    continue;
                };
                if event.readable {
                    source.set_ready(Direction::Read, &mut wakers);
                }
                if event.writable {
                    source.set_ready(Direction::Write, &mut wakers);
                }
            }
        }
        let found = events.len();
        wakers.into_iter().for_each(Waker::wake);
        self.fire_timers(Instant::now());
        // Still holding the role: nobody else sets `busy` meanwhile.
        self.busy.store(false, SeqCst);
        drop(events);
        Some(found)
    }

    /// Whether a driver is polling or running what it found (see `busy`).
    pub(crate) fn is_busy(&self) -> bool {
        self.busy.load(SeqCst)
    }

    /// Runs the actions of every timer that expired by `now`.
    pub(crate) fn fire_timers(&self, now: Instant) {
        for action in self.timers.take_expired(now) {
            action.run();
        }
    }

    /// Wakes every task waiting on a source or a timer, for shutdown, and
    /// drops the timers' callbacks.
    pub(crate) fn shutdown(&self) {
        let sources: Vec<_> = self
            .sources
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .cloned()
            .collect();
        for source in sources {
            source.wake_all();
        }
        for action in self.timers.drain() {
            if let timers::Action::Wake(waker) = action {
                waker.wake();
            }
        }
    }
}
