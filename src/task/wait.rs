//! What a task is waiting on, for the task dump and the deadlock report.
//!
//! A gorun primitive that is about to return `Pending` calls [`record`]
//! with what it waits on; this only writes a thread-local. Every poll of a
//! task ends by taking that record (so none outlives its poll); when the
//! poll returned `Pending`, `Guarded` stores it in the task's
//! [`TaskStatus`], where a dump reads it. The last record wins, so a
//! `select!` records `Select` after its cases have recorded theirs. A task
//! pending on a future gorun does not know about shows as
//! [`WaitReason::Other`].
//!
//! The status is two words written only by the thread running or
//! scheduling the task, with plain (relaxed) stores: a dump taken while the
//! task changes state may see the old state or the new one, never a torn
//! reason (the reason is written before the state that publishes it).

use std::cell::Cell;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::*};
use std::time::{Duration, Instant};

use super::TaskId;

/// What a waiting task waits on. Part of a [`TaskState::Waiting`] record in a
/// [`Dump`](crate::debug::Dump).
///
/// [`TaskState::Waiting`]: crate::debug::TaskState::Waiting
///
/// ```
/// use gorun::debug::{TaskState, WaitReason};
///
/// let rt = gorun::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (_tx, rx) = gorun::chan::<u8>(0);
///     gorun::spawn(async move { rx.recv().await });
///     let receiving = || {
///         gorun::dump().tasks().iter().any(|t| {
///             matches!(t.state, TaskState::Waiting(WaitReason::ChanRecv { .. }))
///         })
///     };
///     for _ in 0..100_000 {
///         if receiving() {
///             break;
///         }
///         gorun::yield_now().await;
///     }
///     assert!(receiving());
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitReason {
    /// Receiving from a channel (Go's `chan receive`); `chan` is where the
    /// channel was made.
    ChanRecv {
        /// Where `chan()` was called.
        chan: &'static Location<'static>,
    },
    /// Sending on a channel (Go's `chan send`).
    ChanSend {
        /// Where `chan()` was called.
        chan: &'static Location<'static>,
    },
    /// In a `select!` or [`Select`](crate::Select) with no ready case.
    Select,
    /// In `sleep`, `sleep_until`, a `Timer`, a `Ticker` or a `timeout`.
    Sleep {
        /// When the timer fires.
        until: Instant,
    },
    /// Waiting for a socket or file descriptor to become ready.
    Io,
    /// In `WaitGroup::wait` (Go's `sync.WaitGroup.Wait`).
    WaitGroup,
    /// Locking a `sync::Mutex` (Go's `sync.Mutex.Lock`).
    Mutex,
    /// Locking a `sync::RwLock` for reading or writing.
    RwLock,
    /// Acquiring `sync::Semaphore` permits.
    Semaphore,
    /// Waiting for another caller's `sync::Once` initialisation.
    Once,
    /// Waiting for a `Context` to be done.
    Context,
    /// Awaiting another task's `JoinHandle`.
    Join {
        /// The awaited task.
        task: TaskId,
    },
    /// Pending on a future that is not a gorun primitive.
    Other,
}

impl fmt::Display for WaitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitReason::ChanRecv { chan } => write!(f, "chan receive (chan made at {chan})"),
            WaitReason::ChanSend { chan } => write!(f, "chan send (chan made at {chan})"),
            WaitReason::Select => f.write_str("select"),
            WaitReason::Sleep { until } => {
                let left = until.saturating_duration_since(Instant::now());
                write!(f, "sleep (fires in {left:.1?})")
            }
            WaitReason::Io => f.write_str("IO wait"),
            WaitReason::WaitGroup => f.write_str("sync.WaitGroup.Wait"),
            WaitReason::Mutex => f.write_str("sync.Mutex.Lock"),
            WaitReason::RwLock => f.write_str("sync.RWMutex.Lock"),
            WaitReason::Semaphore => f.write_str("semacquire"),
            WaitReason::Once => f.write_str("sync.Once.Do"),
            WaitReason::Context => f.write_str("context done"),
            WaitReason::Join { task } => write!(f, "join task {task}"),
            WaitReason::Other => f.write_str("waiting"),
        }
    }
}

// Kinds, as stored in the low byte of a status word's reason field.
const OTHER: u32 = 0;
const CHAN_RECV: u32 = 1;
const CHAN_SEND: u32 = 2;
const SELECT: u32 = 3;
const SLEEP: u32 = 4;
const IO: u32 = 5;
const WAIT_GROUP: u32 = 6;
const MUTEX: u32 = 7;
const RW_LOCK: u32 = 8;
const SEMAPHORE: u32 = 9;
const ONCE: u32 = 10;
const CONTEXT: u32 = 11;
const JOIN: u32 = 12;

/// The instant `Sleep` deadlines (and timer channels' due times) are
/// measured from: its first use.
pub(crate) fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl WaitReason {
    /// `(kind, detail)`: what the status words store.
    #[inline]
    fn encode(self) -> (u32, u64) {
        fn loc(l: &'static Location<'static>) -> u64 {
            l as *const Location<'static> as usize as u64
        }
        match self {
            WaitReason::Other => (OTHER, 0),
            WaitReason::ChanRecv { chan } => (CHAN_RECV, loc(chan)),
            WaitReason::ChanSend { chan } => (CHAN_SEND, loc(chan)),
            WaitReason::Select => (SELECT, 0),
            WaitReason::Sleep { until } => {
                let nanos = until.saturating_duration_since(epoch()).as_nanos();
                (SLEEP, u64::try_from(nanos).unwrap_or(u64::MAX))
            }
            WaitReason::Io => (IO, 0),
            WaitReason::WaitGroup => (WAIT_GROUP, 0),
            WaitReason::Mutex => (MUTEX, 0),
            WaitReason::RwLock => (RW_LOCK, 0),
            WaitReason::Semaphore => (SEMAPHORE, 0),
            WaitReason::Once => (ONCE, 0),
            WaitReason::Context => (CONTEXT, 0),
            WaitReason::Join { task } => (JOIN, task.as_u64()),
        }
    }

    fn decode(kind: u32, detail: u64) -> WaitReason {
        fn loc(detail: u64) -> &'static Location<'static> {
            // SAFETY: `detail` was made by `encode` from a
            // `&'static Location` for these kinds (see `TaskStatus`, which
            // writes the detail before the kind that says what it is).
            unsafe { &*(detail as usize as *const Location<'static>) }
        }
        match kind {
            CHAN_RECV => WaitReason::ChanRecv { chan: loc(detail) },
            CHAN_SEND => WaitReason::ChanSend { chan: loc(detail) },
            SELECT => WaitReason::Select,
            SLEEP => WaitReason::Sleep {
                until: epoch() + Duration::from_nanos(detail),
            },
            IO => WaitReason::Io,
            WAIT_GROUP => WaitReason::WaitGroup,
            MUTEX => WaitReason::Mutex,
            RW_LOCK => WaitReason::RwLock,
            SEMAPHORE => WaitReason::Semaphore,
            ONCE => WaitReason::Once,
            CONTEXT => WaitReason::Context,
            JOIN => WaitReason::Join {
                task: TaskId(detail),
            },
            _ => WaitReason::Other,
        }
    }
}

std::thread_local! {
    /// The reason recorded by the last primitive that went pending on this
    /// thread, with `HAS_REASON` set in the kind; cleared by [`take`].
    static RECORDED: Cell<(u32, u64)> = const { Cell::new((OTHER, 0)) };
}

/// Set in a recorded kind: a reason was recorded.
const HAS_REASON: u32 = 1 << 16;

/// Records what the current task is about to wait on. Called by gorun's
/// primitives when they return `Pending`; costs one thread-local write.
#[inline]
pub(crate) fn record(reason: WaitReason) {
    let (kind, detail) = reason.encode();
    RECORDED.with(|r| r.set((kind | HAS_REASON, detail)));
}

/// Puts back a reason set aside with [`take`], if it holds one.
#[inline]
pub(crate) fn restore(recorded: Recorded) {
    if recorded.0 & HAS_REASON != 0 {
        RECORDED.with(|r| r.set((recorded.0, recorded.1)));
    }
}

/// A reason as recorded: encoded, `HAS_REASON` set if there is one.
#[derive(Clone, Copy)]
pub(crate) struct Recorded(u32, u64);

impl Recorded {
    /// The reason, if one was recorded.
    #[cfg(test)]
    pub(crate) fn reason(self) -> Option<WaitReason> {
        (self.0 & HAS_REASON != 0).then(|| WaitReason::decode(self.0 & !HAS_REASON, self.1))
    }
}

/// Takes the reason recorded since the last call (still encoded: a task's
/// status stores it as it is).
#[inline]
pub(crate) fn take() -> Recorded {
    let (kind, detail) = RECORDED.with(|r| r.replace((OTHER, 0)));
    Recorded(kind, detail)
}

/// Forgets any recorded reason (before polling a `block_on` root, so a
/// reason recorded by code that is not a task's poll does not leak into
/// it). Tasks need no such call: their polls end with `take`, whether they
/// finish or not.
#[inline]
pub(crate) fn clear() {
    RECORDED.with(|r| r.set((OTHER, 0)));
}

/// A task's scheduling state, as a dump reports it.
///
/// ```
/// use gorun::debug::TaskState;
///
/// let rt = gorun::Runtime::new().unwrap();
/// rt.block_on(async {
///     // The task is running while it takes the dump.
///     let me = gorun::spawn(async {
///         gorun::dump().tasks().iter().any(|t| t.state == TaskState::Running)
///     });
///     assert!(me.await.unwrap());
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskState {
    /// Being polled by a worker.
    Running,
    /// Queued, waiting for a worker.
    Runnable,
    /// Waiting to be woken, on what `WaitReason` says.
    Waiting(WaitReason),
    /// A `spawn_blocking` function running on the blocking pool.
    Blocking,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskState::Running => f.write_str("running"),
            TaskState::Runnable => f.write_str("runnable"),
            TaskState::Waiting(reason) => reason.fmt(f),
            TaskState::Blocking => f.write_str("running on the blocking pool"),
        }
    }
}

// States, in the low byte of `TaskStatus::state`; the wait kind is in the
// second byte. A `spawn_blocking` task is shown as `Blocking` by the pool's
// own list of running tasks, not by its status.
const RUNNABLE: u32 = 0;
const RUNNING: u32 = 1;
const WAITING: u32 = 2;

/// A task's state and spawn time, in its metadata. See the module docs.
pub(crate) struct TaskStatus {
    /// `kind << 8 | state`.
    state: AtomicU32,
    /// When the task was spawned, in milliseconds of [`coarse_now_ms`].
    spawned_ms: u32,
    /// The wait reason's detail (see `WaitReason::encode`).
    detail: AtomicU64,
}

impl TaskStatus {
    /// A fresh task's status: runnable, spawned now.
    pub(crate) fn new() -> TaskStatus {
        TaskStatus {
            state: AtomicU32::new(RUNNABLE),
            spawned_ms: coarse_now_ms(),
            detail: AtomicU64::new(0),
        }
    }

    /// The task is being polled.
    #[inline]
    pub(crate) fn set_running(&self) {
        self.state.store(RUNNING, Relaxed);
    }

    /// The task was queued.
    #[inline]
    pub(crate) fn set_runnable(&self) {
        self.state.store(RUNNABLE, Relaxed);
    }

    /// The task returned `Pending`, waiting on what was recorded (nothing
    /// recorded: `Other`, which encodes as kind 0).
    #[inline]
    pub(crate) fn set_waiting(&self, recorded: Recorded) {
        let Recorded(kind, detail) = recorded;
        let kind = kind & !HAS_REASON;
        self.detail.store(detail, Relaxed);
        // Release: a dump that reads this state reads the detail above.
        self.state.store(kind << 8 | WAITING, Release);
    }

    /// The task's state now.
    pub(crate) fn state(&self) -> TaskState {
        let state = self.state.load(Acquire);
        match state & 0xff {
            RUNNING => TaskState::Running,
            WAITING => {
                let detail = self.detail.load(Relaxed);
                TaskState::Waiting(WaitReason::decode((state >> 8) & 0xff, detail))
            }
            _ => TaskState::Runnable,
        }
    }

    /// How long ago the task was spawned (to the clock's few milliseconds).
    pub(crate) fn age(&self) -> Duration {
        age_since(self.spawned_ms)
    }

    /// When the task was spawned, on [`coarse_now_ms`]'s clock.
    pub(crate) fn spawned_ms(&self) -> u32 {
        self.spawned_ms
    }
}

/// The time since `ms` on [`coarse_now_ms`]'s clock.
pub(crate) fn age_since(ms: u32) -> Duration {
    Duration::from_millis(u64::from(coarse_now_ms().wrapping_sub(ms)))
}

impl TaskStatus {
    /// The status of a `block_on` root: running, "spawned" now.
    pub(crate) fn root() -> TaskStatus {
        let status = TaskStatus::new();
        status.set_running();
        status
    }
}

/// A cheap monotonic clock in milliseconds, wrapping after 49 days (ages
/// are differences, so they stay right for anything younger than that).
/// On Linux it reads `CLOCK_MONOTONIC_COARSE` (a few nanoseconds, no
/// `rdtsc`), which is why spawning can afford it.
pub(crate) fn coarse_now_ms() -> u32 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse);
        (t.tv_sec as u64)
            .wrapping_mul(1000)
            .wrapping_add(t.tv_nsec as u64 / 1_000_000) as u32
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        epoch().elapsed().as_millis() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_survives_the_status_words() {
        let here = Location::caller();
        let until = Instant::now() + Duration::from_secs(3);
        let reasons = [
            WaitReason::ChanRecv { chan: here },
            WaitReason::ChanSend { chan: here },
            WaitReason::Select,
            WaitReason::Io,
            WaitReason::WaitGroup,
            WaitReason::Mutex,
            WaitReason::RwLock,
            WaitReason::Semaphore,
            WaitReason::Once,
            WaitReason::Context,
            WaitReason::Join { task: TaskId(7) },
            WaitReason::Other,
        ];
        let status = TaskStatus::new();
        for reason in reasons {
            record(reason);
            status.set_waiting(take());
            assert_eq!(status.state(), TaskState::Waiting(reason));
        }
        status.set_waiting(take());
        assert_eq!(status.state(), TaskState::Waiting(WaitReason::Other));
        record(WaitReason::Sleep { until });
        status.set_waiting(take());
        let TaskState::Waiting(WaitReason::Sleep { until: got }) = status.state() else {
            panic!("not a sleep: {:?}", status.state());
        };
        assert!(got.max(until) - got.min(until) < Duration::from_micros(1));
    }

    #[test]
    fn the_last_recorded_reason_wins_and_take_clears_it() {
        assert_eq!(take().reason(), None);
        record(WaitReason::Mutex);
        record(WaitReason::Select);
        assert_eq!(take().reason(), Some(WaitReason::Select));
        assert_eq!(take().reason(), None);
    }
}
