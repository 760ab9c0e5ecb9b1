//! `WaitGroup`: wait for a collection of tasks to finish (Go's
//! `sync.WaitGroup`).
//!
//! # State
//!
//! One `AtomicU64`, the *state word*:
//!
//! ```text
//!  63                32 31                 0
//! +--------------------+--------------------+
//! |     generation     |      counter       |
//! +--------------------+--------------------+
//! ```
//!
//! - `counter`: tasks still to call `done`. Go keeps its counter in 32 bits
//!   too; `add` panics rather than let it carry into the generation.
//! - `generation`: bumped (wrapping) by every `add` that finds the counter
//!   at zero, i.e. once per *round* of the group. It lets a waiter tell "the
//!   counter reached zero and a new round started" from "still the round I
//!   waited on".
//!
//! Invariant: a waiter may return once it has seen the counter at zero, or
//! the generation differ from the one it saw when it started waiting (the
//! generation changes only through an `add` from zero, so the round it
//! waited on is over).
//!
//! # Protocol
//!
//! 1. `done` is one `fetch_sub(1)`. If it took the counter from 1 to 0 it
//!    notifies every listener of the `zero` event. If it found the counter
//!    already at 0 it adds the 1 back and panics with Go's message.
//! 2. `wait` loads the state word; counter 0 means return. Otherwise it
//!    records the generation, registers a listener on `zero`, and loads the
//!    state again before sleeping: a `done` that reached zero before the
//!    listener was registered is seen by that second load, one after it
//!    notifies the listener. On every wake-up it re-checks the word (a
//!    notification may be a stale one from an earlier round).
//! 3. `add` is a compare-and-swap loop: it checks for overflow and bumps
//!    the generation when the counter was zero.
//!
//! # Rejected alternatives
//!
//! - Completing `wait` on the notification alone, without a generation: a
//!   waiter that registers between a round's last `done` and its
//!   `notify` (after a new `add` already started the next round) would be
//!   released by the old round's notification.
//! - Bumping the generation in `done` (the round that ends, rather than
//!   the round that starts): the zero transition and the bump would be two
//!   atomic operations or a CAS loop on the hot `done` path; `add` is
//!   called far less often than `done` and is a CAS loop anyway (overflow).
//! - Go's waiter count plus a semaphore released once per waiter: an
//!   `Event` already wakes "everyone listening now", and cancelled waiters
//!   simply unregister.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use event_listener::{Event, EventListener};

use super::poll_budgeted;
use crate::task::{wait, WaitReason};
use crate::JoinHandle;

/// The `counter` bits of the state word.
const COUNTER_MASK: u64 = u32::MAX as u64;

/// One unit of the `generation` bits of the state word.
const GENERATION_ONE: u64 = 1 << 32;

/// Waits for a collection of tasks to finish: Go's `sync.WaitGroup`.
///
/// The counter goes up with [`add`](WaitGroup::add) (or
/// [`go`](WaitGroup::go)), down with [`done`](WaitGroup::done), and
/// [`wait`](WaitGroup::wait) returns once it is zero. Clones share one
/// counter, so a clone can be moved into each task.
///
/// A `WaitGroup` may be reused once `wait` has returned: every waiter of a
/// round is released when that round's counter reaches zero, even if a new
/// `add` follows at once.
///
/// # Panics
///
/// [`done`](WaitGroup::done) panics with Go's message
/// `sync: negative WaitGroup counter` when the counter is already zero;
/// [`add`](WaitGroup::add) panics if the counter would exceed
/// `u32::MAX` (Go's counter is 32 bits too).
///
/// ```
/// use gorun::sync::WaitGroup;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// gorun::run(async {
///     let wg = WaitGroup::new();
///     let hits = Arc::new(AtomicUsize::new(0));
///     for _ in 0..10 {
///         wg.add(1);
///         let (wg, hits) = (wg.clone(), hits.clone());
///         gorun::spawn(async move {
///             hits.fetch_add(1, Ordering::Relaxed);
///             wg.done();
///         });
///     }
///     wg.wait().await;
///     assert_eq!(hits.load(Ordering::Relaxed), 10);
/// });
/// ```
#[derive(Clone, Default)]
pub struct WaitGroup {
    /// The state shared by every clone.
    inner: Arc<Inner>,
}

/// What the clones of a [`WaitGroup`] share.
#[derive(Default)]
struct Inner {
    /// `generation << 32 | counter` (see the module docs).
    state: AtomicU64,
    /// Notified (all listeners) each time the counter reaches zero.
    zero: Event,
}

impl WaitGroup {
    /// Creates a `WaitGroup` with a counter of zero.
    ///
    /// ```
    /// gorun::run(async {
    ///     let wg = gorun::sync::WaitGroup::new();
    ///     wg.wait().await; // zero: returns at once
    /// });
    /// ```
    pub fn new() -> WaitGroup {
        WaitGroup::default()
    }

    /// Adds `n` to the counter: `n` more calls to [`done`](WaitGroup::done)
    /// are awaited. Call it before starting the tasks it counts, as in Go.
    ///
    /// # Panics
    ///
    /// If the counter would exceed `u32::MAX`.
    ///
    /// ```
    /// use gorun::sync::WaitGroup;
    ///
    /// gorun::run(async {
    ///     let wg = WaitGroup::new();
    ///     wg.add(2);
    ///     for _ in 0..2 {
    ///         let wg = wg.clone();
    ///         gorun::spawn(async move { wg.done() });
    ///     }
    ///     wg.wait().await;
    /// });
    /// ```
    pub fn add(&self, n: usize) {
        if n == 0 {
            return;
        }
        let overflow = || -> ! { panic!("sync: WaitGroup counter overflow") };
        let n = u64::try_from(n)
            .ok()
            .filter(|&n| n <= COUNTER_MASK)
            .unwrap_or_else(|| overflow());
        let update = |state: u64| {
            let counter = state & COUNTER_MASK;
            if counter + n > COUNTER_MASK {
                return None;
            }
            // A new round starts when the counter leaves zero.
            let bump = if counter == 0 { GENERATION_ONE } else { 0 };
            Some(state.wrapping_add(bump) + n)
        };
        // Relaxed: `add` publishes nothing; `done`'s release and `wait`'s
        // acquire order the work being waited for.
        if self
            .inner
            .state
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, update)
            .is_err()
        {
            overflow();
        }
    }

    /// Subtracts one from the counter; when it reaches zero, every task in
    /// [`wait`](WaitGroup::wait) is released.
    ///
    /// # Panics
    ///
    /// With `sync: negative WaitGroup counter` if the counter is zero.
    ///
    /// ```
    /// let wg = gorun::sync::WaitGroup::new();
    /// wg.add(1);
    /// wg.done();
    /// let again = std::panic::catch_unwind(|| wg.done()).unwrap_err();
    /// assert_eq!(*again.downcast_ref::<&str>().unwrap(), "sync: negative WaitGroup counter");
    /// ```
    pub fn done(&self) {
        // Release: the task's work happens before the `wait` that sees the
        // counter at zero (it loads the state word with Acquire).
        let prev = self.inner.state.fetch_sub(1, Ordering::Release);
        match prev & COUNTER_MASK {
            1 => {
                self.inner.zero.notify(usize::MAX);
            }
            0 => {
                // The subtraction borrowed from the generation; undo it so
                // the group stays usable for whoever catches the panic.
                self.inner.state.fetch_add(1, Ordering::Relaxed);
                panic!("sync: negative WaitGroup counter");
            }
            _ => {}
        }
    }

    /// Waits until the counter is zero. Returns at once if it already is.
    ///
    /// Every waiter of a round is released when the counter reaches zero.
    /// Cancel safety: dropping the future just stops waiting.
    ///
    /// ```
    /// use gorun::sync::WaitGroup;
    ///
    /// gorun::run(async {
    ///     let wg = WaitGroup::new();
    ///     wg.add(1);
    ///     let worker = wg.clone();
    ///     gorun::spawn(async move { worker.done() });
    ///     wg.wait().await;
    /// });
    /// ```
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            inner: &self.inner,
            generation: None,
            listener: None,
        }
    }

    /// Spawns `future` as a task counted by this group (Go 1.25's
    /// `WaitGroup.Go`): [`add(1)`](WaitGroup::add) now,
    /// [`done`](WaitGroup::done) when the task ends.
    ///
    /// The task counts as done however it ends: completed, panicked (unlike
    /// Go, where the panic would end the program) or aborted, because the
    /// `done` runs when the task's future is dropped. Returns the task's
    /// [`JoinHandle`]; dropping it detaches the task, which still counts.
    ///
    /// ```
    /// use gorun::sync::WaitGroup;
    ///
    /// gorun::run(async {
    ///     let wg = WaitGroup::new();
    ///     for i in 0..4 {
    ///         wg.go(async move { i * 2 });
    ///     }
    ///     let last = wg.go(async { "last" });
    ///     wg.wait().await;
    ///     assert_eq!(last.await.unwrap(), "last");
    /// });
    /// ```
    #[track_caller]
    pub fn go<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.add(1);
        let done = DoneOnDrop(self.clone());
        crate::spawn(async move {
            let _done = done;
            future.await
        })
    }

    /// The current value of the counter (racy: a snapshot, for
    /// diagnostics and `ErrGroup::set_limit`'s check).
    pub(super) fn count(&self) -> u64 {
        self.inner.state.load(Ordering::Acquire) & COUNTER_MASK
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}

/// Calls `done` on its group when dropped: how [`WaitGroup::go`] counts a
/// task as done however it ends.
struct DoneOnDrop(WaitGroup);

impl Drop for DoneOnDrop {
    fn drop(&mut self) {
        self.0.done();
    }
}

/// The future returned by [`WaitGroup::wait`].
///
/// ```
/// gorun::run(async {
///     let wg = gorun::sync::WaitGroup::new();
///     let wait: gorun::sync::Wait<'_> = wg.wait();
///     wait.await;
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'a> {
    /// The group's shared state.
    inner: &'a Inner,
    /// The generation seen while the counter was not zero; `None` until
    /// then.
    generation: Option<u64>,
    /// Registered on `inner.zero` while waiting.
    listener: Option<EventListener>,
}

impl Wait<'_> {
    /// One step of the protocol in the module docs.
    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let state = self.inner.state.load(Ordering::Acquire);
            if state & COUNTER_MASK == 0 {
                return Poll::Ready(());
            }
            let generation = state >> 32;
            if *self.generation.get_or_insert(generation) != generation {
                // That round reached zero and a new one started since.
                return Poll::Ready(());
            }
            match &mut self.listener {
                // Register, then check the word once more before sleeping.
                None => self.listener = Some(self.inner.zero.listen()),
                Some(listener) => {
                    if Pin::new(listener).poll(cx).is_pending() {
                        wait::record(WaitReason::WaitGroup);
                        return Poll::Pending;
                    }
                    self.listener = None;
                }
            }
        }
    }
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        poll_budgeted(cx, |cx| this.poll_wait(cx))
    }
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("waiting", &self.listener.is_some())
            .finish()
    }
}
