//! `ContextError`: why a context is done (Go's `context.Canceled` and
//! `context.DeadlineExceeded`).
//!
//! Go has two sentinel error values that code compares with `==` or
//! `errors.Is`; here they are the two variants of one `Copy` enum, so
//! `ctx.err() == Some(ContextError::Canceled)` reads like Go's
//! `ctx.Err() == context.Canceled`. The `Display` texts are Go's, word for
//! word, so logs look the same in both languages.
//!
//! A context's default *cause* (what [`Context::cause`](super::Context::cause)
//! returns when no explicit cause was given) is its `ContextError` behind an
//! `Arc<dyn Error>`; it downcasts back to `ContextError`.

use std::error::Error;
use std::fmt;

/// Why a context is done: Go's `context.Canceled` or
/// `context.DeadlineExceeded`.
///
/// Returned by [`Context::err`](super::Context::err) once the context is
/// done, and by [`Context::run`](super::Context::run) when the context ends
/// first.
///
/// ```
/// use gorun::{Context, ContextError};
///
/// gorun::run(async {
///     let (ctx, cancel) = Context::background().with_cancel();
///     cancel.cancel();
///     assert_eq!(ctx.err(), Some(ContextError::Canceled));
///     assert_eq!(ContextError::Canceled.to_string(), "context canceled");
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContextError {
    /// The context was cancelled by a [`CancelFunc`](super::CancelFunc), a
    /// [`CancelCauseFunc`](super::CancelCauseFunc) or an ancestor: Go's
    /// `context.Canceled`, displayed as `context canceled`.
    ///
    /// ```
    /// assert_eq!(gorun::ContextError::Canceled.to_string(), "context canceled");
    /// ```
    Canceled,
    /// The context's deadline passed: Go's `context.DeadlineExceeded`,
    /// displayed as `context deadline exceeded`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use gorun::{Context, ContextError};
    ///
    /// gorun::run(async {
    ///     let (ctx, _cancel) = Context::background().with_timeout(Duration::ZERO);
    ///     assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    ///     assert_eq!(ContextError::DeadlineExceeded.to_string(), "context deadline exceeded");
    /// });
    /// ```
    DeadlineExceeded,
}

impl ContextError {
    /// Whether this is [`ContextError::DeadlineExceeded`]: Go's
    /// `Timeout()` method on `DeadlineExceeded` (which makes it satisfy
    /// `net.Error`).
    ///
    /// ```
    /// use gorun::ContextError;
    ///
    /// assert!(ContextError::DeadlineExceeded.is_timeout());
    /// assert!(!ContextError::Canceled.is_timeout());
    /// ```
    pub fn is_timeout(self) -> bool {
        self == ContextError::DeadlineExceeded
    }
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContextError::Canceled => "context canceled",
            ContextError::DeadlineExceeded => "context deadline exceeded",
        })
    }
}

impl Error for ContextError {}
