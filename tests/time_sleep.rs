//! `sleep`, `sleep_until` and `timeout`. Assertions are about order and
//! lower bounds only: the machine may be loaded, so upper bounds would be
//! flaky.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{runtime, watchdog};

#[test]
fn sleep_waits_at_least_its_duration() {
    let rt = runtime(2);
    rt.block_on(async {
        let start = Instant::now();
        gorun::sleep(Duration::from_millis(20)).await;
        assert!(start.elapsed() >= Duration::from_millis(20));
    });
}

#[test]
fn sleeps_complete_in_deadline_order() {
    let _w = watchdog("sleep order", Duration::from_secs(30));
    let rt = runtime(2);
    let order = rt.block_on(async {
        let order = Arc::new(Mutex::new(Vec::new()));
        let handles: Vec<_> = [60u64, 20, 40]
            .into_iter()
            .map(|ms| {
                let order = order.clone();
                gorun::spawn(async move {
                    gorun::sleep(Duration::from_millis(ms)).await;
                    order.lock().unwrap().push(ms);
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        Arc::try_unwrap(order).unwrap().into_inner().unwrap()
    });
    assert_eq!(order, vec![20, 40, 60]);
}

#[test]
fn one_hundred_thousand_concurrent_sleeps_all_complete() {
    let _w = watchdog("100k sleeps", Duration::from_secs(120));
    let rt = runtime(2);
    let start = Instant::now();
    let done = rt.block_on(rt.spawn(async {
        let handles: Vec<_> = (0..100_000u64)
            .map(|i| {
                gorun::spawn(async move { gorun::sleep(Duration::from_millis(i % 100 + 1)).await })
            })
            .collect();
        let n = handles.len();
        for h in handles {
            h.await.unwrap();
        }
        n
    }));
    assert_eq!(done.unwrap(), 100_000);
    assert!(start.elapsed() >= Duration::from_millis(100));
}

#[test]
fn a_zero_sleep_and_a_past_deadline_complete_without_waiting_for_a_timer() {
    let rt = runtime(1);
    rt.block_on(async {
        gorun::sleep(Duration::ZERO).await;
        gorun::sleep_until(Instant::now() - Duration::from_secs(1)).await;
    });
}

#[test]
fn sleep_works_outside_any_runtime() {
    let start = Instant::now();
    futures::executor::block_on(gorun::sleep(Duration::from_millis(10)));
    assert!(start.elapsed() >= Duration::from_millis(10));
}

#[test]
fn reset_moves_the_deadline() {
    let rt = runtime(1);
    rt.block_on(async {
        let mut nap = Box::pin(gorun::sleep(Duration::from_secs(3600)));
        let target = Instant::now() + Duration::from_millis(10);
        nap.as_mut().reset(target);
        assert_eq!(nap.deadline(), target);
        nap.as_mut().await;
        assert!(Instant::now() >= target);
        // A completed sleep can be reset and awaited again.
        let again = Instant::now() + Duration::from_millis(5);
        nap.as_mut().reset(again);
        nap.await;
        assert!(Instant::now() >= again);
    });
}

#[test]
fn timeout_of_a_never_ready_future_elapses() {
    let rt = runtime(1);
    rt.block_on(async {
        let start = Instant::now();
        let result = gorun::timeout(Duration::from_millis(15), std::future::pending::<()>()).await;
        assert!(result.is_err());
        assert!(start.elapsed() >= Duration::from_millis(15));
        assert_eq!(result.unwrap_err().to_string(), "deadline has elapsed");
    });
}

#[test]
fn timeout_returns_the_output_of_a_future_that_finishes_first() {
    let rt = runtime(1);
    rt.block_on(async {
        let quick = async {
            gorun::sleep(Duration::from_millis(1)).await;
            "done"
        };
        assert_eq!(
            gorun::timeout(Duration::from_secs(3600), quick).await,
            Ok("done")
        );
    });
}

#[test]
fn timeout_drops_the_inner_future_when_it_elapses() {
    let drops = common::DropCounter::default();
    let token = drops.token();
    let rt = runtime(1);
    rt.block_on(async move {
        let slow = async move {
            let _token = token;
            std::future::pending::<()>().await
        };
        assert!(gorun::timeout(Duration::from_millis(1), slow)
            .await
            .is_err());
    });
    assert_eq!(drops.dropped(), 1);
}

#[test]
fn timers_fire_while_every_worker_is_busy() {
    let _w = watchdog("timers under load", Duration::from_secs(60));
    let rt = runtime(1);
    rt.block_on(rt.spawn(async {
        let order = Arc::new(Mutex::new(Vec::new()));
        let sleeper = {
            let order = order.clone();
            gorun::spawn(async move {
                gorun::sleep(Duration::from_millis(5)).await;
                order.lock().unwrap().push("sleeper woke");
            })
        };
        // Keep the only worker busy (yielding through the budget, so it
        // never runs out of work and never parks) until the sleeper wakes.
        // Only the busy worker's maintenance ticks can fire the timer; if
        // they did not, this loop would never end and the watchdog fails
        // the test.
        while order.lock().unwrap().is_empty() {
            gorun::consume_budget().await;
        }
        sleeper.await.unwrap();
        assert_eq!(*order.lock().unwrap(), ["sleeper woke"]);
    }))
    .unwrap();
}

#[test]
fn dropping_the_runtime_drops_sleeping_tasks() {
    let drops = common::DropCounter::default();
    let rt = runtime(2);
    rt.block_on(async {
        for _ in 0..100 {
            let token = drops.token();
            drop(gorun::spawn(async move {
                let _token = token;
                gorun::sleep(Duration::from_secs(3600)).await;
            }));
        }
        while gorun::num_goroutines() < 100 {
            gorun::yield_now().await;
        }
        gorun::sleep(Duration::from_millis(5)).await;
    });
    drop(rt);
    assert_eq!(drops.dropped(), 100);
}

#[test]
fn after_func_runs_once_after_the_duration() {
    let _w = watchdog("after_func", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let runs = Arc::new(Mutex::new(Vec::new()));
        let start = Instant::now();
        let log = runs.clone();
        let timer = gorun::time::after_func(Duration::from_millis(10), move || {
            log.lock().unwrap().push(start.elapsed());
        });
        while runs.lock().unwrap().is_empty() {
            gorun::sleep(Duration::from_millis(1)).await;
        }
        gorun::sleep(Duration::from_millis(20)).await;
        let runs = runs.lock().unwrap();
        assert_eq!(runs.len(), 1);
        assert!(runs[0] >= Duration::from_millis(10));
        assert!(!timer.stop(), "stop after it ran reports false");
    });
}

#[test]
fn after_func_stop_prevents_the_call() {
    let rt = runtime(1);
    rt.block_on(async {
        let ran = Arc::new(Mutex::new(false));
        let flag = ran.clone();
        let timer = gorun::time::after_func(Duration::from_millis(5), move || {
            *flag.lock().unwrap() = true
        });
        assert!(timer.stop());
        gorun::sleep(Duration::from_millis(20)).await;
        assert!(!*ran.lock().unwrap());
    });
}

#[test]
fn dropping_the_after_func_handle_does_not_stop_it() {
    let rt = runtime(1);
    rt.block_on(async {
        let (tx, rx) = futures::channel::oneshot::channel();
        drop(gorun::time::after_func(
            Duration::from_millis(1),
            move || tx.send(()).unwrap(),
        ));
        rx.await.unwrap();
    });
}

/// A timer armed from outside the workers while one of them is about to
/// block in the reactor is never slept past: the driver either sees the new
/// deadline or is interrupted (a lost wake-up here hung the runtime).
#[test]
fn sleeps_armed_from_block_on_while_workers_go_idle_all_fire() {
    let _w = watchdog("sleeps from block_on", Duration::from_secs(60));
    let rt = runtime(2);
    rt.block_on(async {
        for _ in 0..1000 {
            gorun::sleep(Duration::from_micros(500)).await;
        }
    });
}
