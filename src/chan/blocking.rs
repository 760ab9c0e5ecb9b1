//! The blocking forms of send and receive, for plain threads: the same
//! waiter protocol, with a waker that unparks the calling thread.

use std::pin::pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use super::error::SendError;
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

/// Completes a plain send, parking the thread until a receiver takes the
/// value (capacity 0) or it is buffered, or the channel closes. The
/// future's own drop withdraws its waiter if the thread unwinds meanwhile.
pub(crate) fn send<T>(op: super::Send<'_, T>) -> Result<(), SendError<T>> {
    let op = pin!(op);
    let (chan, waiter) = op.as_ref().select_parts();
    park_until(|cx| chan.poll_send(waiter, cx))
}

/// Completes a plain receive, parking the thread until a value arrives or
/// the channel is closed and drained.
pub(crate) fn recv<T>(op: super::Recv<'_, T>) -> Option<T> {
    let op = pin!(op);
    let (chan, waiter) = op.as_ref().select_parts();
    park_until(|cx| chan.poll_recv(waiter, cx))
}
