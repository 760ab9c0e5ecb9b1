//! The runtime's table of live tasks: how many there are, and a waker for
//! every task that is waiting.
//!
//! A task is *live* from `spawn` until its future is dropped (it completed,
//! panicked, was aborted, or the runtime shut down). `num_goroutines` is the
//! sum of per-shard counters, one shard per worker plus one for every other
//! thread, so a spawn or a completion on a worker touches only that
//! worker's cache line.
//!
//! The registry holds a `Waker` for each task that has returned `Pending` at
//! least once and has not finished, like Go's `allgs` restricted to the
//! goroutines that can be parked. It is what lets
//! 1. `JoinHandle::abort` wake a waiting task so it drops its future,
//! 2. `Runtime`'s drop wake every waiting task, so that tasks kept alive
//!    only by each other (a task waiting on a channel it holds itself) are
//!    dropped too, and nothing leaks,
//! 3. the task dump (later) list what is parked.
//!
//! A task registers lazily, on its first `Pending`: a task that runs to
//! completion in one poll, the common case for fan-out work, never touches
//! the registry. Registration and removal take a shard's lock; the shard is
//! the registering thread's, so the lock is almost never contended.

use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};
use std::sync::Mutex;
use std::task::Waker;

use super::padded::CachePadded;
use crate::task::TaskMeta;

/// A registry position, packed as `shard << 32 | key`. Bit 63 is never
/// set, so a slot fits beside a flag in one atomic (`TaskMeta::state`).
pub(crate) type Slot = u64;

/// The `Slot` of a task that is not registered: all 63 low bits set.
pub(crate) const NO_SLOT: Slot = (1 << 63) - 1;

/// One shard of the registry: a free-list of entries.
#[derive(Default)]
struct Shard {
    entries: Vec<Entry>,
    /// Index of the first vacant entry, or `entries.len()`.
    next_free: usize,
}

/// 24 bytes: a waker and the task's metadata; `Vacant`'s index fits
/// beside the niche of the waker's vtable pointer.
enum Entry {
    /// The metadata pointer stays valid while the entry is occupied: the
    /// waker holds a reference to the task, and async-task frees the
    /// metadata only with the task's allocation.
    Occupied(Waker, *const TaskMeta),
    Vacant(usize),
}

// SAFETY: `TaskMeta` is `Sync`, and the pointer is only dereferenced while
// the entry (and so the waker's reference to the task) is alive.
unsafe impl Send for Entry {}

/// See the module docs.
pub(crate) struct TaskTable {
    /// Spawns minus finishes, per shard. Shard `workers` is for threads
    /// that are not workers of this runtime.
    live: Box<[CachePadded<AtomicIsize>]>,
    /// The wakers of waiting tasks, sharded like `live`.
    waiting: Box<[CachePadded<Mutex<Shard>>]>,
}

impl TaskTable {
    pub(crate) fn new(workers: usize) -> TaskTable {
        TaskTable {
            live: (0..=workers).map(|_| CachePadded::default()).collect(),
            waiting: (0..=workers).map(|_| CachePadded::default()).collect(),
        }
    }

    /// The shard for threads that are not this runtime's workers.
    fn external(&self) -> usize {
        self.live.len() - 1
    }

    /// Counts a spawn on `shard` (a worker index, or `None` elsewhere).
    pub(crate) fn on_spawn(&self, shard: Option<usize>) {
        self.add(shard, 1);
    }

    /// Counts a task whose future was dropped.
    pub(crate) fn on_finish(&self, shard: Option<usize>) {
        self.add(shard, -1);
    }

    fn add(&self, shard: Option<usize>, delta: isize) {
        match shard {
            // Only worker `i` writes shard `i`: no read-modify-write needed.
            Some(i) => self.live[i].store(self.live[i].load(Relaxed) + delta, Relaxed),
            None => {
                self.live[self.external()].fetch_add(delta, Relaxed);
            }
        }
    }

    /// Number of live tasks. Exact when no task is being spawned or
    /// finishing concurrently.
    pub(crate) fn live(&self) -> usize {
        let sum: isize = self.live.iter().map(|c| c.load(Relaxed)).sum();
        sum.max(0) as usize
    }

    /// Records a waiting task's waker and metadata; returns where.
    ///
    /// `meta` must be the metadata of the task `waker` wakes.
    pub(crate) fn register(
        &self,
        shard: Option<usize>,
        waker: Waker,
        meta: *const TaskMeta,
    ) -> Slot {
        let shard_index = shard.unwrap_or(self.external());
        let mut shard = self.waiting[shard_index].lock().unwrap();
        let key = shard.next_free;
        let entry = Entry::Occupied(waker, meta);
        if key == shard.entries.len() {
            shard.entries.push(entry);
            shard.next_free = key + 1;
        } else {
            match std::mem::replace(&mut shard.entries[key], entry) {
                Entry::Vacant(next_free) => shard.next_free = next_free,
                Entry::Occupied(..) => unreachable!("free list points at an occupied entry"),
            }
        }
        ((shard_index as u64) << 32) | key as u64
    }

    /// Removes the entry at `slot`, if it is still there, and returns its
    /// waker.
    ///
    /// Only the task that registered at `slot` calls this, and an entry is
    /// freed only here or by `drain_wakers` at shutdown, after which no
    /// task is polled again (so none registers): the entry at `slot` is
    /// the caller's own, or vacant.
    pub(crate) fn unregister(&self, slot: Slot) -> Option<Waker> {
        let (shard_index, key) = ((slot >> 32) as usize, slot as u32 as usize);
        let mut shard = self.waiting[shard_index].lock().unwrap();
        if !matches!(shard.entries.get(key), Some(Entry::Occupied(..))) {
            return None;
        }
        let next_free = shard.next_free;
        let old = std::mem::replace(&mut shard.entries[key], Entry::Vacant(next_free));
        shard.next_free = key;
        match old {
            Entry::Occupied(waker, _) => Some(waker),
            Entry::Vacant(_) => unreachable!(),
        }
    }

    /// Wakes the task registered at `slot`. If that task has finished and
    /// another has taken the slot since, the other one is woken instead:
    /// a spurious wake-up, which futures tolerate.
    pub(crate) fn wake(&self, slot: Slot) {
        let (shard_index, key) = ((slot >> 32) as usize, slot as u32 as usize);
        let waker = match self.waiting[shard_index].lock().unwrap().entries.get(key) {
            Some(Entry::Occupied(waker, _)) => waker.clone(),
            _ => return,
        };
        waker.wake();
    }

    /// Takes every registered waker out of the table, for shutdown. The
    /// tasks' own `unregister` calls then find nothing and do nothing.
    pub(crate) fn drain_wakers(&self) -> Vec<Waker> {
        let mut out = Vec::new();
        for shard in self.waiting.iter() {
            let mut shard = shard.lock().unwrap();
            let entries = std::mem::take(&mut shard.entries);
            *shard = Shard::default();
            drop(shard);
            out.extend(entries.into_iter().filter_map(|e| match e {
                Entry::Occupied(waker, _) => Some(waker),
                Entry::Vacant(_) => None,
            }));
        }
        out
    }

    /// Calls `f` with the metadata of every registered task, one shard's
    /// lock at a time (for the task dump).
    pub(crate) fn for_each_registered(&self, mut f: impl FnMut(&TaskMeta)) {
        for shard in self.waiting.iter() {
            let shard = shard.lock().unwrap();
            for entry in &shard.entries {
                if let Entry::Occupied(_, meta) = entry {
                    // SAFETY: see `Entry::Occupied`; the shard's lock keeps
                    // the entry (and its waker) alive during `f`.
                    f(unsafe { &**meta });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registry_entry_is_a_waker_and_a_pointer() {
        assert_eq!(
            std::mem::size_of::<Entry>(),
            std::mem::size_of::<Waker>() + std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn freed_slots_are_reused_and_draining_empties_the_table() {
        let table = TaskTable::new(1);
        let a = table.register(Some(0), Waker::noop().clone(), std::ptr::null());
        let b = table.register(Some(0), Waker::noop().clone(), std::ptr::null());
        assert_ne!(a, b);
        assert!(table.unregister(a).is_some());
        assert!(table.unregister(a).is_none(), "a freed slot is vacant");
        let c = table.register(None, Waker::noop().clone(), std::ptr::null());
        let d = table.register(Some(0), Waker::noop().clone(), std::ptr::null());
        assert_eq!(d, a, "the freed slot is reused");
        assert_ne!(c, b, "other threads use their own shard");
        assert_eq!(table.drain_wakers().len(), 3);
        assert!(table.unregister(b).is_none());
    }
}
