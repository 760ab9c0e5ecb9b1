//! The timer store: every pending `sleep`, timeout, `Timer`, `Ticker` and
//! context deadline of one runtime.
//!
//! Sharded like Go's per-P timer heaps: one ordered map per worker plus one
//! for other threads, each behind its own lock, so workers arming timers at
//! the same time do not contend. A shard is a `BTreeMap` keyed by
//! `(deadline, sequence number)`: insert and cancel are O(log n), a
//! cancelled timer's entry is freed at once (no tombstones waiting for
//! their deadline), and the expired timers are a prefix of the map. A
//! million pending timers cost about 60 bytes each.
//!
//! Each shard mirrors its earliest deadline in an atomic, so finding the
//! next deadline (the reactor's poll timeout) or checking whether anything
//! expired reads one word per shard and takes no lock.
//!
//! Rejected: a hierarchical timing wheel (tokio's): O(1), but a fixed
//! resolution, more code, and cascading work; the workloads here are
//! dominated by the wake-ups, not the tree operations. A single global heap
//! (smol's `BTreeMap` behind one lock): contended when every worker arms
//! timers at once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::*};
use std::sync::Mutex;
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::runtime::padded::CachePadded;

/// What to do when a timer fires.
pub(crate) enum Action {
    /// Wake a task (a `Sleep` future).
    Wake(Waker),
    /// Run a short callback on the thread that fires the timer (timer
    /// channels, `after_func`, context deadlines). It must not block.
    Call(Box<dyn FnOnce() + Send>),
}

/// Where a timer is stored: enough to cancel it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    shard: usize,
    deadline: Instant,
    seq: u64,
}

/// A shard's earliest deadline, as nanoseconds since `Timers::epoch`, when
/// it has no timers.
const NONE: u64 = u64::MAX;

struct Shard {
    timers: BTreeMap<(Instant, u64), Action>,
    /// Sequence numbers make keys unique among timers with one deadline.
    next_seq: u64,
}

/// See the module docs.
pub(crate) struct Timers {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    /// Each shard's earliest deadline (nanoseconds since `epoch`, or `NONE`).
    earliest: Box<[CachePadded<AtomicU64>]>,
    /// The instant deadlines are measured from in `earliest`.
    epoch: Instant,
}

impl Timers {
    /// A store with `shards` shards.
    pub(crate) fn new(shards: usize) -> Timers {
        Timers {
            shards: (0..shards)
                .map(|_| {
                    CachePadded(Mutex::new(Shard {
                        timers: BTreeMap::new(),
                        next_seq: 0,
                    }))
                })
                .collect(),
            earliest: (0..shards)
                .map(|_| CachePadded(AtomicU64::new(NONE)))
                .collect(),
            epoch: Instant::now(),
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        let nanos = at.saturating_duration_since(self.epoch).as_nanos();
        u64::try_from(nanos).unwrap_or(NONE - 1)
    }

    /// Arms a timer on `shard` (taken modulo the number of shards).
    pub(crate) fn insert(&self, shard: usize, deadline: Instant, action: Action) -> TimerKey {
        let shard = shard % self.shards.len();
        let mut s = self.shards[shard].lock().unwrap();
        let seq = s.next_seq;
        s.next_seq += 1;
        s.timers.insert((deadline, seq), action);
        let nanos = self.nanos(deadline);
        // Under the lock, so it never goes backwards past a later removal.
        if nanos < self.earliest[shard].load(Relaxed) {
            self.earliest[shard].store(nanos, SeqCst);
        }
        TimerKey {
            shard,
            deadline,
            seq,
        }
    }

    /// Timers armed so far (every insert takes a sequence number).
    pub(crate) fn armed(&self) -> u64 {
        self.shards.iter().map(|s| s.lock().unwrap().next_seq).sum()
    }

    /// Timers pending now.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap().timers.len())
            .sum()
    }

    /// Cancels a timer. Returns its action if it had not fired yet.
    pub(crate) fn remove(&self, key: TimerKey) -> Option<Action> {
        let mut s = self.shards[key.shard].lock().unwrap();
        let action = s.timers.remove(&(key.deadline, key.seq))?;
        self.update_earliest(key.shard, &s);
        Some(action)
    }

    /// Replaces the waker of a pending `Wake` timer. Returns `false` if the
    /// timer already fired.
    pub(crate) fn update_waker(&self, key: TimerKey, waker: &Waker) -> bool {
        let mut s = self.shards[key.shard].lock().unwrap();
        match s.timers.get_mut(&(key.deadline, key.seq)) {
            Some(Action::Wake(w)) => {
                if !w.will_wake(waker) {
                    w.clone_from(waker);
                }
                true
            }
            Some(Action::Call(_)) => true,
            None => false,
        }
    }

    fn update_earliest(&self, shard: usize, s: &Shard) {
        let nanos = s
            .timers
            .keys()
            .next()
            .map_or(NONE, |(at, _)| self.nanos(*at));
        self.earliest[shard].store(nanos, SeqCst);
    }

    /// The earliest deadline of all shards, if any timer is pending.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let nanos = self.earliest.iter().map(|e| e.load(SeqCst)).min()?;
        (nanos != NONE).then(|| self.epoch + Duration::from_nanos(nanos))
    }

    /// Whether any timer is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.earliest.iter().all(|e| e.load(SeqCst) == NONE)
    }

    /// Removes every timer whose deadline is at or before `now` and returns
    /// their actions, for the caller to run outside the locks. Cheap when
    /// nothing expired: one atomic read per shard.
    pub(crate) fn take_expired(&self, now: Instant) -> Vec<Action> {
        let now_nanos = self.nanos(now);
        let mut fired = Vec::new();
        for (shard, earliest) in self.earliest.iter().enumerate() {
            if earliest.load(SeqCst) > now_nanos {
                continue;
            }
            let mut s = self.shards[shard].lock().unwrap();
            while let Some(entry) = s.timers.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                fired.push(entry.remove());
            }
            self.update_earliest(shard, &s);
        }
        fired
    }

    /// Removes every timer, for shutdown.
    pub(crate) fn drain(&self) -> Vec<Action> {
        let mut all = Vec::new();
        for (shard, lock) in self.shards.iter().enumerate() {
            let mut s = lock.lock().unwrap();
            all.extend(std::mem::take(&mut s.timers).into_values());
            self.earliest[shard].store(NONE, SeqCst);
        }
        all
    }
}

impl Action {
    /// Runs the action: wakes the task or calls the callback.
    pub(crate) fn run(self) {
        match self {
            Action::Wake(waker) => waker.wake(),
            Action::Call(f) => f(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> Action {
        Action::Call(Box::new(|| {}))
    }

    #[test]
    fn a_removed_timer_is_freed_at_once() {
        let timers = Timers::new(2);
        let at = Instant::now() + Duration::from_secs(3600);
        let key = timers.insert(0, at, call());
        assert!(timers.next_deadline().is_some());
        assert!(timers.remove(key).is_some());
        assert!(timers.is_empty());
        assert_eq!(timers.next_deadline(), None);
        assert!(timers.remove(key).is_none(), "removing twice finds nothing");
    }

    #[test]
    fn expired_timers_come_out_in_deadline_order_and_later_ones_stay() {
        let timers = Timers::new(3);
        let now = Instant::now();
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        for (shard, ms) in [(0, 30u64), (1, 10), (2, 20), (0, 5000)] {
            let order = order.clone();
            let at = now + Duration::from_millis(ms);
            timers.insert(
                shard,
                at,
                Action::Call(Box::new(move || order.lock().unwrap().push(ms))),
            );
        }
        let fired = timers.take_expired(now + Duration::from_millis(100));
        assert_eq!(fired.len(), 3);
        fired.into_iter().for_each(Action::run);
        let mut seen = order.lock().unwrap().clone();
        seen.sort_unstable();
        assert_eq!(seen, vec![10, 20, 30]);
        assert!(!timers.is_empty(), "the 5 s timer is still pending");
    }

    #[test]
    fn the_earliest_deadline_tracks_inserts_and_removals() {
        let timers = Timers::new(1);
        let now = Instant::now();
        let late = timers.insert(0, now + Duration::from_secs(20), call());
        let early = timers.insert(0, now + Duration::from_secs(10), call());
        let nanos = |at: Instant| timers.nanos(at);
        assert_eq!(
            timers.next_deadline().map(nanos),
            Some(nanos(early.deadline))
        );
        timers.remove(early);
        assert_eq!(
            timers.next_deadline().map(nanos),
            Some(nanos(late.deadline))
        );
    }

    #[test]
    fn timers_with_the_same_deadline_are_distinct() {
        let timers = Timers::new(1);
        let at = Instant::now();
        let a = timers.insert(0, at, call());
        let b = timers.insert(0, at, call());
        assert_ne!(a, b);
        assert_eq!(timers.take_expired(at).len(), 2);
    }
}
