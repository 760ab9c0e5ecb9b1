//! Go channels: [`chan`] makes a channel of a given capacity and returns
//! its [`Sender`] and [`Receiver`]; capacity 0 is Go's unbuffered
//! rendezvous, capacity `n` a FIFO buffer of `n` values.
//!
//! ```
//! # gorun::run(async {
//! let (tx, rx) = gorun::chan::<u32>(0);
//! gorun::spawn(async move {
//!     for i in 0..3 {
//!         tx.send(i).await.unwrap();
//!     }
//!     // Dropping the last Sender closes the channel, like Go's close(ch).
//! });
//! let mut got = Vec::new();
//! while let Some(v) = rx.recv().await {
//!     got.push(v);
//! }
//! assert_eq!(got, [0, 1, 2]);
//! # });
//! ```
//!
//! # Design
//!
//! ## What
//!
//! A channel is one allocation: a lock over a buffer and two wait queues, as
//! Go's `hchan` (`runtime/chan.go`). A blocked `send` or `recv` parks a
//! *waiter*, an intrusive queue node that lives inside its own pinned future,
//! so parking allocates nothing. The party that arrives second completes the
//! operation of the one that waits: a sender moves its value straight into
//! the slot of the oldest parked receiver (for capacity 0 that is the only way
//! a value moves), a receiver takes the value out of the oldest parked
//! sender's slot, and a receiver that frees a place in a full buffer refills it
//! from the oldest parked sender. Values therefore leave in the order they
//! were sent, parked receivers are served first come first served, and a woken
//! task finds its operation already done: it never retries, and nobody can
//! barge in between the wake and the poll.
//!
//! ## Invariants
//!
//! 1. A plain receiver is parked only while the buffer is empty and no plain
//!    sender is parked; a plain sender only while the buffer is full (always,
//!    for capacity 0) and no plain receiver is parked.
//! 2. A waiter is linked in at most one queue, and only the holder of that
//!    channel's lock reads or writes its links, waker and slot; its owner
//!    unlinks it under that lock before the waiter can move or be freed.
//! 3. A waiter's operation is completed exactly once, by whoever commits it
//!    (protocol below); after the commit the counterpart never touches it.
//! 4. Closing and the last receiver's drop complete every parked waiter with
//!    the *closed* outcome: receivers get `None`, senders their value back.
//!
//! ## The waiter protocol, built for `select!`
//!
//! Every blocking operation is a select: a set of cases, each a send or
//! receive on some channel, that must commit exactly one case. A plain
//! `send`/`recv` is the select of one case. A select with several cases owns
//! one `Token` (`waiter.rs`; Go's `selectDone`, crossbeam's
//! `Context::try_select`) and one waiter per case; each waiter points to the
//! token and knows its case index. The hooks named below are the
//! `pub(crate)` methods of `Channel` (`channel.rs`); `select_model.rs` is a
//! minimal select built from nothing else, with its loom models.
//!
//! The owner (the task blocked in the select):
//!
//! 1. **Try.** For each case in random order, try to complete it now
//!    (`try_send` / `try_recv`). No waiter is linked yet, so no one else can
//!    commit the select: the first success wins.
//! 2. **Register.** For each case, link its waiter into that channel's queue
//!    (`register_send` / `register_recv`), each under its own channel's
//!    lock. Registration refuses (returns `false`) when the case became ready
//!    since step 1, which closes the race with a counterpart that arrived
//!    between the two steps.
//! 3. **Withdraw on a refusal.** CAS the token `WAITING → ABORTED`. If it
//!    fails, a counterpart already committed a registered case: go to 5. If
//!    it succeeds, unregister every waiter, reset the token and go back to 1.
//! 4. **Sleep** (`Pending`) until woken. A poll that finds the token still
//!    `WAITING` (a spurious wake-up, or a new waker) refreshes each waiter's
//!    waker under its channel's lock, or simply withdraws and starts over.
//! 5. **Finish.** The token names the committed case. Unregister the
//!    waiters (`unregister_send` / `unregister_recv`, each under its own
//!    lock; a counterpart that popped one and lost the CAS has already
//!    dropped it) and take the case's outcome from its waiter: a received
//!    value in its slot, or a send's value gone. A select dropped after a
//!    receive case committed gives the value back with `put_back`.
//!
//! Registration does not count the select's own waiters as counterparts (a
//! select may send and receive on one channel). Two selects that register
//! on the same channels in opposite directions can refuse each other and
//! retry; the random case order of step 1 breaks the tie, as in crossbeam.
//!
//! A counterpart (a sender, a receiver, or `close`), under its channel's lock:
//!
//! 1. Pop the oldest waiter of the opposite direction.
//! 2. Move the value into (or out of) the waiter's slot and take its waker.
//! 3. Commit: CAS the waiter's token `WAITING → SELECTED(case)`. Only the
//!    winner of this single CAS may complete any case of that select. A
//!    failed CAS means the select committed elsewhere or withdrew: undo step 2
//!    and go back to 1 with the next waiter.
//! 4. Unlock, then wake the waker.
//!
//! The plain operation is the one-case instance, with two simplifications
//! the lock allows: steps 1 and 2 of the owner happen under one acquisition
//! of the one lock involved, so there is never anything to withdraw; and the
//! commit is a `Release` store of `DONE` (or `CLOSED`) into the waiter's own
//! state instead of a CAS on a shared token, because the only parties that
//! can touch a plain waiter all hold that same lock. So a parked plain task
//! costs its waiter and nothing else, and select only adds multi-case
//! registration (steps 2, 3 and 5) on top of the same queues.
//!
//! ## Cancel safety
//!
//! A future can be dropped at any await point, including after a
//! counterpart committed it but before its owner polled again:
//!
//! - A dropped send that is still parked unlinks itself; its value is dropped
//!   with the future and was never delivered. If a receiver already took the
//!   value, the send happened; nothing is undone and nothing is sent twice,
//!   because the value left the sender's slot under the lock, exactly once.
//! - A dropped receive that is still parked unlinks itself. If a sender
//!   already delivered a value into its slot, the value is passed on: to the
//!   next parked receiver, or else back to the front of the buffer, even
//!   beyond the capacity (capacity 0 included; senders then wait until it
//!   drains). It was sent and will be received exactly once.
//!
//! ## Costs
//!
//! Measured on the 2-core development machine (x86-64, Linux, glibc
//! malloc), release build:
//!
//! - A channel is one allocation of 88 bytes for any `T` (its buffer is
//!   one more, a ring two, made once); `Sender` is 8 bytes,
//!   `Receiver` 16 (its `Stream` state). A parked `recv()` future is 56
//!   bytes for `T = ()` (72 for `u64`) and allocates nothing; nor does a
//!   hand-off or a zero-sized message.
//! - Park a receive, hand it a value, take it (one thread, no scheduler):
//!   31 ns. `try_send` + `try_recv` on a buffered channel: 27 ns.
//! - The lock is a `std::sync::Mutex`, taken with exponential backoff
//!   between attempts when contended (see `channel.rs`).
//! - A buffered channel of capacity 16 to 1024 keeps its values in a
//!   lock-free ring (`ring.rs`) that sends and receives use without the
//!   lock while nobody is parked (see "The quiet fast path" in
//!   `channel.rs`). With two workers hammering one channel the lock's cache
//!   line was the bottleneck: on the `mpmc` workload (4 producers, 4
//!   consumers, capacity 128) the ring took 80 ns/msg to 28-31, and one
//!   producer and one consumer on two workers from 58 ns/msg to 27.

//! ## Rejected alternatives
//!
//! - *A lock-free ring buffer with "notify and retry" wake-ups*
//!   (crossbeam's array flavor, `async-channel`). A woken receiver must
//!   retry and can lose the value to a newcomer (no first-come
//!   first-served), a cancelled wake-up must be forwarded, and select over
//!   it needs the retry loop to be cancel safe. gorun's ring is used
//!   lock-free only while no one waits; as soon as a waiter parks, the
//!   ring's slow mark sends every operation through the lock and the one
//!   hand-off protocol above, for every capacity.
//! - *One file per flavor* (`zero.rs`, `array.rs`). Under one lock the two
//!   flavors differ in a single comparison (`len < cap`); the hand-off, the
//!   queues, close and cancel paths are shared, so splitting them would
//!   duplicate the subtle part.
//! - *Heap-allocated waiters* (`Arc<Waiter>` in a `VecDeque`). An allocation
//!   per park, and more bytes per parked task; the intrusive node costs one
//!   `unsafe` list whose every access happens under the lock.
//! - *Locking every channel of a select at once* (Go's `sellock`). An async
//!   select is polled again and again; taking N locks in address order per
//!   poll is costly, and registration plus one CAS per commit touches one lock
//!   at a time.

mod blocking;
mod cell;
pub(crate) mod channel;
mod error;
mod ring;
#[cfg(test)]
mod select_model;
pub(crate) mod waiter;

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use pin_project_lite::pin_project;

pub use error::{SendError, TryRecvError, TrySendError};

use crate::loom::sync::Arc;
use crate::runtime::coop::poll_proceed;
use channel::Channel;
use waiter::Waiter;

/// Makes a channel of capacity `cap` and returns its two ends (Go's
/// `make(chan T, cap)`).
///
/// Capacity 0 is a rendezvous: a send completes only when a receiver takes
/// the value. Capacity `n` buffers up to `n` values in FIFO order. Both ends
/// can be cloned freely (Go channels are many-to-many); the channel closes
/// when [`Sender::close`] is called or the last `Sender` is dropped.
///
/// The location of the call is recorded for diagnostics.
///
/// ```
/// # gorun::run(async {
/// let (tx, rx) = gorun::chan::<&str>(1);
/// tx.send("hi").await.unwrap(); // buffered: does not wait for a receiver
/// assert_eq!(rx.recv().await, Some("hi"));
/// # });
/// ```
#[track_caller]
pub fn chan<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Channel::new(cap, Location::caller()));
    let tx = Sender { chan: chan.clone() };
    let rx = Receiver { chan, stream: None };
    (tx, rx)
}

// ---------------------------------------------------------------------------
// Sender
// ---------------------------------------------------------------------------

/// The sending end of a channel made by [`chan`]: cheap to clone, and
/// shareable between tasks and threads.
///
/// The channel closes when the last `Sender` is dropped, or on
/// [`Sender::close`].
///
/// ```
/// # gorun::run(async {
/// let (tx, rx) = gorun::chan::<u8>(4);
/// let tx2 = tx.clone();
/// tx.send(1).await.unwrap();
/// tx2.send(2).await.unwrap();
/// drop((tx, tx2)); // closes
/// assert_eq!(rx.recv().await, Some(1));
/// assert_eq!(rx.recv().await, Some(2));
/// assert_eq!(rx.recv().await, None);
/// # });
/// ```
pub struct Sender<T> {
    /// The channel, shared with every other end.
    chan: Arc<Channel<T>>,
}

impl<T> Sender<T> {
    /// Sends `v`, waiting while the channel is full (Go's `ch <- v`).
    ///
    /// On capacity 0 it completes when a receiver takes the value. Returns
    /// the value in [`SendError`] if the channel is closed or every
    /// [`Receiver`] is gone, also when that happens while it waits. Spends
    /// one unit of the task's cooperative budget.
    ///
    /// Cancel safety: dropping the future before it completes sends nothing
    /// (the value is dropped with it); once a receiver has taken the value,
    /// dropping it changes nothing.
    ///
    /// ```
    /// # gorun::run(async {
    /// let (tx, rx) = gorun::chan::<i32>(0);
    /// let task = gorun::spawn(async move { rx.recv().await });
    /// tx.send(42).await.unwrap();
    /// assert_eq!(task.await.unwrap(), Some(42));
    /// # });
    /// ```
    pub fn send(&self, v: T) -> Send<'_, T> {
        Send {
            chan: &self.chan,
            waiter: Waiter::new(Some(v)),
        }
    }

    /// Sends `v` only if that can happen without waiting: a receiver is
    /// parked (the only way on capacity 0) or the buffer has room.
    ///
    /// ```
    /// use gorun::TrySendError;
    ///
    /// let (tx, _rx) = gorun::chan::<u8>(0);
    /// assert_eq!(tx.try_send(1), Err(TrySendError::Full(1))); // no receiver waiting
    /// ```
    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(v)
    }

    /// Sends `v`, blocking the current thread while the channel is full.
    ///
    /// For plain threads outside the runtime: called from a task, it blocks
    /// a worker thread.
    ///
    /// ```
    /// let (tx, rx) = gorun::chan::<u64>(0);
    /// let t = std::thread::spawn(move || tx.send_blocking(5));
    /// assert_eq!(rx.recv_blocking(), Some(5));
    /// t.join().unwrap().unwrap();
    /// ```
    pub fn send_blocking(&self, v: T) -> Result<(), SendError<T>> {
        match self.chan.try_send(v) {
            Ok(()) => Ok(()),
            Err(TrySendError::Closed(v)) => Err(SendError(v)),
            Err(TrySendError::Full(v)) => blocking::send(self.send(v)),
        }
    }

    /// Closes the channel (Go's `close(ch)`); `true` if this call closed it,
    /// `false` if it was already closed.
    ///
    /// Receivers still get the buffered values, then `None`; every parked
    /// and every later send fails with its value in [`SendError`]. Every
    /// parked sender and receiver is woken.
    ///
    /// ```
    /// # gorun::run(async {
    /// let (tx, rx) = gorun::chan::<u8>(2);
    /// tx.send(1).await.unwrap();
    /// assert!(tx.close());
    /// assert!(!tx.close());
    /// assert!(tx.send(2).await.is_err());
    /// assert_eq!(rx.recv().await, Some(1));
    /// assert_eq!(rx.recv().await, None);
    /// # });
    /// ```
    pub fn close(&self) -> bool {
        self.chan.close()
    }

    /// Whether sends fail now: the channel is closed or every receiver is
    /// gone.
    ///
    /// ```
    /// let (tx, rx) = gorun::chan::<u8>(1);
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// The number of buffered values (Go's `len(ch)`); always 0 for
    /// capacity 0.
    ///
    /// ```
    /// let (tx, _rx) = gorun::chan::<u8>(3);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no value is buffered.
    ///
    /// ```
    /// let (tx, _rx) = gorun::chan::<u8>(3);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity the channel was made with (Go's `cap(ch)`).
    ///
    /// ```
    /// let (tx, _rx) = gorun::chan::<u8>(3);
    /// assert_eq!(tx.capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// Marks the channel as a timer's that fires at `due` (`None`: not
    /// armed), so that a task waiting to receive from it shows in the task
    /// dump as sleeping until then.
    pub(crate) fn set_timer_due(&self, due: Option<std::time::Instant>) {
        self.chan.set_timer_due(due);
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_channel(f, "Sender", &self.chan)
    }
}

// ---------------------------------------------------------------------------
// Receiver
// ---------------------------------------------------------------------------

/// The receiving end of a channel made by [`chan`]: cheap to clone, and
/// shareable between tasks and threads. Also a [`Stream`] of the values.
///
/// ```
/// # gorun::run(async {
/// let (tx, rx) = gorun::chan::<u8>(2);
/// let rx2 = rx.clone();
/// tx.send(7).await.unwrap();
/// assert_eq!(rx2.recv().await, Some(7));
/// # drop(rx);
/// # });
/// ```
pub struct Receiver<T> {
    /// The channel, shared with every other end.
    chan: Arc<Channel<T>>,
    /// The waiter of a pending `Stream::poll_next`, allocated the first time
    /// this handle is polled as a stream and reused afterwards.
    stream: Option<Pin<Box<Waiter<T>>>>,
}

impl<T> Receiver<T> {
    /// Receives the next value, waiting until one arrives (Go's `<-ch`).
    ///
    /// Returns `None` once the channel is closed and every buffered value
    /// has been received (Go's `v, ok := <-ch` with `ok == false`). Spends
    /// one unit of the task's cooperative budget.
    ///
    /// Cancel safety: dropping the future never loses a value; a value that
    /// was already handed to it goes to the next receiver instead.
    ///
    /// ```
    /// # gorun::run(async {
    /// let (tx, rx) = gorun::chan::<u8>(1);
    /// gorun::spawn(async move { tx.send(3).await });
    /// assert_eq!(rx.recv().await, Some(3));
    /// assert_eq!(rx.recv().await, None); // the sender is gone
    /// # });
    /// ```
    pub fn recv(&self) -> Recv<'_, T> {
        Recv {
            chan: &self.chan,
            waiter: Waiter::new(None),
        }
    }

    /// Receives a value only if one is ready now: buffered, or offered by a
    /// parked sender (the only way on capacity 0).
    ///
    /// ```
    /// use gorun::TryRecvError;
    ///
    /// let (tx, rx) = gorun::chan::<u8>(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Receives a value, blocking the current thread until one arrives;
    /// `None` once the channel is closed and drained.
    ///
    /// For plain threads outside the runtime: called from a task, it blocks
    /// a worker thread.
    ///
    /// ```
    /// let (tx, rx) = gorun::chan::<&str>(0);
    /// std::thread::spawn(move || tx.send_blocking("ping").unwrap());
    /// assert_eq!(rx.recv_blocking(), Some("ping"));
    /// assert_eq!(rx.recv_blocking(), None);
    /// ```
    pub fn recv_blocking(&self) -> Option<T> {
        match self.chan.try_recv() {
            Ok(v) => Some(v),
            Err(TryRecvError::Closed) => None,
            Err(TryRecvError::Empty) => blocking::recv(self.recv()),
        }
    }

    /// Whether the channel is closed. Buffered values may still be waiting
    /// to be received.
    ///
    /// ```
    /// let (tx, rx) = gorun::chan::<u8>(1);
    /// tx.try_send(1).unwrap();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// The number of buffered values (Go's `len(ch)`).
    ///
    /// ```
    /// let (tx, rx) = gorun::chan::<u8>(3);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no value is buffered.
    ///
    /// ```
    /// let (_tx, rx) = gorun::chan::<u8>(3);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity the channel was made with (Go's `cap(ch)`).
    ///
    /// ```
    /// let (_tx, rx) = gorun::chan::<u8>(0);
    /// assert_eq!(rx.capacity(), 0);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        self.chan.add_receiver();
        Receiver {
            chan: self.chan.clone(),
            stream: None,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(waiter) = &self.stream {
            self.chan.cancel_recv(waiter.as_ref());
        }
        self.chan.drop_receiver();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_channel(f, "Receiver", &self.chan)
    }
}

/// `for v := range ch`: yields the values until the channel is closed and
/// drained. Each `poll_next` spends one unit of the cooperative budget;
/// a pending `poll_next` keeps its place in line until the next poll, and
/// dropping the receiver passes on a value that was already handed to it.
///
/// ```
/// use futures::StreamExt;
///
/// # gorun::run(async {
/// let (tx, rx) = gorun::chan::<u8>(3);
/// for i in 1..=3 {
///     tx.send(i).await.unwrap();
/// }
/// drop(tx);
/// assert_eq!(rx.collect::<Vec<_>>().await, [1, 2, 3]);
/// # });
/// ```
impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        let spent = ready!(poll_proceed(cx));
        let waiter = this
            .stream
            .get_or_insert_with(|| Box::pin(Waiter::new(None)));
        let item = ready!(this.chan.poll_recv(waiter.as_ref(), cx));
        spent.made_progress();
        Poll::Ready(item)
    }
}

/// Shared `Debug` body of the two ends.
fn debug_channel<T>(f: &mut fmt::Formatter<'_>, name: &str, chan: &Channel<T>) -> fmt::Result {
    f.debug_struct(name)
        .field("capacity", &chan.capacity())
        .field("location", &format_args!("{}", chan.location()))
        .finish_non_exhaustive()
}

// ---------------------------------------------------------------------------
// Futures
// ---------------------------------------------------------------------------

pin_project! {
    /// The future of [`Sender::send`]: resolves to `Ok(())` once the value
    /// was received (capacity 0) or buffered, or to the value in
    /// [`SendError`] if the channel closes first.
    ///
    /// While it waits, the value and the queue node live inside this
    /// future: a parked send allocates nothing.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Send<'a, T> {
        chan: &'a Channel<T>,
        #[pin]
        waiter: Waiter<T>,
    }

    impl<'a, T> PinnedDrop for Send<'a, T> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.chan.cancel_send(this.waiter.as_ref());
        }
    }
}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let spent = ready!(poll_proceed(cx));
        let out = ready!(this.chan.poll_send(this.waiter.as_ref(), cx));
        spent.made_progress();
        Poll::Ready(out)
    }
}

impl<'a, T> Send<'a, T> {
    /// The channel and the (pinned) waiter holding the value: the parts a
    /// `select!` send case drives through the select hooks.
    pub(crate) fn select_parts(self: Pin<&Self>) -> (&'a Channel<T>, Pin<&Waiter<T>>) {
        let this = self.project_ref();
        (*this.chan, this.waiter)
    }
}

impl<T> fmt::Debug for Send<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Send").finish_non_exhaustive()
    }
}

pin_project! {
    /// The future of [`Receiver::recv`]: resolves to the next value, or to
    /// `None` once the channel is closed and drained.
    ///
    /// While it waits, its queue node lives inside this future: a parked
    /// receive allocates nothing.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Recv<'a, T> {
        chan: &'a Channel<T>,
        #[pin]
        waiter: Waiter<T>,
    }

    impl<'a, T> PinnedDrop for Recv<'a, T> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.chan.cancel_recv(this.waiter.as_ref());
        }
    }
}

impl<T> Future for Recv<'_, T> {
    type Output = Option<T>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.project();
        let spent = ready!(poll_proceed(cx));
        let out = ready!(this.chan.poll_recv(this.waiter.as_ref(), cx));
        spent.made_progress();
        Poll::Ready(out)
    }
}

impl<'a, T> Recv<'a, T> {
    /// The channel and the (pinned) waiter: the parts a `select!`
    /// receive case drives through the select hooks.
    pub(crate) fn select_parts(self: Pin<&Self>) -> (&'a Channel<T>, Pin<&Waiter<T>>) {
        let this = self.project_ref();
        (*this.chan, this.waiter)
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv").finish_non_exhaustive()
    }
}
