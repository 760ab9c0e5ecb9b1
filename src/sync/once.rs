//! `Once`: run an async initializer exactly once (Go's `sync.Once`).
//!
//! # Semantics
//!
//! The first caller of `call_once` runs its initializer; callers that come
//! while it runs wait for it to finish; callers after that return at once.
//! Two departures from Go, both forced by futures:
//!
//! - *Cancellation.* If the future of the caller that is running the
//!   initializer is dropped before the initializer finishes, the
//!   initialization did not happen: the `Once` goes back to "not done" and
//!   the next caller (a waiting one, woken for that, or a new one) runs
//!   *its own* initializer from the start.
//! - *Panics.* As in Go ("if f panics, Do considers it to have returned"),
//!   an initializer that panics counts as done: waiters are released and
//!   later callers do not run theirs. The panic itself propagates to the
//!   caller that ran it (through its task's `JoinHandle`).
//!
//! # State
//!
//! `state`, one `AtomicU8`: `INCOMPLETE → RUNNING → COMPLETE`, and back
//! from `RUNNING` to `INCOMPLETE` when the running caller is cancelled. Only
//! the caller that moved it to `RUNNING` moves it on.
//!
//! # Protocol of a `call_once` future, per poll
//!
//! 1. If this caller is running the initializer, poll it. When it finishes
//!    (or panics), store `COMPLETE` and notify every listener of `done`.
//! 2. Otherwise CAS `INCOMPLETE → RUNNING`; on success, start the
//!    initializer and go to 1. `COMPLETE` means return.
//! 3. `RUNNING` (someone else runs it): register a listener on `done` and
//!    go back to 2 before sleeping, or, holding one, wait for it and go back
//!    to 2 when it fires.
//!
//! A running caller dropped midway drops the initializer's future first,
//! then stores `INCOMPLETE` and notifies one listener, which takes over at
//! step 2 (if that one is dropped too, its notification passes to another).
//!
//! # Rejected alternatives
//!
//! - Poisoning on panic (`std::sync::Once`): Go's rule is simpler and is
//!   what the API promises; the panic is not lost, its task reports it.
//! - Retrying after a panic as after a cancellation (tokio's `OnceCell`):
//!   a deterministic panic would then run once per caller.
//! - Keeping the initializer's future in the `Once` so that waiters can
//!   drive it when the first caller goes away: it needs `Fut: Send +
//!   'static` and a lock around the future; re-running from the start is
//!   what a Go programmer would do with a fresh `Do`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{ready, Context, Poll};

use event_listener::{Event, EventListener};
use pin_project_lite::pin_project;

use super::poll_budgeted;
use crate::task::{wait, WaitReason};

/// No caller has finished the initializer, and none is running it.
const INCOMPLETE: u8 = 0;
/// A caller is running its initializer.
const RUNNING: u8 = 1;
/// An initializer has finished (or panicked); it never runs again.
const COMPLETE: u8 = 2;

/// Runs an async initializer exactly once: Go's `sync.Once`.
///
/// The first [`call_once`](Once::call_once) runs its initializer;
/// concurrent callers wait until it has finished; later callers return at
/// once without running theirs.
///
/// # Cancellation
///
/// If the caller running the initializer is dropped (cancelled) before it
/// finishes, the `Once` is not done: the next caller, waiting or new, runs
/// its own initializer from the start.
///
/// # Panics
///
/// As in Go, an initializer that panics counts as done: the panic goes to
/// the caller that ran it, waiters are released, and no other initializer
/// runs.
///
/// ```
/// use gorun::sync::Once;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// static INIT: Once = Once::new();
/// static RUNS: AtomicUsize = AtomicUsize::new(0);
///
/// gorun::run(async {
///     let handles: Vec<_> = (0..8)
///         .map(|_| {
///             gorun::spawn(async {
///                 INIT.call_once(|| async {
///                     RUNS.fetch_add(1, Ordering::SeqCst);
///                 })
///                 .await;
///                 assert!(INIT.is_completed());
///             })
///         })
///         .collect();
///     for h in handles {
///         h.await.unwrap();
///     }
///     assert_eq!(RUNS.load(Ordering::SeqCst), 1);
/// });
/// ```
pub struct Once {
    /// `INCOMPLETE`, `RUNNING` or `COMPLETE`.
    state: AtomicU8,
    /// Notified when the initializer finishes (all listeners) or is
    /// abandoned (one listener, to take over).
    done: Event,
}

impl Once {
    /// Creates a `Once` whose initializer has not run. `const`, so it can
    /// be a `static`.
    ///
    /// ```
    /// static ONCE: gorun::sync::Once = gorun::sync::Once::new();
    /// assert!(!ONCE.is_completed());
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Once {
        Once {
            state: AtomicU8::new(INCOMPLETE),
            done: Event::new(),
        }
    }

    /// Under loom, `Event::new` is not `const`.
    #[cfg(loom)]
    pub fn new() -> Once {
        Once {
            state: AtomicU8::new(INCOMPLETE),
            done: Event::new(),
        }
    }

    /// Runs `init().await` if no initializer has finished yet and none is
    /// running; waits for the running one if there is one; returns at once
    /// if one has finished.
    ///
    /// Spends a unit of the task's cooperative budget (the initializer's
    /// own operations spend their own). See the type's docs for
    /// cancellation and panics.
    ///
    /// ```
    /// use gorun::sync::Once;
    ///
    /// gorun::run(async {
    ///     let once = Once::new();
    ///     let mut runs = 0;
    ///     once.call_once(|| async { runs += 1 }).await;
    ///     once.call_once(|| async { runs += 1 }).await;
    ///     assert_eq!(runs, 1);
    /// });
    /// ```
    pub fn call_once<F, Fut>(&self, init: F) -> CallOnce<'_, F, Fut>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ()>,
    {
        CallOnce {
            once: self,
            init: Some(init),
            listener: None,
            running: None,
        }
    }

    /// Returns whether an initializer has finished (or panicked).
    ///
    /// ```
    /// gorun::run(async {
    ///     let once = gorun::sync::Once::new();
    ///     assert!(!once.is_completed());
    ///     once.call_once(|| async {}).await;
    ///     assert!(once.is_completed());
    /// });
    /// ```
    pub fn is_completed(&self) -> bool {
        self.state.load(Ordering::Acquire) == COMPLETE
    }

    /// Marks the initializer finished and releases every waiter.
    fn complete(&self) {
        // Release: the initializer's effects happen before every caller
        // that sees `COMPLETE` (they load with Acquire) returns.
        self.state.store(COMPLETE, Ordering::Release);
        self.done.notify(usize::MAX);
    }

    /// Gives the initializer up (its runner was cancelled) and wakes one
    /// waiter to take over. Does nothing if a panic already completed it.
    fn abandon(&self) {
        if self
            .state
            .compare_exchange(RUNNING, INCOMPLETE, Ordering::Release, Ordering::Relaxed)
            .is_ok()
        {
            self.done.notify(1);
        }
    }
}

impl Default for Once {
    fn default() -> Once {
        Once::new()
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state.load(Ordering::Relaxed) {
            INCOMPLETE => "incomplete",
            RUNNING => "running",
            _ => "complete",
        };
        f.debug_struct("Once").field("state", &state).finish()
    }
}

pin_project! {
    /// The future returned by [`Once::call_once`].
    ///
    /// ```
    /// gorun::run(async {
    ///     let once = gorun::sync::Once::new();
    ///     let call = once.call_once(|| async {});
    ///     call.await;
    ///     assert!(once.is_completed());
    /// });
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    pub struct CallOnce<'a, F, Fut> {
        // The `Once` being initialized.
        once: &'a Once,
        // This caller's initializer, until it runs it (or returns).
        init: Option<F>,
        // Registered on `once.done` while another caller runs.
        listener: Option<EventListener>,
        // The initializer's future, while this caller runs it.
        #[pin]
        running: Option<Fut>,
    }

    impl<F, Fut> PinnedDrop for CallOnce<'_, F, Fut> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            if this.running.is_some() {
                // Cancelled midway: drop the initializer's future before
                // anyone else may start one, then hand over.
                this.running.set(None);
                this.once.abandon();
            }
        }
    }
}

impl<F, Fut> CallOnce<'_, F, Fut>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    /// One poll of the protocol in the module docs, without the budget.
    fn poll_call(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let once = *this.once;
        loop {
            // Step 1.
            if let Some(init) = this.running.as_mut().as_pin_mut() {
                let on_panic = CompleteOnUnwind(once);
                let poll = init.poll(cx);
                std::mem::forget(on_panic);
                ready!(poll);
                this.running.set(None);
                once.complete();
                return Poll::Ready(());
            }
            // Step 2. Acquire: see `complete`.
            match once.state.compare_exchange(
                INCOMPLETE,
                RUNNING,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    *this.listener = None;
                    let init = this
                        .init
                        .take()
                        .expect("`CallOnce` polled after completion");
                    let on_panic = CompleteOnUnwind(once);
                    let future = init();
                    std::mem::forget(on_panic);
                    this.running.set(Some(future));
                    continue;
                }
                Err(COMPLETE) => {
                    *this.listener = None;
                    this.init.take();
                    return Poll::Ready(());
                }
                Err(_) => {}
            }
            // Step 3.
            match this.listener {
                None => *this.listener = Some(once.done.listen()),
                Some(listener) => {
                    if Pin::new(listener).poll(cx).is_pending() {
                        wait::record(WaitReason::Once);
                        return Poll::Pending;
                    }
                    *this.listener = None;
                }
            }
        }
    }
}

impl<F, Fut> Future for CallOnce<'_, F, Fut>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        poll_budgeted(cx, |cx| self.poll_call(cx))
    }
}

impl<F, Fut> fmt::Debug for CallOnce<'_, F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallOnce")
            .field("once", self.once)
            .field("running", &self.running.is_some())
            .field("waiting", &self.listener.is_some())
            .finish()
    }
}

/// Completes the `Once` if dropped, i.e. if the initializer panics while
/// it is alive (it is forgotten otherwise): Go's "if f panics, Do
/// considers it to have returned".
struct CompleteOnUnwind<'a>(&'a Once);

impl Drop for CompleteOnUnwind<'_> {
    fn drop(&mut self) {
        self.0.complete();
    }
}
