//! Rules of the unbuffered (capacity 0) channel beyond the shared checklist
//! in `chan_flavors.rs`: the rendezvous.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use futures::task::noop_waker_ref;
use gorun::{chan, TrySendError};

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(noop_waker_ref()))
}

#[test]
fn send_waits_until_a_receiver_takes_the_value() {
    let (tx, rx) = chan::<u32>(0);
    let mut send = pin!(tx.send(1));
    assert!(poll_once(send.as_mut()).is_pending());
    assert!(poll_once(send.as_mut()).is_pending(), "still no receiver");
    assert_eq!(rx.len(), 0);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(poll_once(send.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn try_send_succeeds_only_with_a_waiting_receiver() {
    let (tx, rx) = chan::<u32>(0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    let mut recv = pin!(rx.recv());
    assert!(poll_once(recv.as_mut()).is_pending());
    assert_eq!(tx.try_send(2), Ok(()));
    assert_eq!(
        tx.try_send(3),
        Err(TrySendError::Full(3)),
        "the receiver is served"
    );
    assert_eq!(poll_once(recv.as_mut()), Poll::Ready(Some(2)));
}

#[test]
fn value_moves_directly_to_the_parked_receiver() {
    let (tx, rx) = chan::<String>(0);
    let mut recv = pin!(rx.recv());
    assert!(poll_once(recv.as_mut()).is_pending());
    let mut send = pin!(tx.send("direct".to_string()));
    // The send completes at once: the receiver already holds the value.
    assert_eq!(poll_once(send.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(tx.len(), 0);
    assert_eq!(
        poll_once(recv.as_mut()),
        Poll::Ready(Some("direct".to_string()))
    );
}

#[test]
fn ping_pong_between_tasks() {
    gorun::run(async {
        let (ping_tx, ping_rx) = chan::<u32>(0);
        let (pong_tx, pong_rx) = chan::<u32>(0);
        let echo = gorun::spawn(async move {
            while let Some(v) = ping_rx.recv().await {
                pong_tx.send(v + 1).await.unwrap();
            }
        });
        for i in 0..1000 {
            ping_tx.send(i).await.unwrap();
            assert_eq!(pong_rx.recv().await, Some(i + 1));
        }
        drop(ping_tx);
        echo.await.unwrap();
    });
}

#[test]
fn ping_pong_between_threads() {
    let (ping_tx, ping_rx) = chan::<u32>(0);
    let (pong_tx, pong_rx) = chan::<u32>(0);
    let echo = std::thread::spawn(move || {
        while let Some(v) = ping_rx.recv_blocking() {
            pong_tx.send_blocking(v + 1).unwrap();
        }
    });
    for i in 0..1000 {
        ping_tx.send_blocking(i).unwrap();
        assert_eq!(pong_rx.recv_blocking(), Some(i + 1));
    }
    drop(ping_tx);
    echo.join().unwrap();
}
