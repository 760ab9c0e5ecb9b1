//! `Receiver` as a `Stream`: Go's `for v := range ch`.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::executor::block_on;
use futures::task::noop_waker_ref;
use futures::{Stream, StreamExt};
use gorun::chan;

/// Polls the stream once with a waker that does nothing.
fn poll_next_once<S: Stream + Unpin>(s: &mut S) -> Poll<Option<S::Item>> {
    Pin::new(s).poll_next(&mut Context::from_waker(noop_waker_ref()))
}

#[test]
fn stream_yields_every_value_then_ends_on_close() {
    let (tx, rx) = chan::<u32>(8);
    for i in 0..8 {
        tx.try_send(i).unwrap();
    }
    drop(tx);
    assert_eq!(block_on(rx.collect::<Vec<_>>()), (0..8).collect::<Vec<_>>());
}

#[test]
fn pending_stream_is_served_by_a_later_send() {
    let (tx, mut rx) = chan::<u32>(0);
    assert!(poll_next_once(&mut rx).is_pending());
    tx.try_send(4).unwrap(); // a stream waiting in line counts as a receiver
    assert_eq!(poll_next_once(&mut rx), Poll::Ready(Some(4)));
    assert!(poll_next_once(&mut rx).is_pending());
    drop(tx);
    assert_eq!(poll_next_once(&mut rx), Poll::Ready(None));
}

#[test]
fn dropping_a_stream_that_was_handed_a_value_passes_it_on() {
    let (tx, mut rx) = chan::<u32>(0);
    let other = rx.clone();
    assert!(poll_next_once(&mut rx).is_pending());
    tx.try_send(9).unwrap();
    drop(rx);
    assert_eq!(other.try_recv(), Ok(9));
}

#[test]
fn stream_and_recv_share_the_line() {
    let (tx, rx) = chan::<u32>(0);
    gorun::run(async move {
        let producer = gorun::spawn(async move {
            for i in 0..100 {
                tx.send(i).await.unwrap();
            }
        });
        let mut rx = rx;
        let mut got = Vec::new();
        while let Some(v) = rx.next().await {
            got.push(v);
            if let Some(w) = rx.recv().await {
                got.push(w);
            }
        }
        producer.await.unwrap();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    });
}
