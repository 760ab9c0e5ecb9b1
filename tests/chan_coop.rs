//! Every channel operation spends the cooperative budget, so a task looping
//! on channel operations that are always ready still lets others run.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::watchdog;
use gorun::{chan, Runtime};

/// A task that loops on channel operations until its flag is set, and
/// returns how many rounds it made.
type Hog = std::pin::Pin<Box<dyn std::future::Future<Output = u64> + Send>>;

/// Runs `hog` and a task that sets a flag on one worker; `hog` loops until
/// the flag is set, so it finishes only if channel operations yield.
fn hog_yields(hog: fn(Arc<AtomicBool>) -> Hog) {
    // A starved task would otherwise hang the test run.
    let _guard = watchdog("a channel-op hog (a task starved)", Duration::from_secs(30));
    let rt = Runtime::builder().workers(1).build().unwrap();
    let ops = rt
        .block_on(rt.spawn(async move {
            let flag = Arc::new(AtomicBool::new(false));
            let hog = gorun::spawn(hog(flag.clone()));
            gorun::spawn(async move { flag.store(true, Ordering::SeqCst) });
            hog.await.unwrap()
        }))
        .unwrap();
    assert!(ops > 0);
}

#[test]
fn send_and_recv_on_a_ready_buffered_channel_yield() {
    hog_yields(|flag| {
        Box::pin(async move {
            let (tx, rx) = chan::<u64>(1);
            let mut n = 0;
            while !flag.load(Ordering::SeqCst) {
                tx.send(n).await.unwrap();
                n = rx.recv().await.unwrap() + 1;
            }
            n
        })
    });
}

#[test]
fn recv_on_a_closed_channel_yields() {
    hog_yields(|flag| {
        Box::pin(async move {
            let (tx, rx) = chan::<u64>(0);
            drop(tx);
            let mut n = 0;
            while !flag.load(Ordering::SeqCst) {
                assert_eq!(rx.recv().await, None);
                n += 1;
            }
            n
        })
    });
}

#[test]
fn send_on_a_closed_channel_yields() {
    hog_yields(|flag| {
        Box::pin(async move {
            let (tx, rx) = chan::<u64>(0);
            drop(rx);
            let mut n = 0;
            while !flag.load(Ordering::SeqCst) {
                assert!(tx.send(n).await.is_err());
                n += 1;
            }
            n
        })
    });
}

#[test]
fn stream_on_a_ready_channel_yields() {
    use futures::StreamExt;
    hog_yields(|flag| {
        Box::pin(async move {
            let (tx, mut rx) = chan::<u64>(1);
            let mut n = 0;
            while !flag.load(Ordering::SeqCst) {
                tx.try_send(n).unwrap();
                n = rx.next().await.unwrap() + 1;
            }
            n
        })
    });
}
