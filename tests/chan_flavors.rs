//! The channel checklist, run once per flavor: `zero` (capacity 0, the
//! rendezvous) and `array` (capacity 4, the ring buffer).
//!
//! smoke, capacity, len, try, close wakes senders, close wakes receivers,
//! spsc, mpmc, drops, fairness. Rules specific to one flavor live in
//! `chan_zero.rs` and `chan_array.rs`; close, cancel and stress have files of
//! their own.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

use futures::executor::block_on;
use gorun::{chan, SendError, TryRecvError, TrySendError};

/// A waker that records whether it was woken.
#[derive(Default)]
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Flag {
    fn new() -> (Arc<Flag>, Waker) {
        let flag = Arc::new(Flag::default());
        (flag.clone(), Waker::from(flag))
    }

    fn woken(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Polls `fut` once with `waker`.
fn poll_with<F: Future>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

/// Counts the drops of the values it tags.
#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

macro_rules! checklist {
    ($flavor:ident, $cap:expr) => {
        mod $flavor {
            use super::*;

            const CAP: usize = $cap;

            /// Fills the buffer so that the next send has to wait.
            fn fill(tx: &gorun::Sender<u32>) {
                for i in 0..CAP as u32 {
                    tx.try_send(i).unwrap();
                }
            }

            #[test]
            fn smoke() {
                let (tx, rx) = chan::<u32>(CAP);
                let t = thread::spawn(move || block_on(tx.send(7)));
                assert_eq!(block_on(rx.recv()), Some(7));
                t.join().unwrap().unwrap();
            }

            #[test]
            fn capacity() {
                let (tx, rx) = chan::<u32>(CAP);
                assert_eq!(tx.capacity(), CAP);
                assert_eq!(rx.capacity(), CAP);
            }

            #[test]
            fn len_counts_buffered_values_only() {
                let (tx, rx) = chan::<u32>(CAP);
                assert_eq!(rx.len(), 0);
                assert!(tx.is_empty());
                fill(&tx);
                assert_eq!(tx.len(), CAP);
                let (_flag, waker) = Flag::new();
                let mut parked = pin!(tx.send(99));
                assert!(poll_with(parked.as_mut(), &waker).is_pending());
                assert_eq!(rx.len(), CAP, "a parked sender is not buffered");
            }

            #[test]
            fn try_send_fails_full_when_no_room_and_no_receiver() {
                let (tx, _rx) = chan::<u32>(CAP);
                fill(&tx);
                assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
            }

            #[test]
            fn try_send_hands_to_parked_receiver() {
                let (tx, rx) = chan::<u32>(CAP);
                let (flag, waker) = Flag::new();
                let mut recv = pin!(rx.recv());
                assert!(poll_with(recv.as_mut(), &waker).is_pending());
                tx.try_send(5).unwrap();
                assert!(flag.woken());
                assert_eq!(poll_with(recv.as_mut(), &waker), Poll::Ready(Some(5)));
            }

            #[test]
            fn try_recv_empty_then_value_then_closed() {
                let (tx, rx) = chan::<u32>(CAP);
                assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
                let (_flag, waker) = Flag::new();
                let mut send = pin!(tx.send(3));
                let first = poll_with(send.as_mut(), &waker);
                assert_eq!(first.is_pending(), CAP == 0, "parks only without room");
                assert_eq!(rx.try_recv(), Ok(3));
                if first.is_pending() {
                    assert_eq!(poll_with(send.as_mut(), &waker), Poll::Ready(Ok(())));
                }
                tx.close();
                assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
            }

            #[test]
            fn close_wakes_senders() {
                let (tx, _rx) = chan::<u32>(CAP);
                fill(&tx);
                let (flag, waker) = Flag::new();
                let mut send = pin!(tx.send(42));
                assert!(poll_with(send.as_mut(), &waker).is_pending());
                assert!(tx.close());
                assert!(flag.woken());
                assert_eq!(
                    poll_with(send.as_mut(), &waker),
                    Poll::Ready(Err(SendError(42)))
                );
            }

            #[test]
            fn close_wakes_receivers() {
                let (tx, rx) = chan::<u32>(CAP);
                let (flag, waker) = Flag::new();
                let mut recv = pin!(rx.recv());
                assert!(poll_with(recv.as_mut(), &waker).is_pending());
                assert!(tx.close());
                assert!(flag.woken());
                assert_eq!(poll_with(recv.as_mut(), &waker), Poll::Ready(None));
            }

            #[test]
            fn close_wakes_blocked_threads() {
                let (tx, rx) = chan::<u32>(CAP);
                fill(&tx);
                let (tx2, rx2) = (tx.clone(), rx.clone());
                let (ptx, prx) = chan::<u32>(CAP);
                let sender = thread::spawn(move || tx2.send_blocking(1));
                let receiver = thread::spawn(move || prx.recv_blocking());
                thread::sleep(std::time::Duration::from_millis(20));
                tx.close();
                ptx.close();
                assert_eq!(sender.join().unwrap(), Err(SendError(1)));
                assert_eq!(receiver.join().unwrap(), None);
                drop(rx2);
            }

            #[test]
            fn spsc_keeps_order() {
                const N: u32 = 10_000;
                let (tx, rx) = chan::<u32>(CAP);
                let t = thread::spawn(move || {
                    for i in 0..N {
                        tx.send_blocking(i).unwrap();
                    }
                });
                for i in 0..N {
                    assert_eq!(rx.recv_blocking(), Some(i));
                }
                assert_eq!(rx.recv_blocking(), None);
                t.join().unwrap();
            }

            #[test]
            fn mpmc_delivers_every_value_once() {
                const PER: u64 = 5_000;
                let (tx, rx) = chan::<u64>(CAP);
                let senders: Vec<_> = (0..4u64)
                    .map(|p| {
                        let tx = tx.clone();
                        thread::spawn(move || {
                            for i in 0..PER {
                                block_on(tx.send(p * PER + i)).unwrap();
                            }
                        })
                    })
                    .collect();
                drop(tx);
                let receivers: Vec<_> = (0..4)
                    .map(|_| {
                        let rx = rx.clone();
                        thread::spawn(move || {
                            let (mut n, mut sum) = (0u64, 0u64);
                            while let Some(v) = block_on(rx.recv()) {
                                n += 1;
                                sum += v;
                            }
                            (n, sum)
                        })
                    })
                    .collect();
                senders.into_iter().for_each(|t| t.join().unwrap());
                let (n, sum) = receivers
                    .into_iter()
                    .map(|t| t.join().unwrap())
                    .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
                let total = 4 * PER;
                assert_eq!(n, total);
                assert_eq!(sum, total * (total - 1) / 2);
            }

            #[test]
            fn drops_every_value_exactly_once() {
                let drops = Arc::new(AtomicUsize::new(0));
                let (tx, rx) = chan::<Counted>(CAP);
                for _ in 0..tx.capacity() {
                    tx.try_send(Counted(drops.clone())).unwrap();
                }
                // A failed try_send hands the value back: not dropped yet.
                let back = tx
                    .try_send(Counted(drops.clone()))
                    .unwrap_err()
                    .into_inner();
                assert_eq!(drops.load(Ordering::SeqCst), 0);
                drop(back);
                assert_eq!(drops.load(Ordering::SeqCst), 1);
                // A parked sender's value drops with its future.
                let (_flag, waker) = Flag::new();
                let mut send = Box::pin(tx.send(Counted(drops.clone())));
                assert!(poll_with(send.as_mut(), &waker).is_pending());
                drop(send);
                assert_eq!(drops.load(Ordering::SeqCst), 2);
                if CAP > 0 {
                    drop(rx.try_recv().unwrap());
                    assert_eq!(drops.load(Ordering::SeqCst), 3);
                }
                // The rest drop with the channel.
                drop((tx, rx));
                assert_eq!(drops.load(Ordering::SeqCst), CAP + 2);
            }

            #[test]
            fn fairness_parked_receivers_served_in_arrival_order() {
                let (tx, rx) = chan::<u32>(CAP);
                let (_flag, waker) = Flag::new();
                let mut futs: Vec<_> = (0..5).map(|_| Box::pin(rx.recv())).collect();
                for f in &mut futs {
                    assert!(poll_with(f.as_mut(), &waker).is_pending());
                }
                for i in 0..5 {
                    tx.try_send(i).unwrap();
                }
                for (i, f) in futs.iter_mut().enumerate() {
                    assert_eq!(poll_with(f.as_mut(), &waker), Poll::Ready(Some(i as u32)));
                }
            }

            #[test]
            fn fairness_parked_senders_served_in_arrival_order() {
                let (tx, rx) = chan::<u32>(CAP);
                fill(&tx);
                let (_flag, waker) = Flag::new();
                let mut futs: Vec<_> = (0..5).map(|i| Box::pin(tx.send(100 + i))).collect();
                for f in &mut futs {
                    assert!(poll_with(f.as_mut(), &waker).is_pending());
                }
                let got: Vec<u32> = (0..CAP + 5).map(|_| rx.try_recv().unwrap()).collect();
                let want: Vec<u32> = (0..CAP as u32).chain(100..105).collect();
                assert_eq!(got, want);
                for f in &mut futs {
                    assert_eq!(poll_with(f.as_mut(), &waker), Poll::Ready(Ok(())));
                }
            }

            #[test]
            fn zero_sized_values() {
                let (tx, rx) = chan::<()>(CAP);
                let t = thread::spawn(move || {
                    for _ in 0..1000 {
                        tx.send_blocking(()).unwrap();
                    }
                });
                let mut n = 0;
                while rx.recv_blocking().is_some() {
                    n += 1;
                }
                assert_eq!(n, 1000);
                t.join().unwrap();
            }
        }
    };
}

checklist!(zero, 0);
checklist!(array, 4);
