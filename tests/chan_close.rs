//! Closing a channel: `close`, the last `Sender` drop, and the last
//! `Receiver` drop, on both flavors.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::executor::block_on;
use futures::task::noop_waker_ref;
use gorun::{chan, SendError, TryRecvError, TrySendError};

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(noop_waker_ref()))
}

/// Counts the drops of the values it tags.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn close_returns_true_only_the_first_time() {
    for cap in [0, 3] {
        let (tx, rx) = chan::<u8>(cap);
        assert!(tx.close());
        assert!(!tx.close());
        assert!(!tx.clone().close());
        assert!(rx.is_closed());
    }
}

#[test]
fn receivers_drain_the_buffer_then_get_none() {
    let (tx, rx) = chan::<u8>(3);
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    tx.close();
    block_on(async {
        for i in 0..3 {
            assert_eq!(rx.recv().await, Some(i));
        }
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.recv().await, None, "stays closed");
    });
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn send_after_close_returns_the_value() {
    for cap in [0, 3] {
        let (tx, _rx) = chan::<String>(cap);
        tx.close();
        assert_eq!(
            block_on(tx.send("a".into())),
            Err(SendError("a".to_string()))
        );
        assert_eq!(
            tx.try_send("b".into()),
            Err(TrySendError::Closed("b".into()))
        );
        assert_eq!(
            tx.send_blocking("c".into()),
            Err(SendError("c".to_string()))
        );
    }
}

#[test]
fn close_fails_every_parked_sender_with_its_value() {
    let (tx, _rx) = chan::<u32>(0);
    let mut sends: Vec<_> = (0..3).map(|i| Box::pin(tx.send(i))).collect();
    for s in &mut sends {
        assert!(poll_once(s.as_mut()).is_pending());
    }
    tx.close();
    for (i, s) in sends.iter_mut().enumerate() {
        assert_eq!(poll_once(s.as_mut()), Poll::Ready(Err(SendError(i as u32))));
    }
}

#[test]
fn close_completes_every_parked_receiver_with_none() {
    let (tx, rx) = chan::<u32>(2);
    let mut recvs: Vec<_> = (0..3).map(|_| Box::pin(rx.recv())).collect();
    for r in &mut recvs {
        assert!(poll_once(r.as_mut()).is_pending());
    }
    tx.close();
    for r in &mut recvs {
        assert_eq!(poll_once(r.as_mut()), Poll::Ready(None));
    }
}

#[test]
fn last_sender_drop_closes() {
    let (tx, rx) = chan::<u8>(1);
    let tx2 = tx.clone();
    tx.try_send(1).unwrap();
    drop(tx);
    assert!(!rx.is_closed(), "a clone is still alive");
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn last_sender_drop_wakes_parked_receivers() {
    let (tx, rx) = chan::<u8>(0);
    let mut recv = pin!(rx.recv());
    assert!(poll_once(recv.as_mut()).is_pending());
    drop(tx);
    assert_eq!(poll_once(recv.as_mut()), Poll::Ready(None));
}

#[test]
fn last_receiver_drop_fails_parked_senders() {
    for cap in [0, 1] {
        let (tx, rx) = chan::<u8>(cap);
        if cap == 1 {
            tx.try_send(0).unwrap();
        }
        let mut send = pin!(tx.send(9));
        assert!(poll_once(send.as_mut()).is_pending());
        let rx2 = rx.clone();
        drop(rx);
        assert!(
            poll_once(send.as_mut()).is_pending(),
            "a clone still receives"
        );
        drop(rx2);
        assert_eq!(poll_once(send.as_mut()), Poll::Ready(Err(SendError(9))));
    }
}

#[test]
fn sends_fail_once_every_receiver_is_gone() {
    for cap in [0, 4] {
        let (tx, rx) = chan::<u8>(cap);
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.try_send(1), Err(TrySendError::Closed(1)));
        assert_eq!(block_on(tx.send(2)), Err(SendError(2)));
        assert_eq!(tx.send_blocking(3), Err(SendError(3)));
        assert!(tx.close(), "no receivers is not the same as closed");
    }
}

#[test]
fn last_receiver_drop_drops_buffered_values() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = chan::<Counted>(4);
    for _ in 0..4 {
        tx.try_send(Counted(drops.clone())).unwrap();
    }
    drop(rx);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        4,
        "dropped at once, not with the sender"
    );
    assert_eq!(tx.len(), 0);
}

#[test]
fn close_wakes_blocked_threads_on_both_sides() {
    let (tx, rx) = chan::<u8>(0);
    let (tx2, rx2) = (tx.clone(), rx.clone());
    let sender = std::thread::spawn(move || tx2.send_blocking(1));
    std::thread::sleep(std::time::Duration::from_millis(20));
    // The parked sender is served first; then the receiver waits.
    assert_eq!(rx.recv_blocking(), Some(1));
    assert_eq!(sender.join().unwrap(), Ok(()));
    let receiver = std::thread::spawn(move || rx2.recv_blocking());
    std::thread::sleep(std::time::Duration::from_millis(20));
    tx.close();
    assert_eq!(receiver.join().unwrap(), None);
}
