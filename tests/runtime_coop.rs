//! Cooperative scheduling: `yield_now`, `consume_budget` and the budget.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{runtime, watchdog};

#[test]
fn a_task_looping_on_yield_now_does_not_starve_another_on_one_worker() {
    let _w = watchdog("yield_now starvation", Duration::from_secs(30));
    let rt = runtime(1);
    rt.block_on(rt.spawn(async {
        let flag = Arc::new(AtomicBool::new(false));
        let setter = {
            let flag = flag.clone();
            gorun::spawn(async move { flag.store(true, Ordering::SeqCst) })
        };
        while !flag.load(Ordering::SeqCst) {
            gorun::yield_now().await;
        }
        setter.await.unwrap();
    }))
    .unwrap();
}

#[test]
fn a_task_looping_on_consume_budget_does_not_starve_another_on_one_worker() {
    let _w = watchdog("consume_budget starvation", Duration::from_secs(30));
    let rt = runtime(1);
    rt.block_on(rt.spawn(async {
        let flag = Arc::new(AtomicBool::new(false));
        let setter = {
            let flag = flag.clone();
            gorun::spawn(async move { flag.store(true, Ordering::SeqCst) })
        };
        let mut spins = 0u64;
        while !flag.load(Ordering::SeqCst) {
            gorun::consume_budget().await;
            spins += 1;
        }
        setter.await.unwrap();
        assert!(spins >= 1);
    }))
    .unwrap();
}

#[test]
fn consume_budget_yields_after_the_configured_budget() {
    let rt = gorun::Runtime::builder()
        .workers(1)
        .budget(10)
        .build()
        .unwrap();
    rt.block_on(rt.spawn(async {
        let counter = Arc::new(AtomicUsize::new(0));
        let observer = {
            let counter = counter.clone();
            gorun::spawn(async move { counter.load(Ordering::SeqCst) })
        };
        // The observer was queued before the loop; with a budget of 10 it
        // runs once this task has spent its 10 units and yields.
        for _ in 0..25 {
            gorun::consume_budget().await;
            counter.fetch_add(1, Ordering::SeqCst);
        }
        assert_eq!(observer.await.unwrap(), 10);
    }))
    .unwrap();
}

#[test]
fn yield_now_lets_every_queued_task_run_first() {
    let rt = runtime(1);
    let order = rt
        .block_on(rt.spawn(async {
            let order = Arc::new(Mutex::new(Vec::new()));
            let handles: Vec<_> = (0..3)
                .map(|i| {
                    let order = order.clone();
                    gorun::spawn(async move { order.lock().unwrap().push(i) })
                })
                .collect();
            gorun::yield_now().await;
            order.lock().unwrap().push(99);
            for h in handles {
                h.await.unwrap();
            }
            Arc::try_unwrap(order).unwrap().into_inner().unwrap()
        }))
        .unwrap();
    assert_eq!(order, vec![0, 1, 2, 99]);
}

#[test]
fn consume_budget_outside_a_runtime_never_blocks() {
    futures::executor::block_on(async {
        for _ in 0..10_000 {
            gorun::consume_budget().await;
        }
    });
}
