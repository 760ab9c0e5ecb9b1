//! Go's `context` package: cancellation, deadlines and request-scoped
//! values that flow down a tree of tasks.
//!
//! A [`Context`] is a cheap, cloneable handle (two pointers) that says
//! "stop when this is done". Deriving a context ([`Context::with_cancel`],
//! [`with_timeout`](Context::with_timeout), …) makes a child: cancelling a
//! parent cancels every descendant, at once and exactly once, while
//! cancelling a child leaves its parent alone. Tasks watch a context with
//! [`done`](Context::done) (a future, usable as a `select!` case) or
//! [`err`](Context::err), or hand their work to [`run`](Context::run).
//!
//! ```
//! use std::time::Duration;
//! use gorun::{Context, ContextError};
//!
//! gorun::run(async {
//!     let (ctx, cancel) = Context::background().with_cancel();
//!     let worker = {
//!         let ctx = ctx.clone();
//!         gorun::spawn(async move {
//!             ctx.done().await; // `<-ctx.Done()`
//!             ctx.err()
//!         })
//!     };
//!     gorun::sleep(Duration::from_millis(1)).await;
//!     cancel.cancel(); // `cancel()`
//!     assert_eq!(worker.await.unwrap(), Some(ContextError::Canceled));
//! });
//! ```
//!
//! # Go → gorun
//!
//! | Go | gorun |
//! |---|---|
//! | `context.Background()`, `context.TODO()` | [`Context::background()`] |
//! | `ctx, cancel := context.WithCancel(p)` | `let (ctx, cancel) = p.with_cancel();` |
//! | `defer cancel()` | nothing: dropping the [`CancelFunc`] cancels |
//! | `context.WithTimeout` / `WithDeadline` | [`with_timeout`](Context::with_timeout) / [`with_deadline`](Context::with_deadline) |
//! | `WithCancelCause`, `WithTimeoutCause`, `WithDeadlineCause` | [`with_cancel_cause`](Context::with_cancel_cause), [`with_timeout_cause`](Context::with_timeout_cause), [`with_deadline_cause`](Context::with_deadline_cause) |
//! | `context.Cause(ctx)` | [`ctx.cause()`](Context::cause) |
//! | `context.WithValue(p, k, v)`, `ctx.Value(k).(V)` | [`p.with_value(k, v)`](Context::with_value), [`ctx.value::<V>(&k)`](Context::value) |
//! | `context.WithoutCancel(p)` | [`p.without_cancel()`](Context::without_cancel) |
//! | `stop := context.AfterFunc(ctx, f)` | [`let h = ctx.after_func(f);`](Context::after_func) `h.stop()` |
//! | `<-ctx.Done()`, `ctx.Err()`, `ctx.Deadline()` | [`ctx.done().await`](Context::done), [`ctx.err()`](Context::err), [`ctx.deadline()`](Context::deadline) |
//! | `select { case <-ctx.Done(): … case r := <-work: … }` | [`ctx.run(work).await`](Context::run) |
//!
//! # Invariants (Go's rules)
//!
//! 1. [`err`](Context::err) is `None` until the context is done, then
//!    `Some(Canceled)` or `Some(DeadlineExceeded)` forever; `done()`
//!    completes exactly when `err()` becomes `Some`.
//! 2. Cancelling a context cancels all its descendants with the same error
//!    and cause, in one walk of the subtree; each context is cancelled at
//!    most once, however many threads cancel it or its ancestors at once.
//! 3. A cancelled context leaves its parent at once: a long-lived parent
//!    does not grow with the short-lived children it has had.
//! 4. A child's deadline is never later than its parent's; a deadline
//!    context arms one timer and disarms it when cancelled first; a
//!    deadline already past gives a context that is done from the start.
//! 5. [`background`](Context::background) and
//!    [`without_cancel`](Context::without_cancel) contexts are never done
//!    and have no deadline.
//!
//! # Differences from Go
//!
//! - Cancel functions cancel when dropped (the last clone): Rust's
//!   `defer cancel()`. Keep the `CancelFunc` alive for as long as the
//!   context should live; `let (ctx, _) = p.with_cancel();` gives a context
//!   that is already cancelled.
//! - Values use typed keys (see [`Context::value`]); there is no
//!   `interface{}` key.
//! - Causes are `Arc<dyn Error + Send + Sync>`, and the default cause is the
//!   [`ContextError`] itself (it downcasts to it), where Go's `Cause`
//!   returns `ctx.Err()`.
//!
//! # Design
//!
//! A context is `{nearest cancellable node, value chain}`. The nodes form
//! the cancellation tree (`tree.rs`: a lock and an atomic state per node,
//! children and waiters in slabs, an iterative cancel walk); values are a
//! separate persistent linked list (`value.rs`); `after_func`
//! registrations are children of a node (`after_func.rs`). See each
//! file's documentation for its protocol and the alternatives rejected.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use futures_core::FusedFuture;
use pin_project_lite::pin_project;

use crate::runtime::coop;
use crate::task::{wait, WaitReason};

mod after_func;
mod error;
mod slab;
mod tree;
mod value;

pub use after_func::AfterFuncHandle;
pub use error::ContextError;

use tree::{Cause, Node};

/// A cancellation signal, a deadline and request-scoped values, passed
/// down a tree of tasks: Go's `context.Context`.
///
/// Cloning is cheap (two reference counts) and clones are the same
/// context. Derive children with the `with_*` methods; watch with
/// [`done`](Context::done), [`err`](Context::err) or
/// [`run`](Context::run). `Context` is `Send + Sync`; pass it by value or by
/// reference, as Go passes `ctx` as the first argument.
///
/// ```
/// use std::time::Duration;
/// use gorun::Context;
///
/// async fn fetch(ctx: &Context, id: u32) -> Result<u32, gorun::ContextError> {
///     ctx.run(async move {
///         gorun::sleep(Duration::from_millis(1)).await;
///         id * 10
///     })
///     .await
/// }
///
/// gorun::run(async {
///     let (ctx, _cancel) = Context::background().with_timeout(Duration::from_secs(10));
///     assert_eq!(fetch(&ctx, 4).await, Ok(40));
/// });
/// ```
#[derive(Clone, Default)]
pub struct Context {
    /// The nearest cancellable context at or above this one; `None` for a
    /// context that can never be done.
    node: Option<Arc<Node>>,
    /// The innermost value link.
    values: Option<value::Chain>,
}

impl Context {
    /// Returns the empty root context: never done, no deadline, no values
    /// (Go's `context.Background()`, and `context.TODO()`). Allocates
    /// nothing.
    ///
    /// ```
    /// let ctx = gorun::Context::background();
    /// assert!(ctx.err().is_none());
    /// assert!(ctx.deadline().is_none());
    /// ```
    pub fn background() -> Context {
        Context {
            node: None,
            values: None,
        }
    }

    /// A context sharing this one's values, cancelled through `node`.
    fn with_node(&self, node: Arc<Node>) -> Context {
        Context {
            node: Some(node),
            values: self.values.clone(),
        }
    }

    /// A child node of this context with the given deadline (already no
    /// later than this context's).
    fn child_node(&self, deadline: Option<Instant>) -> Arc<Node> {
        Node::new(self.node.as_ref(), deadline)
    }

    /// Returns a child context and the function that cancels it (Go's
    /// `context.WithCancel`).
    ///
    /// The child is done when the [`CancelFunc`] is called or dropped, or
    /// when this context is done, whichever comes first; its `err()` is
    /// then [`ContextError::Canceled`] (or the parent's error).
    ///
    /// ```
    /// use gorun::{Context, ContextError};
    ///
    /// gorun::run(async {
    ///     let (parent, cancel_parent) = Context::background().with_cancel();
    ///     let (child, _cancel_child) = parent.with_cancel();
    ///     cancel_parent.cancel();
    ///     child.done().await;
    ///     assert_eq!(child.err(), Some(ContextError::Canceled));
    /// });
    /// ```
    pub fn with_cancel(&self) -> (Context, CancelFunc) {
        let node = self.child_node(self.deadline());
        (self.with_node(node.clone()), CancelFunc { node })
    }

    /// Returns a child context and a function that cancels it with a cause
    /// (Go's `context.WithCancelCause`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use gorun::Context;
    ///
    /// #[derive(Debug)]
    /// struct Shutdown;
    /// impl std::fmt::Display for Shutdown {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         f.write_str("shutting down")
    ///     }
    /// }
    /// impl std::error::Error for Shutdown {}
    ///
    /// gorun::run(async {
    ///     let (ctx, cancel) = Context::background().with_cancel_cause();
    ///     cancel.cancel(Some(Arc::new(Shutdown)));
    ///     assert!(ctx.cause().unwrap().downcast_ref::<Shutdown>().is_some());
    /// });
    /// ```
    pub fn with_cancel_cause(&self) -> (Context, CancelCauseFunc) {
        let node = self.child_node(self.deadline());
        (self.with_node(node.clone()), CancelCauseFunc { node })
    }

    /// Returns a child context that is done `timeout` from now at the
    /// latest (Go's `context.WithTimeout`): `with_deadline(now + timeout)`.
    ///
    /// A zero timeout gives a context that is already done with
    /// [`ContextError::DeadlineExceeded`]. A timeout too large to represent
    /// as an `Instant` means no deadline of its own.
    ///
    /// ```
    /// use std::time::Duration;
    /// use gorun::{Context, ContextError};
    ///
    /// gorun::run(async {
    ///     let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(5));
    ///     ctx.done().await;
    ///     assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    /// });
    /// ```
    pub fn with_timeout(&self, timeout: Duration) -> (Context, CancelFunc) {
        self.with_timeout_inner(timeout, None)
    }

    /// Like [`with_timeout`](Context::with_timeout), but when the timeout
    /// expires the context's [`cause`](Context::cause) is `cause` (Go's
    /// `context.WithTimeoutCause`). Cancelling through the returned
    /// [`CancelFunc`] does not set it.
    ///
    /// ```
    /// use std::io;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use gorun::{Context, ContextError};
    ///
    /// gorun::run(async {
    ///     let slow = Arc::new(io::Error::new(io::ErrorKind::TimedOut, "backend too slow"));
    ///     let (ctx, _cancel) = Context::background().with_timeout_cause(Duration::ZERO, slow);
    ///     assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    ///     assert_eq!(ctx.cause().unwrap().to_string(), "backend too slow");
    /// });
    /// ```
    pub fn with_timeout_cause(
        &self,
        timeout: Duration,
        cause: Arc<dyn Error + Send + Sync>,
    ) -> (Context, CancelFunc) {
        self.with_timeout_inner(timeout, Some(cause))
    }

    /// `with_timeout` and `with_timeout_cause`.
    fn with_timeout_inner(&self, timeout: Duration, cause: Option<Cause>) -> (Context, CancelFunc) {
        match Instant::now().checked_add(timeout) {
            Some(at) => self.with_deadline_inner(at, cause),
            None => self.with_cancel(),
        }
    }

    /// Returns a child context that is done at `deadline` at the latest
    /// (Go's `context.WithDeadline`).
    ///
    /// If this context's deadline is earlier, the child simply inherits it
    /// (and arms no timer of its own). A deadline already past gives a
    /// context that is already done with [`ContextError::DeadlineExceeded`].
    /// Otherwise one timer is armed on the current runtime (the global
    /// runtime outside any), and disarmed if the context is cancelled
    /// first.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use gorun::Context;
    ///
    /// gorun::run(async {
    ///     let soon = Instant::now() + Duration::from_secs(1);
    ///     let (parent, _c1) = Context::background().with_deadline(soon);
    ///     let (child, _c2) = parent.with_deadline(soon + Duration::from_secs(60));
    ///     assert_eq!(child.deadline(), Some(soon), "never later than the parent's");
    /// });
    /// ```
    pub fn with_deadline(&self, deadline: Instant) -> (Context, CancelFunc) {
        self.with_deadline_inner(deadline, None)
    }

    /// Like [`with_deadline`](Context::with_deadline), but when the
    /// deadline passes the context's [`cause`](Context::cause) is `cause`
    /// (Go's `context.WithDeadlineCause`).
    ///
    /// ```
    /// use std::io;
    /// use std::sync::Arc;
    /// use std::time::Instant;
    /// use gorun::Context;
    ///
    /// gorun::run(async {
    ///     let why = Arc::new(io::Error::new(io::ErrorKind::TimedOut, "too late"));
    ///     let (ctx, _cancel) = Context::background().with_deadline_cause(Instant::now(), why);
    ///     assert_eq!(ctx.cause().unwrap().to_string(), "too late");
    /// });
    /// ```
    pub fn with_deadline_cause(
        &self,
        deadline: Instant,
        cause: Arc<dyn Error + Send + Sync>,
    ) -> (Context, CancelFunc) {
        self.with_deadline_inner(deadline, Some(cause))
    }

    /// `with_deadline` and `with_deadline_cause`.
    fn with_deadline_inner(&self, at: Instant, cause: Option<Cause>) -> (Context, CancelFunc) {
        if self.deadline().is_some_and(|parent| parent < at) {
            // The parent's deadline comes first: it will cancel the child.
            return self.with_cancel();
        }
        let node = self.child_node(Some(at));
        if at <= Instant::now() {
            node.cancel(ContextError::DeadlineExceeded, cause);
        } else if node.err().is_none() {
            node.arm_deadline(at, cause);
        }
        (self.with_node(node.clone()), CancelFunc { node })
    }

    /// Returns a child context carrying `value` under `key` (Go's
    /// `context.WithValue`). It is done, and has a deadline, exactly when
    /// this context does.
    ///
    /// Keys are typed: use a type of your own, so no other code can
    /// collide with it. See [`value`](Context::value) for the lookup rule.
    ///
    /// ```
    /// use gorun::Context;
    ///
    /// #[derive(PartialEq)]
    /// struct RequestId;
    ///
    /// let ctx = Context::background().with_value(RequestId, 42u64);
    /// assert_eq!(ctx.value::<u64>(&RequestId), Some(&42));
    /// ```
    pub fn with_value<K, V>(&self, key: K, value: V) -> Context
    where
        K: PartialEq + Send + Sync + 'static,
        V: Send + Sync + 'static,
    {
        Context {
            node: self.node.clone(),
            values: Some(value::push(self.values.as_ref(), key, value)),
        }
    }

    /// Returns the value stored under `key` (Go's `ctx.Value(key).(V)`).
    ///
    /// The lookup goes from the innermost [`with_value`](Context::with_value)
    /// outwards and stops at the first one whose key has the type of `key`
    /// and compares equal to it; that one decides: its value if it is a
    /// `V`, `None` otherwise (an outer value under an equal key is shadowed
    /// either way). Keys of different types never match. Values survive
    /// [`with_cancel`](Context::with_cancel), deadlines and
    /// [`without_cancel`](Context::without_cancel).
    ///
    /// ```
    /// use gorun::Context;
    ///
    /// #[derive(PartialEq)]
    /// struct User;
    /// #[derive(PartialEq)]
    /// struct Attempt(u8);
    ///
    /// let ctx = Context::background()
    ///     .with_value(User, "gopher")
    ///     .with_value(Attempt(1), 10u32)
    ///     .with_value(User, "ferris"); // shadows "gopher"
    /// assert_eq!(ctx.value::<&str>(&User), Some(&"ferris"));
    /// assert_eq!(ctx.value::<u32>(&Attempt(1)), Some(&10));
    /// assert_eq!(ctx.value::<u32>(&Attempt(2)), None);
    /// assert_eq!(ctx.value::<String>(&User), None, "the value is a &str");
    /// ```
    pub fn value<V>(&self, key: &(impl PartialEq + Send + Sync + 'static)) -> Option<&V>
    where
        V: Send + Sync + 'static,
    {
        value::lookup(self.values.as_ref(), key)
    }

    /// Returns a context with this one's values that is never done and
    /// has no deadline (Go's `context.WithoutCancel`): for work that must
    /// outlive the request that started it, such as writing an audit log.
    ///
    /// ```
    /// use gorun::Context;
    ///
    /// #[derive(PartialEq)]
    /// struct TraceId;
    ///
    /// let (ctx, cancel) = Context::background().with_value(TraceId, 7u32).with_cancel();
    /// let detached = ctx.without_cancel();
    /// drop(cancel);
    /// assert!(ctx.err().is_some());
    /// assert!(detached.err().is_none());
    /// assert_eq!(detached.value::<u32>(&TraceId), Some(&7));
    /// ```
    pub fn without_cancel(&self) -> Context {
        Context {
            node: None,
            values: self.values.clone(),
        }
    }

    /// Arranges for `f` to run on a task of its own once this context is
    /// done (Go's `context.AfterFunc`); at once if it already is, never if
    /// it cannot be done. `f` runs at most once; the handle's
    /// [`stop`](AfterFuncHandle::stop) keeps it from running.
    ///
    /// The task is spawned on the runtime current at this call (the global
    /// runtime outside any).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use gorun::Context;
    ///
    /// gorun::run(async {
    ///     let (ctx, cancel) = Context::background().with_cancel();
    ///     let runs = Arc::new(AtomicUsize::new(0));
    ///     let counter = runs.clone();
    ///     let _handle = ctx.after_func(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     });
    ///     cancel.cancel();
    ///     while runs.load(Ordering::SeqCst) == 0 {
    ///         gorun::yield_now().await;
    ///     }
    /// });
    /// ```
    #[track_caller]
    pub fn after_func<F>(&self, f: F) -> AfterFuncHandle
    where
        F: FnOnce() + Send + 'static,
    {
        AfterFuncHandle::new(self.node.as_ref(), Box::new(f))
    }

    /// Returns a future that completes when this context is done (Go's
    /// `<-ctx.Done()`).
    ///
    /// Creating and dropping a `Done` costs nothing until it is polled;
    /// it is cancel-safe, may be polled again after completing (it stays
    /// ready, like a closed channel), and works as a `select!` case. For a
    /// context that can never be done it never completes.
    ///
    /// ```
    /// use gorun::Context;
    ///
    /// gorun::run(async {
    ///     let (ctx, cancel) = Context::background().with_cancel();
    ///     gorun::spawn(async move {
    ///         cancel.cancel();
    ///     });
    ///     ctx.done().await;
    ///     assert!(ctx.err().is_some());
    /// });
    /// ```
    pub fn done(&self) -> Done<'_> {
        Done {
            node: self.node.as_deref(),
            key: None,
        }
    }

    /// Returns `None` while the context is not done, then why it is (Go's
    /// `ctx.Err()`).
    ///
    /// ```
    /// use gorun::{Context, ContextError};
    ///
    /// let (ctx, cancel) = Context::background().with_cancel();
    /// assert_eq!(ctx.err(), None);
    /// cancel.cancel();
    /// assert_eq!(ctx.err(), Some(ContextError::Canceled));
    /// ```
    pub fn err(&self) -> Option<ContextError> {
        self.node.as_ref().and_then(|node| node.err())
    }

    /// Returns why the context was cancelled (Go's `context.Cause`):
    /// `None` while it is not done; then the cause given to a
    /// [`CancelCauseFunc`] or to a `*_cause` deadline (inherited by every
    /// descendant cancelled along with it), else the [`ContextError`]
    /// itself, as an error that downcasts to `ContextError`.
    ///
    /// ```
    /// use gorun::{Context, ContextError};
    ///
    /// let (ctx, cancel) = Context::background().with_cancel_cause();
    /// assert!(ctx.cause().is_none());
    /// cancel.cancel(None); // Go's cancel(nil)
    /// let cause = ctx.cause().unwrap();
    /// assert_eq!(cause.downcast_ref::<ContextError>(), Some(&ContextError::Canceled));
    /// ```
    pub fn cause(&self) -> Option<Arc<dyn Error + Send + Sync>> {
        self.node.as_ref().and_then(|node| node.cause())
    }

    /// Returns the instant at which the context will be done at the
    /// latest, if it has a deadline (Go's `ctx.Deadline()`). Never later
    /// than the parent's.
    ///
    /// ```
    /// use std::time::Duration;
    /// use gorun::Context;
    ///
    /// gorun::run(async {
    ///     assert!(Context::background().deadline().is_none());
    ///     let (ctx, _cancel) = Context::background().with_timeout(Duration::from_secs(5));
    ///     assert!(ctx.deadline().is_some());
    /// });
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.node.as_ref().and_then(|node| node.deadline())
    }

    /// Runs `future` until it completes or the context is done, whichever
    /// comes first: the Go idiom `select { case <-ctx.Done(): … case r :=
    /// <-result: … }` as one call.
    ///
    /// Returns `Ok(output)` if the future completed, `Err(ctx.err())` if
    /// the context was done first. If the context is already done, the
    /// future is never polled. Once the context is done the future is not
    /// polled again; it is dropped with the returned [`Run`]. Once the future
    /// has started, its completion wins over a context that became done at
    /// the same time: an operation that happened (a send whose value a
    /// receiver took) is never reported as cancelled.
    ///
    /// ```
    /// use std::time::Duration;
    /// use gorun::{Context, ContextError};
    ///
    /// gorun::run(async {
    ///     let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(5));
    ///     let quick = ctx.run(async { 1 }).await;
    ///     assert_eq!(quick, Ok(1));
    ///     let slow = ctx.run(gorun::sleep(Duration::from_secs(3600))).await;
    ///     assert_eq!(slow, Err(ContextError::DeadlineExceeded));
    /// });
    /// ```
    pub fn run<F: Future>(&self, future: F) -> Run<'_, F> {
        Run {
            done: self.done(),
            future,
            started: false,
        }
    }

    /// The number of children registered with this context's cancellation
    /// node (child contexts and `after_func`s not yet cancelled, stopped or
    /// run). For tests of the "a cancelled child leaves its parent" rule;
    /// not part of the API.
    #[doc(hidden)]
    pub fn child_count_for_tests(&self) -> usize {
        self.node.as_ref().map_or(0, |node| node.child_count())
    }

    /// The number of pending [`Done`] futures registered with this
    /// context's cancellation node. For tests of the "a dropped `Done`
    /// unregisters" rule; not part of the API.
    #[doc(hidden)]
    pub fn waiter_count_for_tests(&self) -> usize {
        self.node.as_ref().map_or(0, |node| node.waiter_count())
    }

    /// Whether this context's node holds an armed deadline timer. For
    /// tests of the "cancelling disarms the timer" rule; not part of the
    /// API.
    #[doc(hidden)]
    pub fn has_timer_for_tests(&self) -> bool {
        self.node.as_ref().is_some_and(|node| node.has_timer())
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("err", &self.err())
            .field("deadline", &self.deadline())
            .field("has_values", &self.values.is_some())
            .finish()
    }
}

/// Cancels the context it came with (Go's `context.CancelFunc`), when
/// [`cancel`](CancelFunc::cancel) is called or when the last clone is
/// dropped: Rust's `defer cancel()`.
///
/// Cancelling twice, or cancelling a context already done, does nothing.
/// Clones cancel the same context; dropping one clone does not cancel while
/// another is alive.
///
/// ```
/// use gorun::Context;
///
/// let (ctx, cancel) = Context::background().with_cancel();
/// {
///     let _guard = cancel; // cancelled at the end of this scope
///     assert!(ctx.err().is_none());
/// }
/// assert!(ctx.err().is_some());
/// ```
#[must_use = "dropping a CancelFunc cancels its context at once"]
pub struct CancelFunc {
    /// The node it cancels.
    node: Arc<Node>,
}

impl CancelFunc {
    /// Cancels the context and all its descendants with
    /// [`ContextError::Canceled`], and detaches it from its parent. Does
    /// nothing if the context is already done.
    ///
    /// ```
    /// use gorun::{Context, ContextError};
    ///
    /// let (ctx, cancel) = Context::background().with_cancel();
    /// cancel.cancel();
    /// cancel.cancel(); // no effect
    /// assert_eq!(ctx.err(), Some(ContextError::Canceled));
    /// ```
    pub fn cancel(&self) {
        self.node.cancel(ContextError::Canceled, None);
    }
}

impl Clone for CancelFunc {
    fn clone(&self) -> CancelFunc {
        self.node.retain_handle();
        CancelFunc {
            node: self.node.clone(),
        }
    }
}

impl Drop for CancelFunc {
    fn drop(&mut self) {
        self.node.release_handle();
    }
}

impl fmt::Debug for CancelFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelFunc")
            .field("err", &self.node.err())
            .finish()
    }
}

/// Cancels the context it came with and records a cause (Go's
/// `context.CancelCauseFunc`). Dropping the last clone cancels too, with
/// cause [`ContextError::Canceled`].
///
/// ```
/// use gorun::{Context, ContextError};
///
/// let (ctx, cancel) = Context::background().with_cancel_cause();
/// drop(cancel);
/// assert_eq!(ctx.err(), Some(ContextError::Canceled));
/// ```
#[must_use = "dropping a CancelCauseFunc cancels its context at once"]
pub struct CancelCauseFunc {
    /// The node it cancels.
    node: Arc<Node>,
}

impl CancelCauseFunc {
    /// Cancels the context and all its descendants with
    /// [`ContextError::Canceled`], recording `cause` as their
    /// [`cause`](Context::cause). `None` is Go's `cancel(nil)`: the cause is
    /// then `Canceled` itself. Does nothing if the context is already done
    /// (the first cause stays).
    ///
    /// ```
    /// use std::io;
    /// use std::sync::Arc;
    /// use gorun::Context;
    ///
    /// let (parent, cancel) = Context::background().with_cancel_cause();
    /// let (child, _cancel_child) = parent.with_cancel();
    /// cancel.cancel(Some(Arc::new(io::Error::other("disk full"))));
    /// assert_eq!(child.cause().unwrap().to_string(), "disk full");
    /// ```
    pub fn cancel(&self, cause: Option<Arc<dyn Error + Send + Sync>>) {
        self.node.cancel(ContextError::Canceled, cause);
    }
}

impl Clone for CancelCauseFunc {
    fn clone(&self) -> CancelCauseFunc {
        self.node.retain_handle();
        CancelCauseFunc {
            node: self.node.clone(),
        }
    }
}

impl Drop for CancelCauseFunc {
    fn drop(&mut self) {
        self.node.release_handle();
    }
}

impl fmt::Debug for CancelCauseFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelCauseFunc")
            .field("err", &self.node.err())
            .finish()
    }
}

/// The future returned by [`Context::done`]: completes once the context is
/// done.
///
/// Spends one unit of the task's cooperative budget when it completes.
/// Dropping it while pending unregisters its waker.
///
/// ```
/// use gorun::Context;
///
/// gorun::run(async {
///     let (ctx, cancel) = Context::background().with_cancel();
///     let done: gorun::context::Done<'_> = ctx.done();
///     drop(cancel);
///     done.await;
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Done<'a> {
    /// The context's node; `None` if it can never be done.
    node: Option<&'a Node>,
    /// Where our waker is stored in the node's waiters, once registered.
    key: Option<usize>,
}

impl Done<'_> {
    /// Polls without spending budget (for [`Run`]).
    fn poll_unbudgeted(&mut self, cx: &mut TaskContext<'_>) -> Poll<()> {
        match self.node {
            None => {
                wait::record(WaitReason::Context);
                Poll::Pending
            }
            Some(node) => {
                if node.poll_done(&mut self.key, cx).is_pending() {
                    wait::record(WaitReason::Context);
                    return Poll::Pending;
                }
                // Drained by the cancel: nothing to unregister any more.
                self.key = None;
                Poll::Ready(())
            }
        }
    }

    /// The context's error, if done.
    fn err(&self) -> Option<ContextError> {
        self.node.and_then(Node::err)
    }
}

impl Future for Done<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.node.is_none() {
            // Never done, so nothing to wait for and no budget to spend.
            wait::record(WaitReason::Context);
            return Poll::Pending;
        }
        coop::poll_budgeted(cx, |cx| this.poll_unbudgeted(cx))
    }
}

impl FusedFuture for Done<'_> {
    /// Always `false`: a `Done` may be polled after completing (it is
    /// ready again), like a receive from a closed channel.
    fn is_terminated(&self) -> bool {
        false
    }
}

impl Drop for Done<'_> {
    fn drop(&mut self) {
        if let (Some(node), Some(key)) = (self.node, self.key) {
            node.forget_waiter(key);
        }
    }
}

impl fmt::Debug for Done<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Done")
            .field("err", &self.err())
            .field("registered", &self.key.is_some())
            .finish()
    }
}

pin_project! {
    /// The future returned by [`Context::run`]: the inner future's output,
    /// or the context's error if it is done first.
    ///
    /// ```
    /// use gorun::{Context, ContextError};
    ///
    /// gorun::run(async {
    ///     let (ctx, cancel) = Context::background().with_cancel();
    ///     cancel.cancel();
    ///     let run: gorun::context::Run<'_, _> = ctx.run(async { unreachable!() });
    ///     assert_eq!(run.await, Err::<(), _>(ContextError::Canceled));
    /// });
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    pub struct Run<'a, F> {
        done: Done<'a>,
        #[pin]
        future: F,
        // Whether the future has been polled: once it has, its completion
        // takes precedence over the context (see `Future for Run`).
        started: bool,
    }
}

impl<F: Future> Future for Run<'_, F> {
    type Output = Result<F::Output, ContextError>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // A context done before the future ever ran: never start it.
        if !*this.started {
            if let Some(err) = this.done.err() {
                return Poll::Ready(Err(err));
            }
            *this.started = true;
        }
        // Once started, the future goes first: an operation that completed
        // (a send a receiver already took, say) is reported as done even if
        // the context was cancelled meanwhile, so no completed work is
        // reported as lost.
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // For the task dump, the inner future's reason wins over the
        // context's (as in `timeout`, the context only bounds the wait);
        // `Context` shows when the inner future recorded nothing. Set aside
        // the inner reason while `done` records its own, then put it back.
        let inner = wait::take();
        let done = this.done.poll_unbudgeted(cx);
        wait::restore(inner);
        ready!(done);
        let err = this.done.err().expect("a done context has an error");
        Poll::Ready(Err(err))
    }
}

impl<F> fmt::Debug for Run<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run").field("done", &self.done).finish()
    }
}
