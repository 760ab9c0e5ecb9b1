//! Waiters, wait queues and the select token: the parked half of a channel
//! operation and the one-shot commit that decides who completes it.
//!
//! A [`Waiter`] is an intrusive queue node that lives inside the pinned
//! future of a blocked operation (a `Send`, a `Recv`, a receiver's stream
//! state, or one case of a `select!`), so parking allocates nothing. A
//! [`WaitQueue`] is a circular doubly-linked list of them, owned by one
//! channel and touched only under that channel's lock.
//!
//! A waiter is completed by a *counterpart* (the sender that serves a parked
//! receiver, the receiver that serves a parked sender, or `close`), always
//! while holding the lock of the channel whose queue holds the waiter:
//!
//! 1. pop the waiter from the queue (it is now unlinked);
//! 2. move the value (into a receiver's slot, out of a sender's slot) and
//!    take the waker out;
//! 3. commit: for a plain waiter, store [`DONE`] or [`CLOSED`] into its
//!    `state` (`Release`; the lock already excludes every other party); for a
//!    select waiter, win the select's [`Token`] with one CAS. A lost CAS
//!    means the select already committed elsewhere (or withdrew): undo step
//!    2 and treat the waiter as gone;
//! 4. after unlocking, wake the waker. The counterpart never touches the
//!    waiter after step 3: its owner may free it as soon as it sees the
//!    commit.

use std::marker::PhantomPinned;
use std::ptr::{self, NonNull};
use std::task::Waker;

use super::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

// ---------------------------------------------------------------------------
// The select token
// ---------------------------------------------------------------------------

/// [`Token`] state: no case has committed; counterparts may commit one.
const TOKEN_WAITING: usize = 0;
/// [`Token`] state: the owner withdrew (it is retrying or being dropped); no
/// case may commit until it calls [`Token::reset`].
const TOKEN_ABORTED: usize = 1;
/// [`Token`] bit: a case has committed. The case index is stored above bit
/// 2, [`TOKEN_CLOSED`] says whether it completed because the channel closed.
const TOKEN_SELECTED: usize = 0b10;
/// [`Token`] bit, only with [`TOKEN_SELECTED`]: the committed case completed
/// because its channel closed (a receive got no value; a send keeps its value).
const TOKEN_CLOSED: usize = 0b01;

/// A select's one-shot commit point, shared by the waiters of all its cases.
///
/// Go's `selectDone`, crossbeam's `Context::select`: a counterpart may
/// complete a select waiter only after it moved `WAITING → SELECTED(case)`
/// here, and exactly one CAS can do that. The owner moves `WAITING →
/// ABORTED` to withdraw (before it retries, or when it is dropped); if that
/// CAS fails, a counterpart got there first and the select must take that
/// case's result.
///
/// Plain `send`/`recv` do not use a token: with a single case, the channel
/// lock already makes the counterpart the only party that can commit.
#[derive(Debug)]
pub(crate) struct Token {
    /// `TOKEN_WAITING`, `TOKEN_ABORTED`, or `TOKEN_SELECTED | closed |
    /// case << 2`.
    state: AtomicUsize,
}

/// The case a [`Token`] committed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Selected {
    /// The index the select gave the case when it registered it.
    pub(crate) case: u32,
    /// The case completed because its channel closed (a receive got no value,
    /// a send kept its value) rather than by a transfer.
    pub(crate) closed: bool,
}

impl Token {
    /// Creates a token in the waiting state.
    pub(crate) fn new() -> Token {
        Token {
            state: AtomicUsize::new(TOKEN_WAITING),
        }
    }

    /// Tries to commit the select to `case`; `true` if this call won.
    ///
    /// `Release` on success publishes the value the counterpart moved into or
    /// out of the case's waiter before calling this; pairs with the
    /// `Acquire` in [`Token::selected`] and [`Token::try_abort`].
    pub(crate) fn try_select(&self, case: u32, closed: bool) -> bool {
        let selected = TOKEN_SELECTED | usize::from(closed) | ((case as usize) << 2);
        self.state
            .compare_exchange(TOKEN_WAITING, selected, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    /// Withdraws the select: `Ok` if no case can commit any more, `Err` with
    /// the case a counterpart committed first.
    pub(crate) fn try_abort(&self) -> Result<(), Selected> {
        match self.state.compare_exchange(
            TOKEN_WAITING,
            TOKEN_ABORTED,
            Ordering::Acquire,
            Ordering::Acquire,
        ) {
            Ok(_) | Err(TOKEN_ABORTED) => Ok(()),
            Err(state) => Err(decode(state)),
        }
    }

    /// The case committed so far, if any.
    pub(crate) fn selected(&self) -> Option<Selected> {
        let state = self.state.load(Ordering::Acquire);
        (state & TOKEN_SELECTED != 0).then(|| decode(state))
    }

    /// Returns the token to the waiting state for another round.
    ///
    /// Only call it when none of the select's waiters is linked in any queue
    /// (all were unregistered), so no counterpart can be looking at it.
    pub(crate) fn reset(&self) {
        self.state.store(TOKEN_WAITING, Ordering::Relaxed);
    }
}

/// Splits a selected token state into its case and outcome.
fn decode(state: usize) -> Selected {
    debug_assert!(state & TOKEN_SELECTED != 0);
    Selected {
        case: (state >> 2) as u32,
        closed: state & TOKEN_CLOSED != 0,
    }
}

// ---------------------------------------------------------------------------
// Waiters
// ---------------------------------------------------------------------------

/// [`Waiter`] state: not in any queue and no result waiting (fresh, or the
/// owner already took the result). Select waiters return here when a
/// counterpart pops them: their outcome is in the token.
pub(crate) const IDLE: u8 = 0;
/// [`Waiter`] state: linked in a channel's wait queue. Set and cleared only
/// under that channel's lock.
pub(crate) const WAITING: u8 = 1;
/// [`Waiter`] state (plain waiters only): a counterpart completed the
/// operation: a receiver's slot holds its value, a sender's value was taken.
pub(crate) const DONE: u8 = 2;
/// [`Waiter`] state (plain waiters only): the channel closed (or lost its
/// last receiver) while the waiter was parked: a receiver gets `None`, a
/// sender finds its value still in the slot.
pub(crate) const CLOSED: u8 = 3;

/// One blocked operation, linked into a channel's send or receive queue.
///
/// Lives in the operation's pinned future; its owner must unlink it (under
/// the channel lock) before it moves or is dropped, which every owner does in
/// its `Drop`.
#[derive(Debug)]
pub(crate) struct Waiter<T> {
    /// The previous waiter in the queue (the tail, for the head); null when
    /// unlinked. Under the channel lock.
    prev: UnsafeCell<*const Waiter<T>>,
    /// The next waiter in the queue (the head, for the tail); null when
    /// unlinked. Under the channel lock.
    next: UnsafeCell<*const Waiter<T>>,
    /// The task to wake when the operation completes. Under the channel lock;
    /// the completing counterpart takes it out before it commits.
    waker: UnsafeCell<Option<Waker>>,
    /// The select this waiter is a case of, or `None` for a plain
    /// `send`/`recv` (whose own `state` is then the commit point). Written by
    /// the owner before linking; read by counterparts under the lock.
    token: UnsafeCell<Option<NonNull<Token>>>,
    /// The case index to commit in `token`'s select. Same rules as `token`.
    case: UnsafeCell<u32>,
    /// One of [`IDLE`], [`WAITING`], [`DONE`], [`CLOSED`]. Written under the
    /// channel lock; the owner of a plain waiter reads it without the lock
    /// (`Acquire`, pairing with the counterpart's `Release` in
    /// [`Waiter::commit`]).
    state: AtomicU8,
    /// A sender's value waiting to be taken, or a receiver's value once
    /// delivered. Under the lock while linked; the owner's alone otherwise.
    slot: UnsafeCell<Option<T>>,
    /// Linked waiters are pointed to from the queue: they must not move.
    _pin: PhantomPinned,
}

// SAFETY: a `Waiter` is shared between its owner and the counterparts of one
// channel. Every field but `state` is read or written only under that
// channel's lock, or by the owner alone while the waiter is unlinked, or by
// the owner after an `Acquire` of the commit that ordered the counterpart's
// last write before it. The raw pointers it holds are only dereferenced under
// the same rules. It carries `T` values between threads, hence `T: Send`.
unsafe impl<T: Send> Send for Waiter<T> {}
// SAFETY: as for `Send`: shared access goes through the lock or the atomics.
unsafe impl<T: Send> Sync for Waiter<T> {}

impl<T> Waiter<T> {
    /// Creates an unlinked waiter; `value` is the value a sender offers
    /// (`None` for a receiver).
    pub(crate) fn new(value: Option<T>) -> Waiter<T> {
        Waiter {
            prev: UnsafeCell::new(ptr::null()),
            next: UnsafeCell::new(ptr::null()),
            waker: UnsafeCell::new(None),
            token: UnsafeCell::new(None),
            case: UnsafeCell::new(0),
            state: AtomicU8::new(IDLE),
            slot: UnsafeCell::new(value),
            _pin: PhantomPinned,
        }
    }

    /// The waiter's state, as its owner sees it without the lock.
    #[inline]
    pub(crate) fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    /// Marks the result as taken: the waiter is idle again.
    ///
    /// Only the owner calls it, when the waiter is not linked.
    #[inline]
    pub(crate) fn set_idle(&self) {
        self.state.store(IDLE, Ordering::Relaxed);
    }

    /// Takes the value out of the slot.
    ///
    /// # Safety
    ///
    /// The caller has exclusive access to the slot: it holds the lock of the
    /// channel the waiter is queued in, or it is the owner and the waiter is
    /// not linked (and any commit was observed with `Acquire`).
    #[inline]
    pub(crate) unsafe fn take_value(&self) -> Option<T> {
        // SAFETY: exclusive access to the slot, by the caller's contract.
        self.slot.with_mut(|slot| unsafe { (*slot).take() })
    }

    /// Puts `value` into the slot.
    ///
    /// # Safety
    ///
    /// As for [`Waiter::take_value`].
    #[inline]
    pub(crate) unsafe fn put_value(&self, value: T) {
        // SAFETY: exclusive access to the slot, by the caller's contract.
        self.slot.with_mut(|slot| unsafe { *slot = Some(value) });
    }

    /// Stores `waker` unless the waiter already holds one that wakes the
    /// same task.
    ///
    /// # Safety
    ///
    /// The caller holds the lock of the channel the waiter is (or is about
    /// to be) queued in, or owns the unlinked waiter.
    pub(crate) unsafe fn set_waker(&self, waker: &Waker) {
        // SAFETY: exclusive access to the waker, by the caller's contract.
        self.waker.with_mut(|slot| unsafe {
            match &mut *slot {
                Some(old) if old.will_wake(waker) => {}
                slot => *slot = Some(waker.clone()),
            }
        });
    }

    /// Makes the waiter a case of the select whose token is `token`.
    ///
    /// # Safety
    ///
    /// As for [`Waiter::set_waker`]; and `token` must stay valid, and stay at
    /// its address, until the waiter is unlinked.
    pub(crate) unsafe fn set_select(&self, token: NonNull<Token>, case: u32) {
        // SAFETY: exclusive access to `token` and `case`, by the caller's
        // contract.
        unsafe {
            self.token.with_mut(|t| *t = Some(token));
            self.case.with_mut(|c| *c = case);
        }
    }

    /// Completes a receive waiter, just popped from its queue, with `value`.
    ///
    /// `Ok(waker)`: delivered; wake the waker after unlocking. `Err(value)`:
    /// the waiter's select committed elsewhere or withdrew; `value` comes
    /// back untouched.
    ///
    /// # Safety
    ///
    /// `node` was just popped from a receive queue of a channel whose lock the
    /// caller holds (so it is valid and its owner is not touching it).
    pub(crate) unsafe fn complete_recv(node: NonNull<Self>, value: T) -> Result<Option<Waker>, T> {
        // SAFETY: the caller's contract: `node` is valid and ours under the lock.
        let waiter = unsafe { node.as_ref() };
        // SAFETY: under the lock, see above.
        unsafe { waiter.put_value(value) };
        // SAFETY: under the lock, see above.
        match unsafe { Self::commit(node, false) } {
            Ok(waker) => Ok(waker),
            // SAFETY: under the lock; the commit failed, so the owner will
            // never read this slot for this round.
            Err(()) => Err(unsafe { waiter.take_value() }.expect("value just stored")),
        }
    }

    /// Completes a send waiter, just popped from its queue, by taking its
    /// value: `Some((value, waker))`, or `None` if its select committed
    /// elsewhere or withdrew (its value stays with it).
    ///
    /// # Safety
    ///
    /// As for [`Waiter::complete_recv`], for a send queue.
    pub(crate) unsafe fn complete_send(node: NonNull<Self>) -> Option<(T, Option<Waker>)> {
        // SAFETY: the caller's contract: `node` is valid and ours under the lock.
        let waiter = unsafe { node.as_ref() };
        // SAFETY: under the lock.
        let value = unsafe { waiter.take_value() }.expect("a parked sender holds its value");
        // SAFETY: under the lock.
        match unsafe { Self::commit(node, false) } {
            Ok(waker) => Some((value, waker)),
            Err(()) => {
                // SAFETY: under the lock; the owner keeps its value.
                unsafe { waiter.put_value(value) };
                None
            }
        }
    }

    /// Completes a waiter, just popped from its queue, because the channel
    /// closed: `Some(waker)` if it committed, `None` if its select committed
    /// elsewhere or withdrew.
    ///
    /// # Safety
    ///
    /// As for [`Waiter::complete_recv`].
    pub(crate) unsafe fn complete_closed(node: NonNull<Self>) -> Option<Option<Waker>> {
        // SAFETY: the caller's contract.
        unsafe { Self::commit(node, true) }.ok()
    }

    /// Step 3 of the protocol: takes the waker and commits the popped
    /// waiter; on a lost select CAS, puts the waker back and returns `Err`.
    ///
    /// # Safety
    ///
    /// As for [`Waiter::complete_recv`]. After an `Ok` the caller must not
    /// touch `node` again.
    unsafe fn commit(node: NonNull<Self>, closed: bool) -> Result<Option<Waker>, ()> {
        // SAFETY: the caller's contract: `node` is valid and ours under the lock.
        let waiter = unsafe { node.as_ref() };
        // SAFETY: under the lock.
        let waker = waiter.waker.with_mut(|w| unsafe { (*w).take() });
        // SAFETY: under the lock.
        match waiter.token.with(|t| unsafe { *t }) {
            None => {
                let state = if closed { CLOSED } else { DONE };
                // Release: publishes the slot write and the unlinking to the
                // owner's `Acquire` in `Waiter::state`. The owner may free the
                // waiter right after this store.
                waiter.state.store(state, Ordering::Release);
                Ok(waker)
            }
            Some(token) => {
                // SAFETY: under the lock.
                let case = waiter.case.with(|c| unsafe { *c });
                waiter.state.store(IDLE, Ordering::Relaxed);
                // SAFETY: the token outlives every linked waiter that points
                // to it (`set_select`'s contract), and this one was linked
                // until the pop under the lock we still hold.
                if unsafe { token.as_ref() }.try_select(case, closed) {
                    Ok(waker)
                } else {
                    // SAFETY: under the lock.
                    waiter.waker.with_mut(|w| unsafe { *w = waker });
                    Err(())
                }
            }
        }
    }

    /// Whether the waiter belongs to the select whose token is `token`.
    ///
    /// # Safety
    ///
    /// The caller holds the lock of the channel the waiter is queued in.
    pub(crate) unsafe fn is_case_of(&self, token: *const Token) -> bool {
        // SAFETY: under the lock.
        self.token
            .with(|t| unsafe { *t })
            .is_some_and(|t| ptr::eq(t.as_ptr(), token))
    }
}

// ---------------------------------------------------------------------------
// Wait queues
// ---------------------------------------------------------------------------

/// A FIFO of parked waiters: a circular doubly-linked list through the
/// waiters' `prev`/`next`, with the head's `prev` pointing at the tail, so
/// one pointer holds the whole queue and any waiter unlinks in O(1).
#[derive(Debug)]
pub(crate) struct WaitQueue<T> {
    /// The oldest waiter; null when the queue is empty.
    head: *const Waiter<T>,
}

// SAFETY: the queue only holds pointers to waiters, which are `Send` for
// `T: Send`; it is only used under its channel's lock.
unsafe impl<T: Send> Send for WaitQueue<T> {}

impl<T> WaitQueue<T> {
    /// Creates an empty queue.
    pub(crate) const fn new() -> WaitQueue<T> {
        WaitQueue { head: ptr::null() }
    }

    /// Whether no waiter is parked here.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_null()
    }

    /// Links `node` at the back and marks it [`WAITING`].
    ///
    /// # Safety
    ///
    /// The caller holds the lock that owns this queue; `node` is pinned, not
    /// linked anywhere, and stays valid until it is unlinked from this queue.
    pub(crate) unsafe fn push_back(&mut self, node: &Waiter<T>) {
        let node_ptr: *const Waiter<T> = node;
        if self.head.is_null() {
            // SAFETY: under the lock; `node` is ours to link.
            unsafe {
                node.prev.with_mut(|p| *p = node_ptr);
                node.next.with_mut(|n| *n = node_ptr);
            }
            self.head = node_ptr;
        } else {
            // SAFETY: `head` and its `prev` (the tail) are linked, hence
            // valid, and under our lock.
            unsafe {
                let head = &*self.head;
                let tail = &*head.prev.with(|p| *p);
                node.prev.with_mut(|p| *p = tail);
                node.next.with_mut(|n| *n = self.head);
                tail.next.with_mut(|n| *n = node_ptr);
                head.prev.with_mut(|p| *p = node_ptr);
            }
        }
        node.state.store(WAITING, Ordering::Relaxed);
    }

    /// Unlinks and returns the oldest waiter. Its state stays [`WAITING`]
    /// until the caller commits it.
    ///
    /// # Safety
    ///
    /// The caller holds the lock that owns this queue.
    pub(crate) unsafe fn pop_front(&mut self) -> Option<NonNull<Waiter<T>>> {
        let head = NonNull::new(self.head.cast_mut())?;
        // SAFETY: `head` is linked here, under our lock.
        unsafe { self.unlink(head.as_ref()) };
        Some(head)
    }

    /// Unlinks `node` if it is linked (its state is [`WAITING`]) and marks
    /// it [`IDLE`]; returns whether it was linked.
    ///
    /// # Safety
    ///
    /// The caller holds the lock that owns this queue, and `node`, if it is
    /// linked at all, is linked in this queue.
    pub(crate) unsafe fn remove(&mut self, node: &Waiter<T>) -> bool {
        if node.state.load(Ordering::Relaxed) != WAITING {
            return false;
        }
        // SAFETY: linked in this queue, under our lock.
        unsafe { self.unlink(node) };
        node.state.store(IDLE, Ordering::Relaxed);
        true
    }

    /// Iterates over the linked waiters, oldest first.
    ///
    /// # Safety
    ///
    /// The caller holds the lock that owns this queue for as long as it uses
    /// the iterator and the references it yields.
    pub(crate) unsafe fn iter(&self) -> impl Iterator<Item = &Waiter<T>> + '_ {
        let head = self.head;
        let mut cur = head;
        std::iter::from_fn(move || {
            if cur.is_null() {
                return None;
            }
            // SAFETY: `cur` is linked here, under the caller's lock.
            let node = unsafe { &*cur };
            // SAFETY: as above.
            let next = unsafe { node.next.with(|n| *n) };
            cur = if next == head { ptr::null() } else { next };
            Some(node)
        })
    }

    /// Unlinks `node` from the list.
    ///
    /// # Safety
    ///
    /// `node` is linked in this queue and the caller holds its lock.
    unsafe fn unlink(&mut self, node: &Waiter<T>) {
        let node_ptr: *const Waiter<T> = node;
        // SAFETY: `node` and its neighbours are linked here, under our lock.
        unsafe {
            let next = node.next.with(|n| *n);
            let prev = node.prev.with(|p| *p);
            if next == node_ptr {
                self.head = ptr::null();
            } else {
                (*prev).next.with_mut(|n| *n = next);
                (*next).prev.with_mut(|p| *p = prev);
                if self.head == node_ptr {
                    self.head = next;
                }
            }
            node.prev.with_mut(|p| *p = ptr::null());
            node.next.with_mut(|n| *n = ptr::null());
        }
    }
}
