//! [`Select`]: the dynamic select (Go's `reflect.Select`, crossbeam's
//! `Select`), for a set of send and receive cases built at run time.
//!
//! The cases live in a `Vec` inside the `Select`, the token in a boxed
//! core, and both stay put while waiters are linked: every `&mut self`
//! method, and `Drop`, first withdraws a select that is still registered.
//! That keeps it sound even if a [`SelectFuture`] is leaked with
//! `mem::forget` instead of dropped (the `Vec` could otherwise be grown
//! under linked waiters). Rejected: cases boxed one by one (an allocation
//! per case, and no reuse), and one-shot `select(self)` (fan-in loops would
//! rebuild the set every time).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::case::{RecvCase, SendCase};
use super::engine::{Case, Cases, Core, Kind, TokenRef};
use crate::chan::{Receiver, SendError, Sender};

/// What the chosen case of a [`Select`] did.
///
/// ```
/// use gorun::select::Outcome;
///
/// let (tx, rx) = gorun::chan::<u8>(0);
/// drop(tx);
/// let mut sel = gorun::Select::new();
/// sel.recv(&rx);
/// assert_eq!(sel.try_select(), Some((0, Outcome::Received(None)))); // closed
/// ```
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome<T> {
    /// A receive case completed: the value, or `None` if the channel is
    /// closed and drained.
    Received(Option<T>),
    /// A send case completed: `Ok(())` if the value was sent, or the value
    /// back in [`SendError`] if the channel is closed.
    Sent(Result<(), SendError<T>>),
}

/// A select over a number of cases known only at run time: the dynamic
/// form of [`select!`](crate::select!), with the same guarantees (random
/// choice among ready cases, exactly one case commits, nothing lost when a
/// pending select is dropped).
///
/// Add cases with [`Select::recv`] and [`Select::send`], which return the
/// case's index, then wait with [`Select::select`] (or look without
/// waiting with [`Select::try_select`]). A `Select` can be used again: a
/// receive case stays until [`Select::disable`]d; a send case takes part
/// until it completes once (then it is spent, its value gone). All cases
/// carry values of one type `T`; for channels of different types, wrap
/// them in one enum or use [`select!`](crate::select!).
///
/// Fan-in over many receivers, disabling each as it closes (Go's idiom of
/// setting a closed channel to nil):
///
/// ```
/// use gorun::select::Outcome;
///
/// # gorun::run(async {
/// let mut txs = Vec::new();
/// let mut rxs = Vec::new();
/// for _ in 0..10 {
///     let (tx, rx) = gorun::chan::<usize>(1);
///     txs.push(tx);
///     rxs.push(rx);
/// }
/// for (i, tx) in txs.into_iter().enumerate() {
///     gorun::spawn(async move { tx.send(i).await.unwrap() });
/// }
/// let mut sel = gorun::Select::new();
/// for rx in &rxs {
///     sel.recv(rx);
/// }
/// let (mut sum, mut open) = (0, rxs.len());
/// while open > 0 {
///     match sel.select().await {
///         (_, Outcome::Received(Some(v))) => sum += v,
///         (i, _) => {
///             sel.disable(i);
///             open -= 1;
///         }
///     }
/// }
/// assert_eq!(sum, 45);
/// # });
/// ```
pub struct Select<'a, T> {
    /// The cases, in the order they were added. Not resized while waiters
    /// are linked.
    cases: CaseVec<'a, T>,
    /// The token and registration state, boxed so that the token keeps its
    /// address when the `Select` moves.
    core: Pin<Box<Core>>,
    /// Scratch space for the random visiting order, one entry per case.
    order: Vec<u32>,
}

impl<'a, T> Select<'a, T> {
    /// Creates a select with no cases.
    ///
    /// ```
    /// let sel = gorun::Select::<u8>::new();
    /// assert!(sel.is_empty());
    /// ```
    pub fn new() -> Select<'a, T> {
        Select {
            cases: CaseVec(Vec::new()),
            core: Box::pin(Core::new()),
            order: Vec::new(),
        }
    }

    /// Adds a case that receives from `rx`; returns its index.
    ///
    /// ```
    /// # gorun::run(async {
    /// let (tx, rx) = gorun::chan::<u8>(1);
    /// let mut sel = gorun::Select::new();
    /// let i = sel.recv(&rx);
    /// tx.send(4).await.unwrap();
    /// let (j, out) = sel.select().await;
    /// assert_eq!((i, out), (j, gorun::select::Outcome::Received(Some(4))));
    /// # });
    /// ```
    pub fn recv(&mut self, rx: &'a Receiver<T>) -> usize {
        self.push(DynCase::Recv(RecvCase::new(rx.recv(), true)))
    }

    /// Adds a case that sends `value` on `tx`; returns its index. The case
    /// takes part until it completes once.
    ///
    /// ```
    /// # gorun::run(async {
    /// let (tx, rx) = gorun::chan::<u8>(1);
    /// let mut sel = gorun::Select::new();
    /// let i = sel.send(&tx, 9);
    /// let (j, out) = sel.select().await;
    /// assert_eq!((i, out), (j, gorun::select::Outcome::Sent(Ok(()))));
    /// assert_eq!(rx.recv().await, Some(9));
    /// # });
    /// ```
    pub fn send(&mut self, tx: &'a Sender<T>, value: T) -> usize {
        self.push(DynCase::Send(SendCase::new(tx.send(value), true)))
    }

    /// Stops case `index` from taking part (Go's `ch = nil`).
    ///
    /// # Panics
    ///
    /// If there is no case `index`.
    ///
    /// ```
    /// # gorun::run(async {
    /// let (tx, rx) = gorun::chan::<u8>(1);
    /// let (tx2, rx2) = gorun::chan::<u8>(1);
    /// tx.send(1).await.unwrap();
    /// tx2.send(2).await.unwrap();
    /// let mut sel = gorun::Select::new();
    /// let first = sel.recv(&rx);
    /// sel.recv(&rx2);
    /// sel.disable(first);
    /// let (_, out) = sel.select().await;
    /// assert_eq!(out, gorun::select::Outcome::Received(Some(2)));
    /// # });
    /// ```
    pub fn disable(&mut self, index: usize) {
        self.withdraw();
        match &mut self.cases.0[index] {
            DynCase::Recv(c) => c.disable(),
            DynCase::Send(c) => c.disable(),
        }
    }

    /// The number of cases added (enabled or not).
    ///
    /// ```
    /// let (_tx, rx) = gorun::chan::<u8>(0);
    /// let mut sel = gorun::Select::new();
    /// sel.recv(&rx);
    /// assert_eq!(sel.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.cases.0.len()
    }

    /// Whether no case was added.
    ///
    /// ```
    /// assert!(gorun::Select::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.cases.0.is_empty()
    }

    /// Waits until one case completes and returns its index and outcome.
    ///
    /// Among the cases ready at once, one is chosen uniformly at random.
    /// With no enabled case it waits forever, like Go's `select {}`.
    /// Dropping the future before it completes commits nothing (a value a
    /// sender had already handed over goes back to its channel). Spends one
    /// unit of the cooperative budget when it completes.
    ///
    /// ```
    /// # gorun::run(async {
    /// let (tx, rx) = gorun::chan::<&str>(0);
    /// gorun::spawn(async move { tx.send("hi").await.unwrap() });
    /// let mut sel = gorun::Select::new();
    /// sel.recv(&rx);
    /// assert_eq!(sel.select().await.1, gorun::select::Outcome::Received(Some("hi")));
    /// # });
    /// ```
    pub fn select(&mut self) -> SelectFuture<'_, 'a, T> {
        self.withdraw();
        let n = self.len();
        self.order.resize(n, 0);
        SelectFuture { sel: self }
    }

    /// Completes a case that is ready now, if any, without waiting (a
    /// select with `default`): `None` if no case is ready, and then no case
    /// committed.
    ///
    /// ```
    /// # gorun::run(async {
    /// let (tx, rx) = gorun::chan::<u8>(1);
    /// let mut sel = gorun::Select::new();
    /// sel.recv(&rx);
    /// assert_eq!(sel.try_select(), None);
    /// tx.send(1).await.unwrap();
    /// assert_eq!(sel.try_select(), Some((0, gorun::select::Outcome::Received(Some(1)))));
    /// # });
    /// ```
    pub fn try_select(&mut self) -> Option<(usize, Outcome<T>)> {
        self.withdraw();
        let n = self.len();
        self.order.resize(n, 0);
        let mut cx = Context::from_waker(Waker::noop());
        let done =
            self.core
                .as_mut()
                .try_select(Pin::new(&mut self.cases), &mut cx, &mut self.order);
        if let Some((i, _)) = &done {
            self.cases.spend(*i);
        }
        done
    }

    /// Adds a case; it may not move afterwards while it is registered,
    /// which `withdraw` guarantees.
    fn push(&mut self, case: DynCase<'a, T>) -> usize {
        self.withdraw();
        self.cases.0.push(case);
        self.cases.0.len() - 1
    }

    /// Unlinks every waiter of a select whose future was leaked instead of
    /// dropped; nothing to do otherwise.
    fn withdraw(&mut self) {
        if let Some(i) = self.core.as_mut().cancel(Pin::new(&mut self.cases)) {
            // A send case that committed did send: it is spent.
            self.cases.spend(i);
        }
    }
}

impl<T> Default for Select<'_, T> {
    fn default() -> Self {
        Select::new()
    }
}

impl<T> Drop for Select<'_, T> {
    fn drop(&mut self) {
        self.withdraw();
    }
}

impl<T> fmt::Debug for Select<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("cases", &self.len())
            .finish_non_exhaustive()
    }
}

/// The future of [`Select::select`]: resolves to the index and outcome of
/// the case that completed. Dropping it before then commits nothing.
///
/// ```
/// use std::time::Duration;
///
/// # gorun::run(async {
/// let (_tx, rx) = gorun::chan::<u8>(0);
/// let mut sel = gorun::Select::new();
/// sel.recv(&rx);
/// let waited = gorun::timeout(Duration::from_millis(5), sel.select()).await;
/// assert!(waited.is_err()); // nothing arrived; the dropped future left no trace
/// # });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct SelectFuture<'s, 'a, T> {
    /// The select being waited on.
    sel: &'s mut Select<'a, T>,
}

impl<T> Future for SelectFuture<'_, '_, T> {
    type Output = (usize, Outcome<T>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let sel = &mut *self.get_mut().sel;
        let done = sel
            .core
            .as_mut()
            .poll(Pin::new(&mut sel.cases), cx, false, &mut sel.order);
        match done {
            Poll::Ready(Some((i, out))) => {
                sel.cases.spend(i);
                Poll::Ready((i, out))
            }
            Poll::Ready(None) => unreachable!("no default"),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for SelectFuture<'_, '_, T> {
    fn drop(&mut self) {
        self.sel.withdraw();
    }
}

impl<T> fmt::Debug for SelectFuture<'_, '_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectFuture").finish_non_exhaustive()
    }
}

/// One case of a [`Select`].
#[derive(Debug)]
enum DynCase<'a, T> {
    /// A receive case.
    Recv(RecvCase<'a, T>),
    /// A send case.
    Send(SendCase<'a, T>),
}

/// A pinned [`DynCase`], projected.
type Projected<'p, 'a, T> = Result<Pin<&'p mut RecvCase<'a, T>>, Pin<&'p mut SendCase<'a, T>>>;

impl<'a, T> DynCase<'a, T> {
    /// The pinned receive case, or the pinned send case.
    fn project(self: Pin<&mut Self>) -> Projected<'_, 'a, T> {
        // SAFETY: the variants' fields are pinned structurally: nothing
        // moves out of a pinned `DynCase`, and it has no `Drop` of its own.
        unsafe {
            match self.get_unchecked_mut() {
                DynCase::Recv(c) => Ok(Pin::new_unchecked(c)),
                DynCase::Send(c) => Err(Pin::new_unchecked(c)),
            }
        }
    }
}

/// The cases of a [`Select`], as the engine sees them.
#[derive(Debug)]
struct CaseVec<'a, T>(Vec<DynCase<'a, T>>);

/// Moving the `Vec` moves no case: the cases live in its heap buffer.
impl<T> Unpin for CaseVec<'_, T> {}

impl<'a, T> CaseVec<'a, T> {
    /// Case `i`, pinned.
    fn at(self: Pin<&mut Self>, i: usize) -> Pin<&mut DynCase<'a, T>> {
        // SAFETY: the `Vec` is neither resized nor has elements moved out
        // while a select may have waiters linked: `Select` withdraws before
        // every `push`, and elements are only dropped with the `Vec` after
        // `Select::drop` withdrew.
        unsafe { Pin::new_unchecked(&mut self.get_mut().0[i]) }
    }

    /// A send case that completed is spent: its value is gone.
    fn spend(&mut self, i: usize) {
        if let DynCase::Send(c) = &mut self.0[i] {
            c.disable();
        }
    }
}

impl<T> Cases for CaseVec<'_, T> {
    type Output = Outcome<T>;

    fn len(&self) -> usize {
        self.0.len()
    }

    fn kind(&self, i: usize) -> Kind {
        match &self.0[i] {
            DynCase::Recv(c) => c.kind(),
            DynCase::Send(c) => c.kind(),
        }
    }

    fn poll_now(self: Pin<&mut Self>, i: usize, cx: &mut Context<'_>) -> Poll<Outcome<T>> {
        match self.at(i).project() {
            Ok(c) => c.poll_now(cx).map(Outcome::Received),
            Err(c) => c.poll_now(cx).map(Outcome::Sent),
        }
    }

    unsafe fn register(
        self: Pin<&mut Self>,
        i: usize,
        token: TokenRef,
        index: u32,
        waker: &Waker,
    ) -> bool {
        // SAFETY: the caller's contract, passed on.
        unsafe {
            match self.at(i).project() {
                Ok(c) => c.register(token, index, waker),
                Err(c) => c.register(token, index, waker),
            }
        }
    }

    fn unregister(self: Pin<&mut Self>, i: usize) {
        match self.at(i).project() {
            Ok(c) => c.unregister(),
            Err(c) => c.unregister(),
        }
    }

    fn finish(self: Pin<&mut Self>, i: usize, closed: bool) -> Outcome<T> {
        match self.at(i).project() {
            Ok(c) => Outcome::Received(c.finish(closed)),
            Err(c) => Outcome::Sent(c.finish(closed)),
        }
    }

    fn abandon(self: Pin<&mut Self>, i: usize, closed: bool) -> bool {
        match self.at(i).project() {
            Ok(c) => c.abandon(closed),
            Err(c) => c.abandon(closed),
        }
    }
}
