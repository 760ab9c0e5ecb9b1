//! Events for the `tracing` crate, behind the `tracing` feature: spawn,
//! poll, park and budget exhaustion. Without the feature every function
//! here is empty and inlined away.
//!
//! With the feature on, the runtime emits:
//!
//! | target | kind | name / message | fields |
//! |---|---|---|---|
//! | `gorun::task` | event, `TRACE` | `"spawn"` | `task.id` (u64), `spawn.location` (`"file:line:col"`) |
//! | `gorun::task` | span, `TRACE` | `poll` | `task.id` (u64), `spawn.location` (`"file:line:col"`) |
//! | `gorun::worker` | event, `TRACE` | `"park"` | `worker` (the worker's index) |
//! | `gorun::worker` | event, `TRACE` | `"unpark"` | `worker` (the worker's index) |
//! | `gorun::coop` | event, `DEBUG` | `"budget exhausted, yielding"` | none |
//!
//! A `poll` span covers one poll of a task by a worker: it is entered on the
//! worker thread before the poll and exited when the poll returns, so every
//! event the task emits while running (including the budget event, and the
//! spawn events of tasks it spawns) has it as its parent. A task polled ten
//! times opens ten `poll` spans with the same `task.id`. Blocking tasks
//! (`spawn_blocking`) emit the spawn event but no `poll` span, and
//! `block_on`'s own future is not a task: it has a budget, so it may emit
//! the budget event, but outside any `poll` span.
//!
//! Any `tracing` subscriber consumes these (for instance
//! `tracing_subscriber::fmt()` with a filter such as
//! `gorun::task=trace,gorun::coop=debug`). With `tracing-opentelemetry`
//! layered on the subscriber, the `poll` spans become OpenTelemetry spans
//! and the events their span events, so a task's polls show up in an
//! OpenTelemetry pipeline next to the application's own spans.

use std::panic::Location;

use crate::task::TaskId;

/// A task was spawned.
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn spawn(id: TaskId, location: &'static Location<'static>) {
    let _ = (id, location);
}

/// A task was spawned.
#[cfg(feature = "tracing")]
#[inline]
pub(crate) fn spawn(id: TaskId, location: &'static Location<'static>) {
    // `event!` rather than `trace!`: `trace!` cannot parse a dotted field
    // name after `target:` (a macro ambiguity).
    tracing::event!(
        target: "gorun::task",
        tracing::Level::TRACE,
        task.id = id.as_u64(),
        spawn.location = %location,
        "spawn"
    );
}

/// A worker is about to poll a task; the returned guard ends the poll.
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn poll(id: TaskId, location: &'static Location<'static>) -> PollGuard {
    let _ = (id, location);
    PollGuard {}
}

/// A worker is about to poll a task; the returned guard ends the poll.
#[cfg(feature = "tracing")]
#[inline]
pub(crate) fn poll(id: TaskId, location: &'static Location<'static>) -> PollGuard {
    let span = tracing::trace_span!(
        target: "gorun::task",
        "poll",
        task.id = id.as_u64(),
        spawn.location = %location
    );
    PollGuard {
        _span: span.entered(),
    }
}

/// Ends a poll when dropped.
#[cfg(not(feature = "tracing"))]
pub(crate) struct PollGuard {}

/// Ends a poll when dropped: exits and closes the `poll` span.
///
/// `EnteredSpan` is `!Send`; that is fine, the guard lives on the worker's
/// stack for the duration of one poll and never leaves its thread.
#[cfg(feature = "tracing")]
pub(crate) struct PollGuard {
    _span: tracing::span::EnteredSpan,
}

/// A worker parks for lack of work.
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn park(worker: usize) {
    let _ = worker;
}

/// A worker parks for lack of work.
#[cfg(feature = "tracing")]
#[inline]
pub(crate) fn park(worker: usize) {
    tracing::trace!(target: "gorun::worker", worker, "park");
}

/// A worker woke up from parking.
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn unpark(worker: usize) {
    let _ = worker;
}

/// A worker woke up from parking.
#[cfg(feature = "tracing")]
#[inline]
pub(crate) fn unpark(worker: usize) {
    tracing::trace!(target: "gorun::worker", worker, "unpark");
}

/// An operation found its task's cooperative budget spent and yielded.
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn budget_exhausted() {}

/// An operation found its task's cooperative budget spent and yielded.
#[cfg(feature = "tracing")]
#[inline]
pub(crate) fn budget_exhausted() {
    tracing::debug!(target: "gorun::coop", "budget exhausted, yielding");
}
