//! The cancellation tree: one [`Node`] per cancellable context
//! (`with_cancel`, `with_cancel_cause`, `with_deadline`, `with_timeout`).
//!
//! Value contexts and `without_cancel` contexts are not nodes: a
//! [`Context`](super::Context) points straight at its nearest cancellable
//! ancestor (Go's `parentCancelCtx` shortcut, made structural), so `done`,
//! `err` and `with_cancel` never walk a chain of values.
//!
//! # A node
//!
//! - `state`: one atomic byte, `LIVE` until the node is cancelled, then
//!   `CANCELED` or `DEADLINE_EXCEEDED` forever. Written once, under the
//!   node's lock; read without the lock by `err()` and by `Done`'s fast
//!   path.
//! - under the lock (`Inner`): the `children` (child nodes and
//!   `after_func` registrations) in a [`Slab`], the `waiters` (the wakers
//!   of pending `Done` futures) in another, the explicit cause, and the
//!   deadline timer.
//! - `parent`: a `Weak` pointer to the nearest cancellable ancestor, and
//!   `slot`, this node's key in that parent's `children`, so a node leaves
//!   its parent in O(1).
//!
//! Invariants:
//!
//! 1. A node's `children` and `waiters` are non-empty only while it is
//!    `LIVE`: the transition to done drains both in the same critical
//!    section that writes `state`, and nothing is inserted once `state` is
//!    not `LIVE` (every insertion re-checks it under the lock).
//! 2. Hence keys into a node's slabs are meaningful only while the node is
//!    `LIVE`; whoever removes by key (a child leaving, a `Done` dropped, an
//!    `after_func` stopped) checks `state` under the lock first.
//! 3. Locks are never nested. Creating a child locks the parent; cancelling
//!    locks each node of the subtree one after the other, then the parent;
//!    a `Done` locks its own node. No lock order, so no deadlock.
//! 4. Parents hold children strongly (to cancel them); children hold their
//!    parent weakly (only to leave it). No cycles, and dropping a deep
//!    chain never recurses.
//!
//! # Cancelling: exactly once, one walk
//!
//! 1. `transition_to_done` on the node: under its lock, if `LIVE`, store
//!    the cause, write `state` (Release), drain `children` and `waiters`
//!    into the walk's work lists, take the timer. Whoever finds the node
//!    already done stops: that is the exactly-once guarantee, whatever
//!    number of threads cancel the node or its ancestors at once.
//! 2. Outside the lock: wake the drained waiters, stop the timer.
//! 3. Pop the next drained child and repeat step 1 on it with the same
//!    error and cause (Go's rule: descendants inherit both); an
//!    `after_func` child starts its function on a task of its own.
//! 4. Finally, the node the cancel started from leaves its parent: lock
//!    the parent, and if it is still `LIVE`, remove `slot` from its
//!    children. The descendants do not: their parents already drained them
//!    in step 1, so cancelling a subtree of n nodes takes n uncontended
//!    locks, not n removals from a contended parent. The walk uses an
//!    explicit stack, so a ten-thousand-deep chain cannot overflow the
//!    thread's stack.
//!
//! # Waiting
//!
//! `Done` checks `state` (Acquire, paired with the Release in step 1); if
//! `LIVE`, it locks the node, checks again, and stores its waker in
//! `waiters` (or refreshes the one it stored on an earlier poll). Since
//! step 1 writes `state` and drains `waiters` under that same lock, a
//! waiter either sees the node done or is drained and woken: no lost
//! wake-up. A `Done` dropped while pending removes its waker by key.
//!
//! # Deadlines
//!
//! A deadline node arms one runtime timer (`crate::time::call_at`) whose
//! callback, on the thread that fires timers, cancels the node with
//! `DeadlineExceeded`. The callback holds the node weakly; the node holds
//! the timer's handle and stops it in step 2 when cancelled first, so an
//! early cancel leaves no timer behind. A deadline already past cancels the
//! node on creation and arms nothing.
//!
//! # Rejected alternatives
//!
//! - An `event_listener::Event` per node for the waiters: one heap-allocated
//!   listener per waiting `Done` and a second lock; the slab of wakers
//!   reuses its slots and shares the node's lock.
//! - Children removing themselves from their parent while the parent
//!   cancels them (what a naive recursive cancel does): n removals, each
//!   from a parent whose lock the whole subtree is fighting for.
//! - A lock-free state machine per node (tokio's `CancellationToken` also
//!   settles for a mutex): cancelling is rare, creating a child and
//!   registering a waiter need the same exclusion anyway, and an
//!   uncontended futex lock costs about as much as the atomic it would
//!   replace.
//! - Recursion down the tree: simple, but its depth is the user's to choose.

use std::error::Error;
use std::fmt;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Instant;

use super::after_func::FuncCell;
use super::error::ContextError;
use super::slab::Slab;
use crate::time::AfterFunc;

/// The cause a context can carry: Go's `error` given to a
/// `CancelCauseFunc` or to `WithDeadlineCause`.
pub(super) type Cause = Arc<dyn Error + Send + Sync>;

/// `state`: the node is not cancelled yet. The only state in which
/// children and waiters may be added.
const LIVE: u8 = 0;
/// `state`: cancelled by a cancel function, an ancestor or an
/// `ErrGroup`; `err()` is `Canceled`. Final.
const CANCELED: u8 = 1;
/// `state`: cancelled because its deadline (or an ancestor's) passed;
/// `err()` is `DeadlineExceeded`. Final.
const DEADLINE_EXCEEDED: u8 = 2;

/// `slot` before the node is registered with a parent.
const NO_SLOT: usize = usize::MAX;

/// One cancellable context (see the module docs).
pub(super) struct Node {
    /// `LIVE`, `CANCELED` or `DEADLINE_EXCEEDED`; written once, under
    /// `inner`'s lock, with Release.
    state: AtomicU8,
    /// The earliest deadline of this node and its ancestors.
    deadline: Option<Instant>,
    /// The nearest cancellable ancestor, to leave it when cancelled.
    parent: Option<Weak<Node>>,
    /// This node's key in the parent's `children`; written under the
    /// parent's lock at registration, read under it when leaving.
    slot: AtomicUsize,
    /// Live `CancelFunc`/`CancelCauseFunc` clones; the last one dropped
    /// cancels the node.
    handles: AtomicUsize,
    /// Everything that changes with the children and waiters.
    inner: Mutex<Inner>,
}

/// The part of a [`Node`] under its lock.
struct Inner {
    /// Child nodes and `after_func` registrations; empty once done.
    children: Slab<Child>,
    /// Wakers of pending `Done` futures; empty once done.
    waiters: Slab<Waker>,
    /// The explicit cause; `None` means the cause is the error itself.
    cause: Option<Cause>,
    /// The deadline timer, while armed and the node `LIVE`.
    timer: Option<AfterFunc>,
}

/// Something to cancel along with a node.
pub(super) enum Child {
    /// A child context.
    Node(Arc<Node>),
    /// An `after_func` registration.
    Func(Arc<FuncCell>),
}

/// The work lists of one cancel walk (one allocation each per walk, not
/// per node).
#[derive(Default)]
struct Walk {
    /// Drained children still to cancel (a stack: depth first).
    pending: Vec<Child>,
    /// Drained waiters of the node just cancelled, to wake outside its lock.
    wakers: Vec<Waker>,
}

impl Walk {
    /// Wakes the waiters collected so far.
    fn wake(&mut self) {
        for waker in self.wakers.drain(..) {
            waker.wake();
        }
    }
}

/// The error `state` means, `None` if `LIVE`.
fn decode(state: u8) -> Option<ContextError> {
    match state {
        LIVE => None,
        CANCELED => Some(ContextError::Canceled),
        _ => Some(ContextError::DeadlineExceeded),
    }
}

/// The `state` that means `err`.
fn encode(err: ContextError) -> u8 {
    match err {
        ContextError::Canceled => CANCELED,
        ContextError::DeadlineExceeded => DEADLINE_EXCEEDED,
    }
}

impl Node {
    /// Creates a node with one cancel handle, registered as a child of
    /// `parent` (if any). `deadline` is the node's effective deadline,
    /// already clamped to the parent's by the caller.
    ///
    /// If the parent is already done, the new node is cancelled at once
    /// with the parent's error and cause, as Go's `propagateCancel` does.
    pub(super) fn new(parent: Option<&Arc<Node>>, deadline: Option<Instant>) -> Arc<Node> {
        let node = Arc::new(Node {
            state: AtomicU8::new(LIVE),
            deadline,
            parent: parent.map(Arc::downgrade),
            slot: AtomicUsize::new(NO_SLOT),
            handles: AtomicUsize::new(1),
            inner: Mutex::new(Inner {
                children: Slab::new(),
                waiters: Slab::new(),
                cause: None,
                timer: None,
            }),
        });
        if let Some(parent) = parent {
            let mut inner = parent.lock();
            match decode(parent.state.load(Ordering::Relaxed)) {
                None => {
                    let key = inner.children.insert(Child::Node(node.clone()));
                    node.slot.store(key, Ordering::Relaxed);
                }
                Some(err) => {
                    let cause = inner.cause.clone();
                    drop(inner);
                    node.cancel_subtree(err, cause, false);
                }
            }
        }
        node
    }

    /// Locks the node's `Inner`. No code panics while holding the lock,
    /// but a poisoned lock is taken over rather than propagated anyway.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the node is still `LIVE`. Relaxed: for use under the lock.
    fn is_live_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) == LIVE
    }

    /// Why the node is done, or `None` if it is not.
    pub(super) fn err(&self) -> Option<ContextError> {
        // Acquire: pairs with the Release in `transition_to_done`, so a
        // caller that sees the node done also sees everything that
        // happened before the cancel.
        decode(self.state.load(Ordering::Acquire))
    }

    /// The node's effective deadline.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The cause (Go's `context.Cause`): `None` while the node is live;
    /// then the explicit cause, or the error itself.
    pub(super) fn cause(&self) -> Option<Cause> {
        let err = self.err()?;
        let explicit = self.lock().cause.clone();
        Some(explicit.unwrap_or_else(|| Arc::new(err)))
    }

    /// Cancels the node and its subtree with `err` and `cause`, then takes
    /// the node out of its parent. Returns `false` if the node was already
    /// done (nothing happens then).
    pub(super) fn cancel(&self, err: ContextError, cause: Option<Cause>) -> bool {
        self.cancel_subtree(err, cause, true)
    }

    /// The walk of the module docs; `leave_parent` is step 4.
    fn cancel_subtree(&self, err: ContextError, cause: Option<Cause>, leave_parent: bool) -> bool {
        let mut walk = Walk::default();
        if !self.transition_to_done(err, &cause, &mut walk) {
            return false;
        }
        walk.wake();
        while let Some(child) = walk.pending.pop() {
            match child {
                Child::Node(node) => {
                    // `false`: a descendant cancelled concurrently by its
                    // own cancel function; its subtree is that call's.
                    if node.transition_to_done(err, &cause, &mut walk) {
                        walk.wake();
                    }
                }
                Child::Func(cell) => cell.start(),
            }
        }
        if leave_parent {
            self.leave_parent();
        }
        true
    }

    /// Step 1 of the walk: marks the node done and moves its children and
    /// waiters into `walk`. Returns `false` if it was already done.
    fn transition_to_done(
        &self,
        err: ContextError,
        cause: &Option<Cause>,
        walk: &mut Walk,
    ) -> bool {
        let mut inner = self.lock();
        if !self.is_live_locked() {
            return false;
        }
        inner.cause.clone_from(cause);
        // Release: pairs with the Acquire in `err` and `poll_done`.
        self.state.store(encode(err), Ordering::Release);
        walk.pending.extend(inner.children.drain());
        walk.wakers.extend(inner.waiters.drain());
        let timer = inner.timer.take();
        drop(inner);
        if let Some(timer) = timer {
            timer.stop();
        }
        true
    }

    /// Step 4 of the walk: removes the node from its parent's children,
    /// unless the parent is gone or already done (then it has no children
    /// and `slot` means nothing).
    fn leave_parent(&self) {
        let Some(parent) = self.parent.as_ref().and_then(Weak::upgrade) else {
            return;
        };
        let mut inner = parent.lock();
        if !parent.is_live_locked() {
            return;
        }
        let removed = inner.children.remove(self.slot.load(Ordering::Relaxed));
        drop(inner);
        debug_assert!(
            matches!(&removed, Some(Child::Node(n)) if std::ptr::eq(&**n, self)),
            "a live parent lost track of its child"
        );
    }

    /// Polls for the node to be done, registering (or refreshing) the
    /// task's waker under `key` if it is not.
    pub(super) fn poll_done(&self, key: &mut Option<usize>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if self.err().is_some() {
            return Poll::Ready(());
        }
        let mut inner = self.lock();
        if !self.is_live_locked() {
            return Poll::Ready(());
        }
        match *key {
            Some(k) => {
                let stored = inner.waiters.get_mut(k).expect("a live node lost a waiter");
                if !stored.will_wake(cx.waker()) {
                    stored.clone_from(cx.waker());
                }
            }
            None => *key = Some(inner.waiters.insert(cx.waker().clone())),
        }
        Poll::Pending
    }

    /// Removes the waker a dropped `Done` registered under `key`.
    pub(super) fn forget_waiter(&self, key: usize) {
        if self.err().is_some() {
            // Drained already (invariant 1): nothing to remove.
            return;
        }
        let mut inner = self.lock();
        if self.is_live_locked() {
            let waker = inner.waiters.remove(key);
            drop(inner);
            drop(waker);
        }
    }

    /// Registers an `after_func` cell. Returns its key, or `None` if the
    /// node is already done (the caller starts the function then).
    pub(super) fn add_func(&self, cell: Arc<FuncCell>) -> Option<usize> {
        let mut inner = self.lock();
        self.is_live_locked()
            .then(|| inner.children.insert(Child::Func(cell)))
    }

    /// Unregisters the `after_func` cell under `key`, if the node is live.
    pub(super) fn remove_func(&self, key: usize) {
        let mut inner = self.lock();
        if self.is_live_locked() {
            let removed = inner.children.remove(key);
            drop(inner);
            debug_assert!(matches!(removed, Some(Child::Func(_))));
        }
    }

    /// Arms the deadline timer: at `at`, the node is cancelled with
    /// `DeadlineExceeded` and `cause`. `at` must be in the future.
    pub(super) fn arm_deadline(self: &Arc<Self>, at: Instant, cause: Option<Cause>) {
        let weak = Arc::downgrade(self);
        let timer = crate::time::call_at(crate::runtime::current_or_global(), at, move || {
            if let Some(node) = weak.upgrade() {
                node.cancel(ContextError::DeadlineExceeded, cause);
            }
        });
        let mut inner = self.lock();
        if self.is_live_locked() {
            inner.timer = Some(timer);
        } else {
            // Cancelled (or fired) while arming: step 2 found no timer.
            drop(inner);
            timer.stop();
        }
    }

    /// Counts one more cancel handle (a `CancelFunc` clone).
    pub(super) fn retain_handle(&self) {
        self.handles.fetch_add(1, Ordering::Relaxed);
    }

    /// Forgets one cancel handle; the last one cancels the node.
    pub(super) fn release_handle(&self) {
        if self.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.cancel(ContextError::Canceled, None);
        }
    }

    /// The number of registered children (nodes and `after_func`s).
    pub(super) fn child_count(&self) -> usize {
        self.lock().children.len()
    }

    /// The number of registered `Done` wakers.
    pub(super) fn waiter_count(&self) -> usize {
        self.lock().waiters.len()
    }

    /// Whether a deadline timer is armed.
    pub(super) fn has_timer(&self) -> bool {
        self.lock().timer.is_some()
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("err", &self.err())
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}
