//! `Mutex`: an async-aware mutual exclusion lock with Go's two modes
//! (`sync.Mutex`): normal and starvation.
//!
//! # Policy
//!
//! In *normal mode* a task that finds the lock free takes it, even if
//! others are waiting, and an unlock wakes one waiter, which then competes
//! with newcomers. A task that unlocks and locks again in a loop keeps the
//! lock without a hand-off to a parked task each time: this is the mode
//! with the best throughput, and Go's default.
//!
//! A waiter that has been woken and lost the race, and has now waited
//! longer than [`STARVATION_THRESHOLD`] (Go's 1 ms), counts itself as
//! *starving*. While anyone starves, the lock is in *starvation mode*: a
//! newcomer (and `try_lock`) never takes a free lock, unlocks wake a
//! starving waiter, and only starving waiters may take the lock. When the
//! last one has had its turn, normal mode resumes. So no waiter waits much
//! longer than the threshold plus the time to serve the starving waiters
//! ahead of it.
//!
//! # State
//!
//! `state`, one `AtomicUsize`: `starving_waiters * STARVER | LOCKED`.
//!
//! - `LOCKED` (bit 0): a guard exists.
//! - The bits above count the starving waiters.
//!
//! Two events: `unlocked` for waiters in normal mode, `starving` for
//! starving waiters. An unlock notifies one listener of `starving` if the
//! word it cleared `LOCKED` in counted starving waiters, else one of
//! `unlocked`.
//!
//! # Protocol of a `lock()` future, per poll
//!
//! 1. Try to take the lock: a normal waiter or newcomer CASes `0 → LOCKED`
//!    (so it fails in starvation mode); a starving waiter CASes any word
//!    without `LOCKED` to that word `- STARVER + LOCKED`, leaving the
//!    starving count as it takes the lock.
//! 2. Failing that, if it holds no listener, register one on its event and
//!    go back to 1: an unlock that came before the registration is seen by
//!    step 1, one after it notifies the listener.
//! 3. Otherwise wait for the listener. When it fires, drop it; if this
//!    waiter is not starving yet and has waited past the threshold, add
//!    `STARVER` to the word and become starving. Go back to 1.
//!
//! Why no wake-up is lost when the mode changes: a waiter becomes starving
//! (and from then on listens only to `starving`) right after a failed try,
//! and tries again before it sleeps; an unlock that cleared `LOCKED` from a
//! word without starvers had already notified `unlocked`, and then the
//! starving waiter's own retry sees the free lock. The last starving waiter
//! to leave (by taking the lock, or by being dropped) makes the next unlock,
//! or its own drop, notify `unlocked` again.
//!
//! # Cancellation
//!
//! A dropped `lock()` future never holds the lock. Its listener, if it had
//! been notified, passes the notification on to another listener (an
//! `event_listener` guarantee); a starving one also leaves the starving
//! count and, if the lock is free, notifies the event now in charge.
//!
//! # Rejected alternatives
//!
//! - Strict FIFO hand-off (tokio's `Mutex`, a one-token semaphore): fair,
//!   but every contended unlock hands the lock to a task that is not
//!   running yet, and the lock stays idle until it is scheduled.
//! - Counting failed wake-ups instead of time before starving: a count
//!   cannot tell a waiter that lost twice in a microsecond from one that
//!   lost twice in a second; Go's measured 1 ms keeps bursts cheap.
//! - One event for everyone, with non-starving waiters passing on the
//!   notification they cannot use: in starvation mode an unlock could wake
//!   every normal waiter in turn before reaching a starving one.

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use event_listener::{Event, EventListener};

use super::poll_budgeted;
use crate::task::{wait, WaitReason};

/// The `LOCKED` bit of the state word: a guard exists.
const LOCKED: usize = 1;

/// One starving waiter, in the bits of the state word above `LOCKED`.
const STARVER: usize = 2;

/// How long a woken waiter may keep losing the lock to newcomers before
/// the mutex switches to starvation mode: Go's `starvationThresholdNs`
/// (1 ms), long enough that bursts of barging (the fast case) are
/// unaffected, short enough that no waiter notices.
const STARVATION_THRESHOLD: Duration = Duration::from_millis(1);

/// An async-aware mutual exclusion lock: Go's `sync.Mutex`, holding the
/// data it protects.
///
/// [`lock`](Mutex::lock) waits (parking the task, not the thread) until
/// the lock is free and returns a [`MutexGuard`] that gives access to the
/// data; dropping the guard unlocks. A guard may be held across `.await`.
///
/// # Fairness
///
/// Go's policy. Normally a task that finds the lock free takes it, even if
/// others wait, which keeps a busy lock fast. A waiter that keeps losing
/// for more than 1 ms turns the mutex into starvation mode, in which free
/// locks go to the starving waiters only, until none is left. No waiter
/// starves.
///
/// # Cancellation safety
///
/// A dropped [`lock`](Mutex::lock) future holds nothing and wedges
/// nothing: if it had been chosen to take the lock, another waiter is
/// chosen.
///
/// ```
/// use gorun::sync::Mutex;
/// use std::sync::Arc;
///
/// gorun::run(async {
///     let counter = Arc::new(Mutex::new(0));
///     let handles: Vec<_> = (0..10)
///         .map(|_| {
///             let counter = counter.clone();
///             gorun::spawn(async move { *counter.lock().await += 1 })
///         })
///         .collect();
///     for h in handles {
///         h.await.unwrap();
///     }
///     assert_eq!(*counter.lock().await, 10);
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    /// `starving_waiters * STARVER | LOCKED` (see the module docs).
    state: AtomicUsize,
    /// Notified (one listener) by an unlock while no waiter starves.
    unlocked: Event,
    /// Notified (one listener) by an unlock while some waiter starves.
    starving: Event,
    /// The protected data; accessed only through a guard or `&mut self`.
    data: UnsafeCell<T>,
}

// SAFETY: the mutex owns a `T` and gives it to whichever thread holds the
// lock; moving the mutex moves the `T`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: shared access only ever gives out `&mut T` to one guard at a
// time (the `LOCKED` bit), so `T: Send` is enough, as for `std`'s mutex.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`.
    ///
    /// ```
    /// let m = gorun::sync::Mutex::new(5);
    /// assert_eq!(m.into_inner(), 5);
    /// ```
    #[cfg(not(loom))]
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            state: AtomicUsize::new(0),
            unlocked: Event::new(),
            starving: Event::new(),
            data: UnsafeCell::new(value),
        }
    }

    /// Under loom, `Event::new` is not `const`.
    #[cfg(loom)]
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            state: AtomicUsize::new(0),
            unlocked: Event::new(),
            starving: Event::new(),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex and returns the data.
    ///
    /// ```
    /// let m = gorun::sync::Mutex::new(vec![1, 2]);
    /// assert_eq!(m.into_inner(), vec![1, 2]);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits until the lock is free, takes it, and returns a guard that
    /// unlocks when dropped.
    ///
    /// Spends a unit of the task's cooperative budget. Dropping the future
    /// before it completes leaves the lock as it was.
    ///
    /// ```
    /// gorun::run(async {
    ///     let m = gorun::sync::Mutex::new(1);
    ///     let mut guard = m.lock().await;
    ///     *guard += 1;
    ///     drop(guard);
    ///     assert_eq!(*m.lock().await, 2);
    /// });
    /// ```
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            listener: None,
            since: None,
            starving: false,
        }
    }

    /// Takes the lock if it is free, without waiting.
    ///
    /// As Go's `TryLock`, it fails while a waiter is starving (see
    /// [Fairness](Mutex#fairness)), even if the lock is free.
    ///
    /// ```
    /// let m = gorun::sync::Mutex::new(());
    /// let guard = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_none());
    /// drop(guard);
    /// assert!(m.try_lock().is_some());
    /// ```
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.try_lock_normal().then(|| MutexGuard::new(self))
    }

    /// Returns a mutable reference to the data; no locking is needed, as
    /// the `&mut self` proves no guard exists.
    ///
    /// ```
    /// let mut m = gorun::sync::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Step 1 for a newcomer or a normal waiter: `0 → LOCKED`.
    fn try_lock_normal(&self) -> bool {
        // Acquire: pairs with the Release of the previous unlock.
        self.state
            .compare_exchange(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Step 1 for a starving waiter: takes a free lock whatever the
    /// starving count, and leaves the count.
    fn try_lock_starving(&self) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        while state & LOCKED == 0 {
            debug_assert!(state >= STARVER, "a starving waiter is not counted");
            match self.state.compare_exchange_weak(
                state,
                state - STARVER + LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
        false
    }

    /// Clears `LOCKED` and wakes the waiter in charge of the mode.
    fn unlock(&self) {
        // Release: the guard's writes happen before the next lock.
        let prev = self.state.fetch_sub(LOCKED, Ordering::Release);
        self.notify_one(prev - LOCKED);
    }

    /// Wakes one waiter of the event in charge when the word is `state`
    /// (the lock being free): a starving one if any is counted.
    fn notify_one(&self, state: usize) {
        if state >= STARVER {
            self.starving.notify(1);
        } else {
            self.unlocked.notify(1);
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

/// The future returned by [`Mutex::lock`].
///
/// ```
/// gorun::run(async {
///     let m = gorun::sync::Mutex::new(0);
///     let lock: gorun::sync::Lock<'_, i32> = m.lock();
///     *lock.await += 1;
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Lock<'a, T: ?Sized> {
    /// The mutex to lock.
    mutex: &'a Mutex<T>,
    /// Registered on `unlocked` (or on `starving` once starving) while
    /// waiting.
    listener: Option<EventListener>,
    /// When this future first found the lock taken.
    since: Option<Instant>,
    /// Whether it counts itself in the state word's starving waiters.
    starving: bool,
}

impl<'a, T: ?Sized> Lock<'a, T> {
    /// One poll of the protocol in the module docs, without the budget.
    fn poll_lock(&mut self, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let mutex = self.mutex;
        loop {
            // Step 1.
            if self.starving {
                if mutex.try_lock_starving() {
                    self.starving = false;
                    self.listener = None;
                    return Poll::Ready(MutexGuard::new(mutex));
                }
            } else if mutex.try_lock_normal() {
                self.listener = None;
                return Poll::Ready(MutexGuard::new(mutex));
            }
            match &mut self.listener {
                // Step 2.
                None => {
                    self.since.get_or_insert_with(Instant::now);
                    let event = if self.starving {
                        &mutex.starving
                    } else {
                        &mutex.unlocked
                    };
                    self.listener = Some(event.listen());
                }
                // Step 3.
                Some(listener) => {
                    if Pin::new(listener).poll(cx).is_pending() {
                        wait::record(WaitReason::Mutex);
                        return Poll::Pending;
                    }
                    self.listener = None;
                    if !self.starving
                        && self
                            .since
                            .is_some_and(|t| t.elapsed() >= STARVATION_THRESHOLD)
                    {
                        mutex.state.fetch_add(STARVER, Ordering::Relaxed);
                        self.starving = true;
                    }
                }
            }
        }
    }
}

impl<'a, T: ?Sized> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self.get_mut();
        poll_budgeted(cx, |cx| this.poll_lock(cx))
    }
}

impl<T: ?Sized> Drop for Lock<'_, T> {
    fn drop(&mut self) {
        // A notified listener passes its notification on as it drops.
        self.listener = None;
        if self.starving {
            let mutex = self.mutex;
            let state = mutex.state.fetch_sub(STARVER, Ordering::Relaxed) - STARVER;
            if state & LOCKED == 0 {
                // The lock is free and this waiter may have been the one
                // meant to take it: wake whoever is in charge now.
                mutex.notify_one(state);
            }
        }
    }
}

impl<T: ?Sized> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("waiting", &self.listener.is_some())
            .field("starving", &self.starving)
            .finish()
    }
}

/// Access to the data of a locked [`Mutex`]; unlocks when dropped.
///
/// ```
/// gorun::run(async {
///     let m = gorun::sync::Mutex::new(String::from("go"));
///     let mut guard: gorun::sync::MutexGuard<'_, String> = m.lock().await;
///     guard.push_str("run");
///     assert_eq!(&*guard, "gorun");
/// });
/// ```
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    /// The locked mutex.
    mutex: &'a Mutex<T>,
    /// Makes the guard `Send`/`Sync` exactly when `&mut T` is: sharing a
    /// guard shares the `T`.
    _data: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// A guard for `mutex`, whose `LOCKED` bit the caller just set.
    fn new(mutex: &'a Mutex<T>) -> MutexGuard<'a, T> {
        MutexGuard {
            mutex,
            _data: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while `LOCKED` is set by its
        // creation, so no other guard (and no `&mut Mutex`) can reach the
        // data; `&self` allows shared access only.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only access
        // through this guard.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
