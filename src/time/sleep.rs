//! `sleep` and `sleep_until`: Go's `time.Sleep`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use crate::reactor::timers::{Action, TimerKey};
use crate::runtime::coop;
use crate::runtime::scheduler::Shared;
use crate::task::{wait, WaitReason};

/// Waits until `duration` has elapsed: Go's `time.Sleep`.
///
/// The timer is armed on the runtime the future is created in (the global
/// one outside any runtime) when it is first polled, and freed as soon as
/// the future is dropped. It never completes early; an idle runtime wakes
/// for timers with a resolution of 1 ms (as tokio's), so timers due within
/// the same millisecond fire together.
///
/// ```
/// use std::time::{Duration, Instant};
///
/// gorun::run(async {
///     let start = Instant::now();
///     gorun::sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(far_future_saturating(Instant::now(), duration))
}

/// Waits until `deadline`. A deadline in the past completes at once.
///
/// ```
/// use std::time::{Duration, Instant};
///
/// gorun::run(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     gorun::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        shared: crate::runtime::current_or_global(),
        key: None,
    }
}

/// `start + duration`, or a deadline about 30 years away if that overflows
/// (a `Duration::MAX` sleep is "forever").
pub(crate) fn far_future_saturating(start: Instant, duration: Duration) -> Instant {
    start
        .checked_add(duration)
        .unwrap_or_else(|| start + Duration::from_secs(86_400 * 365 * 30))
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// ```
/// use std::time::Duration;
///
/// gorun::run(async {
///     let nap: gorun::time::Sleep = gorun::sleep(Duration::from_millis(1));
///     nap.await;
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    /// The runtime whose timer store holds the timer.
    shared: Arc<Shared>,
    /// The armed timer, once polled.
    key: Option<TimerKey>,
}

impl Sleep {
    /// When the sleep completes.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let at = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(gorun::sleep_until(at).deadline(), at);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// assert!(gorun::sleep(Duration::ZERO).is_elapsed());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline, re-arming the timer; a completed `Sleep` can be
    /// awaited again after a reset.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// gorun::run(async {
    ///     let mut nap = Box::pin(gorun::sleep(Duration::from_secs(3600)));
    ///     nap.as_mut().reset(Instant::now() + Duration::from_millis(1));
    ///     nap.await;
    /// });
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.disarm();
        this.deadline = deadline;
    }

    fn disarm(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.reactor.timers.remove(key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let spent = ready!(coop::poll_proceed(cx));
        let this = self.get_mut();
        if Instant::now() >= this.deadline {
            this.disarm();
            spent.made_progress();
            return Poll::Ready(());
        }
        let timers = &this.shared.reactor.timers;
        match this.key {
            Some(key) if timers.update_waker(key, cx.waker()) => {}
            // Not armed yet (or fired by a clock that ran ahead of ours).
            _ => {
                this.key = Some(
                    this.shared
                        .arm_timer(this.deadline, Action::Wake(cx.waker().clone())),
                );
            }
        }
        wait::record(WaitReason::Sleep {
            until: this.deadline,
        });
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.disarm();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("armed", &self.key.is_some())
            .finish()
    }
}

#[cfg(all(test, not(loom)))] // builds a real runtime: not a loom model
mod tests {
    use std::task::{Context, Poll, Waker};

    use super::*;

    #[test]
    fn dropping_a_pending_sleep_frees_its_timer() {
        let rt = crate::Runtime::builder().workers(1).build().unwrap();
        rt.block_on(async {
            let mut nap = Box::pin(sleep(Duration::from_secs(3600)));
            let mut cx = Context::from_waker(Waker::noop());
            assert_eq!(nap.as_mut().poll(&mut cx), Poll::Pending);
            let shared = nap.shared.clone();
            assert!(!shared.reactor.timers.is_empty());
            drop(nap);
            assert!(shared.reactor.timers.is_empty());
        });
    }
}
