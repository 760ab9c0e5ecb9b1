//! `after_func`: Go's `time.AfterFunc`.

use std::fmt;
use std::panic::Location;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::sleep::far_future_saturating;
use crate::reactor::timers::{Action, TimerKey};
use crate::runtime::scheduler::Shared;

/// Runs `f` on a task of its own once `duration` has elapsed: Go's
/// `time.AfterFunc`. The returned handle can [`stop`](AfterFunc::stop) it
/// before it runs; dropping the handle does not stop it.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// gorun::run(async {
///     let ran = Arc::new(AtomicBool::new(false));
///     let flag = ran.clone();
///     gorun::time::after_func(Duration::from_millis(5), move || flag.store(true, Ordering::SeqCst));
///     while !ran.load(Ordering::SeqCst) {
///         gorun::sleep(Duration::from_millis(1)).await;
///     }
/// });
/// ```
#[track_caller]
pub fn after_func<F>(duration: Duration, f: F) -> AfterFunc
where
    F: FnOnce() + Send + 'static,
{
    let location = Location::caller();
    let runtime = crate::runtime::current_or_global();
    let spawn_on = runtime.clone();
    let deadline = far_future_saturating(Instant::now(), duration);
    call_at(runtime, deadline, move || {
        // Runs on the thread that fires timers: hand `f` to a task.
        drop(crate::task::spawn_on(
            &spawn_on,
            None,
            async move { f() },
            location,
        ));
    })
}

/// Arms a timer of runtime `shared` that calls `f` at `deadline`, on the
/// thread that fires it (a worker driving the reactor, or a busy worker's
/// maintenance tick). `f` must be short and must not block: send on a
/// channel, cancel a context, spawn a task.
pub(crate) fn call_at<F>(shared: Arc<Shared>, deadline: Instant, f: F) -> AfterFunc
where
    F: FnOnce() + Send + 'static,
{
    let key = shared.arm_timer(deadline, Action::Call(Box::new(f)));
    AfterFunc {
        inner: Arc::new(Inner {
            key: Mutex::new(Some(key)),
            shared,
        }),
    }
}

/// The handle of an [`after_func`] timer.
///
/// ```
/// use std::time::Duration;
///
/// let timer = gorun::time::after_func(Duration::from_secs(3600), || unreachable!());
/// assert!(timer.stop());
/// ```
#[derive(Clone)]
pub struct AfterFunc {
    inner: Arc<Inner>,
}

struct Inner {
    /// The pending timer; `None` once stopped.
    key: Mutex<Option<TimerKey>>,
    shared: Arc<Shared>,
}

impl AfterFunc {
    /// Prevents the function from running. Returns `true` if this call
    /// stopped it, `false` if it already started (or was stopped before),
    /// as Go's `Timer.Stop`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let timer = gorun::time::after_func(Duration::from_secs(3600), || {});
    /// assert!(timer.stop());
    /// assert!(!timer.stop(), "already stopped");
    /// ```
    pub fn stop(&self) -> bool {
        match self.inner.key.lock().unwrap().take() {
            Some(key) => self.inner.shared.reactor.timers.remove(key).is_some(),
            None => false,
        }
    }
}

impl fmt::Debug for AfterFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pending = self.inner.key.lock().unwrap().is_some();
        f.debug_struct("AfterFunc")
            .field("stopped", &!pending)
            .finish()
    }
}
