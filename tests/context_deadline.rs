//! `gorun::Context` deadlines: inheritance, expiry, the single timer and
//! its disarming, and deadlines already past.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

use common::{runtime, watchdog};
use gorun::{Context, ContextError};

#[test]
fn a_child_inherits_an_earlier_parent_deadline() {
    let rt = runtime(1);
    rt.block_on(async {
        let soon = Instant::now() + Duration::from_secs(60);
        let (parent, _c1) = Context::background().with_deadline(soon);
        let (later, _c2) = parent.with_deadline(soon + Duration::from_secs(60));
        let (timeout, _c3) = parent.with_timeout(Duration::from_secs(3600));
        let (plain, _c4) = parent.with_cancel();
        let (valued, _c5) = parent.with_value(1u8, 2u8).with_cancel();
        for child in [&later, &timeout, &plain, &valued] {
            assert_eq!(child.deadline(), Some(soon));
        }
        assert!(!later.has_timer_for_tests(), "the parent's timer covers it");
    });
}

#[test]
fn an_earlier_child_deadline_is_kept() {
    let rt = runtime(1);
    rt.block_on(async {
        let far = Instant::now() + Duration::from_secs(3600);
        let near = Instant::now() + Duration::from_secs(60);
        let (parent, _c1) = Context::background().with_deadline(far);
        let (child, _c2) = parent.with_deadline(near);
        assert_eq!(child.deadline(), Some(near));
        assert!(child.has_timer_for_tests());
    });
}

#[test]
fn with_timeout_fires_deadline_exceeded_no_earlier_than_the_timeout() {
    const TIMEOUT: Duration = Duration::from_millis(30);
    let _w = watchdog("with_timeout fires", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let start = Instant::now();
        let (ctx, _cancel) = Context::background().with_timeout(TIMEOUT);
        let (child, _c) = ctx.with_cancel();
        assert_eq!(ctx.err(), None);
        child.done().await;
        assert!(
            start.elapsed() >= TIMEOUT,
            "fired early: {:?}",
            start.elapsed()
        );
        assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
        assert_eq!(child.err(), Some(ContextError::DeadlineExceeded));
        let cause = ctx.cause().unwrap();
        assert_eq!(
            cause.downcast_ref::<ContextError>(),
            Some(&ContextError::DeadlineExceeded)
        );
        assert!(!ctx.has_timer_for_tests(), "a fired timer is not kept");
    });
}

#[test]
fn with_timeout_zero_is_already_done() {
    let (ctx, _cancel) = Context::background().with_timeout(Duration::ZERO);
    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    assert!(!ctx.has_timer_for_tests());
    let (child, _c) = ctx.with_cancel();
    assert_eq!(child.err(), Some(ContextError::DeadlineExceeded));
}

#[test]
fn a_deadline_in_the_past_is_already_done() {
    let past = Instant::now() - Duration::from_millis(1);
    let (ctx, _cancel) = Context::background().with_deadline(past);
    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    assert_eq!(ctx.deadline(), Some(past));
}

/// Counts its wake-ups.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn cancelling_before_the_deadline_disarms_the_timer() {
    let _w = watchdog("disarm", Duration::from_secs(30));
    let rt = runtime(1);
    rt.block_on(async {
        let (ctx, cancel) = Context::background().with_timeout(Duration::from_millis(20));
        assert!(ctx.has_timer_for_tests(), "one timer armed");
        let wakes = Arc::new(CountingWaker::default());
        let waker = Waker::from(wakes.clone());
        let mut done = std::pin::pin!(ctx.done());
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(done.as_mut().poll(&mut cx).is_pending());
        cancel.cancel();
        assert!(!ctx.has_timer_for_tests(), "disarmed by the cancel");
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        gorun::sleep(Duration::from_millis(60)).await;
        assert_eq!(ctx.err(), Some(ContextError::Canceled), "not overwritten");
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "no second wake");
        assert!(done.as_mut().poll(&mut cx).is_ready());
    });
}

#[test]
fn a_parent_deadline_cancels_children_with_deadline_exceeded() {
    let _w = watchdog("parent deadline", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let (parent, _c1) = Context::background().with_timeout(Duration::from_millis(10));
        let (child, _c2) = parent.with_timeout(Duration::from_secs(3600));
        child.done().await;
        assert_eq!(child.err(), Some(ContextError::DeadlineExceeded));
    });
}

#[test]
fn with_timeout_cause_sets_the_cause_when_the_timeout_expires() {
    let _w = watchdog("timeout cause", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let why: Arc<dyn std::error::Error + Send + Sync> =
            Arc::new(std::io::Error::other("backend too slow"));
        let (ctx, _cancel) =
            Context::background().with_timeout_cause(Duration::from_millis(5), why);
        let (child, _c) = ctx.with_cancel();
        child.done().await;
        assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
        assert_eq!(ctx.cause().unwrap().to_string(), "backend too slow");
        assert_eq!(child.cause().unwrap().to_string(), "backend too slow");
    });
}

#[test]
fn cancelling_a_timeout_cause_context_early_does_not_use_its_cause() {
    let why: Arc<dyn std::error::Error + Send + Sync> = Arc::new(std::io::Error::other("late"));
    let (ctx, cancel) = Context::background().with_timeout_cause(Duration::from_secs(3600), why);
    cancel.cancel();
    let cause = ctx.cause().unwrap();
    assert_eq!(
        cause.downcast_ref::<ContextError>(),
        Some(&ContextError::Canceled)
    );
}

#[test]
fn without_cancel_has_no_deadline() {
    let (ctx, _c) = Context::background().with_timeout(Duration::from_secs(60));
    assert!(ctx.deadline().is_some());
    assert_eq!(ctx.without_cancel().deadline(), None);
}

#[test]
fn many_deadline_contexts_cancelled_early_leave_no_timers() {
    let rt = runtime(1);
    rt.block_on(async {
        let (parent, _c) = Context::background().with_cancel();
        for _ in 0..10_000 {
            let (ctx, cancel) = parent.with_timeout(Duration::from_secs(3600));
            assert!(ctx.has_timer_for_tests());
            drop(cancel);
            assert!(!ctx.has_timer_for_tests());
        }
        assert_eq!(parent.child_count_for_tests(), 0);
    });
}
