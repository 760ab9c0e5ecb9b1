//! `gorun::Context` causes: Go's `context.Cause` rules.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use gorun::{Context, ContextError};

#[derive(Debug, PartialEq)]
struct Overloaded(u32);

impl fmt::Display for Overloaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "overloaded: {} requests queued", self.0)
    }
}

impl Error for Overloaded {}

#[test]
fn a_live_context_has_no_cause() {
    let (ctx, _cancel) = Context::background().with_cancel_cause();
    assert!(ctx.cause().is_none());
    assert!(Context::background().cause().is_none());
}

#[test]
fn cancel_with_a_cause_gives_that_cause_and_err_canceled() {
    let (ctx, cancel) = Context::background().with_cancel_cause();
    cancel.cancel(Some(Arc::new(Overloaded(7))));
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
    assert_eq!(
        ctx.cause().unwrap().downcast_ref::<Overloaded>(),
        Some(&Overloaded(7))
    );
}

#[test]
fn cancel_with_none_gives_canceled_as_the_cause() {
    let (ctx, cancel) = Context::background().with_cancel_cause();
    cancel.cancel(None);
    let cause = ctx.cause().unwrap();
    assert_eq!(
        cause.downcast_ref::<ContextError>(),
        Some(&ContextError::Canceled)
    );
    assert_eq!(cause.to_string(), "context canceled");
}

#[test]
fn a_plain_cancel_gives_canceled_as_the_cause() {
    let (ctx, cancel) = Context::background().with_cancel();
    cancel.cancel();
    assert_eq!(
        ctx.cause().unwrap().downcast_ref::<ContextError>(),
        Some(&ContextError::Canceled)
    );
}

#[test]
fn children_inherit_the_parents_cause() {
    let (parent, cancel) = Context::background().with_cancel_cause();
    let (child, _c1) = parent.with_cancel();
    let (grandchild, _c2) = child.with_value(1u8, 1u8).with_cancel_cause();
    cancel.cancel(Some(Arc::new(Overloaded(3))));
    for ctx in [&child, &grandchild] {
        assert_eq!(
            ctx.cause().unwrap().downcast_ref::<Overloaded>(),
            Some(&Overloaded(3))
        );
    }
}

#[test]
fn a_child_born_after_the_cancel_inherits_the_cause_too() {
    let (parent, cancel) = Context::background().with_cancel_cause();
    cancel.cancel(Some(Arc::new(Overloaded(5))));
    let (child, _c) = parent.with_cancel();
    assert_eq!(
        child.cause().unwrap().downcast_ref::<Overloaded>(),
        Some(&Overloaded(5))
    );
}

#[test]
fn the_first_cause_stays() {
    let (ctx, cancel) = Context::background().with_cancel_cause();
    cancel.cancel(Some(Arc::new(Overloaded(1))));
    cancel.cancel(Some(Arc::new(Overloaded(2))));
    assert_eq!(
        ctx.cause().unwrap().downcast_ref::<Overloaded>(),
        Some(&Overloaded(1))
    );
}

#[test]
fn a_child_cancelled_first_keeps_its_own_cause() {
    let (parent, cancel_parent) = Context::background().with_cancel_cause();
    let (child, cancel_child) = parent.with_cancel_cause();
    cancel_child.cancel(Some(Arc::new(Overloaded(10))));
    cancel_parent.cancel(Some(Arc::new(Overloaded(20))));
    assert_eq!(
        child.cause().unwrap().downcast_ref::<Overloaded>(),
        Some(&Overloaded(10))
    );
    assert_eq!(
        parent.cause().unwrap().downcast_ref::<Overloaded>(),
        Some(&Overloaded(20))
    );
}

#[test]
fn dropping_a_cancel_cause_func_cancels_with_canceled() {
    let (ctx, cancel) = Context::background().with_cancel_cause();
    drop(cancel);
    assert_eq!(
        ctx.cause().unwrap().downcast_ref::<ContextError>(),
        Some(&ContextError::Canceled)
    );
}

#[test]
fn context_errors_display_gos_texts() {
    assert_eq!(ContextError::Canceled.to_string(), "context canceled");
    assert_eq!(
        ContextError::DeadlineExceeded.to_string(),
        "context deadline exceeded"
    );
}
