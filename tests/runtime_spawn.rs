//! Spawning and joining tasks.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{runtime, watchdog};

#[test]
fn one_million_tasks_spawn_and_join() {
    let _w = watchdog("one_million_tasks", Duration::from_secs(120));
    let rt = runtime(2);
    let sum = rt.block_on(rt.spawn(async {
        let handles: Vec<_> = (0..1_000_000u64)
            .map(|i| gorun::spawn(async move { i }))
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    }));
    assert_eq!(sum.unwrap(), 1_000_000 * 999_999 / 2);
}

#[test]
fn nested_spawns_form_a_tree_that_joins() {
    fn tree(depth: u32) -> gorun::JoinHandle<u64> {
        gorun::spawn(async move {
            if depth == 0 {
                return 1;
            }
            let left = tree(depth - 1);
            let right = tree(depth - 1);
            left.await.unwrap() + right.await.unwrap()
        })
    }
    let rt = runtime(2);
    assert_eq!(rt.block_on(async { tree(12).await.unwrap() }), 4096);
}

#[test]
fn spawn_from_a_plain_thread_runs_on_the_global_runtime() {
    let handle = std::thread::spawn(|| {
        gorun::spawn(async { std::thread::current().name().map(str::to_owned) })
    })
    .join()
    .unwrap();
    let name = futures::executor::block_on(handle).unwrap().unwrap();
    assert!(name.starts_with("gorun-worker-"), "ran on {name}");
}

#[test]
fn spawn_inside_block_on_uses_that_runtime() {
    let rt = gorun::Runtime::builder()
        .workers(1)
        .thread_name("mine")
        .build()
        .unwrap();
    let name = rt.block_on(async {
        gorun::spawn(async { std::thread::current().name().unwrap().to_owned() })
            .await
            .unwrap()
    });
    assert_eq!(name, "mine-0");
}

#[test]
fn spawn_inside_a_task_uses_the_task_runtime() {
    let rt = gorun::Runtime::builder()
        .workers(2)
        .thread_name("inner")
        .build()
        .unwrap();
    let name = rt.block_on(rt.spawn(async {
        gorun::spawn(async { std::thread::current().name().unwrap().to_owned() })
            .await
            .unwrap()
    }));
    assert!(name.unwrap().starts_with("inner-"));
}

#[test]
fn dropping_the_handle_detaches_the_task_which_keeps_running() {
    let rt = runtime(2);
    let (tx, rx) = std::sync::mpsc::channel();
    rt.block_on(async move {
        let (go_tx, go_rx) = futures::channel::oneshot::channel::<()>();
        drop(gorun::spawn(async move {
            go_rx.await.unwrap();
            tx.send("still running").unwrap();
        }));
        go_tx.send(()).unwrap();
    });
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)),
        Ok("still running")
    );
}

#[test]
fn task_ids_are_unique() {
    let rt = runtime(2);
    let ids: HashSet<u64> = rt.block_on(async {
        let handles: Vec<_> = (0..10_000).map(|_| gorun::spawn(async {})).collect();
        handles.iter().map(|h| h.id().as_u64()).collect()
    });
    assert_eq!(ids.len(), 10_000);
}

#[test]
fn is_finished_turns_true_when_the_task_completes() {
    let rt = runtime(1);
    rt.block_on(async {
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        let handle = gorun::spawn(async move { rx.await.unwrap() });
        gorun::yield_now().await;
        assert!(!handle.is_finished());
        tx.send(()).unwrap();
        while !handle.is_finished() {
            gorun::yield_now().await;
        }
        handle.await.unwrap();
    });
}

#[test]
fn block_on_can_be_called_again_after_it_returns() {
    let rt = runtime(2);
    for i in 0..10 {
        assert_eq!(
            rt.block_on(async move { gorun::spawn(async move { i }).await.unwrap() }),
            i
        );
    }
}

#[test]
fn run_can_be_called_from_several_threads_at_once() {
    let done = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let done = done.clone();
            std::thread::spawn(move || {
                gorun::run(async move {
                    let hs: Vec<_> = (0..100).map(|i| gorun::spawn(async move { i })).collect();
                    for h in hs {
                        h.await.unwrap();
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(done.load(Ordering::SeqCst), 4);
}

#[test]
fn runtime_new_uses_default_settings() {
    let rt = gorun::Runtime::new().unwrap();
    assert_eq!(rt.block_on(async { 5 }), 5);
}
