//! `JoinHandle` and `JoinError`: waiting for a task's result.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::AcqRel;
use std::task::{ready, Context, Poll};

use std::ptr::NonNull;

use async_task::{FallibleTask, Task};

use super::guarded::Failure;
use super::{TaskId, TaskMeta, ABORTED};
use crate::runtime::{coop, NO_SLOT};

/// An owned permission to await a spawned task's result: Go's `go`
/// statement, plus a way to wait for and cancel what it started.
///
/// `JoinHandle<T>` is a future of `Result<T, JoinError>`: `Ok` with the
/// task's output, or an error if the task panicked or was aborted.
/// Dropping the handle *detaches* the task, which keeps running (as a
/// goroutine does); use [`abort`](JoinHandle::abort) to stop it.
///
/// ```
/// gorun::run(async {
///     let handle = gorun::spawn(async { 6 * 7 });
///     assert_eq!(handle.await.unwrap(), 42);
/// });
/// ```
pub struct JoinHandle<T> {
    /// `None` only after `Drop` has detached it.
    task: Option<FallibleTask<Result<T, Failure>, TaskMeta>>,
    /// The task's metadata (`FallibleTask` does not expose it).
    meta: NonNull<TaskMeta>,
}

// SAFETY: `meta` is a shared reference to the task's `TaskMeta`, which is
// `Sync`; the rest is the `FallibleTask`, `Send` and `Sync` for `T: Send`.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: as above; `&JoinHandle` only reads `meta` and calls `&self`
// methods of `FallibleTask`.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: Task<Result<T, Failure>, TaskMeta>) -> JoinHandle<T> {
        let meta = NonNull::from(task.metadata());
        JoinHandle {
            task: Some(task.fallible()),
            meta,
        }
    }

    fn task(&self) -> &FallibleTask<Result<T, Failure>, TaskMeta> {
        self.task.as_ref().expect("JoinHandle used after drop")
    }

    fn meta(&self) -> &TaskMeta {
        // SAFETY: the metadata lives in the task's allocation, which the
        // `FallibleTask` in `self.task` keeps alive as long as `self`.
        unsafe { self.meta.as_ref() }
    }

    /// Cancels the task: its future is dropped (running its destructors)
    /// the next time it would be polled, or at once if it is waiting, and
    /// awaiting the handle then gives a [`JoinError`] for which
    /// [`is_cancelled`](JoinError::is_cancelled) is true. A task that has
    /// already completed keeps its output. Aborting twice is harmless.
    ///
    /// ```
    /// gorun::run(async {
    ///     let handle = gorun::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        let meta = self.meta();
        // The abort half of the protocol documented on `Guarded`.
        let slot = TaskMeta::slot(meta.state.fetch_or(ABORTED, AcqRel));
        if slot != NO_SLOT {
            meta.shared.tasks.wake(slot);
        }
    }

    /// Whether the task has finished: completed, panicked or been
    /// cancelled. Awaiting a finished task's handle does not block.
    ///
    /// ```
    /// gorun::run(async {
    ///     let handle = gorun::spawn(async {});
    ///     while !handle.is_finished() {
    ///         gorun::yield_now().await;
    ///     }
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task().is_finished()
    }

    /// The task's id.
    ///
    /// ```
    /// gorun::run(async {
    ///     let handle = gorun::spawn(async {});
    ///     println!("spawned task {}", handle.id());
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.meta().id
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let spent = ready!(coop::poll_proceed(cx));
        let id = self.id();
        let task = self.task.as_mut().expect("JoinHandle used after drop");
        let Poll::Ready(output) = Pin::new(task).poll(cx) else {
            super::wait::record(super::WaitReason::Join { task: id });
            return Poll::Pending;
        };
        spent.made_progress();
        Poll::Ready(match output {
            Some(Ok(output)) => Ok(output),
            Some(Err(Failure::Panic(payload))) => Err(JoinError::panic(id, payload)),
            // `None`: the runtime dropped the task before it could finish.
            Some(Err(Failure::Cancelled)) | None => Err(JoinError::cancelled(id)),
        })
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("spawned_at", &self.meta().location)
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Why a task produced no output: it panicked, or it was cancelled (by
/// [`JoinHandle::abort`] or because its runtime was dropped).
///
/// ```
/// gorun::run(async {
///     let err = gorun::spawn(async { panic!("boom") }).await.unwrap_err();
///     assert!(err.is_panic());
///     let payload = err.into_panic();
///     assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
/// });
/// ```
pub struct JoinError {
    id: TaskId,
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panic(Payload),
}

/// A panic payload that can only be reached by value.
struct Payload(Box<dyn Any + Send + 'static>);

// SAFETY: `Payload` gives no access to its contents through `&Payload`
// (only `JoinError::into_panic` and `try_into_panic`, which take the error
// by value), so sharing a `&Payload` between threads shares nothing.
unsafe impl Sync for Payload {}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(id: TaskId, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            id,
            repr: Repr::Panic(Payload(payload)),
        }
    }

    /// Whether the task was cancelled.
    ///
    /// ```
    /// gorun::run(async {
    ///     let h = gorun::spawn(std::future::pending::<()>());
    ///     h.abort();
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// Whether the task panicked.
    ///
    /// ```
    /// gorun::run(async {
    ///     let err = gorun::spawn(async { panic!("boom") }).await.unwrap_err();
    ///     assert!(err.is_panic());
    /// });
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The id of the task that failed.
    ///
    /// ```
    /// gorun::run(async {
    ///     let h = gorun::spawn(async { panic!("boom") });
    ///     let id = h.id();
    ///     assert_eq!(h.await.unwrap_err().id(), id);
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The panic payload, to inspect or to resume with
    /// `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the task was cancelled rather than panicking; use
    /// [`try_into_panic`](JoinError::try_into_panic) when unsure.
    ///
    /// ```
    /// gorun::run(async {
    ///     let err = gorun::spawn(async { panic!("boom") }).await.unwrap_err();
    ///     assert_eq!(err.into_panic().downcast_ref::<&str>(), Some(&"boom"));
    /// });
    /// ```
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .unwrap_or_else(|e| panic!("JoinError::into_panic on a task that did not panic: {e}"))
    }

    /// The panic payload, or the error back if the task was cancelled.
    ///
    /// ```
    /// gorun::run(async {
    ///     let h = gorun::spawn(std::future::pending::<()>());
    ///     h.abort();
    ///     assert!(h.await.unwrap_err().try_into_panic().is_err());
    /// });
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(Payload(payload)) => Ok(payload),
            Repr::Cancelled => Err(self),
        }
    }

    fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(Payload(p)) => p
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            Repr::Cancelled => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "task {} was cancelled", self.id),
            (Repr::Panic(_), Some(msg)) => {
                write!(f, "task {} panicked with message {msg:?}", self.id)
            }
            (Repr::Panic(_), None) => write!(f, "task {} panicked", self.id),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "JoinError::Cancelled({:?})", self.id),
            (Repr::Panic(_), Some(msg)) => {
                write!(f, "JoinError::Panic({:?}, {msg:?}, ..)", self.id)
            }
            (Repr::Panic(_), None) => write!(f, "JoinError::Panic({:?}, ..)", self.id),
        }
    }
}

impl std::error::Error for JoinError {}
