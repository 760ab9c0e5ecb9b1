//! Loom models of the channel core: every interleaving of a few threads
//! around the hand-off, close, and cancelled futures.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release --test loom_chan`.
#![cfg(loom)]

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use futures::task::noop_waker_ref;
use gorun::{chan, SendError, TryRecvError, TrySendError};
use loom::thread;

/// Runs `fut` to completion on the current loom thread, parking it while
/// the future is pending. (Faster to explore than `loom::future::block_on`,
/// which also models spurious wake-ups; the channel's own re-poll path is
/// covered by `rendezvous_hand_off_seen_without_a_wake_up`.)
fn block_on<F: Future>(fut: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut Context::from_waker(&waker)) {
            return out;
        }
        thread::park();
    }
}

/// Runs `fut` to completion by polling it again and again with a waker that
/// does nothing: the owner learns of the completion only through the
/// waiter's state, never through a wake-up (a spurious poll's view).
fn spin_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = poll_once(fut.as_mut()) {
            return out;
        }
        thread::yield_now();
    }
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(noop_waker_ref()))
}

#[test]
fn rendezvous_hand_off() {
    loom::model(|| {
        let (tx, rx) = chan::<u32>(0);
        let sender = thread::spawn(move || block_on(tx.send(7)));
        assert_eq!(block_on(rx.recv()), Some(7));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

#[test]
fn rendezvous_hand_off_seen_without_a_wake_up() {
    loom::model(|| {
        let (tx, rx) = chan::<String>(0);
        let sender = thread::spawn(move || spin_on(tx.send("a".to_string())));
        assert_eq!(spin_on(rx.recv()).as_deref(), Some("a"));
        sender.join().unwrap().unwrap();
    });
}

#[test]
fn rendezvous_hand_off_blocking() {
    loom::model(|| {
        let (tx, rx) = chan::<u32>(0);
        let sender = thread::spawn(move || tx.send_blocking(7));
        assert_eq!(rx.recv_blocking(), Some(7));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

#[test]
fn buffered_refill_from_parked_sender() {
    loom::model(|| {
        let (tx, rx) = chan::<u32>(1);
        let sender = thread::spawn(move || {
            block_on(async {
                tx.send(1).await.unwrap();
                tx.send(2).await.unwrap();
            })
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        sender.join().unwrap();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

#[test]
fn close_races_with_send() {
    loom::model(|| {
        let (tx, rx) = chan::<u32>(0);
        let closer = {
            let tx = tx.clone();
            thread::spawn(move || tx.close())
        };
        let sender = thread::spawn(move || block_on(tx.send(1)));
        let got = block_on(rx.recv());
        assert!(closer.join().unwrap());
        let sent = sender.join().unwrap();
        // The send succeeded exactly when the receiver got the value.
        match got {
            Some(1) => assert_eq!(sent, Ok(())),
            None => assert_eq!(sent, Err(SendError(1))),
            other => panic!("unexpected {other:?}"),
        }
    });
}

#[test]
fn close_races_with_recv() {
    loom::model(|| {
        let (tx, rx) = chan::<u32>(1);
        let producer = thread::spawn(move || {
            tx.try_send(5).unwrap();
            assert!(tx.close());
        });
        let mut got = Vec::new();
        while let Some(v) = block_on(rx.recv()) {
            got.push(v);
        }
        producer.join().unwrap();
        assert_eq!(got, [5], "drained before None");
    });
}

#[test]
fn last_receiver_drop_fails_a_parked_sender() {
    loom::model(|| {
        let (tx, rx) = chan::<u32>(0);
        let sender = thread::spawn(move || block_on(tx.send(3)));
        drop(rx);
        assert_eq!(sender.join().unwrap(), Err(SendError(3)));
    });
}

#[test]
fn dropped_pending_recv_never_loses_the_value() {
    loom::model(|| {
        let (tx, rx) = chan::<u32>(0);
        let canceller = {
            let rx = rx.clone();
            thread::spawn(move || {
                let mut recv = pin!(rx.recv());
                let got = poll_once(recv.as_mut());
                // dropped here: maybe after a sender handed it the value
                got
            })
        };
        let sent = tx.try_send(1);
        let got = canceller.join().unwrap();
        let later = rx.try_recv();
        match (sent, got, later) {
            // The receiver parked, got the value, was dropped: passed back.
            (Ok(()), Poll::Pending, Ok(1)) => {}
            // No receiver was parked when we sent.
            (Err(TrySendError::Full(1)), Poll::Pending, Err(TryRecvError::Empty)) => {}
            other => panic!("lost or duplicated: {other:?}"),
        }
    });
}

#[test]
fn dropped_pending_send_delivers_at_most_once() {
    /// Counts drops, so a value is either received or dropped, once.
    struct Tracked<'a>(&'a AtomicUsize);
    impl Drop for Tracked<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    static DROPS: AtomicUsize = AtomicUsize::new(0);

    loom::model(|| {
        DROPS.store(0, Ordering::SeqCst);
        let (tx, rx) = chan::<Tracked<'static>>(0);
        let canceller = thread::spawn(move || {
            let mut send = pin!(tx.send(Tracked(&DROPS)));
            poll_once(send.as_mut()).is_pending()
            // dropped here: maybe after a receiver took the value
        });
        let got = rx.try_recv();
        let pended = canceller.join().unwrap();
        assert!(pended, "no receiver was parked, so the send had to wait");
        let received = got.is_ok();
        drop(got);
        // Received (then dropped by us) or dropped by the cancelled send:
        // exactly one drop either way, and nothing left in the channel.
        assert_eq!(DROPS.load(Ordering::SeqCst), 1, "received: {received}");
        assert!(rx.try_recv().is_err());
    });
}

#[test]
fn two_receivers_one_value() {
    loom::model(|| {
        let (tx, rx) = chan::<u32>(0);
        let rx2 = rx.clone();
        let other = thread::spawn(move || block_on(rx2.recv()));
        let sender = thread::spawn(move || block_on(tx.send(9)));
        let mine = block_on(rx.recv());
        sender.join().unwrap().unwrap();
        let theirs = other.join().unwrap();
        // One got 9; the other saw the close (the sender dropped).
        let mut got = [mine, theirs];
        got.sort();
        assert_eq!(got, [None, Some(9)]);
    });
}

#[test]
fn fast_send_races_with_a_parking_receiver() {
    // The send takes the lock-free path unless the receiver's slow mark is
    // already up; either way the parked receiver must get the value.
    loom::model(|| {
        let (tx, rx) = chan::<u32>(1);
        let receiver = thread::spawn(move || block_on(rx.recv()));
        assert_eq!(tx.try_send(4), Ok(()));
        assert_eq!(receiver.join().unwrap(), Some(4));
    });
}

#[test]
fn fast_recv_races_with_a_parking_sender() {
    // The receive frees the only slot lock-free while the sender parks on
    // the full buffer: the sender must be let in, after the first value.
    loom::model(|| {
        let (tx, rx) = chan::<u32>(1);
        tx.try_send(1).unwrap();
        let sender = thread::spawn(move || block_on(tx.send(2)));
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

#[test]
fn close_races_with_a_fast_send() {
    // A lock-free send either lands before the close (and is received
    // before the end) or fails with its value; it never lands after.
    loom::model(|| {
        let (tx, rx) = chan::<u32>(2);
        let closer = {
            let tx = tx.clone();
            thread::spawn(move || tx.close())
        };
        let sent = tx.try_send(8);
        assert!(closer.join().unwrap());
        let mut got = Vec::new();
        while let Ok(v) = rx.try_recv() {
            got.push(v);
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        match sent {
            Ok(()) => assert_eq!(got, [8]),
            Err(TrySendError::Closed(8)) => assert!(got.is_empty()),
            other => panic!("unexpected {other:?}"),
        }
    });
}

#[test]
fn fast_and_locked_sends_keep_fifo_order_for_one_sender() {
    // One sender's values arrive in order even when some go lock-free and
    // some through the lock (the receiver parks and unparks in between).
    // Capacity 2, so that the buffer passes through the middle (one value)
    // and the slow mark is cleared again after a park, not only set.
    loom::model(|| {
        let (tx, rx) = chan::<u32>(2);
        let sender = thread::spawn(move || {
            block_on(async {
                for v in 1..=3 {
                    tx.send(v).await.unwrap();
                }
            })
        });
        let mut got = Vec::new();
        while let Some(v) = block_on(rx.recv()) {
            got.push(v);
        }
        sender.join().unwrap();
        assert_eq!(got, [1, 2, 3]);
    });
}
