//! Go's `sync` and `golang.org/x/sync` primitives, async-aware: a task that
//! has to wait parks (its worker runs other tasks) instead of blocking its
//! thread.
//!
//! | Go | gorun | built on |
//! |---|---|---|
//! | `sync.WaitGroup` | [`WaitGroup`] | one atomic word and an [`event_listener::Event`] |
//! | `semaphore.Weighted` | [`Semaphore`] | an atomic fast path and a FIFO queue of waiters under a lock |
//! | `sync.Mutex` | [`Mutex`] | one atomic word and two events (Go's normal and starvation modes) |
//! | `sync.RWMutex` | [`RwLock`] | a [`Semaphore`] with one token per reader |
//! | `sync.Once` | [`Once`] | one atomic byte and an event |
//! | `errgroup.Group` | [`ErrGroup`] | a WaitGroup, a first-error slot and a FIFO queue for the limit |
//!
//! All of them are `Send + Sync`, meant to be shared through an `Arc` (or,
//! for [`WaitGroup`], by cloning it).
//!
//! # The cooperative budget
//!
//! Every operation that returns a future (`wait`, `acquire`, `lock`, `read`,
//! `write`, `call_once`) spends one unit of the running task's cooperative
//! budget each time it completes, exactly like a channel operation: a task
//! looping on a lock that is always free, or on a semaphore that always has
//! tokens, still yields to its neighbours once its budget is gone. All the
//! futures of this module go through one function, `poll_budgeted`, for
//! that:
//!
//! 1. take a unit (`coop::poll_proceed`); if the budget is spent, the task
//!    is woken and the operation returns `Pending` *before* touching the
//!    primitive, so a yielding task holds no lock and no tokens;
//! 2. poll the operation itself;
//! 3. keep the unit if it completed, refund it if it is still waiting.
//!
//! The non-async methods (`try_lock`, `try_acquire`, `release`, `done`, …)
//! never block and spend nothing.
//!
//! # Cancellation
//!
//! Every future here may be dropped at any point: a dropped `acquire`,
//! `lock`, `read` or `write` holds nothing afterwards and wakes whoever its
//! place in line was holding up; a dropped `call_once` that was running the
//! initializer lets the next caller run it. Each primitive's docs say how.
//!
//! # Building blocks, and what was rejected
//!
//! Waiting is built on [`event_listener`] (smol's notification primitive)
//! wherever "wake one or all waiters, and let them re-check an atomic" is
//! the whole protocol: [`WaitGroup`], [`Mutex`], [`Once`]. Go's weighted
//! semaphore needs more than a notification: its waiters are served in
//! strict arrival order, each asks for a different number of tokens, and a
//! cancelled waiter must know whether it was at the head. An `Event` knows
//! neither the weights nor the order of the state changes, so
//! [`Semaphore`] keeps its own queue (as Go's `x/sync/semaphore` does with
//! a `list.List` under a mutex), and [`RwLock`] reuses it rather than
//! growing a second fairness protocol.
//!
//! Rejected: a wrapper future struct for the budget around each operation's
//! future (it would need a second public type per operation or a private
//! type in a public signature); taking the budget in each primitive by hand
//! (five copies of the same three steps).

use std::task::Poll;

use crate::runtime::coop::poll_budgeted;
use crate::task::{wait, WaitReason};

mod err_group;
mod mutex;
mod once;
mod rwlock;
mod semaphore;
mod wait_group;

pub use err_group::ErrGroup;
pub use mutex::{Lock, Mutex, MutexGuard};
pub use once::{CallOnce, Once};
pub use rwlock::{Read, RwLock, RwLockReadGuard, RwLockWriteGuard, Write};
pub use semaphore::{Acquire, Semaphore};
pub use wait_group::{Wait, WaitGroup};

/// Passes `poll` through, recording `reason` for the task dump if it is
/// pending (for operations with a single way to wait; the others record
/// where they start waiting).
#[inline]
fn recording<T>(poll: Poll<T>, reason: WaitReason) -> Poll<T> {
    if poll.is_pending() {
        wait::record(reason);
    }
    poll
}
