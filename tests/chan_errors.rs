//! The error types: `Debug` without `T: Debug`, `Display`, `Error`, and the
//! value handed back.

use std::error::Error;

use gorun::{SendError, TryRecvError, TrySendError};

/// A type with no `Debug`.
struct Opaque;

#[test]
fn send_error_formats_without_debug_on_t() {
    let err = SendError(Opaque);
    assert_eq!(format!("{err:?}"), "SendError { .. }");
    assert_eq!(err.to_string(), "send on closed channel");
    let _: &dyn Error = &err;
}

#[test]
fn try_send_error_formats_without_debug_on_t() {
    assert_eq!(format!("{:?}", TrySendError::Full(Opaque)), "Full(..)");
    assert_eq!(format!("{:?}", TrySendError::Closed(Opaque)), "Closed(..)");
    assert_eq!(TrySendError::Full(()).to_string(), "send on full channel");
    assert_eq!(
        TrySendError::Closed(()).to_string(),
        "send on closed channel"
    );
    let _: &dyn Error = &TrySendError::Full(Opaque);
}

#[test]
fn try_recv_error_formats() {
    assert_eq!(format!("{:?}", TryRecvError::Empty), "Empty");
    assert_eq!(
        TryRecvError::Empty.to_string(),
        "receive from empty channel"
    );
    assert_eq!(
        TryRecvError::Closed.to_string(),
        "receive from closed channel"
    );
    let _: &dyn Error = &TryRecvError::Closed;
}

#[test]
fn errors_hand_the_value_back() {
    assert_eq!(SendError(1).into_inner(), 1);
    assert_eq!(SendError(1).0, 1);
    assert_eq!(TrySendError::Full(2).into_inner(), 2);
    assert_eq!(TrySendError::Closed(3).into_inner(), 3);
    assert_eq!(TrySendError::from(SendError(4)), TrySendError::Closed(4));
}

#[test]
fn errors_are_send_sync_and_static() {
    fn check<E: Error + Send + Sync + 'static>() {}
    check::<SendError<String>>();
    check::<TrySendError<String>>();
    check::<TryRecvError>();
}

#[test]
fn ends_are_send_sync_clone() {
    fn check<T: Send + Sync + Clone>() {}
    check::<gorun::Sender<String>>();
    check::<gorun::Receiver<String>>();
}

#[test]
fn ends_debug_names_the_channel() {
    let (tx, rx) = gorun::chan::<Opaque>(3);
    let dbg = format!("{tx:?} {rx:?}");
    assert!(dbg.contains("capacity: 3"), "{dbg}");
    assert!(dbg.contains("chan_errors.rs"), "{dbg}");
}
