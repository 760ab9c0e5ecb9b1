//! The per-worker run queue: a bounded ring of [`LOCAL_QUEUE_CAPACITY`]
//! tasks plus a one-task LIFO slot ("runnext"), after Go's `runq`.
//!
//! One thread, the owning worker, pushes; the owner and any number of
//! stealers pop. The ring holds raw task pointers
//! ([`Runnable::into_raw`]) in `AtomicPtr` slots, which is what lets a
//! stealer copy slots *before* it knows whether it won them without a data
//! race, exactly as Go does with `runqsteal`.
//!
//! Invariants:
//! - `tail` is written only by the owner; `head` is advanced only by a
//!   successful CAS (owner pop, overflow, or a stealer claiming a batch).
//! - `tail - head <= LOCAL_QUEUE_CAPACITY` (wrapping `u32` arithmetic), so
//!   slots `head..tail` are never overwritten while they are in the queue.
//! - A slot's pointer is owned by whoever advances `head` past it. A reader
//!   that copied a slot and then lost the CAS owns nothing: it drops the
//!   copy (a raw pointer) without touching the task.
//!
//! Protocol:
//! 1. Push (owner): if there is room, store the slot, then publish it with a
//!    `Release` store of `tail`. If the ring is full, claim the older half
//!    with one CAS on `head` and move it, plus the new task, to the global
//!    injector in one batch (Go's `runqputslow`), so a spawn loop never
//!    blocks and idle workers can pick the surplus up.
//! 2. Pop (owner): read the slot at `head`, then CAS `head` forward; on
//!    failure a stealer took it, so retry.
//! 3. Steal (another worker, into its own empty queue): read `head` and
//!    `tail` (`Acquire`, pairing with the owner's `Release` of `tail`), copy
//!    the older half of the slots into the thief's ring, then CAS the
//!    victim's `head` forward over them. Only on success does the thief
//!    publish its own `tail`.
//!
//! Runnext is an `AtomicPtr` the owner swaps a woken task into; the task it
//! displaces goes to the back of the ring. Stealers take it only as a last
//! resort and only after a grace period (see `steal_runnext`), so a
//! ping-pong of two tasks stays on one warm core instead of bouncing.
//!
//! Rejected: a `Mutex<VecDeque>` per worker (a lock on every spawn and
//! every pop, contended by thieves) and `concurrent_queue::Bounded` (an
//! MPMC queue pays a CAS per push that a single-producer ring does not).

use std::ptr::{self, NonNull};

use async_task::Runnable;

use super::injector::Injector;
use crate::loom::sync::atomic::{AtomicPtr, AtomicU32, Ordering::*};
use crate::task::TaskMeta;

/// Slots in a worker's ring. Go and tokio both use 256: enough to absorb a
/// burst of spawns, small enough that stealing half is a short copy.
#[cfg(not(loom))]
pub(crate) const LOCAL_QUEUE_CAPACITY: u32 = 256;

/// Under loom, a ring small enough for the model to overflow it.
#[cfg(loom)]
pub(crate) const LOCAL_QUEUE_CAPACITY: u32 = 4;

const MASK: u32 = LOCAL_QUEUE_CAPACITY - 1;

/// A worker's run queue. See the module docs for the protocol.
pub(crate) struct LocalQueue {
    /// Index of the oldest task. Advanced by CAS only.
    head: AtomicU32,
    /// Index one past the newest task. Written by the owner only.
    tail: AtomicU32,
    /// The ring of raw task pointers, `LOCAL_QUEUE_CAPACITY` long.
    slots: Box<[AtomicPtr<()>]>,
    /// The LIFO slot: the task most recently woken by the running task.
    runnext: AtomicPtr<()>,
}

fn into_ptr(runnable: Runnable<TaskMeta>) -> *mut () {
    runnable.into_raw().as_ptr()
}

/// Turns a pointer taken out of a slot back into the task it owns.
///
/// # Safety
/// `ptr` must come from [`into_ptr`], and the caller must own it: it won the
/// CAS (or swap) that removed it from the queue, so no one else can turn the
/// same pointer back into a `Runnable`.
unsafe fn from_ptr(ptr: *mut ()) -> Runnable<TaskMeta> {
    // SAFETY: the caller guarantees `ptr` came from `Runnable::into_raw` of a
    // `Runnable<TaskMeta>` and that it holds the only claim to it.
    unsafe { Runnable::from_raw(NonNull::new_unchecked(ptr)) }
}

impl LocalQueue {
    pub(crate) fn new() -> LocalQueue {
        LocalQueue {
            head: AtomicU32::new(0),
            tail: AtomicU32::new(0),
            slots: (0..LOCAL_QUEUE_CAPACITY)
                .map(|_| AtomicPtr::new(ptr::null_mut()))
                .collect(),
            runnext: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Number of tasks in the ring (not counting runnext). May be stale.
    pub(crate) fn len(&self) -> u32 {
        let head = self.head.load(Acquire);
        let tail = self.tail.load(Acquire);
        tail.wrapping_sub(head)
    }

    /// Whether the ring and the LIFO slot are both empty. May be stale.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0 && self.runnext.load(Acquire).is_null()
    }

    /// Pushes a task at the back of the ring. Owner only. Returns whether
    /// the ring was empty before (an overflow counts as empty: the moved
    /// half went to the injector, where a thief must be told about it).
    pub(crate) fn push_back(&self, runnable: Runnable<TaskMeta>, injector: &Injector) -> bool {
        let ptr = into_ptr(runnable);
        loop {
            let head = self.head.load(Acquire);
            let tail = self.tail.load(Relaxed);
            let len = tail.wrapping_sub(head);
            if len < LOCAL_QUEUE_CAPACITY {
                self.slots[(tail & MASK) as usize].store(ptr, Relaxed);
                // Release: a thief that reads this tail sees the slot.
                self.tail.store(tail.wrapping_add(1), Release);
                return len == 0;
            }
            if self.push_overflow(ptr, head, tail, injector) {
                return true;
            }
            // A thief or the owner's pop moved `head`; there is room now.
        }
    }

    /// Moves the older half of a full ring and `ptr` to the injector.
    /// Returns `false` if a thief got in first (the caller retries).
    #[cold]
    fn push_overflow(&self, ptr: *mut (), head: u32, tail: u32, injector: &Injector) -> bool {
        const HALF: u32 = LOCAL_QUEUE_CAPACITY / 2;
        debug_assert_eq!(tail.wrapping_sub(head), LOCAL_QUEUE_CAPACITY);
        // Copy the slots out before the CAS, as a thief does: once `head`
        // moves, the owner may overwrite them. On the stack, so overflowing
        // costs no allocation.
        let mut batch = [ptr::null_mut(); HALF as usize + 1];
        for (i, p) in batch[..HALF as usize].iter_mut().enumerate() {
            *p = self.slots[(head.wrapping_add(i as u32) & MASK) as usize].load(Relaxed);
        }
        if self
            .head
            .compare_exchange(head, head.wrapping_add(HALF), AcqRel, Relaxed)
            .is_err()
        {
            return false;
        }
        batch[HALF as usize] = ptr;
        injector.push_batch(batch.into_iter().map(|p| {
            // SAFETY: the CAS above moved `head` past these slots, so this
            // thread owns them; `ptr` is the task being pushed.
            unsafe { from_ptr(p) }
        }));
        true
    }

    /// Puts a woken task in the LIFO slot; the task it displaces goes to the
    /// back of the ring, and then the result of that `push_back` is
    /// returned. Owner only.
    pub(crate) fn push_runnext(
        &self,
        runnable: Runnable<TaskMeta>,
        injector: &Injector,
    ) -> Option<bool> {
        let old = self.runnext.swap(into_ptr(runnable), AcqRel);
        // SAFETY: the swap removed `old` from the slot, so we own it.
        (!old.is_null()).then(|| self.push_back(unsafe { from_ptr(old) }, injector))
    }

    /// Whether the LIFO slot holds a task. May be stale.
    pub(crate) fn has_runnext(&self) -> bool {
        !self.runnext.load(Relaxed).is_null()
    }

    /// Takes the task in the LIFO slot.
    pub(crate) fn pop_runnext(&self) -> Option<Runnable<TaskMeta>> {
        if self.runnext.load(Relaxed).is_null() {
            return None;
        }
        let ptr = self.runnext.swap(ptr::null_mut(), Acquire);
        // SAFETY: the swap removed `ptr` from the slot, so we own it.
        (!ptr.is_null()).then(|| unsafe { from_ptr(ptr) })
    }

    /// Takes the oldest task of the ring. Owner only.
    pub(crate) fn pop(&self) -> Option<Runnable<TaskMeta>> {
        loop {
            let head = self.head.load(Acquire);
            let tail = self.tail.load(Relaxed);
            if head == tail {
                return None;
            }
            let ptr = self.slots[(head & MASK) as usize].load(Relaxed);
            if self
                .head
                .compare_exchange(head, head.wrapping_add(1), AcqRel, Relaxed)
                .is_ok()
            {
                // SAFETY: the CAS moved `head` past the slot, so we own it.
                return Some(unsafe { from_ptr(ptr) });
            }
        }
    }

    /// Steals the older half of `self`'s ring into `dst` (the thief's own,
    /// empty, ring) and returns one of the stolen tasks to run at once.
    pub(crate) fn steal_into(&self, dst: &LocalQueue) -> Option<Runnable<TaskMeta>> {
        let dst_tail = dst.tail.load(Relaxed);
        loop {
            let head = self.head.load(Acquire);
            let tail = self.tail.load(Acquire);
            let len = tail.wrapping_sub(head);
            if len == 0 {
                return None;
            }
            if len > LOCAL_QUEUE_CAPACITY {
                // `head` moved between the two loads; read again.
                continue;
            }
            let n = len - len / 2;
            // The thief's ring is empty (only its owner pushes, and the
            // owner is us), so `n <= LOCAL_QUEUE_CAPACITY / 2` fits.
            for i in 0..n {
                let ptr = self.slots[(head.wrapping_add(i) & MASK) as usize].load(Relaxed);
                dst.slots[(dst_tail.wrapping_add(i) & MASK) as usize].store(ptr, Relaxed);
            }
            if self
                .head
                .compare_exchange(head, head.wrapping_add(n), AcqRel, Relaxed)
                .is_err()
            {
                continue;
            }
            // We own the `n` copies now. Run the newest, publish the rest.
            let last = dst.slots[(dst_tail.wrapping_add(n - 1) & MASK) as usize].load(Relaxed);
            if n > 1 {
                dst.tail.store(dst_tail.wrapping_add(n - 1), Release);
            }
            // SAFETY: the CAS gave us the stolen slots; `last` is not
            // published in `dst` (its `tail` stops before it).
            return Some(unsafe { from_ptr(last) });
        }
    }

    /// Takes the victim's LIFO slot. Called by a thief that found every ring
    /// empty, after the grace period the caller observed.
    pub(crate) fn steal_runnext(&self) -> Option<Runnable<TaskMeta>> {
        self.pop_runnext()
    }

    /// Removes every task, for shutdown. Owner or, once the owner has
    /// stopped, anyone.
    pub(crate) fn drain(&self) -> Vec<Runnable<TaskMeta>> {
        let mut out = Vec::new();
        out.extend(self.pop_runnext());
        while let Some(r) = self.pop() {
            out.push(r);
        }
        out
    }
}

impl Drop for LocalQueue {
    fn drop(&mut self) {
        drop(self.drain());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use loom::thread;

    use crate::runtime::scheduler::Shared;
    use crate::task::testing::{id_of, runnable};

    fn shared() -> Arc<Shared> {
        Arc::new(Shared::new(crate::runtime::Config::for_tests(2)).unwrap())
    }

    /// Every task pushed comes out exactly once, whether the owner pops it,
    /// a thief steals it, or it overflowed to the injector.
    fn assert_each_once(pushed: &[u64], got: Vec<u64>) {
        let unique: HashSet<_> = got.iter().copied().collect();
        assert_eq!(unique.len(), got.len(), "a task came out twice: {got:?}");
        assert_eq!(unique, pushed.iter().copied().collect(), "a task was lost");
    }

    #[test]
    fn pop_racing_with_steal_yields_each_task_once() {
        loom::model(|| {
            let shared = shared();
            let tasks: Vec<_> = (0..3).map(|_| runnable(&shared)).collect();
            let pushed: Vec<u64> = tasks.iter().map(id_of).collect();
            for t in tasks {
                shared.queues[0].push_back(t, &shared.injector);
            }
            let thief = {
                let shared = shared.clone();
                thread::spawn(move || {
                    let mut got = Vec::new();
                    if let Some(t) = shared.queues[0].steal_into(&shared.queues[1]) {
                        got.push(id_of(&t));
                        while let Some(t) = shared.queues[1].pop() {
                            got.push(id_of(&t));
                        }
                    }
                    got
                })
            };
            let mut got = Vec::new();
            while let Some(t) = shared.queues[0].pop() {
                got.push(id_of(&t));
            }
            got.extend(thief.join().unwrap());
            assert_each_once(&pushed, got);
        });
    }

    #[test]
    fn overflow_racing_with_steal_loses_nothing() {
        loom::model(|| {
            let shared = shared();
            // One more than the ring holds: the last push overflows half of
            // the ring to the injector, while a thief steals.
            let tasks: Vec<_> = (0..5).map(|_| runnable(&shared)).collect();
            let pushed: Vec<u64> = tasks.iter().map(id_of).collect();
            let mut tasks = tasks.into_iter();
            for t in tasks.by_ref().take(4) {
                shared.queues[0].push_back(t, &shared.injector);
            }
            let last = tasks.next().unwrap();
            let thief = {
                let shared = shared.clone();
                thread::spawn(move || {
                    let mut got = Vec::new();
                    if let Some(t) = shared.queues[0].steal_into(&shared.queues[1]) {
                        got.push(id_of(&t));
                    }
                    got
                })
            };
            shared.queues[0].push_back(last, &shared.injector);
            let mut got = thief.join().unwrap();
            got.extend(shared.queues[0].drain().iter().map(id_of));
            got.extend(shared.queues[1].drain().iter().map(id_of));
            got.extend(shared.injector.drain().iter().map(id_of));
            assert_each_once(&pushed, got);
        });
    }

    #[test]
    fn runnext_taken_by_owner_or_thief_but_not_both() {
        loom::model(|| {
            let shared = shared();
            let t = runnable(&shared);
            let pushed = vec![id_of(&t)];
            assert_eq!(shared.queues[0].push_runnext(t, &shared.injector), None);
            let thief = {
                let shared = shared.clone();
                thread::spawn(move || shared.queues[0].steal_runnext().map(|t| id_of(&t)))
            };
            let mut got: Vec<u64> = shared.queues[0].pop_runnext().iter().map(id_of).collect();
            got.extend(thief.join().unwrap());
            assert_each_once(&pushed, got);
        });
    }
}
