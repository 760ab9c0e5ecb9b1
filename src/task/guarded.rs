//! The wrapper every spawned future runs inside.

use std::any::Any;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Relaxed};
use std::task::{ready, Context, Poll};

use super::{TaskMeta, ABORTED};
use crate::runtime::NO_SLOT;

/// Why a task ended without output; `JoinHandle` adds the task id to make
/// a `JoinError`. Kept small: it is stored in every task's allocation.
pub(crate) enum Failure {
    Cancelled,
    Panic(Box<dyn Any + Send + 'static>),
}

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
///
/// Layout: this lives in every task's allocation, so it is kept to the
/// future plus one pointer. Whether the future was already dropped is the
/// low bit of that pointer (`TaskMeta` is 8-aligned), not an `Option`
/// around the future: rustc gives an `async` block's state no niche, so
/// `Option<F>` would cost a word per task.
pub(crate) struct Guarded<F> {
    /// The future, until [`GONE`] is set in `meta`; then dropped in place.
    /// Pinned whenever `Guarded` is (structural pinning).
    future: ManuallyDrop<F>,
    /// The metadata of the task this runs in, tagged with [`GONE`].
    meta: *const TaskMeta,
}

/// Bit of `Guarded::meta`: the future has been dropped.
const GONE: usize = 1;

// SAFETY: `meta` is a shared reference in all but name (see `Guarded::meta`)
// and `TaskMeta` is `Sync`; the future itself must be `Send`.
unsafe impl<F: Send> Send for Guarded<F> {}

impl<F> Guarded<F> {
    /// Wraps `future`. `meta` is the metadata of the task it will run in.
    pub(crate) fn new(future: F, meta: &TaskMeta) -> Guarded<F> {
        Guarded {
            future: ManuallyDrop::new(future),
            meta,
        }
    }

    /// The task's metadata.
    fn meta(&self) -> &TaskMeta {
        // SAFETY: async-task stores the metadata in the task's allocation
        // and drops it only when the allocation is freed, after the future
        // (this `Guarded`) has been dropped. So it outlives `self`. The
        // tag only ever sets the low bit, which alignment leaves free.
        unsafe { &*self.meta.map_addr(|a| a & !GONE) }
    }

    /// The future, unless it was dropped.
    fn future(self: Pin<&mut Self>) -> Option<Pin<&mut F>> {
        // SAFETY: structural pinning: `future` is never moved out, only
        // dropped in place by `drop_future`.
        let this = unsafe { self.get_unchecked_mut() };
        if this.meta.addr() & GONE != 0 {
            return None;
        }
        // SAFETY: as above; and `GONE` is clear, so it was not dropped.
        Some(unsafe { Pin::new_unchecked(&mut *this.future) })
    }

    /// Drops the future in place, once. The mark comes first: if the
    /// future's destructor panics, it is not run again.
    fn drop_future(self: Pin<&mut Self>) {
        // SAFETY: dropping in place is allowed for pinned data; nothing is
        // moved.
        let this = unsafe { self.get_unchecked_mut() };
        if this.meta.addr() & GONE == 0 {
            this.meta = this.meta.map_addr(|a| a | GONE);
            // SAFETY: `GONE` was clear, so the future is still there, and
            // now that it is set nothing will touch it again.
            unsafe { ManuallyDrop::drop(&mut this.future) };
        }
    }
}

impl<F> Drop for Guarded<F> {
    fn drop(&mut self) {
        // Drop the future first, so a task counts as live until its
        // destructors have run.
        // SAFETY: `self` is being dropped, so it stays where it is for the
        // rest of its life: treating it as pinned is sound.
        unsafe { Pin::new_unchecked(&mut *self) }.drop_future();
        let meta = self.meta();
        let shared = &meta.shared;
        if TaskMeta::slot(meta.state.load(Relaxed)) != NO_SLOT {
            let prev = meta.state.fetch_or(NO_SLOT, AcqRel);
            drop(shared.tasks.unregister(TaskMeta::slot(prev)));
        }
        shared.tasks.on_finish(shared.current_worker_index());
    }
}

impl<F: Future> Future for Guarded<F> {
    type Output = Result<F::Output, Failure>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Through a raw pointer, so `meta` does not borrow `self`.
        let meta: *const TaskMeta = self.meta();
        // SAFETY: the metadata outlives `self` (see `Guarded::meta`).
        let meta = unsafe { &*meta };
        let state = meta.state.load(Relaxed);
        if state & ABORTED != 0 {
            self.as_mut().drop_future();
            return Poll::Ready(Err(Failure::Cancelled));
        }
        // Polling and, once it is ready, dropping the future both run
        // user code that may panic. `drop_future` marks the future gone
        // before it runs the destructor, so nothing is dropped twice.
        meta.status.set_running();
        let polled = catch_unwind(AssertUnwindSafe(|| {
            let Some(future) = self.as_mut().future() else {
                unreachable!("a gorun task was polled after it completed");
            };
            let output = ready!(future.poll(cx));
            self.as_mut().drop_future();
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
                let dropped = catch_unwind(AssertUnwindSafe(|| self.as_mut().drop_future()));
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

/// `Guarded` driven by hand through async-task, without workers: what
/// Miri checks of its unsafe code (`cargo +nightly miri test --lib
/// task::guarded`).
#[cfg(all(test, not(loom)))]
mod tests {
    use std::panic::Location;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
    use std::sync::{Arc, Mutex};
    use std::task::Waker;

    use async_task::Runnable;

    use super::*;
    use crate::runtime::scheduler::Shared;
    use crate::task::{wait::TaskStatus, TaskId};

    /// Counts its drops, and panics in the first one if asked to.
    struct Probe {
        drops: Arc<AtomicUsize>,
        panic_on_drop: bool,
    }

    impl Drop for Probe {
        fn drop(&mut self) {
            if self.drops.fetch_add(1, SeqCst) == 0 && self.panic_on_drop {
                panic!("drop panicked");
            }
        }
    }

    type Queue = Arc<Mutex<Vec<Runnable<TaskMeta>>>>;

    /// Spawns `future` in a `Guarded` on a runtime that has no workers:
    /// the task's runnables go to the returned queue.
    fn spawn<F: Future + Send + 'static>(
        future: F,
    ) -> (
        Queue,
        async_task::Task<Result<F::Output, Failure>, TaskMeta>,
    )
    where
        F::Output: Send + 'static,
    {
        let shared = Arc::new(Shared::new(crate::runtime::Config::for_tests(1)).unwrap());
        shared.tasks.on_spawn(None);
        let meta = TaskMeta {
            shared,
            id: TaskId::next(),
            location: Location::caller(),
            state: AtomicU64::new(NO_SLOT),
            status: TaskStatus::new(),
        };
        let queue = Queue::default();
        let q = queue.clone();
        let (runnable, task) = async_task::Builder::new().metadata(meta).spawn(
            |meta| Guarded::new(future, meta),
            move |r| q.lock().unwrap().push(r),
        );
        runnable.schedule();
        (queue, task)
    }

    /// Runs every queued runnable once.
    fn run_queued(queue: &Queue) {
        let runnables = std::mem::take(&mut *queue.lock().unwrap());
        runnables.into_iter().for_each(|r| {
            r.run();
        });
    }

    fn probe(panic_on_drop: bool) -> (Probe, Arc<AtomicUsize>) {
        let drops = Arc::new(AtomicUsize::new(0));
        let probe = Probe {
            drops: drops.clone(),
            panic_on_drop,
        };
        (probe, drops)
    }

    fn output<T>(task: &mut async_task::Task<T, TaskMeta>) -> T {
        let waker = Waker::noop();
        match Pin::new(task).poll(&mut Context::from_waker(waker)) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("the task has not finished"),
        }
    }

    #[test]
    fn a_finished_future_is_dropped_once_before_its_output_is_read() {
        let (probe, drops) = probe(false);
        let (queue, mut task) = spawn(async move {
            let _probe = probe;
            7
        });
        run_queued(&queue);
        assert_eq!(drops.load(SeqCst), 1);
        assert!(matches!(output(&mut task), Ok(7)));
        drop(task);
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn a_destructor_that_panics_is_reported_and_runs_once() {
        let (probe, drops) = probe(true);
        let (queue, mut task) = spawn(async move {
            let _probe = probe;
        });
        run_queued(&queue);
        assert!(matches!(output(&mut task), Err(Failure::Panic(_))));
        drop(task);
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn an_aborted_waiting_task_drops_its_future_at_its_next_poll() {
        let (probe, drops) = probe(false);
        let (queue, mut task) = spawn(async move {
            let _probe = probe;
            std::future::pending::<()>().await
        });
        run_queued(&queue);
        assert_eq!(drops.load(SeqCst), 0);
        task.metadata().state.fetch_or(ABORTED, SeqCst);
        // What `JoinHandle::abort` does next: wake the task.
        task.metadata()
            .shared
            .tasks
            .wake(TaskMeta::slot(task.metadata().state.load(SeqCst)));
        run_queued(&queue);
        assert_eq!(drops.load(SeqCst), 1);
        assert!(matches!(output(&mut task), Err(Failure::Cancelled)));
    }

    #[test]
    fn a_task_dropped_unfinished_drops_its_future_once() {
        let (probe, drops) = probe(false);
        let (queue, task) = spawn(async move {
            let _probe = probe;
            std::future::pending::<()>().await
        });
        run_queued(&queue);
        let shared = task.metadata().shared.clone();
        assert_eq!(shared.tasks.live(), 1);
        // Detached, then woken, and its runnable dropped instead of run (as
        // a runtime that shuts down does): that drops the future.
        let slot = TaskMeta::slot(task.metadata().state.load(SeqCst));
        task.detach();
        shared.tasks.wake(slot);
        drop(std::mem::take(&mut *queue.lock().unwrap()));
        assert_eq!(drops.load(SeqCst), 1);
        assert_eq!(shared.tasks.live(), 0);
    }
}
