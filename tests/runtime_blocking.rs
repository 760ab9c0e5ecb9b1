//! `spawn_blocking`: blocking work on a separate pool of threads.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{panic_message, runtime, watchdog, DropCounter};

#[test]
fn spawn_blocking_returns_the_value() {
    let rt = runtime(1);
    let v = rt.block_on(async { gorun::spawn_blocking(|| 6 * 7).await.unwrap() });
    assert_eq!(v, 42);
}

#[test]
fn spawn_blocking_runs_off_the_worker_threads() {
    let rt = gorun::Runtime::builder()
        .workers(1)
        .thread_name("pool")
        .build()
        .unwrap();
    let name = rt.block_on(async {
        gorun::spawn_blocking(|| std::thread::current().name().unwrap().to_owned())
            .await
            .unwrap()
    });
    assert!(name.starts_with("pool-blocking-"), "{name}");
}

#[test]
fn a_panic_in_a_blocking_task_is_reported_by_its_handle() {
    let rt = runtime(1);
    rt.block_on(async {
        let err = gorun::spawn_blocking(|| panic!("blocking boom"))
            .await
            .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(panic_message(&*err.into_panic()), "blocking boom");
    });
}

#[test]
fn a_thousand_blocking_sleeps_do_not_stall_async_tasks() {
    let _w = watchdog("blocking sleeps", Duration::from_secs(120));
    let rt = runtime(2);
    rt.block_on(async {
        let finished = Arc::new(AtomicUsize::new(0));
        let blocking: Vec<_> = (0..1_000)
            .map(|_| {
                let finished = finished.clone();
                gorun::spawn_blocking(move || {
                    std::thread::sleep(Duration::from_millis(200));
                    finished.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        // Meanwhile the workers keep running async tasks: 20 short sleeps
        // finish long before the 1,000 blocking calls (which need two
        // rounds of the 512-thread pool).
        let ticker = gorun::spawn(async {
            for _ in 0..20 {
                gorun::sleep(Duration::from_millis(1)).await;
            }
        });
        ticker.await.unwrap();
        assert!(
            finished.load(Ordering::SeqCst) < 1_000,
            "async work waited for the blocking calls"
        );
        for h in blocking {
            h.await.unwrap();
        }
        assert_eq!(finished.load(Ordering::SeqCst), 1_000);
    });
}

#[test]
fn the_blocking_pool_never_exceeds_its_thread_cap() {
    let rt = gorun::Runtime::builder()
        .workers(1)
        .max_blocking_threads(2)
        .build()
        .unwrap();
    let peak = rt.block_on(async {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..10)
            .map(|_| {
                let (running, peak) = (running.clone(), peak.clone());
                gorun::spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(10));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        peak.load(Ordering::SeqCst)
    });
    assert!(peak <= 2, "peak {peak}");
}

#[test]
fn spawn_blocking_outside_a_runtime_uses_the_global_one() {
    let handle = gorun::spawn_blocking(|| "ok");
    assert_eq!(futures::executor::block_on(handle).unwrap(), "ok");
}

#[test]
fn dropping_the_runtime_waits_for_running_blocking_tasks_and_cancels_queued_ones() {
    let drops = DropCounter::default();
    let finished = Arc::new(AtomicUsize::new(0));
    let rt = gorun::Runtime::builder()
        .workers(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let running = {
        let finished = finished.clone();
        rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(50));
            finished.fetch_add(1, Ordering::SeqCst);
        })
    };
    started_rx.recv().unwrap();
    let token = drops.token();
    let queued = rt.spawn_blocking(move || drop(token));
    drop(rt);
    assert_eq!(
        finished.load(Ordering::SeqCst),
        1,
        "the running task was not waited for"
    );
    assert_eq!(drops.dropped(), 1, "the queued task was not dropped");
    assert!(futures::executor::block_on(running).is_ok());
    assert!(futures::executor::block_on(queued)
        .unwrap_err()
        .is_cancelled());
}
