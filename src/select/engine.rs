//! The select engine: [`Core`] drives a set of [`Cases`] through Try →
//! Register → Sleep → Finish (the protocol in the module essay), and
//! [`MacroSelect`] is the future `select!` awaits.
//!
//! Invariants: `Core::registered` is true exactly while some waiter of the
//! set may be linked in a channel queue; while it is, neither the core's
//! token nor the cases move (both are pinned), and every path that ends a
//! select (`finish`, `withdraw`, `cancel`) unlinks every waiter before it
//! clears the flag. `Core::token` is reset only while nothing is linked.

use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{ready, Context, Poll, Waker};

use pin_project_lite::pin_project;

use super::rng::first_in_random_order;
use crate::chan::waiter::{Selected, Token};
use crate::runtime::coop::poll_proceed;
use crate::task::{wait, WaitReason};

/// What part a case takes in a select.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Never chosen (a false guard: Go's nil channel).
    Disabled,
    /// A send or receive on a gorun channel: committed through the token.
    Channel,
    /// Any other future: ready when it completes.
    Future,
}

/// A select's token, as the cases see it while registering.
#[derive(Clone, Copy, Debug)]
pub struct TokenRef(pub(crate) NonNull<Token>);

/// One case of a select. Implemented by the macro's case types only.
pub trait Case {
    /// What the case produces when chosen.
    type Output;

    /// The part the case takes.
    fn kind(&self) -> Kind;

    /// Step *Try*: completes the case now if it is ready, without waiting
    /// (channel cases), or polls it once (future cases).
    fn poll_now(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output>;

    /// Step *Register* (channel cases): links the case's waiter as case
    /// `index` of the select `token`; `false` if the case is ready now.
    ///
    /// # Safety
    ///
    /// The case and the token stay pinned and valid until
    /// [`Case::unregister`] (or [`Case::finish`] after the token names this
    /// case) has been called.
    unsafe fn register(self: Pin<&mut Self>, token: TokenRef, index: u32, waker: &Waker) -> bool;

    /// Unlinks the case's waiter if it is still linked.
    fn unregister(self: Pin<&mut Self>);

    /// Step *Finish*: the token committed this case; takes its result.
    fn finish(self: Pin<&mut Self>, closed: bool) -> Self::Output;

    /// The token committed this case but the select will not report it
    /// (it is being dropped, or a future case completed at the same time):
    /// undoes what can be undone (a received value goes back to its
    /// channel). `false` if the case cannot be undone (a send that
    /// happened).
    fn abandon(self: Pin<&mut Self>, closed: bool) -> bool;
}

/// An indexed set of cases with one output type.
pub trait Cases {
    /// What the chosen case produces (for the macro: a nested [`Either`]
    /// that says which case it was).
    ///
    /// [`Either`]: super::case::Either
    type Output;

    /// The number of cases.
    fn len(&self) -> usize;

    /// Whether there are no cases.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The part case `i` takes.
    fn kind(&self, i: usize) -> Kind;

    /// [`Case::poll_now`] on case `i`.
    fn poll_now(self: Pin<&mut Self>, i: usize, cx: &mut Context<'_>) -> Poll<Self::Output>;

    /// [`Case::register`] on case `i`, as case index `index`.
    ///
    /// # Safety
    ///
    /// As for [`Case::register`].
    unsafe fn register(
        self: Pin<&mut Self>,
        i: usize,
        token: TokenRef,
        index: u32,
        waker: &Waker,
    ) -> bool;

    /// [`Case::unregister`] on case `i`.
    fn unregister(self: Pin<&mut Self>, i: usize);

    /// [`Case::finish`] on case `i`.
    fn finish(self: Pin<&mut Self>, i: usize, closed: bool) -> Self::Output;

    /// [`Case::abandon`] on case `i`.
    fn abandon(self: Pin<&mut Self>, i: usize, closed: bool) -> bool;
}

/// The state of one select: its token and whether its waiters are linked.
#[derive(Debug)]
pub(crate) struct Core {
    /// The one-shot commit point shared by the channel cases' waiters.
    token: Token,
    /// Whether waiters may be linked (step *Register* ran, and neither
    /// *Finish* nor a withdrawal has unlinked them yet).
    registered: bool,
    /// The waker the waiters were registered with; a poll with a waker that
    /// would not wake the same task re-registers.
    waker: Option<Waker>,
    /// The waiters point at `token`.
    _pin: PhantomPinned,
}

/// The projection of a pinned [`Core`]: the token stays put, the rest may
/// be written.
struct CoreMut<'a> {
    /// The pinned token.
    token: &'a Token,
    /// See [`Core::registered`].
    registered: &'a mut bool,
    /// See [`Core::waker`].
    waker: &'a mut Option<Waker>,
}

impl Core {
    /// A core with nothing registered.
    pub(crate) fn new() -> Core {
        Core {
            token: Token::new(),
            registered: false,
            waker: None,
            _pin: PhantomPinned,
        }
    }

    /// Projects the pinned core.
    fn project(self: Pin<&mut Self>) -> CoreMut<'_> {
        // SAFETY: only `token` is structurally pinned, and it is handed out
        // by shared reference; the other fields are plain data.
        let this = unsafe { self.get_unchecked_mut() };
        CoreMut {
            token: &this.token,
            registered: &mut this.registered,
            waker: &mut this.waker,
        }
    }

    /// Polls the select over `cases`: the protocol of the module essay.
    /// `Ready(None)` means `default` (only when `has_default`); `order` is
    /// scratch space of at least `cases.len()` entries.
    pub(crate) fn poll<C: Cases + ?Sized>(
        self: Pin<&mut Self>,
        cases: Pin<&mut C>,
        cx: &mut Context<'_>,
        has_default: bool,
        order: &mut [u32],
    ) -> Poll<Option<(usize, C::Output)>> {
        let spent = ready!(poll_proceed(cx));
        let Poll::Ready(out) = self.project().poll_select(cases, cx, has_default, order) else {
            // After the cases: a future case may have recorded its own
            // reason, but the task waits on the select as a whole.
            wait::record(WaitReason::Select);
            return Poll::Pending;
        };
        spent.made_progress();
        Poll::Ready(out)
    }

    /// One attempt without waiting and without the budget (a select with
    /// `default`, for [`Select::try_select`](super::Select::try_select)):
    /// `None` if no case was ready, and then nothing committed.
    pub(crate) fn try_select<C: Cases + ?Sized>(
        self: Pin<&mut Self>,
        cases: Pin<&mut C>,
        cx: &mut Context<'_>,
        order: &mut [u32],
    ) -> Option<(usize, C::Output)> {
        match self.project().poll_select(cases, cx, true, order) {
            Poll::Ready(out) => out,
            Poll::Pending => unreachable!("a select with default never waits"),
        }
    }

    /// Ends a select that is being dropped or reused: unlinks every waiter
    /// and, if a case committed meanwhile, abandons it (a received value
    /// goes back to its channel) and returns its index.
    pub(crate) fn cancel<C: Cases + ?Sized>(
        self: Pin<&mut Self>,
        mut cases: Pin<&mut C>,
    ) -> Option<usize> {
        let sel = self.project().withdraw(cases.as_mut()).err()?;
        let i = sel.case as usize;
        cases.abandon(i, sel.closed);
        Some(i)
    }
}

impl CoreMut<'_> {
    /// The body of [`Core::poll`], without the budget.
    fn poll_select<C: Cases + ?Sized>(
        &mut self,
        mut cases: Pin<&mut C>,
        cx: &mut Context<'_>,
        has_default: bool,
        order: &mut [u32],
    ) -> Poll<Option<(usize, C::Output)>> {
        if *self.registered {
            if let Some(sel) = self.token.selected() {
                return Poll::Ready(Some(self.finish(cases, sel)));
            }
            if let Some(done) = self.poll_futures(cases.as_mut(), cx, order) {
                return Poll::Ready(Some(done));
            }
            if self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                return Poll::Pending;
            }
            // Polled by another task: register again with its waker.
            if let Err(sel) = self.withdraw(cases.as_mut()) {
                return Poll::Ready(Some(self.finish(cases, sel)));
            }
        }
        loop {
            // Try.
            let n = cases.len();
            let ready = first_in_random_order(n, order, |i| match cases.kind(i) {
                Kind::Disabled => None,
                Kind::Channel | Kind::Future => match cases.as_mut().poll_now(i, cx) {
                    Poll::Ready(out) => Some((i, out)),
                    Poll::Pending => None,
                },
            });
            if ready.is_some() {
                return Poll::Ready(ready);
            }
            // Default.
            if has_default {
                return Poll::Ready(None);
            }
            // Register.
            if self.register_all(cases.as_mut(), cx.waker()) {
                return Poll::Pending;
            }
            // A case became ready after Try: withdraw and try again.
            if let Err(sel) = self.withdraw(cases.as_mut()) {
                return Poll::Ready(Some(self.finish(cases, sel)));
            }
        }
    }

    /// Registers every channel case; `false` on a refusal (with the
    /// waiters registered so far still linked: withdraw next).
    fn register_all<C: Cases + ?Sized>(&mut self, mut cases: Pin<&mut C>, waker: &Waker) -> bool {
        // Nothing is linked (`registered` is false), so no counterpart can
        // be looking at the token.
        self.token.reset();
        *self.registered = true;
        match &mut *self.waker {
            Some(w) if w.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
        let token = TokenRef(NonNull::from(self.token));
        for i in 0..cases.len() {
            if cases.kind(i) != Kind::Channel {
                continue;
            }
            // SAFETY: the cases are pinned, the token is pinned inside the
            // core, and `registered` makes every way out of the select
            // (finish, withdraw, cancel) unregister them first.
            if !unsafe { cases.as_mut().register(i, token, i as u32, waker) } {
                return false;
            }
        }
        true
    }

    /// Polls the future cases of a parked select. If one completes, the
    /// select withdraws. If a channel case committed at the same moment,
    /// the future still wins when that case can be undone (a received value
    /// goes back to its channel); only a send that already happened wins
    /// over it, and the future's output is then dropped.
    fn poll_futures<C: Cases + ?Sized>(
        &mut self,
        mut cases: Pin<&mut C>,
        cx: &mut Context<'_>,
        order: &mut [u32],
    ) -> Option<(usize, C::Output)> {
        let n = cases.len();
        let (i, out) = first_in_random_order(n, order, |i| {
            if cases.kind(i) != Kind::Future {
                return None;
            }
            match cases.as_mut().poll_now(i, cx) {
                Poll::Ready(out) => Some((i, out)),
                Poll::Pending => None,
            }
        })?;
        match self.withdraw(cases.as_mut()) {
            Ok(()) => Some((i, out)),
            Err(sel) if cases.as_mut().abandon(sel.case as usize, sel.closed) => Some((i, out)),
            Err(sel) => {
                drop(out);
                let j = sel.case as usize;
                Some((j, cases.finish(j, sel.closed)))
            }
        }
    }

    /// Withdraws the select and unlinks every waiter. `Err` names the case a
    /// counterpart committed first; the caller must finish or abandon it.
    fn withdraw<C: Cases + ?Sized>(&mut self, mut cases: Pin<&mut C>) -> Result<(), Selected> {
        if !*self.registered {
            return Ok(());
        }
        let committed = self.token.try_abort();
        let skip = committed.err().map(|sel| sel.case as usize);
        self.unregister_all(cases.as_mut(), skip);
        committed
    }

    /// Step *Finish* for the case `sel` the token committed to.
    fn finish<C: Cases + ?Sized>(
        &mut self,
        mut cases: Pin<&mut C>,
        sel: Selected,
    ) -> (usize, C::Output) {
        let i = sel.case as usize;
        self.unregister_all(cases.as_mut(), Some(i));
        (i, cases.finish(i, sel.closed))
    }

    /// Unlinks every channel case's waiter (each under its own channel's
    /// lock) and clears `registered`.
    ///
    /// The committed case, `committed`, is skipped: the counterpart that
    /// won the token popped its waiter and, after its winning CAS, never
    /// touches it again, so there is nothing to unlink or wait for (the
    /// other cases' waiters may still be in a losing counterpart's hands
    /// until their channel's lock is free, hence the lock for each).
    fn unregister_all<C: Cases + ?Sized>(
        &mut self,
        mut cases: Pin<&mut C>,
        committed: Option<usize>,
    ) {
        if !std::mem::replace(self.registered, false) {
            return;
        }
        for i in 0..cases.len() {
            if Some(i) != committed && cases.kind(i) == Kind::Channel {
                cases.as_mut().unregister(i);
            }
        }
    }
}

/// The most cases whose visiting order [`MacroSelect`] keeps on the stack
/// (16 `u32`s: one cache line); larger selects are rare and allocate.
const INLINE_ORDER: usize = 16;

pin_project! {
    /// The future `select!` awaits: the cases, owned, and the core.
    #[derive(Debug)]
    pub struct MacroSelect<L: Cases> {
        #[pin]
        cases: L,
        #[pin]
        core: Core,
        has_default: bool,
    }

    impl<L: Cases> PinnedDrop for MacroSelect<L> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.core.cancel(this.cases);
        }
    }
}

/// Makes the select future of `select!` over the case list `cases`.
pub fn select<L: Cases>(cases: L, has_default: bool) -> MacroSelect<L> {
    MacroSelect {
        cases,
        core: Core::new(),
        has_default,
    }
}

impl<L: Cases> Future for MacroSelect<L> {
    type Output = Option<L::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let n = this.cases.len();
        let out = if n <= INLINE_ORDER {
            let mut order = [0u32; INLINE_ORDER];
            this.core
                .poll(this.cases, cx, *this.has_default, &mut order)
        } else {
            let mut order = vec![0u32; n];
            this.core
                .poll(this.cases, cx, *this.has_default, &mut order)
        };
        out.map(|o| o.map(|(_, out)| out))
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Loom models of the engine through `select!` itself, polled by hand:
    //! `RUSTFLAGS="--cfg loom" cargo test --release --lib select::engine`.

    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll};

    use crate::chan::chan;

    fn noop_cx() -> Context<'static> {
        Context::from_waker(futures::task::noop_waker_ref())
    }

    #[test]
    fn racing_senders_commit_one_receive_case() {
        loom::model(|| {
            let (tx1, rx1) = chan::<u32>(0);
            let (tx2, rx2) = chan::<u32>(0);
            // The threads get clones: a last handle dropped would close.
            let (c1, c2) = (tx1.clone(), tx2.clone());
            let s1 = loom::thread::spawn(move || c1.try_send(1).is_ok());
            let s2 = loom::thread::spawn(move || c2.try_send(2).is_ok());
            let mut sel = pin!(async {
                crate::select! {
                    v = rx1.recv() => (1, v),
                    v = rx2.recv() => (2, v),
                }
            });
            let first = sel.as_mut().poll(&mut noop_cx());
            let sent = [s1.join().unwrap(), s2.join().unwrap()];
            let got = match first {
                Poll::Ready(got) => Some(got),
                Poll::Pending => match sel.as_mut().poll(&mut noop_cx()) {
                    Poll::Ready(got) => Some(got),
                    Poll::Pending => None,
                },
            };
            match got {
                Some((case, v)) => {
                    assert_eq!(v, Some(case));
                    // A send that found the select parked committed it; one
                    // that found a ready value taken by Try also counts.
                    assert!(sent[case as usize - 1]);
                }
                None => assert_eq!(sent, [false, false]),
            }
        });
    }

    #[test]
    fn racing_receivers_take_one_send_case() {
        loom::model(|| {
            let (tx1, rx1) = chan::<u32>(0);
            let (tx2, rx2) = chan::<u32>(0);
            let (c1, c2) = (rx1.clone(), rx2.clone());
            let r1 = loom::thread::spawn(move || c1.try_recv().ok());
            let r2 = loom::thread::spawn(move || c2.try_recv().ok());
            let mut sel = pin!(async {
                crate::select! {
                    r = tx1.send(1) => r.map(|()| 1),
                    r = tx2.send(2) => r.map(|()| 2),
                }
            });
            let first = sel.as_mut().poll(&mut noop_cx());
            let got = [r1.join().unwrap(), r2.join().unwrap()];
            let done = match first {
                Poll::Ready(done) => Some(done),
                Poll::Pending => match sel.as_mut().poll(&mut noop_cx()) {
                    Poll::Ready(done) => Some(done),
                    Poll::Pending => None,
                },
            };
            match done {
                Some(Ok(case)) => {
                    let want = [(case == 1).then_some(1), (case == 2).then_some(2)];
                    assert_eq!(got, want, "exactly the committed case was taken");
                }
                Some(Err(e)) => panic!("closed: {e:?}"),
                None => assert_eq!(got, [None, None]),
            }
        });
    }

    #[test]
    fn dropped_select_loses_no_value() {
        loom::model(|| {
            let (tx1, rx1) = chan::<u32>(0);
            let (_tx2, rx2) = chan::<u32>(0);
            let c1 = tx1.clone();
            let sender = loom::thread::spawn(move || c1.try_send(1).is_ok());
            {
                let mut sel = pin!(async {
                    crate::select! {
                        v = rx1.recv() => v,
                        v = rx2.recv() => v,
                    }
                });
                let first = sel.as_mut().poll(&mut noop_cx());
                assert!(first.is_pending() || first == Poll::Ready(Some(1)));
                if first.is_ready() {
                    assert!(sender.join().unwrap());
                    return;
                }
            }
            let sent = sender.join().unwrap();
            assert_eq!(rx1.try_recv().is_ok(), sent, "put back exactly when sent");
        });
    }
}
