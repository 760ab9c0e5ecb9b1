//! Go's `select`: [`select!`](crate::select!) for a fixed set of cases
//! written in the source, and [`Select`] for a set known only at run time
//! (Go's `reflect.Select`).
//!
//! ```
//! # gorun::run(async {
//! let (tx, rx) = gorun::chan::<u32>(1);
//! let (_tx2, rx2) = gorun::chan::<u32>(1);
//! tx.send(7).await.unwrap();
//! let got = gorun::select! {
//!     v = rx.recv() => v,
//!     v = rx2.recv() => v,
//! };
//! assert_eq!(got, Some(7));
//! # });
//! ```
//!
//! # Design
//!
//! ## What
//!
//! A select is a set of *cases*. A *channel case* is a send or a receive on a
//! gorun channel; a *future case* is any other [`Future`](std::future::Future) (a `sleep`, a
//! `ctx.done()`), ready when it completes. A case may be *disabled* (a guard
//! that is false, or a send case already spent in [`Select`]): it never takes
//! part, like a nil channel in Go. Both front ends share one engine,
//! `engine::Core`, that drives any set of cases through the channel module's
//! waiter protocol (see [`chan`](mod@crate::chan)'s essay) with one
//! `Token` per select as its only commit point.
//!
//! ## Invariants
//!
//! 1. At most one case completes per select. For channel cases this is the
//!    token's single CAS: a counterpart may complete a parked case only by
//!    winning `WAITING → SELECTED(case)`, and the owner withdraws with
//!    `WAITING → ABORTED`. So a send case that was not chosen delivers
//!    nothing, and a receive case that was not chosen takes nothing.
//! 2. A waiter is linked into a channel queue only between *Register* and
//!    *Finish*/*Withdraw*, and only while the token and the waiters are
//!    pinned: the select future (or the [`Select`] and its boxed core) owns
//!    them and unlinks everything in its `Drop`.
//! 3. Among the cases ready at one attempt, each is equally likely to be
//!    taken: the attempt visits the enabled cases in a fresh uniformly random
//!    order (a lazy Fisher–Yates shuffle) and takes the first that is ready.
//! 4. With a `default`, nothing is ever registered: a select with `default`
//!    either completes a case in its one attempt or commits nothing.
//!
//! ## Protocol
//!
//! Each poll of a select:
//!
//! 1. **Budget.** Take one unit of the task's cooperative budget (given back
//!    unless the select completes).
//! 2. **Parked?** If the waiters are registered: if the token names a case,
//!    go to *Finish*. Else poll the future cases (random order); if one
//!    completes, *withdraw* (CAS `WAITING → ABORTED`): on success unregister
//!    every waiter and return the future's output. If the CAS fails, a
//!    channel case committed at the same moment: a receive is undone (its
//!    value goes back to its channel) and the future still wins; a send
//!    that happened cannot be undone, so it wins and the future's output is
//!    dropped.
//!    If the task's waker changed, withdraw and start over at 3; otherwise
//!    stay `Pending`.
//! 3. **Try.** Visit the enabled cases in random order: `try_recv` /
//!    `try_send` for channel cases, one poll for future cases. The first
//!    ready case completes the select; nothing was registered, so no one
//!    else can have committed it.
//! 4. **Default.** If there is a `default`, it runs; nothing committed.
//! 5. **Register** each enabled channel case's waiter with the token. A
//!    refusal means a case became ready after step 3: withdraw (or, if the
//!    CAS fails, finish the case that committed meanwhile), unregister, reset
//!    the token and go back to 3. Otherwise sleep (`Pending`).
//! 6. **Finish.** Unregister the other waiters and take the committed case's
//!    result out of its waiter: the received value (or `None` if the
//!    channel closed), or the sent value's fate (`Ok`, or the value back in
//!    `SendError` if the channel closed).
//!
//! Dropping a registered select withdraws; if a receive case had already
//! committed, its value goes back to the channel (to the next parked
//! receiver or the front of the buffer), so nothing is lost. A send case
//! that committed did send: that cannot be undone, as for a plain `send`.
//!
//! ## Rejected alternatives
//!
//! - *Polling each case's own `Recv`/`Send` future* (`tokio::select!`'s
//!   way). Each would park a plain waiter that any counterpart may complete
//!   on its own, so two cases could both take a value: exactly-once needs
//!   the shared token, hence the channel hooks.
//! - *A random start with wrap-around* instead of a random order: cheaper,
//!   but biased as soon as some cases are not ready (a ready case right after
//!   a run of not-ready ones is picked more often). Go also shuffles.
//! - *Locking all channels at once* (Go's `sellock`): a poll would take N
//!   locks in address order; registration touches one lock at a time and
//!   the token's CAS replaces the global lock.
//! - *Boxing the cases* in the macro (`Vec<Box<dyn Case>>`): an allocation
//!   per select. The macro builds a nested tuple of concrete case types
//!   instead, and the output is a nested `Either` matched in place, so the
//!   chosen body runs in the caller's function (`?`, `return`, `break`).

mod case;
mod dynamic;
mod engine;
mod macros;
mod rng;

pub use dynamic::{Outcome, Select, SelectFuture};

/// The macro's support: public only so that `select!` can reach it from
/// other crates. Not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use super::case::{
        ChanKind, ChanTag, Either, FutKind, FutTag, FutureCase, IntoChanCase, RecvCase, SendCase,
    };
    pub use super::engine::{select, Case, Cases, Kind, MacroSelect, TokenRef};
}
