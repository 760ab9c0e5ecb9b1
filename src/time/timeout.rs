//! `timeout`: a future with a deadline.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use super::sleep::{far_future_saturating, sleep_until, Sleep};
use crate::task::wait;

/// Runs `future` for at most `duration`: its output, or [`Elapsed`] if the
/// time ran out first (the future is then dropped).
///
/// ```
/// use std::time::Duration;
///
/// gorun::run(async {
///     let slow = gorun::sleep(Duration::from_secs(3600));
///     assert!(gorun::timeout(Duration::from_millis(5), slow).await.is_err());
///
///     let quick = async { 7 };
///     assert_eq!(gorun::timeout(Duration::from_secs(1), quick).await, Ok(7));
/// });
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    timeout_at(far_future_saturating(Instant::now(), duration), future)
}

/// Runs `future` until `deadline` at the latest.
///
/// ```
/// use std::time::{Duration, Instant};
///
/// gorun::run(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     let never = std::future::pending::<()>();
///     assert!(gorun::time::timeout_at(deadline, never).await.is_err());
/// });
/// ```
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
    }
}

pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// gorun::run(async {
    ///     let t: gorun::time::Timeout<_> = gorun::timeout(Duration::from_secs(1), async { 1 });
    ///     assert_eq!(t.await, Ok(1));
    /// });
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        #[pin]
        sleep: Sleep,
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // For the task dump, what the inner future waits on is the better
        // answer (a `timeout` around a receive is waiting for the value; the
        // deadline only bounds the wait), so its reason wins. The timer's
        // `Sleep` shows only when nothing was recorded before it in this
        // poll (the inner future is not a gorun primitive, and nothing the
        // task polled earlier recorded a reason either). The earlier reason
        // is set aside while the timer records its own, then put back: this
        // costs only the pending path, where recording `Sleep` before the
        // inner poll would cost every poll a thread-local write.
        let inner = wait::take();
        let elapsed = this.sleep.poll(cx);
        wait::restore(inner);
        elapsed.map(|()| Err(Elapsed(())))
    }
}

/// The error of a [`timeout`] whose deadline passed first.
///
/// ```
/// use std::time::Duration;
///
/// gorun::run(async {
///     let err = gorun::timeout(Duration::ZERO, std::future::pending::<()>()).await.unwrap_err();
///     assert_eq!(err.to_string(), "deadline has elapsed");
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Debug for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Elapsed")
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}
