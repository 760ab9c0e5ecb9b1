//! The channel core: one lock over the buffer and both wait queues, as Go's
//! `hchan`.
//!
//! Invariants, true whenever the lock is free:
//! - If a plain receiver is parked in `recvq`, the buffer is empty and no
//!   plain sender is parked in `sendq` (receivers park only when nothing is
//!   there to take, and every send serves parked receivers first). The same
//!   holds the other way round: a plain sender is parked only when the buffer
//!   is full (`len >= cap`; always, for capacity 0) and no plain receiver is
//!   parked. Select waiters may break this transiently, but only when their
//!   select has already committed or withdrawn: such *stale* waiters are
//!   skipped and dropped from the queue by whoever pops them.
//! - `closed` implies `sendq` is empty; `receivers == 0` implies `sendq` and
//!   the buffer are empty.
//! - The buffer holds more than `cap` values only after a cancelled receive
//!   gave its value back (see [`Channel::cancel_recv`]); senders then wait
//!   until it drains below `cap` again.
//! - No user code runs under the lock except `Waker::clone` / `will_wake`:
//!   wakers are woken and values dropped after unlocking.
//!
//! ## The quiet fast path
//!
//! A channel of capacity [`RING_MIN`] to [`RING_MAX`] keeps its buffer in
//! a lock-free [`Ring`]. While the channel is *quiet* (no waiter parked in
//! either queue, no value given back outside the ring) a send that finds
//! room and a receive that finds a value use the ring alone and never touch
//! the lock, so producers and consumers on different workers stop fighting
//! over one cache line.
//!
//! Whenever the lock is released, the ring's slow marks say where the
//! channel is not quiet ([`Locked`]'s `Drop` keeps them in step; see
//! `Locked::sync_mark`): a parked receiver marks the tail, so every send
//! goes through the lock and hands its value over; a parked sender marks
//! both ends, so every receive refills from it and no new send overtakes
//! it. A lock-free operation at a marked end fails and takes the lock, so
//! everything that involves a parked waiter (the hand-off to the oldest
//! receiver, the refill from the oldest sender, select's commit, close)
//! happens under the lock exactly as in Go's `hchan`.
//!
//! The one race this adds: a lock-free operation that slips in between a
//! locked operation's look at the buffer and the moment it parks and sets
//! the mark. So a parking operation looks again after setting it and, if
//! the buffer changed under it, unparks and retries
//! (`Locked::parked_in_vain`).

use std::collections::VecDeque;
use std::panic::Location;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use super::error::{SendError, TryRecvError, TrySendError};
use super::ring::{Mode, PushError, Ring};
use super::waiter::{Token, WaitQueue, Waiter, CLOSED, DONE, IDLE, WAITING};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::task::wait::record;
use crate::task::WaitReason;

/// The smallest capacity whose buffer is a lock-free [`Ring`]. A small
/// buffer flips between full and empty on almost every operation, so its
/// waiters park and unpark all the time, and setting and clearing the
/// ring's slow mark each time cost more than the lock saved: one producer
/// and one consumer on two workers took 226 ns/msg with a ring of 1 against
/// 78 without, 100 against 63 at 2, and broke even at 8; from 16 up the
/// ring was faster (38 against 70 at 16). Under loom every buffered
/// channel gets a ring, so the models reach the ring's full and empty
/// states with a capacity of 1 or 2.
#[cfg(not(loom))]
pub(crate) const RING_MIN: usize = 16;
#[cfg(loom)]
pub(crate) const RING_MIN: usize = 1;

/// The largest capacity whose buffer is a lock-free [`Ring`], allocated in
/// full when the channel is made. A larger channel keeps its buffer in a
/// `VecDeque` under the lock that grows on demand, so `chan(1 << 30)` used
/// as a practically unbounded queue does not reserve gigabytes up front.
/// 1024 covers every capacity the workloads and Go programs commonly use.
pub(crate) const RING_MAX: usize = 1024;

/// The longest pause, in spin-loop hints, between two attempts to take a
/// contended channel lock before falling back to `Mutex::lock` (which spins
/// reading the lock word, then sleeps). Pausing 1, 2, 4 .. 64 hints between
/// attempts keeps the waiting core off the lock's cache line while the
/// holder works: on the 2-worker `mpmc` bench (4 producers, 4 consumers,
/// capacity 128) it cut 50 ms to 35 ms per 400,000 messages; shorter limits
/// (8) were slower than none, longer ones (256) no better.
#[cfg(not(loom))]
const BACKOFF_LIMIT: u32 = 64;

/// The shared state of one channel, behind an `Arc` held by every `Sender`
/// and `Receiver`.
pub(crate) struct Channel<T> {
    /// Everything that changes, under one lock, except the ring.
    state: Mutex<State<T>>,
    /// The buffer of a channel of capacity [`RING_MIN`] to [`RING_MAX`].
    ring: Option<Box<Ring<T>>>,
    /// The capacity the channel was made with (0 = rendezvous).
    cap: usize,
    /// Where the channel was made, for diagnostics (the task dump).
    location: &'static Location<'static>,
}

/// The locked part of a [`Channel`].
struct State<T> {
    /// Buffered values outside the ring, oldest first, all older than the
    /// ring's: the whole buffer of a channel without a ring, and values a
    /// cancelled receive gave back. At most `cap` values in all, except
    /// after such a give-back.
    extra: Extra<T>,
    /// Parked senders, oldest first; each holds its value in its slot.
    sendq: WaitQueue<T>,
    /// Parked receivers, oldest first.
    recvq: WaitQueue<T>,
    /// Live `Sender` handles; the channel closes when it drops to zero.
    senders: u32,
    /// Live `Receiver` handles; sends fail once it is zero.
    receivers: u32,
    /// Set by `close` or by the last `Sender` drop; never cleared.
    closed: bool,
    /// Where the ring's slow mark is set: [`HEAD`] and/or [`TAIL`] (see
    /// `Locked::sync_mark`).
    marked: u8,
    /// For the channel of a timer (`after`, `Timer`, `Ticker`): when its
    /// armed timer fires, so that a task waiting on it shows in the task
    /// dump as sleeping until then. See [`TimerDue`]; six bytes, to fit in
    /// the padding after the counters and `closed` (the channel stays one
    /// allocation of 88 bytes).
    timer_due: TimerDue,
}

/// The values of a channel's buffer that are not in its ring: the whole
/// buffer of a buffered channel without a ring (allocated with the
/// channel), else allocated on first use. A capacity-0 or ring channel
/// needs it only when a cancelled receive gives a value back, so it costs 8
/// bytes instead of a `VecDeque`'s 32 in every unbuffered channel (a
/// million parked tasks each waiting on its own channel, as in the
/// `parked_memory` workload, save 16 MB).
// The box is the point: 8 bytes in the channel instead of 32.
#[allow(clippy::box_collection)]
struct Extra<T>(Option<Box<VecDeque<T>>>);

impl<T> Extra<T> {
    #[inline]
    fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |d| d.len())
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn pop_front(&mut self) -> Option<T> {
        self.0.as_mut()?.pop_front()
    }

    fn push_back(&mut self, value: T) {
        self.0.get_or_insert_with(Box::default).push_back(value);
    }

    fn push_front(&mut self, value: T) {
        self.0.get_or_insert_with(Box::default).push_front(value);
    }
}

/// The ring's slow mark on its head: lock-free receives stop.
const HEAD: u8 = 1;
/// The ring's slow mark on its tail: lock-free sends stop.
const TAIL: u8 = 2;

/// When a timer channel's timer fires: milliseconds since
/// [`wait::epoch`](crate::task::wait::epoch),
/// rounded up, plus one, in 48 little-endian bits (about 8,900 years); 0
/// when no timer is armed (or the channel is not a timer's).
#[derive(Clone, Copy)]
struct TimerDue([u8; 6]);

impl TimerDue {
    /// No timer armed.
    const NONE: TimerDue = TimerDue([0; 6]);

    fn new(due: Option<Instant>) -> TimerDue {
        let Some(due) = due else {
            return TimerDue::NONE;
        };
        let since = due.saturating_duration_since(crate::task::wait::epoch());
        let ms = since.as_nanos().div_ceil(1_000_000);
        let ms = u64::try_from(ms).unwrap_or(u64::MAX).min((1 << 48) - 2) + 1;
        let mut bytes = [0; 6];
        bytes.copy_from_slice(&ms.to_le_bytes()[..6]);
        TimerDue(bytes)
    }

    #[inline]
    fn get(self) -> Option<Instant> {
        let mut bytes = [0; 8];
        bytes[..6].copy_from_slice(&self.0);
        match u64::from_le_bytes(bytes) {
            0 => None,
            ms => Some(crate::task::wait::epoch() + std::time::Duration::from_millis(ms - 1)),
        }
    }
}

impl<T> Channel<T> {
    /// Creates a channel of capacity `cap` with one sender and one receiver.
    pub(crate) fn new(cap: usize, location: &'static Location<'static>) -> Channel<T> {
        Channel {
            state: Mutex::new(State {
                // A buffered channel without a ring keeps its whole buffer
                // here.
                extra: Extra(
                    (cap > 0 && !(RING_MIN..=RING_MAX).contains(&cap))
                        .then(|| Box::new(VecDeque::with_capacity(cap.min(RING_MAX)))),
                ),
                sendq: WaitQueue::new(),
                recvq: WaitQueue::new(),
                senders: 1,
                receivers: 1,
                closed: false,
                marked: 0,
                timer_due: TimerDue::NONE,
            }),
            ring: (RING_MIN..=RING_MAX)
                .contains(&cap)
                .then(|| Box::new(Ring::new(cap))),
            cap,
            location,
        }
    }

    /// Locks the state. A panic under the lock can only come from a waker's
    /// `clone`, which leaves the state consistent, so poisoning is ignored.
    #[inline]
    fn lock(&self) -> Locked<'_, T> {
        let state = match lock_with_backoff(&self.state) {
            Some(guard) => guard,
            None => match self.state.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            },
        };
        Locked { state, chan: self }
    }

    /// A lock-free push into the ring while the channel is quiet.
    #[inline]
    fn push_fast(&self, value: T) -> Result<(), T> {
        match &self.ring {
            Some(ring) => ring.push(value, Mode::Fast).map_err(PushError::into_inner),
            None => Err(value),
        }
    }

    /// A lock-free pop from the ring while the channel is quiet.
    #[inline]
    fn pop_fast(&self) -> Option<T> {
        self.ring.as_ref()?.pop(Mode::Fast).ok()
    }

    /// The capacity the channel was made with.
    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// Where the channel was made.
    pub(crate) fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// Marks this channel as a timer's, firing at `due` (`None`: not
    /// armed), for the task dump: a task waiting to receive from it shows
    /// as sleeping until `due` rather than as a channel receive.
    pub(crate) fn set_timer_due(&self, due: Option<Instant>) {
        self.lock().state.timer_due = TimerDue::new(due);
    }

    /// The number of buffered values.
    pub(crate) fn len(&self) -> usize {
        self.lock().buf_len()
    }

    /// Whether sends fail now: closed, or every receiver is gone.
    pub(crate) fn is_closed(&self) -> bool {
        let locked = self.lock();
        locked.state.closed || locked.state.receivers == 0
    }

    // -- handles ----------------------------------------------------------

    /// Counts one more `Sender`.
    pub(crate) fn add_sender(&self) {
        let mut locked = self.lock();
        let senders = locked.state.senders.checked_add(1);
        locked.state.senders = senders.expect("too many senders");
    }

    /// Counts one `Sender` less; the last one closes the channel.
    pub(crate) fn drop_sender(&self) {
        let mut locked = self.lock();
        locked.state.senders -= 1;
        if locked.state.senders == 0 {
            let wakers = locked.close();
            drop(locked);
            wakers.into_iter().for_each(Waker::wake);
        }
    }

    /// Counts one more `Receiver`.
    pub(crate) fn add_receiver(&self) {
        let mut locked = self.lock();
        let receivers = locked.state.receivers.checked_add(1);
        locked.state.receivers = receivers.expect("too many receivers");
    }

    /// Counts one `Receiver` less. The last one drops the buffered values
    /// (no one can receive them) and fails every parked sender.
    pub(crate) fn drop_receiver(&self) {
        let mut locked = self.lock();
        locked.state.receivers -= 1;
        if locked.state.receivers == 0 {
            if let Some(ring) = &self.ring {
                // No push lands after the mark, so the drain below is final.
                ring.close();
            }
            let mut buf = locked
                .state
                .extra
                .0
                .take()
                .map_or_else(VecDeque::new, |b| *b);
            while let Some(value) = locked.ring_pop() {
                buf.push_back(value);
            }
            let wakers = locked.fail_senders();
            drop(locked);
            wakers.into_iter().for_each(Waker::wake);
            drop(buf);
        }
    }

    /// Closes the channel; `false` if it was already closed.
    pub(crate) fn close(&self) -> bool {
        let mut locked = self.lock();
        if locked.state.closed {
            return false;
        }
        let wakers = locked.close();
        drop(locked);
        wakers.into_iter().for_each(Waker::wake);
        true
    }

    // -- non-blocking operations (also select's step 1) ---------------------

    /// Sends `value` if a receiver is parked or the buffer has room.
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let value = match self.push_fast(value) {
            Ok(()) => return Ok(()),
            Err(value) => value,
        };
        let mut locked = self.lock();
        let waker = locked.try_send(value)?;
        drop(locked);
        wake(waker);
        Ok(())
    }

    /// Receives a buffered value, or one from a parked sender.
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        if let Some(value) = self.pop_fast() {
            return Ok(value);
        }
        let mut locked = self.lock();
        let (value, waker) = locked.try_recv()?;
        drop(locked);
        wake(waker);
        Ok(value)
    }

    // -- plain blocking operations: the single-case select ------------------

    /// Polls a plain send whose value sits in `waiter`'s slot.
    ///
    /// The first poll tries to complete and otherwise parks `waiter`, both
    /// under one lock (select's steps 1 and 2 at once, so there is nothing to
    /// recheck and nothing to abort). Later polls read the commit the
    /// counterpart published.
    pub(crate) fn poll_send(
        &self,
        waiter: Pin<&Waiter<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        let waiter = waiter.get_ref();
        match waiter.state() {
            IDLE => {
                if self.ring.is_some() {
                    // SAFETY: the waiter is ours and not linked.
                    let value =
                        unsafe { waiter.take_value() }.expect("`Send` polled after completion");
                    match self.push_fast(value) {
                        Ok(()) => return Poll::Ready(Ok(())),
                        // SAFETY: as above.
                        Err(value) => unsafe { waiter.put_value(value) },
                    }
                }
                self.start_send(waiter, cx)
            }
            WAITING => {
                let locked = self.lock();
                if let Some(pending) = refresh_if_waiting(&locked, waiter, cx) {
                    record(WaitReason::ChanSend {
                        chan: self.location,
                    });
                    return pending;
                }
                drop(locked);
                Poll::Ready(finish_send(waiter))
            }
            _ => Poll::Ready(finish_send(waiter)),
        }
    }

    /// First poll of a plain send: complete now or park.
    fn start_send(
        &self,
        waiter: &Waiter<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        let mut locked = self.lock();
        loop {
            if locked.state.closed || locked.state.receivers == 0 {
                drop(locked);
                // SAFETY: the waiter is ours and not linked.
                let value = unsafe { waiter.take_value() }.expect("`Send` polled after completion");
                return Poll::Ready(Err(SendError(value)));
            }
            if !locked.state.recvq.is_empty() || locked.buf_len() < self.cap {
                // SAFETY: the waiter is ours and not linked.
                let value = unsafe { waiter.take_value() }.expect("`Send` polled after completion");
                match locked.try_send(value) {
                    Ok(waker) => {
                        drop(locked);
                        wake(waker);
                        return Poll::Ready(Ok(()));
                    }
                    // Every parked receiver was a stale select waiter and the
                    // buffer is full: park after all.
                    // SAFETY: the waiter is ours and not linked.
                    Err(err) => unsafe { waiter.put_value(err.into_inner()) },
                }
            }
            // SAFETY: we hold the lock; the waiter is pinned inside its
            // future, whose `Drop` unlinks it under this lock before it goes
            // away.
            unsafe {
                waiter.set_waker(cx.waker());
                locked.state.sendq.push_back(waiter);
            }
            if locked.parked_in_vain(HEAD | TAIL, |locked| locked.buf_len() < self.cap) {
                // SAFETY: we hold the lock and linked the waiter just now.
                unsafe { locked.state.sendq.remove(waiter) };
                continue;
            }
            record(WaitReason::ChanSend {
                chan: self.location,
            });
            return Poll::Pending;
        }
    }

    /// Polls a plain receive through `waiter`; the same shape as
    /// [`Channel::poll_send`].
    pub(crate) fn poll_recv(
        &self,
        waiter: Pin<&Waiter<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<T>> {
        let waiter = waiter.get_ref();
        match waiter.state() {
            IDLE => {
                if let Some(value) = self.pop_fast() {
                    return Poll::Ready(Some(value));
                }
                self.start_recv(waiter, cx)
            }
            WAITING => {
                let locked = self.lock();
                if let Some(pending) = refresh_if_waiting(&locked, waiter, cx) {
                    record(locked.state.recv_reason(self.location));
                    return pending;
                }
                drop(locked);
                Poll::Ready(finish_recv(waiter))
            }
            _ => Poll::Ready(finish_recv(waiter)),
        }
    }

    /// First poll of a plain receive: complete now or park.
    fn start_recv(&self, waiter: &Waiter<T>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut locked = self.lock();
        loop {
            match locked.try_recv() {
                Ok((value, waker)) => {
                    drop(locked);
                    wake(waker);
                    return Poll::Ready(Some(value));
                }
                Err(TryRecvError::Closed) => return Poll::Ready(None),
                Err(TryRecvError::Empty) => {
                    // SAFETY: we hold the lock; the waiter is pinned inside
                    // its owner, whose `Drop` unlinks it under this lock
                    // before it goes away.
                    unsafe {
                        waiter.set_waker(cx.waker());
                        locked.state.recvq.push_back(waiter);
                    }
                    if locked.parked_in_vain(TAIL, |locked| !locked.buf_is_empty()) {
                        // SAFETY: we hold the lock and linked the waiter
                        // just now.
                        unsafe { locked.state.recvq.remove(waiter) };
                        continue;
                    }
                    record(locked.state.recv_reason(self.location));
                    return Poll::Pending;
                }
            }
        }
    }

    /// Withdraws a plain send whose future is dropped. If it is still
    /// parked it leaves the queue (its value drops with the future); if a
    /// receiver already took the value, the send happened and nothing is
    /// left to do.
    pub(crate) fn cancel_send(&self, waiter: Pin<&Waiter<T>>) {
        if waiter.state() == WAITING {
            let mut locked = self.lock();
            // SAFETY: we hold the lock; a linked waiter of ours is in `sendq`.
            unsafe { locked.state.sendq.remove(waiter.get_ref()) };
        }
    }

    /// Withdraws a plain receive whose future is dropped.
    ///
    /// Cancel safety: if a sender already delivered a value into the waiter
    /// (it committed, but the owner never saw it), the value is passed on to
    /// the next parked receiver, or else put back at the front of the
    /// buffer, even if that exceeds the capacity (capacity 0 included): it
    /// was sent and must be received once.
    pub(crate) fn cancel_recv(&self, waiter: Pin<&Waiter<T>>) {
        let waiter = waiter.get_ref();
        if matches!(waiter.state(), IDLE | CLOSED) {
            return;
        }
        let mut locked = self.lock();
        // SAFETY: we hold the lock; a linked waiter of ours is in `recvq`.
        if unsafe { locked.state.recvq.remove(waiter) } {
            return;
        }
        // Not linked, so committed: `DONE` holds a value, `CLOSED` none.
        // SAFETY: the waiter is ours and unlinked; the `Acquire` in
        // `Waiter::state` above (or the lock) ordered the sender's write.
        if let Some(value) = unsafe { waiter.take_value() } {
            let waker = locked.put_back(value);
            drop(locked);
            wake(waker);
        }
        waiter.set_idle();
    }

    // -- select's hooks -------------------------------------------------------

    /// Select step 2 for a send case: parks `waiter` (holding the value in
    /// its slot) as case `case` of the select whose token is `token`, unless
    /// the case could complete now. Returns `true` if it parked; `false`
    /// means "ready now: withdraw and retry step 1".
    ///
    /// # Safety
    ///
    /// `waiter` is not linked, and stays pinned and valid until
    /// [`Channel::unregister_send`] has been called for it; `token` stays
    /// valid until then too.
    pub(crate) unsafe fn register_send(
        &self,
        waiter: Pin<&Waiter<T>>,
        token: NonNull<Token>,
        case: u32,
        waker: &Waker,
    ) -> bool {
        let mut locked = self.lock();
        if locked.send_ready(token.as_ptr()) {
            return false;
        }
        // SAFETY: under the lock, with the caller's guarantees.
        unsafe {
            waiter.set_select(token, case);
            waiter.set_waker(waker);
            locked.state.sendq.push_back(waiter.get_ref());
        }
        if locked.parked_in_vain(HEAD | TAIL, |locked| locked.buf_len() < self.cap) {
            // SAFETY: we hold the lock and linked the waiter just now.
            unsafe { locked.state.sendq.remove(waiter.get_ref()) };
            return false;
        }
        true
    }

    /// Select step 2 for a receive case; see [`Channel::register_send`].
    ///
    /// # Safety
    ///
    /// As for [`Channel::register_send`], with
    /// [`Channel::unregister_recv`].
    pub(crate) unsafe fn register_recv(
        &self,
        waiter: Pin<&Waiter<T>>,
        token: NonNull<Token>,
        case: u32,
        waker: &Waker,
    ) -> bool {
        let mut locked = self.lock();
        if locked.recv_ready(token.as_ptr()) {
            return false;
        }
        // SAFETY: under the lock, with the caller's guarantees.
        unsafe {
            waiter.set_select(token, case);
            waiter.set_waker(waker);
            locked.state.recvq.push_back(waiter.get_ref());
        }
        if locked.parked_in_vain(TAIL, |locked| !locked.buf_is_empty()) {
            // SAFETY: we hold the lock and linked the waiter just now.
            unsafe { locked.state.recvq.remove(waiter.get_ref()) };
            return false;
        }
        true
    }

    /// Unlinks a select's send waiter if it is still parked; `true` if it
    /// was. Afterwards no counterpart can reach it.
    pub(crate) fn unregister_send(&self, waiter: Pin<&Waiter<T>>) -> bool {
        let mut locked = self.lock();
        // SAFETY: we hold the lock; a linked send waiter is in `sendq`.
        unsafe { locked.state.sendq.remove(waiter.get_ref()) }
    }

    /// Unlinks a select's receive waiter if it is still parked; `true` if
    /// it was.
    pub(crate) fn unregister_recv(&self, waiter: Pin<&Waiter<T>>) -> bool {
        let mut locked = self.lock();
        // SAFETY: we hold the lock; a linked receive waiter is in `recvq`.
        unsafe { locked.state.recvq.remove(waiter.get_ref()) }
    }

    /// Gives back a value that was received but never delivered (a select
    /// dropped after its receive case committed): the next parked receiver
    /// gets it, or else the front of the buffer.
    pub(crate) fn put_back(&self, value: T) {
        let mut locked = self.lock();
        let waker = locked.put_back(value);
        drop(locked);
        wake(waker);
    }
}

impl<T> State<T> {
    /// What a task parked receiving from this channel waits on, for the
    /// task dump: the timer of a timer channel, or else the channel, made
    /// at `location`.
    #[inline]
    fn recv_reason(&self, location: &'static Location<'static>) -> WaitReason {
        match self.timer_due.get() {
            Some(until) => WaitReason::Sleep { until },
            None => WaitReason::ChanRecv { chan: location },
        }
    }
}

/// The channel, locked: its [`State`] and, through `chan`, the ring. All the
/// transitions live here because they need both. Dropping it brings the
/// ring's slow mark in step with the queues before the lock is released.
struct Locked<'a, T> {
    state: MutexGuard<'a, State<T>>,
    chan: &'a Channel<T>,
}

impl<T> Drop for Locked<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.sync_mark();
    }
}

impl<T> Locked<'_, T> {
    /// Brings the ring's slow marks in step with the queues:
    ///
    /// - a parked receiver needs the tail marked, so that every send hands
    ///   its value over under the lock (the ring is empty while receivers
    ///   wait, so lock-free receives find nothing anyway);
    /// - a parked sender, or a value in `extra`, needs both ends marked, so
    ///   that receives refill from the oldest sender (or take `extra`
    ///   first) and new sends cannot overtake it.
    ///
    /// Marks no longer needed are cleared, unless the buffer is still full
    /// or empty: there the next operation would most likely park and set
    /// them again (a full buffer whose parked sender was just refilled from
    /// is full again, and that sender's next send parks), and clearing and
    /// setting them, read-modify-writes on lines the other side is using,
    /// cost more than the lock. An extra mark is always safe; it only sends
    /// operations through the lock.
    #[inline]
    fn sync_mark(&mut self) {
        if let Some(ring) = &self.chan.ring {
            let state = &mut *self.state;
            let mut want = 0;
            if !state.recvq.is_empty() {
                want |= TAIL;
            }
            if !state.sendq.is_empty() || !state.extra.is_empty() {
                want |= HEAD | TAIL;
            }
            if want != state.marked && state.marked & !want != 0 {
                let len = ring.len();
                if len == 0 || len >= self.chan.cap {
                    want |= state.marked;
                }
            }
            if want != state.marked {
                let set = want & !state.marked;
                let clear = state.marked & !want;
                if set != 0 {
                    ring.set_slow(set & HEAD != 0, set & TAIL != 0, true);
                }
                if clear != 0 {
                    ring.set_slow(clear & HEAD != 0, clear & TAIL != 0, false);
                }
                state.marked = want;
            }
        }
    }

    /// For an operation that has just parked its waiter, which needs the
    /// marks `needed` ([`TAIL`] for a receiver, both for a sender): sets
    /// them and looks again, with `changed`, at whether a lock-free
    /// operation slipped in before the mark and made the operation possible
    /// after all. `true` means the caller must unlink its waiter and retry.
    #[inline]
    fn parked_in_vain(&mut self, needed: u8, changed: impl FnOnce(&Self) -> bool) -> bool {
        if self.chan.ring.is_none() || self.state.marked & needed == needed {
            // No ring, or already marked before this waiter parked: nothing
            // lock-free could have happened at that end.
            return false;
        }
        self.sync_mark();
        changed(self)
    }

    /// The number of buffered values.
    #[inline]
    fn buf_len(&self) -> usize {
        self.state.extra.len() + self.chan.ring.as_ref().map_or(0, |ring| ring.len())
    }

    /// Whether the buffer is empty.
    #[inline]
    fn buf_is_empty(&self) -> bool {
        self.state.extra.is_empty() && self.chan.ring.as_ref().is_none_or(|ring| ring.is_empty())
    }

    /// Pops the ring under the lock.
    #[inline]
    fn ring_pop(&self) -> Option<T> {
        self.chan.ring.as_ref()?.pop(Mode::Locked).ok()
    }

    /// Appends `value` to the buffer if it holds fewer than `cap` values.
    #[inline]
    fn buf_push(&mut self, value: T) -> Result<(), T> {
        match &self.chan.ring {
            Some(ring) => {
                if !self.state.extra.is_empty() && self.buf_len() >= self.chan.cap {
                    return Err(value);
                }
                ring.push(value, Mode::Locked)
                    .map_err(PushError::into_inner)
            }
            None if self.state.extra.len() < self.chan.cap => {
                self.state.extra.push_back(value);
                Ok(())
            }
            None => Err(value),
        }
    }

    /// Takes the oldest buffered value.
    #[inline]
    fn buf_pop(&mut self) -> Option<T> {
        match self.state.extra.pop_front() {
            Some(value) => Some(value),
            None => self.ring_pop(),
        }
    }

    /// Moves `value` to the oldest parked receiver that can still take it.
    fn give_to_receiver(&mut self, mut value: T) -> Result<Option<Waker>, T> {
        // SAFETY: the channel lock, which owns `recvq`, is held.
        while let Some(node) = unsafe { self.state.recvq.pop_front() } {
            // SAFETY: just popped from our receive queue, under the lock.
            match unsafe { Waiter::complete_recv(node, value) } {
                Ok(waker) => return Ok(waker),
                Err(back) => value = back,
            }
        }
        Err(value)
    }

    /// Takes the value of the oldest parked sender that can still give it.
    fn take_from_sender(&mut self) -> Option<(T, Option<Waker>)> {
        // SAFETY: the channel lock, which owns `sendq`, is held.
        while let Some(node) = unsafe { self.state.sendq.pop_front() } {
            // SAFETY: just popped from our send queue, under the lock.
            if let Some(taken) = unsafe { Waiter::complete_send(node) } {
                return Some(taken);
            }
        }
        None
    }

    /// The send transition: to a parked receiver first, else into the
    /// buffer if it has room. Returns the waker to wake after unlocking.
    fn try_send(&mut self, value: T) -> Result<Option<Waker>, TrySendError<T>> {
        if self.state.closed || self.state.receivers == 0 {
            return Err(TrySendError::Closed(value));
        }
        let value = match self.give_to_receiver(value) {
            Ok(waker) => return Ok(waker),
            Err(value) => value,
        };
        match self.buf_push(value) {
            Ok(()) => Ok(None),
            Err(value) => Err(TrySendError::Full(value)),
        }
    }

    /// The receive transition: the oldest buffered value (refilling its
    /// place from the oldest parked sender), else straight from the oldest
    /// parked sender.
    fn try_recv(&mut self) -> Result<(T, Option<Waker>), TryRecvError> {
        if let Some(value) = self.buf_pop() {
            let mut waker = None;
            // Parked senders mean the slow mark is set: nothing lock-free
            // runs, so the room just made is still there.
            if !self.state.sendq.is_empty() && self.buf_len() < self.chan.cap {
                if let Some((refill, w)) = self.take_from_sender() {
                    if self.buf_push(refill).is_err() {
                        unreachable!("a channel refill found no room under the slow mark");
                    }
                    waker = w;
                }
            }
            return Ok((value, waker));
        }
        if let Some(taken) = self.take_from_sender() {
            return Ok(taken);
        }
        Err(if self.state.closed {
            TryRecvError::Closed
        } else {
            TryRecvError::Empty
        })
    }

    /// Returns an undelivered value: to the oldest parked receiver, else to
    /// the front of the buffer.
    fn put_back(&mut self, value: T) -> Option<Waker> {
        match self.give_to_receiver(value) {
            Ok(waker) => waker,
            Err(value) => {
                if self.state.receivers > 0 {
                    self.state.extra.push_front(value);
                }
                None
            }
        }
    }

    /// Marks the channel closed and completes every parked waiter with the
    /// closed outcome; returns their wakers.
    fn close(&mut self) -> Vec<Waker> {
        self.state.closed = true;
        if let Some(ring) = &self.chan.ring {
            ring.close();
        }
        let mut wakers = self.fail_senders();
        // SAFETY: the channel lock, which owns `recvq`, is held.
        while let Some(node) = unsafe { self.state.recvq.pop_front() } {
            // SAFETY: just popped, under the lock.
            if let Some(waker) = unsafe { Waiter::complete_closed(node) } {
                wakers.extend(waker);
            }
        }
        wakers
    }

    /// Completes every parked sender with the closed outcome (its value
    /// stays in its slot); returns their wakers.
    fn fail_senders(&mut self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        // SAFETY: the channel lock, which owns `sendq`, is held.
        while let Some(node) = unsafe { self.state.sendq.pop_front() } {
            // SAFETY: just popped, under the lock.
            if let Some(waker) = unsafe { Waiter::complete_closed(node) } {
                wakers.extend(waker);
            }
        }
        wakers
    }

    /// Whether a send case of the select `token` could complete now.
    fn send_ready(&self, token: *const Token) -> bool {
        let state = &*self.state;
        state.closed
            || state.receivers == 0
            || self.buf_len() < self.chan.cap
            // SAFETY: the channel lock, which owns `recvq`, is held.
            || unsafe { state.recvq.iter() }.any(|w| {
                // SAFETY: linked in our queue, under the lock.
                !unsafe { w.is_case_of(token) }
            })
    }

    /// Whether a receive case of the select `token` could complete now.
    fn recv_ready(&self, token: *const Token) -> bool {
        let state = &*self.state;
        state.closed
            || !self.buf_is_empty()
            // SAFETY: the channel lock, which owns `sendq`, is held.
            || unsafe { state.sendq.iter() }.any(|w| {
                // SAFETY: linked in our queue, under the lock.
                !unsafe { w.is_case_of(token) }
            })
    }
}

/// For a waiter whose owner saw `WAITING`: if it is still parked (checked
/// under `state`'s lock), refreshes its waker and returns `Pending`.
fn refresh_if_waiting<T, R>(
    _locked: &Locked<'_, T>,
    waiter: &Waiter<T>,
    cx: &mut Context<'_>,
) -> Option<Poll<R>> {
    if waiter.state() != WAITING {
        return None;
    }
    // SAFETY: the lock is held (`_locked`) and the waiter is linked in its
    // queue, so no counterpart is touching its waker.
    unsafe { waiter.set_waker(cx.waker()) };
    Some(Poll::Pending)
}

/// Reads the outcome a counterpart committed into a plain send waiter.
fn finish_send<T>(waiter: &Waiter<T>) -> Result<(), SendError<T>> {
    let outcome = waiter.state();
    waiter.set_idle();
    match outcome {
        DONE => Ok(()),
        // SAFETY: the waiter is ours and unlinked; `state()` acquired the
        // commit.
        _ => Err(SendError(
            unsafe { waiter.take_value() }.expect("a failed send keeps its value"),
        )),
    }
}

/// Reads the outcome a counterpart committed into a plain receive waiter.
fn finish_recv<T>(waiter: &Waiter<T>) -> Option<T> {
    let outcome = waiter.state();
    waiter.set_idle();
    match outcome {
        // SAFETY: the waiter is ours and unlinked; `state()` acquired the
        // commit that published the value.
        DONE => Some(unsafe { waiter.take_value() }.expect("a completed receive holds its value")),
        _ => None,
    }
}

/// Tries to take `lock` with exponential backoff between attempts; `None`
/// if it is still contended after the longest pause (see
/// `BACKOFF_LIMIT`).
#[cfg(not(loom))]
#[inline]
fn lock_with_backoff<S>(lock: &Mutex<S>) -> Option<MutexGuard<'_, S>> {
    use std::sync::TryLockError;
    let mut pause = 1;
    loop {
        match lock.try_lock() {
            Ok(guard) => return Some(guard),
            Err(TryLockError::Poisoned(poisoned)) => return Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) if pause <= BACKOFF_LIMIT => {
                for _ in 0..pause {
                    std::hint::spin_loop();
                }
                pause *= 2;
            }
            Err(TryLockError::WouldBlock) => return None,
        }
    }
}

/// Under loom, spinning only multiplies the interleavings to explore: lock
/// directly.
#[cfg(loom)]
fn lock_with_backoff<S>(_lock: &Mutex<S>) -> Option<MutexGuard<'_, S>> {
    None
}

/// Wakes `waker`, if any.
#[inline]
fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}
