//! `select!`: parses the cases with a tt-muncher, then expands to one
//! `match` on the awaited [`MacroSelect`](super::engine::MacroSelect)
//! whose arms run the bodies in the caller's own function.
//!
//! The expansion, for `p0 = e0 => b0, p1 = e1, if g1 => b1, default => d`:
//!
//! ```text
//! match ((e0, true), ((e1, g1), ())) {
//!     raw => {
//!         let cases = (case(raw.0), (case(raw.1.0), ()));
//!         match select(cases, true).await {
//!             Some(L(out))    => { let p0 = out; b0 }
//!             Some(R(L(out))) => { let p1 = out; b1 }
//!             None            => { d }
//!         }
//!     }
//! }
//! ```
//!
//! Every case expression and guard sits in the outer scrutinee, so it is
//! evaluated once, in source order, and its temporaries (the `Receiver` of
//! `gorun::after(d).recv()`) live until the chosen body has run. The
//! bodies are plain match arms: `.await`, `?`, `return`, `break` and
//! `continue` act on the caller. Rejected: closures per body (they break
//! `?`/`return`/`break`), and an output enum with one variant per position
//! (a fixed arity; the nested `Either` has none).

/// Waits on several channel operations and futures at once and runs the
/// body of the one that completes (Go's `select`).
///
/// ```text
/// gorun::select! {
///     pattern = expression => body,
///     pattern = expression, if guard => body,
///     ...
///     default => body,   // optional, last
/// }
/// ```
///
/// Each case is `pattern = expression => body`. A case whose expression is
/// `rx.recv()` or `tx.send(v)` on a gorun channel is a *channel case*; any
/// other [`Future`](std::future::Future) (`gorun::sleep(d)`, `ctx.done()`,
/// a `JoinHandle`, an `async` block) is a *future case*, ready when it
/// completes. The pattern binds the operation's output: `Option<T>` for a
/// receive, `Result<(), SendError<T>>` for a send, the future's output
/// otherwise; it must be irrefutable (`v`, `_`, `(a, b)`). A body is a
/// `{ block }` or an expression followed by `,`. The whole `select!` is an
/// expression: it evaluates to the chosen body's value, and must be used
/// inside `async` code. Bodies run in the caller's function, so they may
/// `.await`, `return`, `break`, `continue` and use `?`.
///
/// - Every case expression (and every send's value) is evaluated exactly
///   once, in source order, on entering the select, disabled cases
///   included; then the guards only decide which cases take part.
/// - `, if guard`: a case whose guard is `false` is *disabled*, Go's nil
///   channel: it is never chosen.
/// - `default`: if no case is ready right now, the default body runs and no
///   case commits; without `default` the select waits.
/// - With every case disabled and no `default` (or with no cases), the
///   select waits forever (Go's `select {}`).
/// - A receive on a closed, drained channel is ready and yields `None`; a
///   send on a closed channel is ready and yields `Err(SendError(v))`, with
///   the value back. A select waiting on a channel that closes wakes and
///   takes that case.
///
/// ```
/// # gorun::run(async {
/// use std::time::Duration;
///
/// let (tx, rx) = gorun::chan::<u32>(0);
/// gorun::spawn(async move {
///     for i in 0..3 {
///         tx.send(i).await.unwrap();
///     }
/// });
/// let mut got = Vec::new();
/// loop {
///     gorun::select! {
///         v = rx.recv() => match v {
///             Some(v) => got.push(v),
///             None => break, // closed
///         },
///         _ = gorun::sleep(Duration::from_secs(5)) => panic!("too slow"),
///     }
/// }
/// assert_eq!(got, [0, 1, 2]);
/// # });
/// ```
///
/// A non-blocking receive and send, with `default`:
///
/// ```
/// # gorun::run(async {
/// let (tx, rx) = gorun::chan::<u32>(1);
/// let got = gorun::select! {
///     v = rx.recv() => v,
///     default => None,
/// };
/// assert_eq!(got, None); // nothing was ready
/// let sent = gorun::select! {
///     r = tx.send(1) => r.is_ok(),
///     default => false,
/// };
/// assert!(sent); // the buffer had room
/// # });
/// ```
///
/// # Fairness
///
/// Among the cases ready when the select looks, one is chosen uniformly at
/// random, never by source order: each attempt visits the enabled cases in
/// a fresh random order and takes the first that is ready. A select that
/// has to wait takes whichever case a counterpart completes first.
///
/// # Exactly once
///
/// Exactly one case commits. Channel cases commit through one shared
/// token, so a send in a case that was not chosen delivers nothing, a value
/// is never taken from a channel by a case that was not chosen, and no
/// value is lost or duplicated, on unbuffered channels too and when the
/// other side is itself a select. A future case is polled: if it completes
/// while a counterpart commits a channel case at the same moment, the
/// future case wins and a value received by the channel case goes back to
/// its channel; only a send that already happened wins over the future,
/// whose output is then dropped. Each completed
/// select spends one unit of the task's cooperative budget.
///
/// # Cancellation safety
///
/// Dropping a pending select (for example, when a `gorun::timeout` around
/// it fires) unregisters every case and loses nothing: a value a
/// counterpart had already handed to one of its receive cases goes back to
/// that channel, to the next receiver in line. A send case that a receiver
/// had already taken did happen, exactly as for a dropped `tx.send(v)`.
/// The values of send cases that did not happen are dropped with the
/// select. Other futures used as cases are dropped too: the select is as
/// cancellation safe as they are.
///
/// # Panics
///
/// `select!` itself does not panic. A panic in a case expression, a guard
/// or a future case's `poll` propagates to the caller; the select is then
/// dropped as above, so channels are left consistent. Patterns must be
/// irrefutable (a refutable one is a compile error), and a select has at
/// most about 40 cases before the macro recursion limit needs raising.
#[macro_export]
macro_rules! select {
    ($($input:tt)*) => {
        $crate::__select_parse!(@cases [] @depth [] @rest $($input)*)
    };
}

/// Parses `select!`'s input one case at a time (not part of the API).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_parse {
    // The end, with or without `default`.
    (@cases [$($case:tt)*] @depth [$($d:tt)*] @rest) => {
        $crate::__select_expand!([$($case)*] [$($d)*] false [::core::unreachable!("select! without default")])
    };
    (@cases [$($case:tt)*] @depth [$($d:tt)*] @rest default => $body:block $(,)?) => {
        $crate::__select_expand!([$($case)*] [$($d)*] true [$body])
    };
    (@cases [$($case:tt)*] @depth [$($d:tt)*] @rest default => $body:expr $(,)?) => {
        $crate::__select_expand!([$($case)*] [$($d)*] true [$body])
    };
    // A case with a guard and a block body.
    (@cases [$($case:tt)*] @depth [$($d:tt)*] @rest
        $pat:pat = $fut:expr, if $guard:expr => $body:block $(, $($rest:tt)*)?) => {
        $crate::__select_parse!(@cases [$($case)* ([$($d)*] $pat, $fut, $guard, $body)]
            @depth [$($d)* _] @rest $($($rest)*)?)
    };
    (@cases [$($case:tt)*] @depth [$($d:tt)*] @rest
        $pat:pat = $fut:expr, if $guard:expr => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(@cases [$($case)* ([$($d)*] $pat, $fut, $guard, $body)]
            @depth [$($d)* _] @rest $($rest)*)
    };
    // A case with a guard and an expression body.
    (@cases [$($case:tt)*] @depth [$($d:tt)*] @rest
        $pat:pat = $fut:expr, if $guard:expr => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_parse!(@cases [$($case)* ([$($d)*] $pat, $fut, $guard, $body)]
            @depth [$($d)* _] @rest $($($rest)*)?)
    };
    // A case without a guard and a block body.
    (@cases [$($case:tt)*] @depth [$($d:tt)*] @rest
        $pat:pat = $fut:expr => $body:block $(, $($rest:tt)*)?) => {
        $crate::__select_parse!(@cases [$($case)* ([$($d)*] $pat, $fut, true, $body)]
            @depth [$($d)* _] @rest $($($rest)*)?)
    };
    (@cases [$($case:tt)*] @depth [$($d:tt)*] @rest
        $pat:pat = $fut:expr => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(@cases [$($case)* ([$($d)*] $pat, $fut, true, $body)]
            @depth [$($d)* _] @rest $($rest)*)
    };
    // A case without a guard and an expression body.
    (@cases [$($case:tt)*] @depth [$($d:tt)*] @rest
        $pat:pat = $fut:expr => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_parse!(@cases [$($case)* ([$($d)*] $pat, $fut, true, $body)]
            @depth [$($d)* _] @rest $($($rest)*)?)
    };
}

/// Expands parsed `select!` cases (not part of the API).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_expand {
    ([$( ([$($d:tt)*] $pat:pat, $fut:expr, $guard:expr, $body:expr) )*] [$($n:tt)*] $has_default:tt [$default:expr]) => {{
        #[allow(unused_imports)]
        use $crate::select::__private::{ChanKind as _, FutKind as _};
        match $crate::__select_list!($( ($fut, $guard) ),*) {
            __select_raw => {
        let __select_cases = $crate::__select_list!($(
            $crate::__select_case!([$($d)*] __select_raw)
        ),*);
        match $crate::select::__private::select(__select_cases, $has_default).await {
            $(
                ::core::option::Option::Some($crate::__select_pat!([$($d)*] __select_out)) => {
                    let $pat = __select_out;
                    $body
                }
            )*
            ::core::option::Option::None => $default,
            #[allow(unreachable_patterns)]
            ::core::option::Option::Some($crate::__select_never!([$($n)*] __select_never)) => {
                match __select_never {}
            }
        }
            }
        }
    }};
}

/// Makes case number `depth` out of the evaluated `(expression, guard)`
/// list `raw` (not part of the API).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_case {
    ([$($d:tt)*] $raw:ident) => {
        (&$crate::__select_place!([$($d)*] $raw).0)
            .__select_kind()
            .make($crate::__select_place!([$($d)*] $raw).0, $crate::__select_place!([$($d)*] $raw).1)
    };
}

/// The place of element number `depth` in a cons list (not part of the
/// API).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_place {
    ([] $($e:tt)*) => { $($e)* .0 };
    ([_ $($d:tt)*] $($e:tt)*) => { $crate::__select_place!([$($d)*] $($e)* .1) };
}

/// Builds the cons list `(a, (b, (c, ())))` (not part of the API).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_list {
    () => { () };
    ($head:expr $(, $tail:expr)*) => { ($head, $crate::__select_list!($($tail),*)) };
}

/// The pattern of case number `depth` (as many `_` as the number) in the
/// nested `Either` (not part of the API).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_pat {
    ([] $out:ident) => { $crate::select::__private::Either::L($out) };
    ([_ $($d:tt)*] $out:ident) => {
        $crate::select::__private::Either::R($crate::__select_pat!([$($d)*] $out))
    };
}

/// The pattern past the last case, one `R` per case: the uninhabited end
/// of the list (not part of the API).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_never {
    ([] $out:ident) => { $out };
    ([$first:tt $($d:tt)*] $out:ident) => {
        $crate::select::__private::Either::R($crate::__select_never!([$($d)*] $out))
    };
}
