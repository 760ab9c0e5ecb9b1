//! Go's own select tests, ported: one `mod` per Go file, each headed by the
//! file it comes from. Go's nil channel is a case whose guard is `false`.

mod common;

use std::time::Duration;

use common::{runtime, wait_for_reason, watchdog};
use gorun::debug::WaitReason;

// https://github.com/golang/go/blob/master/test/chan/doubleselect.go
//
// Two cases of one select must never both run: a sender selects over four
// unbuffered channels while receivers drain them; every value arrives once.
mod doubleselect {
    use super::*;

    const ITERATIONS: u32 = 10_000;

    async fn sender(c: [gorun::Sender<u32>; 4]) {
        for i in 1..=ITERATIONS {
            gorun::select! {
                _ = c[0].send(i) => {}
                _ = c[1].send(i) => {}
                _ = c[2].send(i) => {}
                _ = c[3].send(i) => {}
            }
        }
    }

    /// Forwards everything from `rx` to `out` (Go's `mux`).
    async fn mux(rx: gorun::Receiver<u32>, out: gorun::Sender<u32>) {
        while let Some(v) = rx.recv().await {
            out.send(v).await.unwrap();
        }
    }

    async fn check(rx: gorun::Receiver<u32>) {
        let mut seen = vec![false; ITERATIONS as usize + 1];
        let mut n = 0;
        while let Some(v) = rx.recv().await {
            assert!(!seen[v as usize], "got duplicate value {v}");
            seen[v as usize] = true;
            n += 1;
        }
        assert_eq!(n, ITERATIONS);
    }

    #[test]
    fn doubleselect() {
        let _w = watchdog("doubleselect", Duration::from_secs(60));
        runtime(2).block_on(async {
            let chans: Vec<_> = (0..4).map(|_| gorun::chan::<u32>(0)).collect();
            let (out_tx, out_rx) = gorun::chan::<u32>(0);
            let mut txs = Vec::new();
            for (tx, rx) in chans {
                txs.push(tx);
                gorun::spawn(mux(rx, out_tx.clone()));
            }
            drop(out_tx);
            gorun::spawn(sender(txs.try_into().unwrap()));
            check(out_rx).await;
        });
    }

    /// The same with the receiving side selecting too: select against
    /// select on every channel.
    #[test]
    fn doubleselect_against_selecting_receivers() {
        let _w = watchdog(
            "doubleselect_against_selecting_receivers",
            Duration::from_secs(60),
        );
        runtime(2).block_on(async {
            let chans: Vec<_> = (0..4).map(|_| gorun::chan::<u32>(0)).collect();
            let (out_tx, out_rx) = gorun::chan::<u32>(0);
            let rxs: Vec<_> = chans.iter().map(|(_, rx)| rx.clone()).collect();
            let txs: Vec<_> = chans.into_iter().map(|(tx, _)| tx).collect();
            for _ in 0..3 {
                let rxs = rxs.clone();
                let out = out_tx.clone();
                gorun::spawn(async move {
                    let mut open = [true; 4];
                    while open.iter().any(|&o| o) {
                        let (i, v) = gorun::select! {
                            v = rxs[0].recv(), if open[0] => (0, v),
                            v = rxs[1].recv(), if open[1] => (1, v),
                            v = rxs[2].recv(), if open[2] => (2, v),
                            v = rxs[3].recv(), if open[3] => (3, v),
                        };
                        match v {
                            Some(v) => out.send(v).await.unwrap(),
                            None => open[i] = false,
                        }
                    }
                });
            }
            drop((out_tx, rxs));
            gorun::spawn(sender(txs.try_into().unwrap()));
            check(out_rx).await;
        });
    }
}

// https://github.com/golang/go/blob/master/test/chan/select3.go
//
// Blocking and non-blocking behaviour of nil and closed channels in select.
mod select3 {
    use super::*;

    #[test]
    fn nil_channel_cases_block() {
        runtime(2).block_on(async {
            let (tx, rx) = gorun::chan::<u32>(1);
            tx.send(1).await.unwrap();
            let blocked = gorun::timeout(Duration::from_millis(20), async {
                gorun::select! {
                    v = rx.recv(), if false => v,
                    r = tx.send(2), if false => r.ok().map(|_| 0),
                }
            })
            .await;
            assert!(blocked.is_err(), "a select over nil channels blocks");
        });
    }

    #[test]
    fn nil_channel_cases_are_never_ready_with_default() {
        runtime(2).block_on(async {
            let (tx, rx) = gorun::chan::<u32>(1);
            tx.send(1).await.unwrap();
            let got = gorun::select! {
                _ = rx.recv(), if false => "nil receive",
                _ = tx.send(2), if false => "nil send",
                default => "default",
            };
            assert_eq!(got, "default");
        });
    }

    #[test]
    fn closed_channel_receive_never_blocks() {
        runtime(2).block_on(async {
            let (tx, rx) = gorun::chan::<u32>(0);
            let (_tx2, rx2) = gorun::chan::<u32>(0);
            tx.close();
            for _ in 0..100 {
                let got = gorun::select! {
                    v = rx.recv() => v,
                    v = rx2.recv() => v.map(|_| 1),
                };
                assert_eq!(got, None);
            }
        });
    }

    #[test]
    fn closed_channel_send_fails_immediately() {
        runtime(2).block_on(async {
            let (tx, _rx) = gorun::chan::<u32>(0);
            tx.close();
            let got = gorun::select! {
                r = tx.send(7) => r,
                default => Ok(()),
            };
            assert_eq!(got, Err(gorun::SendError(7)));
        });
    }

    #[test]
    fn unready_channels_block() {
        runtime(2).block_on(async {
            let (_tx, rx) = gorun::chan::<u32>(0);
            let (tx2, _rx2) = gorun::chan::<u32>(1);
            tx2.try_send(0).unwrap(); // full
            let blocked = gorun::timeout(Duration::from_millis(20), async {
                gorun::select! {
                    _ = rx.recv() => {}
                    _ = tx2.send(1) => {}
                }
            })
            .await;
            assert!(blocked.is_err());
        });
    }
}

// https://github.com/golang/go/blob/master/test/chan/select4.go
//
// A select proceeds when a value is ready, even next to a nil channel.
mod select4 {
    use super::*;

    #[test]
    fn proceeds_when_a_value_is_ready() {
        let _w = watchdog("select4", Duration::from_secs(10));
        runtime(2).block_on(async {
            let (tx, rx) = gorun::chan::<u32>(1);
            let (_tx2, rx2) = gorun::chan::<u32>(1);
            tx.send(42).await.unwrap();
            let got = gorun::select! {
                v = rx.recv() => v,
                v = rx2.recv(), if false => v,
            };
            assert_eq!(got, Some(42));
        });
    }
}

// https://github.com/golang/go/blob/master/test/chan/select6.go
//
// Issue 2075: a select that completes on one channel must leave the wait
// queues of its other channels intact for the waiters queued behind it.
mod select6 {
    use super::*;

    #[test]
    fn failed_cases_leave_queues_intact() {
        let _w = watchdog("select6", Duration::from_secs(10));
        runtime(2).block_on(async {
            let (c1_tx, c1_rx) = gorun::chan::<bool>(0);
            let (c2_tx, c2_rx) = gorun::chan::<bool>(0);
            let (c3_tx, c3_rx) = gorun::chan::<bool>(0);
            // A plain receiver parks on c1 first...
            let plain = {
                let c1_rx = c1_rx.clone();
                gorun::spawn(async move { c1_rx.recv().await })
            };
            wait_for_reason(plain.id(), |r| matches!(r, WaitReason::ChanRecv { .. })).await;
            // ...then a select parks behind it on c1, and on c2.
            let selecting = gorun::spawn(async move {
                gorun::select! {
                    _ = c1_rx.recv() => panic!("the plain receiver was first in line"),
                    _ = c2_rx.recv() => c3_tx.send(true).await.unwrap(),
                }
            });
            wait_for_reason(selecting.id(), |r| r == WaitReason::Select).await;
            c2_tx.send(true).await.unwrap();
            assert_eq!(c3_rx.recv().await, Some(true));
            c1_tx.send(true).await.unwrap();
            assert_eq!(plain.await.unwrap(), Some(true));
            selecting.await.unwrap();
        });
    }
}

// https://github.com/golang/go/blob/master/test/chan/select7.go
//
// Receives whose value is discarded, in every form select allows.
mod select7 {
    use super::*;

    async fn send_later(tx: gorun::Sender<u32>) {
        gorun::sleep(Duration::from_millis(5)).await;
        tx.send(1).await.unwrap();
    }

    #[test]
    fn discarded_receives_complete() {
        let _w = watchdog("select7", Duration::from_secs(10));
        runtime(2).block_on(async {
            for form in 0..3 {
                let (tx, rx) = gorun::chan::<u32>(0);
                let (_tx2, rx2) = gorun::chan::<u32>(0);
                gorun::spawn(send_later(tx));
                match form {
                    0 => gorun::select! { _ = rx.recv() => {} _ = rx2.recv() => panic!() },
                    1 => gorun::select! { _v = rx.recv() => {} _ = rx2.recv() => panic!() },
                    _ => gorun::select! { v = rx.recv() => assert_eq!(v, Some(1)), _ = rx2.recv() => panic!(), },
                }
            }
        });
    }
}

// https://github.com/golang/go/blob/master/test/chan/nonblock.go
//
// Non-blocking sends and receives (select with default) on unbuffered and
// buffered channels.
mod nonblock {
    use super::*;

    #[test]
    fn non_blocking_receive_finds_nothing_then_a_value() {
        let _w = watchdog("nonblock_recv", Duration::from_secs(10));
        runtime(2).block_on(async {
            for cap in [0, 1, 10] {
                let (tx, rx) = gorun::chan::<u32>(cap);
                let got = gorun::select! { v = rx.recv() => v, default => None };
                assert_eq!(got, None, "cap {cap}: nothing to receive");
                let sender = gorun::spawn(async move { tx.send(123).await });
                loop {
                    let got = gorun::select! { v = rx.recv() => v, default => None };
                    if let Some(v) = got {
                        assert_eq!(v, 123);
                        break;
                    }
                    gorun::yield_now().await;
                }
                sender.await.unwrap().unwrap();
            }
        });
    }

    #[test]
    fn non_blocking_send_waits_for_room_or_a_receiver() {
        let _w = watchdog("nonblock_send", Duration::from_secs(10));
        runtime(2).block_on(async {
            for cap in [0, 1, 10] {
                let (tx, rx) = gorun::chan::<u32>(cap);
                for _ in 0..cap {
                    tx.try_send(0).unwrap();
                }
                let sent = gorun::select! { r = tx.send(1) => r.is_ok(), default => false };
                assert!(!sent, "cap {cap}: full, no receiver");
                let receiver = gorun::spawn(async move {
                    let mut last = None;
                    for _ in 0..=cap {
                        last = rx.recv().await;
                    }
                    last
                });
                loop {
                    let sent = gorun::select! { r = tx.send(1) => r.is_ok(), default => false };
                    if sent {
                        break;
                    }
                    gorun::yield_now().await;
                }
                assert_eq!(receiver.await.unwrap(), Some(1));
            }
        });
    }
}

// https://github.com/golang/go/blob/master/src/runtime/chan_test.go
//
// TestSelfSelect, TestSelectDuplicateChannel, TestSelectFairness,
// TestSelectStress (reduced).
mod chan_test {
    use super::*;

    /// TestSelfSelect: send and receive cases on the same channel in one
    /// select neither crash nor deadlock; a select never pairs with itself.
    #[test]
    fn self_select() {
        let _w = watchdog("self_select", Duration::from_secs(30));
        runtime(2).block_on(async {
            for cap in [0, 10] {
                let (tx, rx) = gorun::chan::<u32>(cap);
                let mut tasks = Vec::new();
                for p in 0..2u32 {
                    let (tx, rx) = (tx.clone(), rx.clone());
                    tasks.push(gorun::spawn(async move {
                        for _ in 0..1_000 {
                            if p == 0 || cap == 0 {
                                gorun::select! {
                                    _ = tx.send(p) => {}
                                    v = rx.recv() => {
                                        if cap == 0 {
                                            assert_ne!(v, Some(p), "self receive");
                                        }
                                    }
                                }
                            } else {
                                gorun::select! {
                                    v = rx.recv() => {
                                        if cap == 0 {
                                            assert_ne!(v, Some(p), "self receive");
                                        }
                                    }
                                    _ = tx.send(p) => {}
                                }
                            }
                        }
                    }));
                }
                for t in tasks {
                    t.await.unwrap();
                }
            }
        });
    }

    /// TestSelectDuplicateChannel: the same channel in two cases.
    #[test]
    fn duplicate_channel() {
        let _w = watchdog("duplicate_channel", Duration::from_secs(10));
        runtime(2).block_on(async {
            let (tx, rx) = gorun::chan::<u32>(0);
            let (d_tx, d_rx) = gorun::chan::<u32>(0);
            let (e_tx, e_rx) = gorun::chan::<u32>(0);
            let waiter = {
                let rx = rx.clone();
                gorun::spawn(async move {
                    gorun::select! {
                        v = rx.recv() => v,
                        v = rx.recv() => v,
                        v = d_rx.recv() => v,
                    }
                })
            };
            wait_for_reason(waiter.id(), |r| r == WaitReason::Select).await;
            let other = gorun::spawn(async move {
                gorun::select! {
                    v = rx.recv() => v,
                    v = e_rx.recv() => v,
                }
            });
            wait_for_reason(other.id(), |r| r == WaitReason::Select).await;
            tx.send(8).await.unwrap();
            assert_eq!(waiter.await.unwrap(), Some(8));
            e_tx.send(9).await.unwrap();
            assert_eq!(other.await.unwrap(), Some(9));
            drop(d_tx);
        });
    }

    /// TestSelectFairness: two always-ready channels and two never-ready
    /// ones; each ready one is chosen close to half the time.
    #[test]
    fn select_fairness() {
        runtime(2).block_on(async {
            const TRIALS: u32 = 10_000;
            let (t1, c1) = gorun::chan::<u8>(TRIALS as usize + 1);
            let (t2, c2) = gorun::chan::<u8>(TRIALS as usize + 1);
            for _ in 0..=TRIALS {
                t1.try_send(1).unwrap();
                t2.try_send(2).unwrap();
            }
            let (_t3, c3) = gorun::chan::<u8>(0);
            let (_t4, c4) = gorun::chan::<u8>(0);
            let mut counts = [0u32; 2];
            for _ in 0..TRIALS {
                let b = gorun::select! {
                    v = c3.recv() => v,
                    v = c4.recv() => v,
                    v = c1.recv() => v,
                    v = c2.recv() => v,
                }
                .unwrap();
                counts[b as usize - 1] += 1;
            }
            // Go's bound: within 3.5 standard deviations (p ~ 0.0005).
            let r = counts[0] as f64 / TRIALS as f64;
            let sd = (0.25 / TRIALS as f64).sqrt();
            assert!((r - 0.5).abs() <= 3.5 * sd, "unfair: {counts:?}");
        });
    }

    /// TestSelectStress (reduced): four channels, senders and receivers
    /// mixing plain operations and selects; every value arrives.
    #[test]
    fn select_stress() {
        let _w = watchdog("select_stress", Duration::from_secs(60));
        runtime(2).block_on(async {
            const N: u32 = 2_000;
            let caps = [0, 1, 4, 0];
            let chans: Vec<_> = caps.iter().map(|&c| gorun::chan::<u32>(c)).collect();
            let txs: Vec<_> = chans.iter().map(|(t, _)| t.clone()).collect();
            let rxs: Vec<_> = chans.iter().map(|(_, r)| r.clone()).collect();
            drop(chans);
            // Plain senders, one per channel.
            for tx in txs.clone() {
                gorun::spawn(async move {
                    for i in 0..N {
                        tx.send(i).await.unwrap();
                    }
                });
            }
            // A selecting sender, N values to each channel.
            {
                let txs = txs.clone();
                gorun::spawn(async move {
                    let mut left = [N; 4];
                    while left.iter().any(|&n| n > 0) {
                        let i = gorun::select! {
                            _ = txs[0].send(left[0]), if left[0] > 0 => 0,
                            _ = txs[1].send(left[1]), if left[1] > 0 => 1,
                            _ = txs[2].send(left[2]), if left[2] > 0 => 2,
                            _ = txs[3].send(left[3]), if left[3] > 0 => 3,
                        };
                        left[i] -= 1;
                    }
                });
            }
            drop(txs);
            // A selecting receiver and plain receivers.
            let (done_tx, done_rx) = gorun::chan::<u32>(64);
            for rx in rxs.clone() {
                let done = done_tx.clone();
                gorun::spawn(async move {
                    let mut n = 0;
                    while rx.recv().await.is_some() {
                        n += 1;
                    }
                    done.send(n).await.unwrap();
                });
            }
            {
                let done = done_tx.clone();
                gorun::spawn(async move {
                    let mut open = [true; 4];
                    let mut n = 0;
                    while open.iter().any(|&o| o) {
                        let (i, v) = gorun::select! {
                            v = rxs[0].recv(), if open[0] => (0, v),
                            v = rxs[1].recv(), if open[1] => (1, v),
                            v = rxs[2].recv(), if open[2] => (2, v),
                            v = rxs[3].recv(), if open[3] => (3, v),
                        };
                        match v {
                            Some(_) => n += 1,
                            None => open[i] = false,
                        }
                    }
                    done.send(n).await.unwrap();
                });
            }
            drop(done_tx);
            let mut total = 0;
            while let Some(n) = done_rx.recv().await {
                total += n;
            }
            assert_eq!(total, 8 * N);
        });
    }
}
