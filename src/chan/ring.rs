//! The buffer of a buffered channel: a bounded lock-free ring that senders
//! and receivers use without the channel lock while the channel is *quiet*
//! (nobody parked, nothing spilled), and under the lock otherwise.
//!
//! The ring is the classic bounded MPMC queue with one sequence stamp per
//! slot (Dmitry Vyukov's design, also the array flavor of crossbeam): a
//! sender claims position `p` by moving `tail` from `p` to the next position
//! with a CAS, writes the value and then publishes it by storing the stamp
//! `p + 1`; a receiver claims `p` by moving `head`, reads the value and
//! frees the slot for the next lap by storing `p + one_lap`.
//!
//! What is particular to gorun is the *mark bits* in `head` and `tail`:
//!
//! - The *slow* mark, set by the channel core (under its lock) while a
//!   waiter is parked or a value sits outside the ring: on `tail` for a
//!   parked receiver, on both ends for a parked sender. A lock-free
//!   operation compares the whole word in its CAS, so once an end is
//!   marked no lock-free operation can succeed there: it goes through the
//!   lock, where Go's rules (hand-off to the oldest parked receiver, refill
//!   from the oldest parked sender) are kept exactly as before.
//! - The *closed* mark on `tail`, set once the channel accepts no more sends
//!   (closed, or every receiver gone). A push can never land after it, so a
//!   receiver that sees an empty ring and the mark knows nothing will
//!   follow.
//!
//! Positions are `lap | index`: the index in the low bits, the two marks
//! above them, the lap count in the rest, so stepping to the next lap is an
//! addition and no division is ever needed. Stamps are compared for
//! equality only, so the lap count may wrap.

use std::mem::MaybeUninit;

use super::cell::UnsafeCell;
use crate::loom::sync::atomic::{fence, AtomicUsize, Ordering};

/// Why a push did not happen.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PushError<T> {
    /// Every slot holds a value.
    Full(T),
    /// The channel takes no more sends.
    Closed(T),
    /// A lock-free push met the `slow` mark: take the lock.
    Slow(T),
}

impl<T> PushError<T> {
    /// The value that was not pushed.
    pub(crate) fn into_inner(self) -> T {
        match self {
            PushError::Full(v) | PushError::Closed(v) | PushError::Slow(v) => v,
        }
    }
}

/// Why a pop did not happen.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PopError {
    /// No value is in the ring.
    Empty,
    /// A lock-free pop met the `slow` mark: take the lock.
    Slow,
}

/// Whether an operation runs under the channel lock (and so ignores the
/// `slow` mark) or lock-free (and so stops at it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Lock-free: fails with `Slow` while the mark is set.
    Fast,
    /// Under the channel lock.
    Locked,
}

/// One slot: its stamp and, between a push and a pop, a value.
struct Slot<T> {
    /// `p` when free for the push at position `p`; `p + 1` when it holds the
    /// value pushed at `p`.
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// Keeps a counter on a cache line of its own, so senders moving `tail` and
/// receivers moving `head` do not invalidate each other's line.
#[repr(align(64))]
struct Padded(AtomicUsize);

/// A bounded lock-free MPMC ring of `cap >= 1` values.
pub(crate) struct Ring<T> {
    /// Next position to pop, with the `slow` mark.
    head: Padded,
    /// Next position to push, with the `slow` and `closed` marks.
    tail: Padded,
    slots: Box<[Slot<T>]>,
    /// The `closed` mark; the index bits are the ones below it.
    closed: usize,
    /// The `slow` mark.
    slow: usize,
    /// Adding it to a position moves to the same index one lap later.
    one_lap: usize,
}

// SAFETY: values move between threads through the ring (`T: Send`); a slot's
// value is touched only by the one thread that claimed its position, and
// the stamp's Release/Acquire orders the hand-over.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above; the ring is shared through `&Ring` by design.
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    /// An empty ring of `cap` slots.
    pub(crate) fn new(cap: usize) -> Ring<T> {
        assert!(cap >= 1, "a ring holds at least one value");
        // The index needs values up to `cap` (a stamp is `p + 1`), so the
        // marks start at the next power of two above it.
        let closed = (cap + 1).next_power_of_two();
        let slow = closed << 1;
        let one_lap = slow << 1;
        let slots = (0..cap)
            .map(|i| Slot {
                stamp: AtomicUsize::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Ring {
            head: Padded(AtomicUsize::new(0)),
            tail: Padded(AtomicUsize::new(0)),
            slots,
            closed,
            slow,
            one_lap,
        }
    }

    /// Both marks.
    #[inline]
    fn marks(&self) -> usize {
        self.closed | self.slow
    }

    /// The position after `pos` (which carries no marks).
    #[inline]
    fn next(&self, pos: usize) -> usize {
        let index = pos & (self.closed - 1);
        if index + 1 < self.slots.len() {
            pos + 1
        } else {
            (pos & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    /// Pushes `value` at the tail.
    #[inline]
    pub(crate) fn push(&self, value: T, mode: Mode) -> Result<(), PushError<T>> {
        let mut tail = self.tail.0.load(Ordering::Relaxed);
        let mut spins = 0;
        loop {
            if tail & self.closed != 0 {
                return Err(PushError::Closed(value));
            }
            if mode == Mode::Fast && tail & self.slow != 0 {
                return Err(PushError::Slow(value));
            }
            let pos = tail & !self.marks();
            let slot = &self.slots[pos & (self.closed - 1)];
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == pos {
                let next = self.next(pos) | (tail & self.marks());
                match self.tail.0.compare_exchange_weak(
                    tail,
                    next,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the CAS gave this thread position `pos`;
                        // the slot is free (its stamp said so, and the
                        // Acquire load ordered the last pop's read before
                        // this write) and no one else writes or reads it
                        // until the stamp below publishes the value.
                        slot.value.with_mut(|v| unsafe { (*v).write(value) });
                        slot.stamp.store(pos + 1, Ordering::Release);
                        return Ok(());
                    }
                    Err(_) => {
                        // Another sender won the position: stay off the
                        // line for a moment so the winner keeps it.
                        contended(&mut spins);
                        tail = self.tail.0.load(Ordering::Relaxed);
                    }
                }
            } else if stamp.wrapping_add(self.one_lap) == pos + 1 {
                // The slot still holds the value of the previous lap: full,
                // unless a pop has claimed it and is still reading.
                fence(Ordering::SeqCst);
                let head = self.head.0.load(Ordering::Relaxed);
                if (head & !self.marks()).wrapping_add(self.one_lap) == pos {
                    return Err(PushError::Full(value));
                }
                backoff(&mut spins);
                tail = self.tail.0.load(Ordering::Relaxed);
            } else {
                // Another push claimed this position and has not published
                // yet, or `tail` moved on.
                backoff(&mut spins);
                tail = self.tail.0.load(Ordering::Relaxed);
            }
        }
    }

    /// Pops the value at the head.
    #[inline]
    pub(crate) fn pop(&self, mode: Mode) -> Result<T, PopError> {
        let mut head = self.head.0.load(Ordering::Relaxed);
        let mut spins = 0;
        loop {
            if mode == Mode::Fast && head & self.slow != 0 {
                return Err(PopError::Slow);
            }
            let pos = head & !self.marks();
            let slot = &self.slots[pos & (self.closed - 1)];
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == pos + 1 {
                let next = self.next(pos) | (head & self.marks());
                match self.head.0.compare_exchange_weak(
                    head,
                    next,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the CAS gave this thread position `pos`,
                        // whose value the Acquire load of the stamp saw
                        // published; no one else touches the slot until the
                        // stamp below frees it.
                        let value = slot.value.with(|v| unsafe { (*v).assume_init_read() });
                        slot.stamp
                            .store(pos.wrapping_add(self.one_lap), Ordering::Release);
                        return Ok(value);
                    }
                    Err(_) => {
                        contended(&mut spins);
                        head = self.head.0.load(Ordering::Relaxed);
                    }
                }
            } else if stamp == pos {
                // Empty, unless a push has claimed the slot and is still
                // writing.
                fence(Ordering::SeqCst);
                let tail = self.tail.0.load(Ordering::Relaxed);
                if tail & !self.marks() == pos {
                    return Err(PopError::Empty);
                }
                backoff(&mut spins);
                head = self.head.0.load(Ordering::Relaxed);
            } else {
                backoff(&mut spins);
                head = self.head.0.load(Ordering::Relaxed);
            }
        }
    }

    /// The number of values in the ring (a snapshot).
    pub(crate) fn len(&self) -> usize {
        // `head` first: `tail` only grows and never passes below `head`, so
        // the later read of `tail` is at least the `head` read before it.
        let head = self.head.0.load(Ordering::SeqCst) & !self.marks();
        let tail = self.tail.0.load(Ordering::SeqCst) & !self.marks();
        let index_mask = self.closed - 1;
        let laps =
            (tail & !(self.one_lap - 1)).wrapping_sub(head & !(self.one_lap - 1)) / self.one_lap;
        let len = (laps * self.slots.len() + (tail & index_mask)).wrapping_sub(head & index_mask);
        // Pops and pushes between the two reads can make it look larger.
        len.min(self.slots.len())
    }

    /// Whether the ring holds no value.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets (`on`) or clears the `slow` mark on the head (`head`: stops
    /// lock-free pops) and on the tail (`tail`: stops lock-free pushes).
    /// Called under the channel lock; once it returns, no lock-free
    /// operation can succeed at a marked end until the mark is cleared.
    pub(crate) fn set_slow(&self, head: bool, tail: bool, on: bool) {
        let end = |word: &AtomicUsize| {
            if on {
                word.fetch_or(self.slow, Ordering::SeqCst);
            } else {
                word.fetch_and(!self.slow, Ordering::SeqCst);
            }
        };
        if head {
            end(&self.head.0);
        }
        if tail {
            end(&self.tail.0);
        }
    }

    /// Sets the `closed` mark: no push succeeds from now on.
    pub(crate) fn close(&self) {
        self.tail.0.fetch_or(self.closed, Ordering::SeqCst);
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        if std::mem::needs_drop::<T>() {
            while self.pop(Mode::Locked).is_ok() {}
        }
    }
}

/// Backs off after losing a CAS on `head` or `tail` to another thread:
/// 8, 16 .. 256 spin-loop hints. Staying off the line lets the winner keep
/// it for its next few operations instead of bouncing it between cores on
/// every one: on the 2-worker `mpmc` workload (4 producers, 4 consumers,
/// capacity 128) retrying at once cost 150 ns/msg, this 42; starting at 1
/// hint or stopping at 64 was 44 to 45, starting at 32 was 54.
#[inline]
fn contended(spins: &mut u32) {
    #[cfg(loom)]
    {
        let _ = spins;
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    {
        for _ in 0..1u32 << (*spins + 3).min(8) {
            std::hint::spin_loop();
        }
        *spins += 1;
    }
}

/// Waits a little for another thread to finish a push or pop it has
/// claimed: spin-loop hints first, then yielding the thread (the other one
/// may have been descheduled mid-operation).
#[inline]
fn backoff(spins: &mut u32) {
    #[cfg(loom)]
    {
        let _ = spins;
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    {
        if *spins < 6 {
            for _ in 0..1 << *spins {
                std::hint::spin_loop();
            }
            *spins += 1;
        } else {
            std::thread::yield_now();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn pushes_and_pops_in_fifo_order_across_laps() {
        let ring = Ring::new(3);
        for lap in 0..5 {
            for i in 0..3 {
                ring.push(lap * 10 + i, Mode::Fast).unwrap();
            }
            assert_eq!(ring.push(99, Mode::Fast), Err(PushError::Full(99)));
            assert_eq!(ring.len(), 3);
            for i in 0..3 {
                assert_eq!(ring.pop(Mode::Fast), Ok(lap * 10 + i));
            }
            assert_eq!(ring.pop(Mode::Fast), Err(PopError::Empty));
            assert!(ring.is_empty());
        }
    }

    #[test]
    fn the_slow_mark_stops_lock_free_operations_only() {
        let ring = Ring::new(2);
        ring.push(1, Mode::Fast).unwrap();
        ring.set_slow(true, true, true);
        assert_eq!(ring.push(2, Mode::Fast), Err(PushError::Slow(2)));
        assert_eq!(ring.pop(Mode::Fast), Err(PopError::Slow));
        ring.push(2, Mode::Locked).unwrap();
        assert_eq!(ring.pop(Mode::Locked), Ok(1));
        ring.set_slow(true, true, false);
        assert_eq!(ring.pop(Mode::Fast), Ok(2));
    }

    #[test]
    fn the_closed_mark_stops_every_push_but_not_pops() {
        let ring = Ring::new(2);
        ring.push(1, Mode::Fast).unwrap();
        ring.close();
        assert_eq!(ring.push(2, Mode::Locked), Err(PushError::Closed(2)));
        assert_eq!(ring.pop(Mode::Fast), Ok(1));
        assert_eq!(ring.pop(Mode::Fast), Err(PopError::Empty));
    }

    #[test]
    fn dropping_the_ring_drops_its_values() {
        let value = std::sync::Arc::new(());
        let ring = Ring::new(4);
        for _ in 0..3 {
            ring.push(value.clone(), Mode::Fast).unwrap();
        }
        drop(ring.pop(Mode::Fast));
        drop(ring);
        assert_eq!(std::sync::Arc::strong_count(&value), 1);
    }

    #[test]
    fn concurrent_producers_and_consumers_move_every_value_once() {
        use std::sync::atomic::AtomicU64;
        use std::sync::Arc;
        let ring = Arc::new(Ring::new(8));
        let sum = Arc::new(AtomicU64::new(0));
        let count = Arc::new(AtomicU64::new(0));
        // Miri runs the same interleavings far slower.
        const PER: u64 = if cfg!(miri) { 300 } else { 20_000 };
        let mut threads = Vec::new();
        for _ in 0..2 {
            let ring = ring.clone();
            threads.push(std::thread::spawn(move || {
                for v in 1..=PER {
                    let mut v = v;
                    loop {
                        match ring.push(v, Mode::Fast) {
                            Ok(()) => break,
                            Err(e) => v = e.into_inner(),
                        }
                        std::thread::yield_now();
                    }
                }
            }));
        }
        for _ in 0..2 {
            let (ring, sum, count) = (ring.clone(), sum.clone(), count.clone());
            threads.push(std::thread::spawn(move || {
                while count.load(std::sync::atomic::Ordering::Relaxed) < 2 * PER {
                    match ring.pop(Mode::Fast) {
                        Ok(v) => {
                            sum.fetch_add(v, std::sync::atomic::Ordering::Relaxed);
                            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Err(_) => std::thread::yield_now(),
                    }
                }
            }));
        }
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(
            sum.load(std::sync::atomic::Ordering::Relaxed),
            PER * (PER + 1)
        );
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    #[test]
    fn a_push_racing_the_pop_of_the_previous_lap_is_full_or_lands_after_it() {
        loom::model(|| {
            let ring = Arc::new(Ring::new(1));
            ring.push(0u32, Mode::Fast).unwrap();
            let pusher = {
                let ring = ring.clone();
                thread::spawn(move || ring.push(1, Mode::Fast))
            };
            assert_eq!(ring.pop(Mode::Fast), Ok(0));
            match pusher.join().unwrap() {
                Ok(()) => assert_eq!(ring.pop(Mode::Fast), Ok(1)),
                Err(PushError::Full(1)) => assert_eq!(ring.pop(Mode::Fast), Err(PopError::Empty)),
                other => panic!("unexpected {other:?}"),
            }
        });
    }

    #[test]
    fn two_racing_pushes_into_one_slot_one_wins() {
        loom::model(|| {
            let ring = Arc::new(Ring::new(1));
            let other = {
                let ring = ring.clone();
                thread::spawn(move || ring.push(1u32, Mode::Fast).is_ok())
            };
            let mine = ring.push(2, Mode::Fast).is_ok();
            let theirs = other.join().unwrap();
            assert!(mine != theirs, "exactly one push fits");
            assert_eq!(ring.pop(Mode::Fast), Ok(if mine { 2 } else { 1 }));
        });
    }

    #[test]
    fn a_slow_mark_set_under_a_racing_push_is_seen_by_the_next_push() {
        loom::model(|| {
            let ring = Arc::new(Ring::new(2));
            let pusher = {
                let ring = ring.clone();
                thread::spawn(move || ring.push(1u32, Mode::Fast).is_ok())
            };
            ring.set_slow(false, true, true);
            let pushed = pusher.join().unwrap();
            assert_eq!(ring.push(2, Mode::Fast), Err(PushError::Slow(2)));
            assert_eq!(ring.len(), usize::from(pushed));
        });
    }
}
