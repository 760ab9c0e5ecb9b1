//! `yield_now`: Go's `runtime.Gosched()`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields to the scheduler: the task goes to the back of its worker's run
/// queue, behind every task that is already runnable there, and resumes
/// when its turn comes (Go's `runtime.Gosched()`).
///
/// ```
/// gorun::run(async {
///     for _ in 0..3 {
///         gorun::yield_now().await;
///     }
/// });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

/// The future behind [`yield_now`]: pending once, then ready.
struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Waking itself while running: the scheduler sees
        // `woken_while_running` and queues the task at the back.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
