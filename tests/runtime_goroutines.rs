//! `num_goroutines` counts live spawned tasks exactly.

mod common;

use common::runtime;

#[test]
fn num_goroutines_counts_waiting_tasks_and_drops_to_zero_after_they_finish() {
    let rt = runtime(2);
    rt.block_on(async {
        assert_eq!(
            gorun::num_goroutines(),
            0,
            "the block_on root is not counted"
        );
        let (senders, handles): (Vec<_>, Vec<_>) = (0..100)
            .map(|_| {
                let (tx, rx) = futures::channel::oneshot::channel::<()>();
                (tx, gorun::spawn(async move { rx.await.unwrap() }))
            })
            .unzip();
        assert_eq!(gorun::num_goroutines(), 100);
        for tx in senders {
            tx.send(()).unwrap();
        }
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(gorun::num_goroutines(), 0);
    });
}

#[test]
fn num_goroutines_inside_a_task_counts_that_task() {
    let rt = runtime(1);
    let n = rt
        .block_on(rt.spawn(async { gorun::num_goroutines() }))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn num_goroutines_counts_queued_tasks_that_have_not_run() {
    let rt = runtime(1);
    rt.block_on(rt.spawn(async {
        // One worker, busy here: the spawned tasks stay queued.
        let handles: Vec<_> = (0..50).map(|_| gorun::spawn(async {})).collect();
        assert_eq!(gorun::num_goroutines(), 51);
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(gorun::num_goroutines(), 1);
    }))
    .unwrap();
    assert_eq!(rt.num_goroutines(), 0);
}

#[test]
fn panicked_and_aborted_tasks_are_no_longer_counted() {
    let rt = runtime(2);
    rt.block_on(async {
        let panicked = gorun::spawn(async { panic!("gone") });
        let aborted = gorun::spawn(std::future::pending::<()>());
        aborted.abort();
        assert!(panicked.await.is_err());
        assert!(aborted.await.is_err());
        assert_eq!(gorun::num_goroutines(), 0);
    });
}

#[test]
fn detached_tasks_are_counted_until_they_finish() {
    let rt = runtime(2);
    rt.block_on(async {
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        let (done_tx, done_rx) = futures::channel::oneshot::channel::<()>();
        drop(gorun::spawn(async move {
            rx.await.unwrap();
            done_tx.send(()).unwrap();
        }));
        assert_eq!(gorun::num_goroutines(), 1);
        tx.send(()).unwrap();
        done_rx.await.unwrap();
        // The task has sent, but its future may not be dropped yet.
        while gorun::num_goroutines() != 0 {
            gorun::yield_now().await;
        }
    });
}
