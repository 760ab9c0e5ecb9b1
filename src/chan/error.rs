//! The errors of channel operations: Go's panics and `ok == false`, as values.
//!
//! Shaped like `std::sync::mpsc`'s errors: the value that could not be sent
//! comes back inside the error, and `Debug` does not require `T: Debug`, so
//! `unwrap()` works on a channel of any `T`.

use std::error::Error;
use std::fmt;

/// The error of [`Sender::send`](crate::chan::Sender::send) and
/// [`Sender::send_blocking`](crate::chan::Sender::send_blocking): the channel
/// is closed, or every receiver is gone. The unsent value comes back in `.0`.
///
/// Go would panic with "send on closed channel" (or block forever when no one
/// receives); gorun returns the value instead.
///
/// ```
/// use gorun::chan::{chan, SendError};
///
/// # futures::executor::block_on(async {
/// let (tx, rx) = chan::<String>(1);
/// tx.close();
/// let SendError(back) = tx.send("hello".to_string()).await.unwrap_err();
/// assert_eq!(back, "hello");
/// # drop(rx);
/// # });
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// Returns the value that could not be sent.
    ///
    /// ```
    /// let err = gorun::SendError(7);
    /// assert_eq!(err.into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("send on closed channel")
    }
}

impl<T> Error for SendError<T> {}

/// The error of [`Sender::try_send`](crate::chan::Sender::try_send): the
/// value could not be sent right now, and comes back inside.
///
/// ```
/// use gorun::chan::{chan, TrySendError};
///
/// let (tx, rx) = chan::<u8>(1);
/// tx.try_send(1).unwrap();
/// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
/// drop(rx);
/// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The buffer is full (for capacity 0: no receiver is waiting).
    Full(T),
    /// The channel is closed, or every receiver is gone.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// Returns the value that could not be sent.
    ///
    /// ```
    /// let err = gorun::TrySendError::Full("x");
    /// assert_eq!(err.into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }

    /// Whether the send failed because the channel was full.
    ///
    /// ```
    /// assert!(gorun::TrySendError::Full(()).is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// Whether the send failed because the channel was closed.
    ///
    /// ```
    /// assert!(gorun::TrySendError::Closed(()).is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, TrySendError::Closed(_))
    }
}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(err: SendError<T>) -> TrySendError<T> {
        TrySendError::Closed(err.0)
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("send on full channel"),
            TrySendError::Closed(_) => f.write_str("send on closed channel"),
        }
    }
}

impl<T> Error for TrySendError<T> {}

/// The error of [`Receiver::try_recv`](crate::chan::Receiver::try_recv).
///
/// ```
/// use gorun::chan::{chan, TryRecvError};
///
/// let (tx, rx) = chan::<u8>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// tx.close();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum TryRecvError {
    /// No value is ready (for capacity 0: no sender is waiting), and the
    /// channel is open.
    Empty,
    /// The channel is closed and every buffered value has been received.
    Closed,
}

impl TryRecvError {
    /// Whether no value was ready on an open channel.
    ///
    /// ```
    /// assert!(gorun::TryRecvError::Empty.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(self, TryRecvError::Empty)
    }

    /// Whether the channel is closed and drained.
    ///
    /// ```
    /// assert!(gorun::TryRecvError::Closed.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, TryRecvError::Closed)
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receive from empty channel"),
            TryRecvError::Closed => f.write_str("receive from closed channel"),
        }
    }
}

impl Error for TryRecvError {}
