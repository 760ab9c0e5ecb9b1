//! Rules of the buffered (capacity n) channel beyond the shared checklist in
//! `chan_flavors.rs`.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use futures::executor::block_on;
use futures::task::noop_waker_ref;
use gorun::{chan, TrySendError};

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(noop_waker_ref()))
}

#[test]
fn send_completes_without_a_receiver_while_there_is_room() {
    let (tx, rx) = chan::<u32>(2);
    block_on(async {
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
    });
    assert_eq!(rx.len(), 2);
    let mut third = pin!(tx.send(3));
    assert!(poll_once(third.as_mut()).is_pending());
}

#[test]
fn values_come_out_in_the_order_sent() {
    let (tx, rx) = chan::<u32>(16);
    for i in 0..16 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(tx.try_send(16), Err(TrySendError::Full(16)));
    for i in 0..16 {
        assert_eq!(rx.try_recv(), Ok(i));
    }
}

#[test]
fn receive_refills_the_buffer_from_the_oldest_parked_sender() {
    let (tx, rx) = chan::<u32>(1);
    tx.try_send(0).unwrap();
    let mut send = pin!(tx.send(1));
    assert!(poll_once(send.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    // The parked value moved into the buffer, and its send completed.
    assert_eq!(rx.len(), 1);
    assert_eq!(poll_once(send.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn len_tracks_sends_and_receives() {
    let (tx, rx) = chan::<u32>(3);
    for i in 0..3 {
        assert_eq!(rx.len(), i as usize);
        tx.try_send(i).unwrap();
    }
    for i in (0..3).rev() {
        rx.try_recv().unwrap();
        assert_eq!(tx.len(), i);
    }
}

#[test]
fn huge_capacity_does_not_reserve_memory_up_front() {
    let (tx, rx) = chan::<u64>(usize::MAX);
    assert_eq!(tx.capacity(), usize::MAX);
    for i in 0..10_000 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(rx.len(), 10_000);
    assert_eq!(rx.try_recv(), Ok(0));
}

#[test]
fn capacity_one_hands_values_between_tasks() {
    gorun::run(async {
        let (tx, rx) = chan::<u64>(1);
        let producer = gorun::spawn(async move {
            for i in 0..10_000u64 {
                tx.send(i).await.unwrap();
            }
        });
        let mut sum = 0;
        while let Some(v) = rx.recv().await {
            sum += v;
        }
        producer.await.unwrap();
        assert_eq!(sum, 10_000 * 9_999 / 2);
    });
}
