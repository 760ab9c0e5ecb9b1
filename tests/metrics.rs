//! Runtime metrics: each counter counts what its name says.

mod common;

use std::time::Duration;

use common::runtime;
use gorun::Runtime;

#[test]
fn tasks_spawned_counts_every_spawn_from_workers_and_outside() {
    let rt = runtime(2);
    for _ in 0..5 {
        rt.block_on(rt.spawn(async {})).unwrap();
    }
    rt.block_on(async {
        for _ in 0..7 {
            gorun::spawn(async {}).await.unwrap();
        }
        gorun::spawn_blocking(|| ()).await.unwrap();
    });
    assert_eq!(rt.metrics().tasks_spawned, 13);
}

#[test]
fn tasks_alive_is_the_number_of_live_tasks() {
    let rt = runtime(2);
    let (tx, rx) = gorun::chan::<()>(0);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let rx = rx.clone();
            rt.spawn(async move { rx.recv().await })
        })
        .collect();
    assert_eq!(rt.metrics().tasks_alive, 4);
    drop(tx);
    for h in handles {
        rt.block_on(h).unwrap();
    }
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn polls_add_up_per_worker() {
    let rt = runtime(2);
    rt.block_on(async {
        for _ in 0..100 {
            gorun::spawn(async { gorun::yield_now().await })
                .await
                .unwrap();
        }
    });
    let m = rt.metrics();
    assert!(m.polls >= 200, "{m:?}");
    assert_eq!(m.per_worker.len(), 2);
    assert_eq!(m.per_worker.iter().map(|w| w.polls).sum::<u64>(), m.polls);
}

#[test]
fn a_woken_task_runs_from_the_lifo_slot() {
    let rt = runtime(1);
    rt.block_on(rt.spawn(async {
        let (ping_tx, ping_rx) = gorun::chan::<u32>(0);
        let (pong_tx, pong_rx) = gorun::chan::<u32>(0);
        gorun::spawn(async move {
            while let Some(v) = ping_rx.recv().await {
                pong_tx.send(v).await.unwrap();
            }
        });
        for i in 0..100 {
            ping_tx.send(i).await.unwrap();
            assert_eq!(pong_rx.recv().await, Some(i));
        }
    }))
    .unwrap();
    assert!(rt.metrics().lifo_hits > 0, "{:?}", rt.metrics());
}

#[test]
fn spawns_from_outside_go_through_the_injector() {
    let rt = runtime(2);
    let handles: Vec<_> = (0..10).map(|i| rt.spawn(async move { i })).collect();
    for h in handles {
        rt.block_on(h).unwrap();
    }
    assert!(rt.metrics().injector_pushes >= 10);
}

#[test]
fn idle_workers_are_counted_parking_and_waking() {
    let rt = runtime(2);
    for _ in 0..5 {
        rt.block_on(rt.spawn(async {})).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    let m = rt.metrics();
    assert!(m.parks > 0 && m.unparks > 0, "{m:?}");
}

#[test]
fn a_spent_budget_is_counted_as_a_forced_yield() {
    let rt = Runtime::builder().workers(1).budget(16).build().unwrap();
    rt.block_on(rt.spawn(async {
        for _ in 0..1000 {
            gorun::consume_budget().await;
        }
    }))
    .unwrap();
    let yields = rt.metrics().budget_yields;
    assert!(
        (1000 / 16 - 2..=1000 / 16 + 2).contains(&yields),
        "{yields}"
    );
}

#[test]
fn timers_are_counted_when_armed_and_pending() {
    let rt = runtime(2);
    rt.block_on(async {
        let before = gorun::metrics();
        let sleeps: Vec<_> = (0..3)
            .map(|_| gorun::spawn(gorun::sleep(Duration::from_millis(30))))
            .collect();
        while gorun::metrics().timers_pending < 3 {
            gorun::yield_now().await;
        }
        for s in sleeps {
            s.await.unwrap();
        }
        let after = gorun::metrics();
        assert!(after.timers_armed >= before.timers_armed + 3);
        assert_eq!(after.timers_pending, 0);
        assert!(after.reactor_wakeups > before.reactor_wakeups);
    });
}

#[test]
fn steals_are_counted_when_one_task_fans_out() {
    let rt = runtime(2);
    let mut steals = 0;
    for _ in 0..50 {
        rt.block_on(rt.spawn(async {
            let hs: Vec<_> = (0..1000)
                .map(|_| {
                    gorun::spawn(async {
                        std::hint::black_box((0..200u64).sum::<u64>());
                    })
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
        }))
        .unwrap();
        steals = rt.metrics().steals;
        if steals > 0 {
            break;
        }
    }
    assert!(steals > 0);
}
