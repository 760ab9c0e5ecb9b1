//! `after_func`: Go's `context.AfterFunc`, a function that runs on a task
//! of its own once a context is done.
//!
//! A registration is a [`FuncCell`] holding the function, stored among the
//! context node's children (`tree::Child::Func`), so the cancel walk meets
//! it like any child. Two parties race to take the function out of the
//! cell: the cancel walk (which then spawns it) and
//! [`AfterFuncHandle::stop`]. The cell's lock makes exactly one of them
//! win, so the function runs at most once and `stop` returns `true`
//! exactly when it prevented the run, as Go's `stop` does.
//!
//! The task is spawned on the runtime that was current when `after_func`
//! was called (the global runtime outside any), not on whatever thread
//! happens to cancel the context: a plain thread or a timer callback
//! cancelling a context must not move its functions to another runtime.
//!
//! Rejected: running the function inline on the cancelling thread (Go
//! promises a goroutine of its own, and a slow function would stall the
//! whole cancel walk).

use std::fmt;
use std::panic::Location;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use super::tree::Node;
use crate::runtime::scheduler::Shared;

/// The function of a registration, boxed.
type Func = Box<dyn FnOnce() + Send>;

/// One `after_func` registration (see the module docs).
pub(super) struct FuncCell {
    /// The function, until the cancel walk or `stop` takes it.
    func: Mutex<Option<Func>>,
    /// The runtime to run it on.
    runtime: Arc<Shared>,
    /// Where `after_func` was called, for the task's metadata.
    location: &'static Location<'static>,
}

impl FuncCell {
    /// Takes the function out, if nobody did yet.
    fn take(&self) -> Option<Func> {
        self.func
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Spawns the function on a task of its own, unless `stop` won.
    pub(super) fn start(&self) {
        if let Some(func) = self.take() {
            drop(crate::task::spawn_on(
                &self.runtime,
                None,
                async move { func() },
                self.location,
            ));
        }
    }
}

/// The handle of an [`after_func`](super::Context::after_func)
/// registration: [`stop`](AfterFuncHandle::stop) it to keep the function
/// from running. Dropping the handle does not stop it.
///
/// ```
/// use gorun::Context;
///
/// gorun::run(async {
///     let (ctx, cancel) = Context::background().with_cancel();
///     let handle = ctx.after_func(|| unreachable!("stopped first"));
///     assert!(handle.stop());
///     cancel.cancel();
/// });
/// ```
pub struct AfterFuncHandle {
    /// The registration.
    cell: Arc<FuncCell>,
    /// The context node it is registered with, and its key there; `None`
    /// if the context can never be done, or was done at registration.
    registered: Option<(Weak<Node>, usize)>,
}

impl AfterFuncHandle {
    /// Registers `func` to run on its own task once `node` is done; at
    /// once if it already is, never if `node` is `None`.
    #[track_caller]
    pub(super) fn new(node: Option<&Arc<Node>>, func: Func) -> AfterFuncHandle {
        let cell = Arc::new(FuncCell {
            func: Mutex::new(Some(func)),
            runtime: crate::runtime::current_or_global(),
            location: Location::caller(),
        });
        let registered = match node {
            None => None,
            Some(node) => match node.add_func(cell.clone()) {
                Some(key) => Some((Arc::downgrade(node), key)),
                None => {
                    cell.start();
                    None
                }
            },
        };
        AfterFuncHandle { cell, registered }
    }

    /// Keeps the function from running. Returns `true` if this call stopped
    /// it, `false` if it has already been started (or stopped before): Go's
    /// `stop` returned by `context.AfterFunc`.
    ///
    /// A `true` also unregisters the function from its context at once, so
    /// a long-lived context with many stopped registrations does not grow.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use gorun::Context;
    ///
    /// gorun::run(async {
    ///     let (ctx, cancel) = Context::background().with_cancel();
    ///     let ran = Arc::new(AtomicBool::new(false));
    ///     let flag = ran.clone();
    ///     let handle = ctx.after_func(move || flag.store(true, Ordering::SeqCst));
    ///     cancel.cancel();
    ///     while !ran.load(Ordering::SeqCst) {
    ///         gorun::yield_now().await;
    ///     }
    ///     assert!(!handle.stop(), "already started");
    /// });
    /// ```
    pub fn stop(&self) -> bool {
        if self.cell.take().is_none() {
            return false;
        }
        if let Some((node, key)) = &self.registered {
            if let Some(node) = node.upgrade() {
                node.remove_func(*key);
            }
        }
        true
    }
}

impl fmt::Debug for AfterFuncHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pending = self
            .cell
            .func
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        f.debug_struct("AfterFuncHandle")
            .field("pending", &pending)
            .finish()
    }
}
