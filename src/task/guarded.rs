//! The wrapper every spawned future runs inside.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Relaxed};
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use super::{TaskMeta, ABORTED};
use crate::runtime::NO_SLOT;

/// Why a task ended without output; `JoinHandle` adds the task id to make
/// a `JoinError`. Kept small: it is stored in every task's allocation.
pub(crate) enum Failure {
    Cancelled,
    Panic(Box<dyn Any + Send + 'static>),
}

pin_project! {
    /// A spawned future plus its task's bookkeeping.
    ///
    /// Output: `Ok(output)`, or a [`Failure`] if the future panicked or the
    /// task was aborted. Either way the inner future is dropped as soon as
    /// the outcome is known, so its destructors run on the worker, not when
    /// the `JoinHandle` is dropped.
    ///
    /// Abort protocol: `TaskMeta::state` holds the registry slot and the
    /// `ABORTED` bit in one atomic word. `abort` sets the bit with a
    /// `fetch_or` and wakes the slot it finds there, if any; a task that is
    /// about to wait for the first time puts its slot in with a
    /// read-modify-write too and wakes itself if the bit was already set.
    /// The two read-modify-writes are totally ordered, so whichever comes
    /// second sees the first, and an abort is never missed.
    pub(crate) struct Guarded<F> {
        #[pin]
        inner: Option<F>,
        meta: *const TaskMeta,
    }

    impl<F> PinnedDrop for Guarded<F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            // Drop the future first, so a task counts as live until its
            // destructors have run.
            this.inner.set(None);
            // SAFETY: see `Guarded::meta`.
            let meta = unsafe { &**this.meta };
            let shared = &meta.shared;
            if TaskMeta::slot(meta.state.load(Relaxed)) != NO_SLOT {
                let prev = meta.state.fetch_or(NO_SLOT, AcqRel);
                drop(shared.tasks.unregister(TaskMeta::slot(prev)));
            }
            shared.tasks.on_finish(shared.current_worker_index());
        }
    }
}

// SAFETY: `meta` is a shared reference in all but name (see `Guarded::meta`)
// and `TaskMeta` is `Sync`; the future itself must be `Send`.
unsafe impl<F: Send> Send for Guarded<F> {}

impl<F: Future> Guarded<F> {
    /// Wraps `future`. `meta` is the metadata of the task it will run in.
    pub(crate) fn new(future: F, meta: &TaskMeta) -> Guarded<F> {
        Guarded {
            inner: Some(future),
            meta,
        }
    }
}

impl<F: Future> Future for Guarded<F> {
    type Output = Result<F::Output, Failure>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        // SAFETY: async-task stores the metadata in the task's allocation
        // and drops it only when the allocation is freed, after the future
        // (this `Guarded`) has been dropped. So it outlives `self`.
        let meta = unsafe { &**this.meta };
        let state = meta.state.load(Relaxed);
        if state & ABORTED != 0 {
            this.inner.set(None);
            return Poll::Ready(Err(Failure::Cancelled));
        }
        // Polling and, once it is ready, dropping the future both run
        // user code that may panic. `Pin::set` leaves `None` behind even if
        // the old value's destructor panics, so nothing is dropped twice.
        meta.status.set_running();
        let polled = catch_unwind(AssertUnwindSafe(|| {
            let Some(inner) = this.inner.as_mut().as_pin_mut() else {
                unreachable!("a gorun task was polled after it completed");
            };
            let output = ready!(inner.poll(cx));
            this.inner.set(None);
            Poll::Ready(output)
        }));
        // Taken whatever the outcome, so no record outlives this poll.
        let reason = super::wait::take();
        match polled {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => {
                meta.status.set_waiting(reason);
                if TaskMeta::slot(state) == NO_SLOT {
                    register(meta, cx);
                }
                Poll::Pending
            }
            Err(payload) => {
                // A destructor that panics too is reported in its place.
                let dropped = catch_unwind(AssertUnwindSafe(|| this.inner.set(None)));
                Poll::Ready(Err(Failure::Panic(dropped.err().unwrap_or(payload))))
            }
        }
    }
}

/// Records the task's waker in its runtime's table, the first time it
/// waits, and wakes the task if it was aborted meanwhile (see the abort
/// protocol above).
fn register(meta: &TaskMeta, cx: &mut Context<'_>) {
    let shared = &meta.shared;
    let slot = shared
        .tasks
        .register(shared.current_worker_index(), cx.waker().clone(), meta);
    let prev = meta.state.fetch_and(slot | ABORTED, AcqRel);
    debug_assert_eq!(TaskMeta::slot(prev), NO_SLOT);
    if prev & ABORTED != 0 {
        cx.waker().wake_by_ref();
    }
}
