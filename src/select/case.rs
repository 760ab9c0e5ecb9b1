//! The cases `select!` builds from its expressions: [`RecvCase`] and
//! [`SendCase`] for gorun channel operations, [`FutureCase`] for any other
//! future, the cons list `(case, (case, ..., ()))` that holds them, and the
//! [`Either`] nesting that says which one completed.
//!
//! Which case type an expression becomes is decided at the call site by
//! *autoref specialisation*: the macro evaluates every case expression
//! into a cons list first, then for each element `x` calls
//! `(&x).__select_kind()`. Method lookup first tries the receiver type
//! `&X` as is, where only [`ChanKind`] (implemented for `Recv` and `Send`,
//! with `&self`) can match; only then does it add a `&` and find
//! [`FutKind`] (implemented for `&F`, any `F: Future`). The tag it returns
//! ([`ChanTag`] or [`FutTag`]) then makes the case out of `x`: a gorun
//! `Recv`/`Send` becomes a token-aware channel case, anything else a plain
//! future case, with no specialisation feature. The probe borrows `x` only
//! for that statement, so nothing `!Sync` is held across the `.await`.
//!
//! A channel case reuses the `Recv`/`Send` future the user's expression
//! made: its waiter (and a send's value in it) lives there, pinned inside
//! the select. The future is never polled as a future; the case drives it
//! through the channel's select hooks, and the future's own `Drop` then
//! finds an idle waiter and does nothing.
//!
//! Rejected: a `Case` impl on `Recv`/`Send` themselves with a blanket impl
//! for every `Future`: that needs specialisation (`Recv` is a `Future`
//! too).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use super::engine::{Case, Cases, Kind, TokenRef};
use crate::chan::{Recv, Send, SendError, TryRecvError, TrySendError};

/// Which of two: the output of a cons cell of cases. `select!` nests them,
/// `R(R(L(out)))` being the output of the third case.
#[derive(Debug)]
pub enum Either<A, B> {
    /// The head case completed.
    L(A),
    /// A case of the tail completed.
    R(B),
}

/// Says "channel case" for a gorun `Recv` or `Send` (found first by
/// method lookup: see the module docs).
pub trait ChanKind {
    /// The tag.
    fn __select_kind(&self) -> ChanTag {
        ChanTag
    }
}

/// Says "future case" for any other future.
pub trait FutKind {
    /// The tag.
    fn __select_kind(&self) -> FutTag {
        FutTag
    }
}

impl<T> ChanKind for Recv<'_, T> {}
impl<T> ChanKind for Send<'_, T> {}
impl<F: Future> FutKind for &F {}

/// The tag of an expression that becomes a channel case.
#[derive(Clone, Copy, Debug)]
pub struct ChanTag;

/// The tag of an expression that becomes a future case.
#[derive(Clone, Copy, Debug)]
pub struct FutTag;

/// A gorun operation future that can become a channel case.
pub trait IntoChanCase {
    /// The case it becomes.
    type Case;
    /// Makes the case, taking part if `enabled`.
    fn into_case(self, enabled: bool) -> Self::Case;
}

impl<'a, T> IntoChanCase for Recv<'a, T> {
    type Case = RecvCase<'a, T>;
    fn into_case(self, enabled: bool) -> RecvCase<'a, T> {
        RecvCase::new(self, enabled)
    }
}

impl<'a, T> IntoChanCase for Send<'a, T> {
    type Case = SendCase<'a, T>;
    fn into_case(self, enabled: bool) -> SendCase<'a, T> {
        SendCase::new(self, enabled)
    }
}

impl ChanTag {
    /// Makes the channel case of `op`.
    pub fn make<C: IntoChanCase>(self, op: C, enabled: bool) -> C::Case {
        op.into_case(enabled)
    }
}

impl FutTag {
    /// Makes the future case of `fut`.
    pub fn make<F: Future>(self, fut: F, enabled: bool) -> FutureCase<F> {
        FutureCase { fut, enabled }
    }
}

pin_project! {
    /// A receive case: `v = rx.recv()`; its output is `Option<T>`.
    #[derive(Debug)]
    pub struct RecvCase<'a, T> {
        #[pin]
        recv: Recv<'a, T>,
        enabled: bool,
    }
}

impl<'a, T> RecvCase<'a, T> {
    /// A receive case over `recv`, taking part if `enabled`.
    pub(crate) fn new(recv: Recv<'a, T>, enabled: bool) -> RecvCase<'a, T> {
        RecvCase { recv, enabled }
    }

    /// Stops the case from taking part (Go's `ch = nil`).
    pub(crate) fn disable(&mut self) {
        self.enabled = false;
    }
}

impl<T> Case for RecvCase<'_, T> {
    type Output = Option<T>;

    fn kind(&self) -> Kind {
        if self.enabled {
            Kind::Channel
        } else {
            Kind::Disabled
        }
    }

    fn poll_now(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<T>> {
        let (chan, _) = self.into_ref().project_ref().recv.select_parts();
        match chan.try_recv() {
            Ok(v) => Poll::Ready(Some(v)),
            Err(TryRecvError::Closed) => Poll::Ready(None),
            Err(TryRecvError::Empty) => Poll::Pending,
        }
    }

    unsafe fn register(self: Pin<&mut Self>, token: TokenRef, index: u32, waker: &Waker) -> bool {
        let (chan, waiter) = self.into_ref().project_ref().recv.select_parts();
        // SAFETY: the caller keeps the case (hence the waiter inside it)
        // and the token pinned until it unregisters.
        unsafe { chan.register_recv(waiter, token.0, index, waker) }
    }

    fn unregister(self: Pin<&mut Self>) {
        let (chan, waiter) = self.into_ref().project_ref().recv.select_parts();
        chan.unregister_recv(waiter);
    }

    fn finish(self: Pin<&mut Self>, closed: bool) -> Option<T> {
        let (_, waiter) = self.into_ref().project_ref().recv.select_parts();
        if closed {
            return None;
        }
        // SAFETY: the waiter is unlinked (the committing counterpart popped
        // it) and the token's `Acquire` ordered the value's write before.
        let value = unsafe { waiter.take_value() };
        debug_assert!(value.is_some(), "a committed receive holds its value");
        value
    }

    fn abandon(self: Pin<&mut Self>, closed: bool) -> bool {
        let (chan, waiter) = self.into_ref().project_ref().recv.select_parts();
        if !closed {
            // SAFETY: as in `finish`.
            if let Some(v) = unsafe { waiter.take_value() } {
                chan.put_back(v);
            }
        }
        true
    }
}

pin_project! {
    /// A send case: `r = tx.send(v)`; its output is
    /// `Result<(), SendError<T>>`.
    #[derive(Debug)]
    pub struct SendCase<'a, T> {
        #[pin]
        send: Send<'a, T>,
        enabled: bool,
    }
}

impl<'a, T> SendCase<'a, T> {
    /// A send case over `send`, taking part if `enabled`.
    pub(crate) fn new(send: Send<'a, T>, enabled: bool) -> SendCase<'a, T> {
        SendCase { send, enabled }
    }

    /// Stops the case from taking part.
    pub(crate) fn disable(&mut self) {
        self.enabled = false;
    }
}

impl<T> Case for SendCase<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn kind(&self) -> Kind {
        if self.enabled {
            Kind::Channel
        } else {
            Kind::Disabled
        }
    }

    fn poll_now(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (chan, waiter) = self.into_ref().project_ref().send.select_parts();
        // SAFETY: the waiter is ours and not linked (Try runs only while
        // nothing is registered).
        let value = unsafe { waiter.take_value() }.expect("a send case holds its value");
        match chan.try_send(value) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(TrySendError::Closed(v)) => Poll::Ready(Err(SendError(v))),
            Err(TrySendError::Full(v)) => {
                // SAFETY: as above.
                unsafe { waiter.put_value(v) };
                Poll::Pending
            }
        }
    }

    unsafe fn register(self: Pin<&mut Self>, token: TokenRef, index: u32, waker: &Waker) -> bool {
        let (chan, waiter) = self.into_ref().project_ref().send.select_parts();
        // SAFETY: as for `RecvCase::register`.
        unsafe { chan.register_send(waiter, token.0, index, waker) }
    }

    fn unregister(self: Pin<&mut Self>) {
        let (chan, waiter) = self.into_ref().project_ref().send.select_parts();
        chan.unregister_send(waiter);
    }

    fn finish(self: Pin<&mut Self>, closed: bool) -> Self::Output {
        let (_, waiter) = self.into_ref().project_ref().send.select_parts();
        if !closed {
            return Ok(());
        }
        // SAFETY: the waiter is unlinked and the commit was acquired; a
        // send that failed on close keeps its value.
        let value = unsafe { waiter.take_value() }.expect("a failed send keeps its value");
        Err(SendError(value))
    }

    fn abandon(self: Pin<&mut Self>, closed: bool) -> bool {
        // Failed on close: nothing happened (the value drops with the
        // case). Sent: that cannot be undone.
        closed
    }
}

pin_project! {
    /// Any other future as a case: ready when it completes.
    #[derive(Debug)]
    pub struct FutureCase<F> {
        #[pin]
        fut: F,
        enabled: bool,
    }
}

impl<F: Future> Case for FutureCase<F> {
    type Output = F::Output;

    fn kind(&self) -> Kind {
        if self.enabled {
            Kind::Future
        } else {
            Kind::Disabled
        }
    }

    fn poll_now(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().fut.poll(cx)
    }

    unsafe fn register(self: Pin<&mut Self>, _: TokenRef, _: u32, _: &Waker) -> bool {
        true
    }

    fn unregister(self: Pin<&mut Self>) {}

    fn finish(self: Pin<&mut Self>, _closed: bool) -> F::Output {
        unreachable!("a future case is never committed through the token")
    }

    fn abandon(self: Pin<&mut Self>, _closed: bool) -> bool {
        true
    }
}

/// The end of the cons list: no cases.
impl Cases for () {
    type Output = Infallible;

    fn len(&self) -> usize {
        0
    }

    fn kind(&self, _: usize) -> Kind {
        unreachable!("case index out of range")
    }

    fn poll_now(self: Pin<&mut Self>, _: usize, _: &mut Context<'_>) -> Poll<Infallible> {
        unreachable!("case index out of range")
    }

    unsafe fn register(self: Pin<&mut Self>, _: usize, _: TokenRef, _: u32, _: &Waker) -> bool {
        unreachable!("case index out of range")
    }

    fn unregister(self: Pin<&mut Self>, _: usize) {
        unreachable!("case index out of range")
    }

    fn finish(self: Pin<&mut Self>, _: usize, _: bool) -> Infallible {
        unreachable!("case index out of range")
    }

    fn abandon(self: Pin<&mut Self>, _: usize, _: bool) -> bool {
        unreachable!("case index out of range")
    }
}

/// Splits a pinned cons cell into its pinned head and tail.
fn split<H, T>(cell: Pin<&mut (H, T)>) -> (Pin<&mut H>, Pin<&mut T>) {
    // SAFETY: a tuple's fields are pinned structurally: the tuple has no
    // `Drop` of its own, is `Unpin` only if both are, and neither field is
    // ever moved out of the pinned cell.
    unsafe {
        let (h, t) = cell.get_unchecked_mut();
        (Pin::new_unchecked(h), Pin::new_unchecked(t))
    }
}

/// A cons cell of cases: case 0 is the head, case `i + 1` is the tail's
/// case `i`.
impl<H: Case, T: Cases> Cases for (H, T) {
    type Output = Either<H::Output, T::Output>;

    #[inline]
    fn len(&self) -> usize {
        1 + self.1.len()
    }

    #[inline]
    fn kind(&self, i: usize) -> Kind {
        match i {
            0 => self.0.kind(),
            _ => self.1.kind(i - 1),
        }
    }

    #[inline]
    fn poll_now(self: Pin<&mut Self>, i: usize, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (h, t) = split(self);
        match i {
            0 => h.poll_now(cx).map(Either::L),
            _ => t.poll_now(i - 1, cx).map(Either::R),
        }
    }

    #[inline]
    unsafe fn register(
        self: Pin<&mut Self>,
        i: usize,
        token: TokenRef,
        index: u32,
        waker: &Waker,
    ) -> bool {
        let (h, t) = split(self);
        // SAFETY: the caller's contract, passed on.
        unsafe {
            match i {
                0 => h.register(token, index, waker),
                _ => t.register(i - 1, token, index, waker),
            }
        }
    }

    #[inline]
    fn unregister(self: Pin<&mut Self>, i: usize) {
        let (h, t) = split(self);
        match i {
            0 => h.unregister(),
            _ => t.unregister(i - 1),
        }
    }

    #[inline]
    fn finish(self: Pin<&mut Self>, i: usize, closed: bool) -> Self::Output {
        let (h, t) = split(self);
        match i {
            0 => Either::L(h.finish(closed)),
            _ => Either::R(t.finish(i - 1, closed)),
        }
    }

    #[inline]
    fn abandon(self: Pin<&mut Self>, i: usize, closed: bool) -> bool {
        let (h, t) = split(self);
        match i {
            0 => h.abandon(closed),
            _ => t.abandon(i - 1, closed),
        }
    }
}
