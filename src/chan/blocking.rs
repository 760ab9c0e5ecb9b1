//! The blocking forms of send and receive, for plain threads: the same
//! waiter protocol, with a waker that unparks the calling thread.

use std::pin::pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use super::channel::Channel;
use super::error::SendError;
use super::waiter::Waiter;
// The facade (`crate::loom`) covers `sync`; the parking calls are swapped
// here so that loom models the blocking forms too.
#[cfg(loom)]
use loom::thread;
#[cfg(not(loom))]
use std::thread;

/// Wakes a parked thread.
struct Unparker(thread::Thread);

impl Wake for Unparker {
    fn wake(self: StdArc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        self.0.unpark();
    }
}

/// Calls `poll` until it is ready, parking the thread in between.
///
/// Does not spend the cooperative budget: a blocked thread is not a task,
/// and inside a task the budget could never refill while it blocks.
fn park_until<R>(mut poll: impl FnMut(&mut Context<'_>) -> Poll<R>) -> R {
    let waker = Waker::from(StdArc::new(Unparker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

/// Sends `value`, parking the thread until a receiver takes it (capacity 0)
/// or it is buffered, or the channel closes.
pub(crate) fn send<T>(chan: &Channel<T>, value: T) -> Result<(), SendError<T>> {
    let waiter = pin!(Waiter::new(Some(value)));
    let waiter = waiter.into_ref();
    let _cancel = CancelSend { chan, waiter };
    park_until(|cx| chan.poll_send(waiter, cx))
}

/// Receives a value, parking the thread until one arrives or the channel
/// is closed and drained.
pub(crate) fn recv<T>(chan: &Channel<T>) -> Option<T> {
    let waiter = pin!(Waiter::new(None));
    let waiter = waiter.into_ref();
    let _cancel = CancelRecv { chan, waiter };
    park_until(|cx| chan.poll_recv(waiter, cx))
}

/// Unlinks a blocking send's waiter if the thread unwinds while parked
/// (a panicking waker, say); a no-op after completion.
struct CancelSend<'a, T> {
    /// The channel the waiter may be parked on.
    chan: &'a Channel<T>,
    /// The waiter on the blocked thread's stack.
    waiter: std::pin::Pin<&'a Waiter<T>>,
}

impl<T> Drop for CancelSend<'_, T> {
    fn drop(&mut self) {
        self.chan.cancel_send(self.waiter);
    }
}

/// The receive twin of [`CancelSend`].
struct CancelRecv<'a, T> {
    /// The channel the waiter may be parked on.
    chan: &'a Channel<T>,
    /// The waiter on the blocked thread's stack.
    waiter: std::pin::Pin<&'a Waiter<T>>,
}

impl<T> Drop for CancelRecv<'_, T> {
    fn drop(&mut self) {
        self.chan.cancel_recv(self.waiter);
    }
}
