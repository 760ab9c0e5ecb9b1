//! Dropping a runtime stops its workers and drops every task left.

mod common;

use std::time::Duration;

use common::{runtime, watchdog, DropCounter};

#[test]
fn dropping_the_runtime_drops_waiting_tasks_and_runs_their_destructors() {
    let _w = watchdog("runtime drop", Duration::from_secs(30));
    let drops = DropCounter::default();
    let rt = runtime(2);
    rt.block_on(async {
        for _ in 0..1_000 {
            let token = drops.token();
            drop(gorun::spawn(async move {
                let _token = token;
                std::future::pending::<()>().await
            }));
        }
        while gorun::num_goroutines() < 1_000 {
            gorun::yield_now().await;
        }
    });
    drop(rt);
    assert_eq!(drops.dropped(), 1_000);
}

#[test]
fn dropping_the_runtime_drops_tasks_that_keep_each_other_alive() {
    // Each task waits on a channel whose sender it holds itself: nothing
    // outside can ever wake it, and nothing outside holds it.
    let drops = DropCounter::default();
    let rt = runtime(2);
    rt.block_on(async {
        for _ in 0..100 {
            let token = drops.token();
            let (tx, mut rx) = futures::channel::mpsc::channel::<()>(1);
            drop(gorun::spawn(async move {
                let _keep = (tx, token);
                futures::StreamExt::next(&mut rx).await;
            }));
        }
        while gorun::num_goroutines() < 100 {
            gorun::yield_now().await;
        }
    });
    drop(rt);
    assert_eq!(drops.dropped(), 100);
}

#[test]
fn dropping_the_runtime_drops_queued_tasks_that_never_ran() {
    let drops = DropCounter::default();
    let rt = runtime(1);
    let token_source = drops.clone();
    let handles = rt
        .block_on(rt.spawn(async move {
            // One worker, busy here: these stay queued.
            (0..100)
                .map(|_| {
                    let token = token_source.token();
                    gorun::spawn(async move { drop(token) })
                })
                .collect::<Vec<_>>()
        }))
        .unwrap();
    // The worker may start on them once the root finishes; drop races it.
    drop(rt);
    assert_eq!(drops.dropped(), 100);
    for h in handles {
        // Each either ran or was cancelled by the drop.
        let _ = futures::executor::block_on(h);
    }
}

#[test]
fn a_handle_awaited_after_the_runtime_is_gone_reports_cancellation() {
    let rt = runtime(1);
    let handle = rt.spawn(std::future::pending::<()>());
    drop(rt);
    let err = futures::executor::block_on(handle).unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn a_waker_used_after_the_runtime_is_gone_drops_the_task() {
    let drops = DropCounter::default();
    let token = drops.token();
    let rt = runtime(1);
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    rt.block_on(async move {
        drop(gorun::spawn(async move {
            let _token = token;
            let _ = rx.await;
        }));
        gorun::yield_now().await;
    });
    drop(rt);
    assert_eq!(drops.dropped(), 1);
    // The sender's waker now points at a dropped task: sending is harmless.
    let _ = tx.send(());
}

#[cfg(target_os = "linux")]
#[test]
fn dropping_the_runtime_joins_its_worker_and_monitor_threads() {
    fn threads_named(prefix: &str) -> Vec<String> {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
            .filter(|name| name.starts_with(prefix))
            .collect()
    }
    let rt = gorun::Runtime::builder()
        .workers(3)
        .thread_name("dropme")
        .build()
        .unwrap();
    // Three workers and the blocking monitor. A thread names itself once
    // it starts running: wait for all four.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while threads_named("dropme-").len() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "workers never started"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(threads_named("dropme-").len(), 4);
    drop(rt);
    // `join` returns once a thread has released its memory, a moment
    // before the kernel removes it from `/proc/self/task` (about 1 run in
    // 200 still listed one): allow for that moment, not for a leak.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !threads_named("dropme-").is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(threads_named("dropme-"), Vec::<String>::new());
}
