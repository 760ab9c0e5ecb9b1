//! Stress: 4 senders and 4 receivers on capacity 0 and capacity 16, each
//! dropping pending futures at random. Every value ends up received exactly
//! once, or dropped undelivered by the send that was cancelled: never lost,
//! never duplicated.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;

use futures::executor::block_on;
use futures::task::noop_waker_ref;
use gorun::{chan, Receiver, Sender};

const SENDERS: usize = 4;
const RECEIVERS: usize = 4;
const PER_SENDER: usize = 20_000;
const TOTAL: usize = SENDERS * PER_SENDER;

/// Per value: how many times it was received, and how many times it was
/// dropped undelivered. Each value must end with exactly one of the two.
struct Ledger {
    received: Vec<AtomicU8>,
    dropped: Vec<AtomicU8>,
}

impl Ledger {
    fn new() -> Arc<Ledger> {
        Arc::new(Ledger {
            received: (0..TOTAL).map(|_| AtomicU8::new(0)).collect(),
            dropped: (0..TOTAL).map(|_| AtomicU8::new(0)).collect(),
        })
    }

    fn check(&self) {
        let mut received = 0;
        for id in 0..TOTAL {
            let r = self.received[id].load(Ordering::SeqCst);
            let d = self.dropped[id].load(Ordering::SeqCst);
            assert_eq!(
                r + d,
                1,
                "value {id}: received {r} times, dropped {d} times"
            );
            received += usize::from(r);
        }
        assert!(received > TOTAL / 2, "only {received} of {TOTAL} delivered");
    }
}

/// A value that records in the ledger whether it was received or dropped.
struct Tracked {
    id: usize,
    ledger: Arc<Ledger>,
}

impl Tracked {
    fn receive(self) {
        self.ledger.received[self.id].fetch_add(1, Ordering::SeqCst);
        std::mem::forget(self);
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.ledger.dropped[self.id].fetch_add(1, Ordering::SeqCst);
    }
}

/// A small xorshift generator: the tests need noise, not quality.
struct Rng(u64);

impl Rng {
    fn coin(&mut self) -> bool {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 & 1 == 0
    }
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(noop_waker_ref()))
}

fn send_all(tx: Sender<Tracked>, first: usize, ledger: Arc<Ledger>, mut rng: Rng) {
    for id in first..first + PER_SENDER {
        let mut send = pin!(tx.send(Tracked {
            id,
            ledger: ledger.clone()
        }));
        if poll_once(send.as_mut()).is_pending() && !rng.coin() {
            block_on(send).unwrap();
        }
        // else: dropped while pending: delivered meanwhile, or dropped.
    }
}

fn receive_all(rx: Receiver<Tracked>, mut rng: Rng) {
    loop {
        let mut recv = pin!(rx.recv());
        let got = match poll_once(recv.as_mut()) {
            Poll::Ready(got) => got,
            Poll::Pending if rng.coin() => continue, // cancel: drop it
            Poll::Pending => block_on(recv),
        };
        match got {
            Some(v) => v.receive(),
            None => return,
        }
    }
}

fn stress_threads(cap: usize) {
    let ledger = Ledger::new();
    let (tx, rx) = chan::<Tracked>(cap);
    let mut threads = Vec::new();
    for s in 0..SENDERS {
        let (tx, ledger) = (tx.clone(), ledger.clone());
        let rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (s as u64 + 1));
        threads.push(thread::spawn(move || {
            send_all(tx, s * PER_SENDER, ledger, rng)
        }));
    }
    for r in 0..RECEIVERS {
        let rx = rx.clone();
        let rng = Rng(0x2545_f491_4f6c_dd1d ^ (r as u64 + 1));
        threads.push(thread::spawn(move || receive_all(rx, rng)));
    }
    drop((tx, rx));
    threads.into_iter().for_each(|t| t.join().unwrap());
    ledger.check();
}

#[test]
fn every_value_once_unbuffered_threads() {
    stress_threads(0);
}

/// Capacity 16 has a lock-free ring: operations switch between it and the
/// lock whenever a waiter parks or leaves.
#[test]
fn every_value_once_buffered_threads() {
    stress_threads(16);
}

/// The same with gorun tasks, cancelling by racing each operation against
/// a `yield_now` (a pending operation loses the race and is dropped).
fn stress_tasks(cap: usize) {
    let ledger = Ledger::new();
    let (tx, rx) = chan::<Tracked>(cap);
    gorun::run(async move {
        let mut tasks = Vec::new();
        for s in 0..SENDERS {
            let (tx, ledger) = (tx.clone(), ledger.clone());
            let mut rng = Rng(0x1234_5678 ^ (s as u64 + 1));
            tasks.push(gorun::spawn(async move {
                for id in s * PER_SENDER..(s + 1) * PER_SENDER {
                    let send = tx.send(Tracked {
                        id,
                        ledger: ledger.clone(),
                    });
                    if rng.coin() {
                        race_yield(send).await;
                    } else {
                        send.await.unwrap();
                    }
                }
            }));
        }
        for r in 0..RECEIVERS {
            let rx = rx.clone();
            let mut rng = Rng(0x8765_4321 ^ (r as u64 + 1));
            tasks.push(gorun::spawn(async move {
                loop {
                    let got = if rng.coin() {
                        match race_yield(rx.recv()).await {
                            Some(got) => got,
                            None => continue, // cancelled
                        }
                    } else {
                        rx.recv().await
                    };
                    match got {
                        Some(v) => v.receive(),
                        None => return,
                    }
                }
            }));
        }
        drop((tx, rx));
        for t in tasks {
            t.await.unwrap();
        }
        ledger.check();
    });
}

/// Runs `fut` until it completes or the task has yielded once; `None` if
/// it was dropped unfinished.
async fn race_yield<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let mut yielded = pin!(gorun::yield_now());
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        yielded.as_mut().poll(cx).map(|()| None)
    })
    .await
}

#[test]
fn every_value_once_unbuffered_tasks() {
    stress_tasks(0);
}

#[test]
fn every_value_once_buffered_tasks() {
    stress_tasks(16);
}

/// Capacity 1 flips between empty and full on almost every operation, so
/// nearly every operation parks a waiter or completes a parked one.
#[test]
fn every_value_once_capacity_one_threads() {
    stress_threads(1);
}

#[test]
fn every_value_once_capacity_one_tasks() {
    stress_tasks(1);
}
