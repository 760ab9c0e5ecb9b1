//! `select!` commits exactly one case under contention: selecting senders
//! against selecting receivers on unbuffered channels, with timeouts that
//! drop pending selects at random.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{runtime, watchdog};
use futures::FutureExt;

/// A tiny xorshift generator, one per task.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const SENDERS: u64 = 4;
const RECEIVERS: u64 = 4;
const PER_SENDER: u64 = 4_000;

/// How a sender's attempt to send one value ended.
enum Sent {
    /// Sent on this channel.
    On(usize),
    /// The select was dropped by its timeout: not sent, or sent if a
    /// receiver had already taken it (a committed send cannot be undone).
    Maybe,
}

#[test]
fn selecting_senders_and_receivers_transfer_each_value_exactly_once() {
    let _w = watchdog("select_stress", Duration::from_secs(60));
    runtime(2).block_on(async {
        let (t0, r0) = gorun::chan::<u64>(0);
        let (t1, r1) = gorun::chan::<u64>(0);
        let (t2, r2) = gorun::chan::<u64>(0);

        let mut senders = Vec::new();
        for s in 0..SENDERS {
            let (t0, t1, t2) = (t0.clone(), t1.clone(), t2.clone());
            senders.push(gorun::spawn(async move {
                let mut rng = Rng(0x9e37_79b9 + s);
                let mut log = Vec::new();
                let mut attempt_no = 0;
                for _ in 0..PER_SENDER {
                    loop {
                        // A fresh value per attempt: a select dropped by its
                        // timeout may still have sent its value.
                        let v = s << 32 | attempt_no;
                        attempt_no += 1;
                        let wait = Duration::from_micros(rng.below(300));
                        let select = async {
                            gorun::select! {
                                r = t0.send(v) => (0, r),
                                r = t1.send(v) => (1, r),
                                r = t2.send(v) => (2, r),
                            }
                        };
                        // One attempt in four is polled once and dropped:
                        // it registers, then withdraws.
                        let attempt = if rng.below(4) == 0 {
                            select.now_or_never().ok_or(())
                        } else {
                            gorun::timeout(wait, select).await.map_err(drop)
                        };
                        match attempt {
                            Ok((ch, Ok(()))) => {
                                log.push((v, Sent::On(ch)));
                                break;
                            }
                            Ok((_, Err(_))) => unreachable!("no channel closes early"),
                            Err(_) => log.push((v, Sent::Maybe)),
                        }
                    }
                }
                log
            }));
        }
        drop((t0, t1, t2));

        let mut receivers = Vec::new();
        for r in 0..RECEIVERS {
            let (r0, r1, r2) = (r0.clone(), r1.clone(), r2.clone());
            receivers.push(gorun::spawn(async move {
                let mut rng = Rng(0x7f4a_7c15 + r);
                let mut got = Vec::new();
                let mut open = [true; 3];
                while open.iter().any(|&o| o) {
                    let wait = Duration::from_micros(rng.below(300));
                    let select = async {
                        gorun::select! {
                            v = r0.recv(), if open[0] => (0, v),
                            v = r1.recv(), if open[1] => (1, v),
                            v = r2.recv(), if open[2] => (2, v),
                        }
                    };
                    let attempt = if rng.below(4) == 0 {
                        select.now_or_never().ok_or(())
                    } else {
                        gorun::timeout(wait, select).await.map_err(drop)
                    };
                    match attempt {
                        Ok((ch, Some(v))) => got.push((v, ch)),
                        Ok((ch, None)) => open[ch] = false,
                        Err(_) => {}
                    }
                }
                got
            }));
        }
        drop((r0, r1, r2));

        let mut sent = HashMap::new();
        let mut maybe = HashMap::new();
        for s in senders {
            for (v, how) in s.await.unwrap() {
                match how {
                    Sent::On(ch) => assert!(sent.insert(v, ch).is_none()),
                    Sent::Maybe => *maybe.entry(v).or_insert(0) += 1,
                }
            }
        }
        let mut received = HashMap::new();
        for r in receivers {
            for (v, ch) in r.await.unwrap() {
                assert!(received.insert(v, ch).is_none(), "{v} received twice");
            }
        }
        for (v, ch) in &sent {
            assert_eq!(
                received.get(v),
                Some(ch),
                "{v} lost or from a case not chosen"
            );
        }
        for v in received.keys() {
            assert!(
                sent.contains_key(v) || maybe.contains_key(v),
                "{v} received but never sent"
            );
        }
        let extra = received.len() - sent.len();
        eprintln!(
            "sent {} (+{extra} by dropped selects), {} dropped sender selects",
            sent.len(),
            maybe.values().sum::<u32>()
        );
    });
}

#[test]
fn dropped_selects_lose_no_buffered_value() {
    let _w = watchdog(
        "dropped_selects_lose_no_buffered_value",
        Duration::from_secs(60),
    );
    runtime(2).block_on(async {
        const N: u64 = 5_000;
        let (tx, rx) = gorun::chan::<u64>(4);
        let (_idle_tx, idle_rx) = gorun::chan::<u64>(0);
        let producer = gorun::spawn(async move {
            for v in 0..N {
                tx.send(v).await.unwrap();
                if v % 7 == 0 {
                    gorun::yield_now().await;
                }
            }
        });
        let mut rng = Rng(12345);
        let mut got = Vec::new();
        loop {
            let wait = Duration::from_micros(rng.below(50));
            match gorun::timeout(wait, async {
                gorun::select! {
                    v = rx.recv() => v,
                    v = idle_rx.recv() => v,
                }
            })
            .await
            {
                Ok(Some(v)) => got.push(v),
                Ok(None) => break,
                Err(_) => {}
            }
        }
        producer.await.unwrap();
        assert_eq!(got, (0..N).collect::<Vec<_>>(), "every value, in order");
    });
}
