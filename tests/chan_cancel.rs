//! Cancel safety: dropping a pending `send` or `recv` future never loses or
//! duplicates a value, on both flavors.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use futures::task::noop_waker_ref;
use gorun::{chan, TryRecvError, TrySendError};

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(noop_waker_ref()))
}

#[test]
fn dropped_pending_recv_leaves_the_queue() {
    let (tx, rx) = chan::<u32>(0);
    let mut recv = Box::pin(rx.recv());
    assert!(poll_once(recv.as_mut()).is_pending());
    drop(recv);
    assert_eq!(
        tx.try_send(1),
        Err(TrySendError::Full(1)),
        "nobody is waiting any more"
    );
}

#[test]
fn dropped_pending_send_delivers_nothing() {
    for cap in [0, 1] {
        let (tx, rx) = chan::<u32>(cap);
        if cap == 1 {
            tx.try_send(0).unwrap();
        }
        let mut send = Box::pin(tx.send(7));
        assert!(poll_once(send.as_mut()).is_pending());
        drop(send);
        if cap == 1 {
            assert_eq!(rx.try_recv(), Ok(0));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

#[test]
fn matched_receiver_dropped_unpolled_passes_value_to_next_receiver() {
    for cap in [0, 2] {
        let (tx, rx) = chan::<u32>(cap);
        let mut first = Box::pin(rx.recv());
        let mut second = Box::pin(rx.recv());
        assert!(poll_once(first.as_mut()).is_pending());
        assert!(poll_once(second.as_mut()).is_pending());
        tx.try_send(1).unwrap(); // handed to `first`
        drop(first); // before it saw the value
        assert_eq!(poll_once(second.as_mut()), Poll::Ready(Some(1)));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "no duplicate");
    }
}

#[test]
fn matched_receiver_dropped_unpolled_puts_value_back_in_front() {
    for cap in [0, 2] {
        let (tx, rx) = chan::<u32>(cap);
        let mut recv = Box::pin(rx.recv());
        assert!(poll_once(recv.as_mut()).is_pending());
        tx.try_send(1).unwrap();
        for i in 2..2 + cap as u32 {
            tx.try_send(i).unwrap(); // fill the buffer behind it
        }
        drop(recv);
        let want: Vec<u32> = (1..2 + cap as u32).collect();
        let got: Vec<u32> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(got, want, "the returned value comes first, nothing lost");
    }
}

#[test]
fn returned_value_beyond_capacity_holds_senders_back_until_drained() {
    let (tx, rx) = chan::<u32>(0);
    let mut recv = Box::pin(rx.recv());
    assert!(poll_once(recv.as_mut()).is_pending());
    tx.try_send(1).unwrap();
    drop(recv);
    assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    let mut send = pin!(tx.send(2));
    assert!(poll_once(send.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(poll_once(send.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn matched_rendezvous_sender_dropped_unpolled_delivers_exactly_once() {
    let (tx, rx) = chan::<u32>(0);
    let mut send = Box::pin(tx.send(5));
    assert!(poll_once(send.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(5)); // the sender is matched ...
    drop(send); // ... and dropped before it noticed
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "no duplicate");
}

#[test]
fn closed_receiver_dropped_unpolled_changes_nothing() {
    let (tx, rx) = chan::<u32>(0);
    let mut recv = Box::pin(rx.recv());
    assert!(poll_once(recv.as_mut()).is_pending());
    tx.close();
    drop(recv);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn failed_sender_dropped_unpolled_drops_its_value() {
    let (tx, rx) = chan::<Box<u32>>(0);
    let mut send = Box::pin(tx.send(Box::new(3)));
    assert!(poll_once(send.as_mut()).is_pending());
    drop(rx);
    drop(send); // its value is freed with it (checked by Miri / leak tools)
    assert!(tx.is_closed());
}

#[test]
fn repolled_pending_recv_keeps_its_place_in_line() {
    let (tx, rx) = chan::<u32>(0);
    let mut first = Box::pin(rx.recv());
    let mut second = Box::pin(rx.recv());
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    assert!(poll_once(first.as_mut()).is_pending());
    tx.try_send(1).unwrap();
    assert_eq!(poll_once(first.as_mut()), Poll::Ready(Some(1)));
    assert!(poll_once(second.as_mut()).is_pending());
}
