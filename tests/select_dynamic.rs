//! `gorun::Select`: the dynamic select.

mod common;

use std::future::Future;
use std::time::Duration;

use common::{runtime, watchdog};
use futures::FutureExt;
use gorun::select::Outcome;
use gorun::{Select, SendError};

#[test]
fn fan_in_over_1000_receivers() {
    let _w = watchdog("fan_in_over_1000_receivers", Duration::from_secs(30));
    runtime(2).block_on(async {
        const N: usize = 1_000;
        let mut rxs = Vec::new();
        for i in 0..N {
            let (tx, rx) = gorun::chan::<usize>(if i % 2 == 0 { 0 } else { 1 });
            rxs.push(rx);
            gorun::spawn(async move {
                tx.send(i).await.unwrap();
                tx.send(i + N).await.unwrap();
            });
        }
        let mut sel = Select::new();
        for rx in &rxs {
            sel.recv(rx);
        }
        let (mut sum, mut count, mut open) = (0, 0, N);
        while open > 0 {
            match sel.select().await {
                (i, Outcome::Received(Some(v))) => {
                    assert_eq!(v % N, i, "a value from the case that was chosen");
                    sum += v;
                    count += 1;
                }
                (i, Outcome::Received(None)) => {
                    sel.disable(i);
                    open -= 1;
                }
                (_, Outcome::Sent(_)) => unreachable!(),
            }
        }
        assert_eq!(count, 2 * N);
        assert_eq!(sum, (0..2 * N).sum::<usize>());
    });
}

#[test]
fn try_select_commits_nothing_when_nothing_is_ready() {
    let (tx, rx) = gorun::chan::<u32>(0);
    let (tx2, _rx2) = gorun::chan::<u32>(0);
    let mut sel = Select::new();
    sel.recv(&rx);
    sel.send(&tx2, 5);
    assert_eq!(sel.try_select(), None);
    assert!(tx.try_send(1).is_err(), "no receiver was left parked");
}

#[test]
fn send_case_is_spent_after_it_completes() {
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan::<u32>(2);
        let mut sel = Select::new();
        let i = sel.send(&tx, 1);
        assert_eq!(sel.select().await, (i, Outcome::Sent(Ok(()))));
        assert_eq!(sel.try_select(), None, "the spent case takes no part");
        assert_eq!(rx.try_recv(), Ok(1));
        assert!(rx.try_recv().is_err(), "sent once");
    });
}

#[test]
fn send_case_gets_its_value_back_on_closed_channel() {
    let (tx, rx) = gorun::chan::<String>(0);
    drop(rx);
    let mut sel = Select::new();
    sel.send(&tx, "v".to_string());
    assert_eq!(
        sel.try_select(),
        Some((0, Outcome::Sent(Err(SendError("v".to_string())))))
    );
}

#[test]
fn dropped_select_future_loses_no_value() {
    let _w = watchdog(
        "dropped_select_future_loses_no_value",
        Duration::from_secs(10),
    );
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan::<u32>(0);
        let (_tx2, rx2) = gorun::chan::<u32>(0);
        let mut sel = Select::new();
        sel.recv(&rx);
        sel.recv(&rx2);
        assert!(sel.select().now_or_never().is_none());
        assert!(tx.try_send(1).is_err(), "the dropped future unregistered");
        let sender = gorun::spawn(async move { tx.send(2).await });
        let (i, out) = sel.select().await;
        assert_eq!((i, out), (0, Outcome::Received(Some(2))));
        sender.await.unwrap().unwrap();
    });
}

#[test]
fn leaked_select_future_is_withdrawn_by_the_next_call() {
    let (tx, rx) = gorun::chan::<u32>(0);
    let (_tx2, rx2) = gorun::chan::<u32>(0);
    let mut sel = Select::new();
    sel.recv(&rx);
    let mut fut = Box::pin(sel.select());
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    std::mem::forget(fut);
    // Adding a case withdraws the leaked registration first.
    sel.recv(&rx2);
    assert!(tx.try_send(1).is_err(), "no stale waiter is left parked");
    drop(sel);
}

#[test]
fn select_with_no_enabled_case_blocks_forever() {
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan::<u32>(1);
        tx.send(1).await.unwrap();
        let mut sel = Select::new();
        let i = sel.recv(&rx);
        sel.disable(i);
        let blocked = gorun::timeout(Duration::from_millis(20), sel.select()).await;
        assert!(blocked.is_err());
        let mut empty = Select::<u32>::new();
        let blocked = gorun::timeout(Duration::from_millis(20), empty.select()).await;
        assert!(blocked.is_err());
    });
}

#[test]
fn mixed_send_and_receive_cases_commit_one() {
    let _w = watchdog(
        "mixed_send_and_receive_cases_commit_one",
        Duration::from_secs(10),
    );
    runtime(2).block_on(async {
        let (tx_out, rx_out) = gorun::chan::<u32>(0);
        let (tx_in, rx_in) = gorun::chan::<u32>(0);
        let peer = gorun::spawn(async move {
            gorun::sleep(Duration::from_millis(10)).await;
            rx_out.recv().await
        });
        let mut sel = Select::new();
        let s = sel.send(&tx_out, 42);
        sel.recv(&rx_in);
        assert_eq!(sel.select().await, (s, Outcome::Sent(Ok(()))));
        assert_eq!(peer.await.unwrap(), Some(42));
        drop(tx_in);
    });
}

#[test]
fn send_committed_under_a_leaked_future_is_spent() {
    let (tx, rx) = gorun::chan::<u32>(0);
    let mut sel = Select::new();
    sel.send(&tx, 5);
    let mut fut = Box::pin(sel.select());
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    std::mem::forget(fut);
    assert_eq!(rx.try_recv(), Ok(5), "the parked send case was taken");
    // The next call withdraws the leaked select and finds the case spent.
    assert_eq!(sel.try_select(), None);
    assert!(rx.try_recv().is_err(), "sent once");
}
