//! Cooperative preemption: a per-poll budget of operations.
//!
//! Go preempts a goroutine that runs too long; stackless tasks cannot be
//! interrupted, so gorun does what tokio does instead: each time the
//! scheduler polls a task it hands it a budget (default [`DEFAULT_BUDGET`]),
//! and every channel, timer, sync and I/O operation spends one unit through
//! [`poll_proceed`]. When the budget is gone the next operation wakes its
//! own task and returns `Pending`, even if it could have completed. The
//! scheduler sees a task that woke itself while running and puts it at the
//! *back* of the run queue (never in the LIFO slot), so a task looping on
//! always-ready channel operations still lets its neighbours run.
//!
//! Outside a runtime worker (a plain thread, `block_on`'s root future before
//! it is given a budget) the budget is unlimited: nothing is forced to yield.
//!
//! Protocol, per poll of a task:
//! 1. The worker calls [`with_budget`] around the poll; it sets the thread's
//!    budget to the runtime's configured value and restores the previous one
//!    afterwards (so a nested `block_on` on another runtime cannot leak it).
//! 2. An operation calls [`poll_proceed`] before doing its work. `Pending`
//!    means "yield now"; `Ready(Spent)` means a unit was taken.
//! 3. If the operation then turns out not to be ready, dropping the `Spent`
//!    without [`Spent::made_progress`] refunds the unit: only operations
//!    that complete count, so a task that waits is never penalised.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Budget a task gets each time it is polled, unless `Builder::budget` says
/// otherwise. 128 is tokio's figure: large enough that a task draining a
/// channel moves a burst of messages per poll, small enough that a hog
/// yields within tens of microseconds.
pub(crate) const DEFAULT_BUDGET: u32 = 128;

/// The value of the thread's budget that means "not inside a budgeted poll".
const UNLIMITED: u32 = u32::MAX;

std::thread_local! {
    /// Units left for the task being polled on this thread.
    static BUDGET: Cell<u32> = const { Cell::new(UNLIMITED) };
}

/// Runs `f` with the thread's budget set to `budget`, restoring the previous
/// budget afterwards (also when `f` unwinds).
pub(crate) fn with_budget<R>(budget: u32, f: impl FnOnce() -> R) -> R {
    struct Restore(u32);
    impl Drop for Restore {
        fn drop(&mut self) {
            BUDGET.with(|b| b.set(self.0));
        }
    }
    let _restore = Restore(BUDGET.with(|b| b.replace(budget)));
    f()
}

/// Takes one unit of the running task's budget.
///
/// Returns `Pending` (after waking the task, so the scheduler requeues it at
/// the back of the queue) when the budget is spent.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<Spent> {
    BUDGET.with(|b| {
        let left = b.get();
        if left == 0 {
            exhausted();
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            if left != UNLIMITED {
                b.set(left - 1);
            }
            Poll::Ready(Spent { refund: true })
        }
    })
}

/// Polls one step of an operation under the cooperative budget.
///
/// `op` runs only if a unit of budget is left; the unit is kept if `op`
/// completes and refunded if it returns `Pending`. When the budget is
/// spent, the task is woken and `Pending` is returned without calling `op`.
#[inline]
pub(crate) fn poll_budgeted<T>(
    cx: &mut Context<'_>,
    op: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    let spent = std::task::ready!(poll_proceed(cx));
    let output = std::task::ready!(op(cx));
    spent.made_progress();
    Poll::Ready(output)
}

/// Counts a yield forced by a spent budget (cold: once per budget).
#[cold]
fn exhausted() {
    super::trace::budget_exhausted();
    super::context::with_worker(|w| match w {
        Some(w) => w.stats().budget_yields.incr(),
        None => super::context::with_current(|shared| {
            if let Some(shared) = shared {
                shared
                    .external_budget_yields
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }),
    });
}

/// One unit of budget, taken by [`poll_proceed`].
///
/// Dropping it without calling [`Spent::made_progress`] gives the unit back:
/// an operation that ends up `Pending` costs nothing.
#[must_use = "call made_progress() once the operation completes"]
pub(crate) struct Spent {
    refund: bool,
}

impl Spent {
    /// Keeps the unit spent: the operation completed.
    #[inline]
    pub(crate) fn made_progress(mut self) {
        self.refund = false;
    }
}

impl Drop for Spent {
    #[inline]
    fn drop(&mut self) {
        if self.refund {
            BUDGET.with(|b| {
                let left = b.get();
                if left != UNLIMITED {
                    b.set(left + 1);
                }
            });
        }
    }
}

/// Spends one unit of the running task's cooperative budget, yielding to the
/// scheduler first if the budget is already spent.
///
/// Call it in loops that do a lot of work without touching a gorun channel,
/// timer, lock or socket, so they cannot starve their neighbours; it costs a
/// thread-local read when budget is left.
///
/// ```
/// # gorun::run(async {
/// let mut sum = 0u64;
/// for i in 0..10_000u64 {
///     sum += i;
///     gorun::consume_budget().await;
/// }
/// assert_eq!(sum, 49_995_000);
/// # });
/// ```
pub async fn consume_budget() {
    ConsumeBudget.await
}

/// The future behind [`consume_budget`].
struct ConsumeBudget;

impl Future for ConsumeBudget {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        poll_proceed(cx).map(Spent::made_progress)
    }
}
