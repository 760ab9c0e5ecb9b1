//! `Semaphore`: a weighted, first-come first-served semaphore (Go's
//! `golang.org/x/sync/semaphore.Weighted`).
//!
//! # Semantics (Go's, as `x/sync` implements them)
//!
//! - Waiters are served in arrival order. A waiter at the head of the line
//!   that asks for more tokens than are free holds up everyone behind it,
//!   even smaller requests that would fit: otherwise a large request could
//!   starve under a stream of small ones. Neither `acquire` nor
//!   `try_acquire` overtakes a waiter.
//! - A request for more tokens than the capacity can never be granted. Go
//!   lets it wait for its context without joining the line, so it holds up
//!   no one; with no context here, it waits forever (until dropped) without
//!   joining the line.
//! - A cancelled waiter leaves the line and keeps nothing; if it was at the
//!   head, the waiters behind it are served at once if the free tokens are
//!   enough. One cancelled just after being granted gives its tokens back.
//! - Releasing more tokens than are held panics, with Go's message.
//!
//! # State
//!
//! `state`, one `AtomicU64`: `available << 1 | QUEUED`.
//!
//! - `available`: free tokens that may be taken without joining the line.
//! - `QUEUED`: the line is not empty. Set and cleared only with `queue`
//!   locked.
//!
//! Invariants:
//! 1. `QUEUED` ⇒ `available == 0`. Tokens freed while someone waits go to
//!    the head of the line, never back to `available`, so the lock-free fast
//!    paths (which give up when `QUEUED` is set) can never overtake a
//!    waiter.
//! 2. Only the head waiter may hold part of its request (`wanted -
//!    missing`); it collects tokens as they are released until it has all
//!    it asked for. Every token is therefore held by an owner, held in part
//!    by the head, or `available`.
//! 3. While `QUEUED` is set, only a thread holding the `queue` lock changes
//!    `state`; while it is clear, changes are compare-and-swaps.
//!
//! # Protocol
//!
//! 1. `try_acquire`, and `acquire`'s first step: if `QUEUED` is clear and
//!    `available >= n`, CAS `available -= n`. No lock.
//! 2. `acquire` otherwise locks the queue and tries again (the state may
//!    have changed); failing that, it joins the line: at the back if
//!    `QUEUED` is set, else as the head, taking the `available` tokens as a
//!    first part and setting `QUEUED` with one CAS.
//! 3. `release(n)`: if `QUEUED` is clear, CAS `available += n`. Otherwise,
//!    with the queue locked, *settle* the `n` tokens: fill the head's
//!    request; when complete, mark it granted, unlink it, collect its waker,
//!    and go on with the next head and whatever is left; if the line
//!    empties, what is left becomes `available` and `QUEUED` is cleared.
//!    Wakers are woken after the lock is released.
//! 4. A queued waiter polled again checks, under the lock, whether it was
//!    granted. Dropped while waiting, it unlinks itself and, if it was the
//!    head, settles the part it held; dropped after being granted, it
//!    releases its tokens.
//!
//! # Rejected alternatives
//!
//! - An `event_listener::Event` to wake waiters: a notification carries
//!   neither the weight of the request nor its place in line, and a woken
//!   task can be overtaken before it runs, which breaks FIFO.
//! - Giving tokens to waiters only when the head's whole request fits (Go's
//!   `notifyWaiters` does that under its mutex): then free tokens would
//!   have to stay in `available` while waiters exist, and the lock-free
//!   `try_acquire` could not tell whether it may take them.
//! - An intrusive linked list of waiters in the futures themselves (tokio):
//!   it needs `unsafe` and pinned futures. The waiters live instead in a
//!   slab (`Vec` of slots with a free list) linked by index, all under one
//!   lock: O(1) join, grant and cancel, no `unsafe`, and no allocation once
//!   the slab has grown to the peak number of waiters.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::{poll_budgeted, recording};
use crate::task::WaitReason;

/// The `QUEUED` bit of the state word: the line of waiters is not empty.
const QUEUED: u64 = 1;

/// The largest capacity: `available` must fit in the 63 bits above
/// `QUEUED`. It is Go's limit too (`int64`).
const MAX_CAPACITY: u64 = u64::MAX >> 1;

/// "No slot": the end of a list of slots.
const NIL: usize = usize::MAX;

/// How many wakers a settle collects before it wakes the rest while still
/// holding the lock. Most settles grant one waiter; an `RwLock` writer
/// leaving may grant a crowd of readers.
const WAKE_BATCH: usize = 16;

/// A weighted semaphore: Go's `semaphore.Weighted`.
///
/// A `Semaphore` holds `capacity` tokens. [`acquire(n)`](Semaphore::acquire)
/// waits until it can take `n` of them, [`release(n)`](Semaphore::release)
/// gives `n` back. Tokens are not tied to the task that took them, as in
/// Go.
///
/// # Fairness
///
/// Waiters are served first come, first served, and neither `acquire` nor
/// [`try_acquire`](Semaphore::try_acquire) overtakes a waiter: a large
/// request at the head of the line holds up smaller ones behind it until
/// enough tokens are released. A request larger than the capacity never
/// joins the line, so it holds up no one; it waits until dropped.
///
/// # Cancellation safety
///
/// Dropping an [`Acquire`] future keeps no tokens: a waiter leaves the
/// line (and, if it was at the head, lets the next ones proceed), and one
/// that was granted just before being dropped gives its tokens back.
///
/// # Panics
///
/// [`new`](Semaphore::new) panics if the capacity exceeds `2^63 - 1`
/// (Go's `int64`); [`release`](Semaphore::release) panics with
/// `semaphore: released more than held` when more tokens come back than
/// were taken.
///
/// ```
/// use gorun::sync::Semaphore;
/// use std::sync::Arc;
///
/// gorun::run(async {
///     // At most 3 workers at once.
///     let sem = Arc::new(Semaphore::new(3));
///     let handles: Vec<_> = (0..10)
///         .map(|i| {
///             let sem = sem.clone();
///             gorun::spawn(async move {
///                 sem.acquire(1).await;
///                 let result = i * i;
///                 sem.release(1);
///                 result
///             })
///         })
///         .collect();
///     let mut sum = 0;
///     for h in handles {
///         sum += h.await.unwrap();
///     }
///     assert_eq!(sum, 285);
/// });
/// ```
pub struct Semaphore {
    /// `available << 1 | QUEUED` (see the module docs).
    state: AtomicU64,
    /// The number of tokens, fixed at creation.
    capacity: u64,
    /// The line of waiters.
    queue: Mutex<Queue>,
}

impl Semaphore {
    /// Creates a semaphore with `capacity` tokens, all free.
    ///
    /// # Panics
    ///
    /// If `capacity` exceeds `2^63 - 1`.
    ///
    /// ```
    /// let sem = gorun::sync::Semaphore::new(2);
    /// assert!(sem.try_acquire(2));
    /// assert!(!sem.try_acquire(1));
    /// ```
    pub fn new(capacity: u64) -> Semaphore {
        assert!(
            capacity <= MAX_CAPACITY,
            "semaphore: capacity {capacity} exceeds 2^63 - 1"
        );
        Semaphore {
            state: AtomicU64::new(capacity << 1),
            capacity,
            queue: Mutex::new(Queue::new()),
        }
    }

    /// Waits for `n` tokens and takes them; give them back with
    /// [`release`](Semaphore::release).
    ///
    /// Served in arrival order (see [Fairness](Semaphore#fairness)). If `n`
    /// exceeds the capacity, the future never completes, without holding
    /// up anyone. Dropping the future keeps no tokens.
    ///
    /// ```
    /// use gorun::sync::Semaphore;
    /// use std::sync::Arc;
    ///
    /// gorun::run(async {
    ///     let sem = Arc::new(Semaphore::new(4));
    ///     sem.acquire(4).await;
    ///     let waiter = {
    ///         let sem = sem.clone();
    ///         gorun::spawn(async move { sem.acquire(2).await; "got 2" })
    ///     };
    ///     sem.release(4);
    ///     assert_eq!(waiter.await.unwrap(), "got 2");
    /// });
    /// ```
    pub fn acquire(&self, n: u64) -> Acquire<'_> {
        Acquire::new(self, n)
    }

    /// Takes `n` tokens if they are free and no one is waiting, without
    /// waiting; returns whether it did.
    ///
    /// It never overtakes a waiter: while anyone waits in
    /// [`acquire`](Semaphore::acquire), it fails, as Go's `TryAcquire`
    /// does.
    ///
    /// ```
    /// let sem = gorun::sync::Semaphore::new(5);
    /// assert!(sem.try_acquire(3));
    /// assert!(!sem.try_acquire(3));
    /// sem.release(3);
    /// assert!(sem.try_acquire(5));
    /// ```
    pub fn try_acquire(&self, n: u64) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & QUEUED != 0 || state >> 1 < n {
                return false;
            }
            // Acquire: pairs with the Release of the `release` that freed
            // the tokens.
            match self.state.compare_exchange_weak(
                state,
                state - (n << 1),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
    }

    /// Gives back `n` tokens, serving waiters in arrival order.
    ///
    /// # Panics
    ///
    /// With `semaphore: released more than held` if more tokens would be
    /// free than the capacity (the semaphore is left unchanged).
    ///
    /// ```
    /// use gorun::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// assert!(sem.try_acquire(1));
    /// sem.release(1);
    /// let over = std::panic::catch_unwind(|| sem.release(1)).unwrap_err();
    /// assert_eq!(*over.downcast_ref::<&str>().unwrap(), "semaphore: released more than held");
    /// ```
    pub fn release(&self, n: u64) {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & QUEUED == 0 {
                let available = state >> 1;
                if n > self.capacity - available {
                    released_more_than_held();
                }
                // Release: pairs with the Acquire of whoever takes the
                // tokens next.
                match self.state.compare_exchange_weak(
                    state,
                    (available + n) << 1,
                    Ordering::Release,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return,
                    Err(actual) => state = actual,
                }
                continue;
            }
            let mut queue = self.lock_queue();
            state = self.state.load(Ordering::Relaxed);
            if state & QUEUED == 0 {
                // The line emptied before we got the lock: back to the CAS.
                continue;
            }
            let head = &queue.slots[queue.head];
            let held = self.capacity - (head.wanted - head.missing);
            if n > held {
                drop(queue);
                released_more_than_held();
            }
            let mut wakers = WakeList::new();
            self.settle(&mut queue, n, &mut wakers);
            drop(queue);
            wakers.wake_all();
            return;
        }
    }

    /// Locks the line of waiters. No code panics while holding it, but a
    /// poisoned lock is taken over anyway: its data is always consistent.
    fn lock_queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Protocol step 2: with the queue locked, takes `n` tokens if they are
    /// free and no one waits, else joins the line. Returns the slot it
    /// joined with, or `None` if it took the tokens.
    fn take_or_join(&self, queue: &mut Queue, n: u64, waker: &Waker) -> Option<usize> {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & QUEUED != 0 {
                // Invariant 1: nothing is available; wait behind the others.
                return Some(queue.push_back(n, n, waker.clone()));
            }
            let available = state >> 1;
            let (new, joins) = if available >= n {
                ((available - n) << 1, false)
            } else {
                // Become the head, holding what is free as a first part.
                (QUEUED, true)
            };
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) if joins => return Some(queue.push_back(n, n - available, waker.clone())),
                Ok(_) => return None,
                Err(actual) => state = actual,
            }
        }
    }

    /// Protocol step 3: hands `free` tokens to the line, head first, and
    /// writes the resulting state. The queue must be locked and `QUEUED`
    /// set; the granted waiters' wakers go to `wakers`.
    fn settle(&self, queue: &mut Queue, mut free: u64, wakers: &mut WakeList) {
        while queue.head != NIL {
            let head = queue.head;
            let slot = &mut queue.slots[head];
            let part = free.min(slot.missing);
            slot.missing -= part;
            free -= part;
            if slot.missing > 0 {
                break;
            }
            if let Some(waker) = slot.waker.take() {
                wakers.push(waker);
            }
            queue.unlink(head);
            queue.slots[head].status = Status::Granted;
        }
        let state = if queue.head == NIL {
            free << 1
        } else {
            debug_assert_eq!(free, 0, "tokens left over while someone waits");
            QUEUED
        };
        // Invariant 3: `QUEUED` is set, so no one else writes `state`.
        // Release: pairs with the Acquire of the lock-free paths that take
        // what is now available.
        self.state.store(state, Ordering::Release);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Relaxed);
        f.debug_struct("Semaphore")
            .field("capacity", &self.capacity)
            .field("available", &(state >> 1))
            .field("waiters", &(state & QUEUED != 0))
            .finish()
    }
}

/// Panics with Go's message for an over-release.
#[cold]
#[track_caller]
fn released_more_than_held() -> ! {
    panic!("semaphore: released more than held")
}

/// The future returned by [`Semaphore::acquire`].
///
/// Dropping it keeps no tokens (see
/// [Cancellation safety](Semaphore#cancellation-safety)).
///
/// ```
/// gorun::run(async {
///     let sem = gorun::sync::Semaphore::new(1);
///     let acquire: gorun::sync::Acquire<'_> = sem.acquire(1);
///     acquire.await;
///     sem.release(1);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire<'a> {
    /// The semaphore the tokens come from.
    sem: &'a Semaphore,
    /// How many tokens.
    n: u64,
    /// How far it got.
    step: Step,
}

/// The steps of an [`Acquire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Not in the line yet.
    Start,
    /// Waiting in the line, in this slot.
    Queued(usize),
    /// Took its tokens (they now belong to the caller) and returned.
    Done,
}

impl<'a> Acquire<'a> {
    /// An acquire of `n` tokens of `sem` that has not started.
    pub(super) fn new(sem: &'a Semaphore, n: u64) -> Acquire<'a> {
        Acquire {
            sem,
            n,
            step: Step::Start,
        }
    }

    /// One step of the protocol, without the budget (callers add it).
    ///
    /// # Panics
    ///
    /// If polled again after it completed.
    pub(super) fn poll_acquire(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.step {
            Step::Start => {
                if self.sem.try_acquire(self.n) {
                    self.step = Step::Done;
                    return Poll::Ready(());
                }
                if self.n > self.sem.capacity {
                    // Never satisfiable; Go's version waits for its context
                    // outside the line. No waker is kept: nothing will ever
                    // wake it.
                    return Poll::Pending;
                }
                let mut queue = self.sem.lock_queue();
                match self.sem.take_or_join(&mut queue, self.n, cx.waker()) {
                    None => {
                        self.step = Step::Done;
                        Poll::Ready(())
                    }
                    Some(slot) => {
                        self.step = Step::Queued(slot);
                        Poll::Pending
                    }
                }
            }
            Step::Queued(index) => {
                let mut queue = self.sem.lock_queue();
                let slot = &mut queue.slots[index];
                if slot.status == Status::Granted {
                    queue.free(index);
                    self.step = Step::Done;
                    return Poll::Ready(());
                }
                match &mut slot.waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    waker => *waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            Step::Done => panic!("`Acquire` polled after completion"),
        }
    }
}

impl Future for Acquire<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        poll_budgeted(cx, |cx| {
            recording(this.poll_acquire(cx), WaitReason::Semaphore)
        })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Step::Queued(index) = self.step else {
            return;
        };
        let mut queue = self.sem.lock_queue();
        let slot = &queue.slots[index];
        if slot.status == Status::Granted {
            // Granted, but the caller will never know: give them back.
            queue.free(index);
            drop(queue);
            self.sem.release(self.n);
            return;
        }
        let part = slot.wanted - slot.missing;
        let was_head = queue.head == index;
        queue.unlink(index);
        queue.free(index);
        if was_head {
            // Hand on what it held (perhaps nothing), and let the next
            // waiters go if that is enough for them; clears `QUEUED` if
            // the line is now empty.
            let mut wakers = WakeList::new();
            self.sem.settle(&mut queue, part, &mut wakers);
            drop(queue);
            wakers.wake_all();
        }
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("n", &self.n)
            .field("step", &self.step)
            .finish()
    }
}

/// Whether a slot of the [`Queue`] is in use, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// On the free list.
    Vacant,
    /// In the line.
    Waiting,
    /// Out of the line with all its tokens; its `Acquire` has not seen it
    /// yet and frees the slot when it does (or when dropped).
    Granted,
}

/// One waiter of the line, or a free slot.
struct Slot {
    /// Tokens the waiter asked for.
    wanted: u64,
    /// Tokens it still lacks; below `wanted` only for the head.
    missing: u64,
    /// Woken when the waiter is granted.
    waker: Option<Waker>,
    /// The slot before it in the line, or `NIL`.
    prev: usize,
    /// The slot after it in the line (or in the free list), or `NIL`.
    next: usize,
    /// See [`Status`].
    status: Status,
}

/// The line of waiters: a doubly linked list threaded through a slab.
///
/// A slot's index stays valid, and owned by its `Acquire`, from
/// `push_back` until that `Acquire` calls `free`: granting a waiter
/// unlinks it from the line but leaves the slot to its owner.
struct Queue {
    /// Every slot ever needed; the slab grows to the peak number of waiters.
    slots: Vec<Slot>,
    /// The first waiter, or `NIL`.
    head: usize,
    /// The last waiter, or `NIL`.
    tail: usize,
    /// The first vacant slot, or `NIL`; vacant slots chain through `next`.
    vacant: usize,
}

impl Queue {
    /// An empty line.
    const fn new() -> Queue {
        Queue {
            slots: Vec::new(),
            head: NIL,
            tail: NIL,
            vacant: NIL,
        }
    }

    /// Adds a waiter at the back of the line; returns its slot.
    fn push_back(&mut self, wanted: u64, missing: u64, waker: Waker) -> usize {
        let slot = Slot {
            wanted,
            missing,
            waker: Some(waker),
            prev: self.tail,
            next: NIL,
            status: Status::Waiting,
        };
        let index = if self.vacant == NIL {
            self.slots.push(slot);
            self.slots.len() - 1
        } else {
            let index = self.vacant;
            self.vacant = self.slots[index].next;
            self.slots[index] = slot;
            index
        };
        if self.tail == NIL {
            self.head = index;
        } else {
            self.slots[self.tail].next = index;
        }
        self.tail = index;
        index
    }

    /// Takes a waiting slot out of the line (the slot stays owned).
    fn unlink(&mut self, index: usize) {
        let Slot { prev, next, .. } = self.slots[index];
        debug_assert_eq!(self.slots[index].status, Status::Waiting);
        match prev {
            NIL => self.head = next,
            prev => self.slots[prev].next = next,
        }
        match next {
            NIL => self.tail = prev,
            next => self.slots[next].prev = prev,
        }
    }

    /// Returns an unlinked slot to the free list.
    fn free(&mut self, index: usize) {
        let slot = &mut self.slots[index];
        slot.status = Status::Vacant;
        slot.waker = None;
        slot.next = self.vacant;
        self.vacant = index;
    }
}

/// Wakers collected under the queue lock, woken after it is released.
struct WakeList {
    /// The first `len` entries are `Some`.
    wakers: [Option<Waker>; WAKE_BATCH],
    /// How many are collected.
    len: usize,
}

impl WakeList {
    /// An empty list.
    fn new() -> WakeList {
        WakeList {
            wakers: Default::default(),
            len: 0,
        }
    }

    /// Keeps `waker` for later, or wakes it now if the list is full.
    fn push(&mut self, waker: Waker) {
        if self.len == WAKE_BATCH {
            waker.wake();
        } else {
            self.wakers[self.len] = Some(waker);
            self.len += 1;
        }
    }

    /// Wakes every collected waker.
    fn wake_all(mut self) {
        for waker in self.wakers[..self.len].iter_mut() {
            if let Some(waker) = waker.take() {
                waker.wake();
            }
        }
    }
}
