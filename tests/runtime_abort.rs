//! Cancelling tasks with `JoinHandle::abort`.

mod common;

use std::future::pending;

use common::{runtime, DropCounter};

#[test]
fn abort_of_a_waiting_task_runs_its_destructors_and_reports_cancellation() {
    let rt = runtime(2);
    let drops = DropCounter::default();
    let token = drops.token();
    rt.block_on(async move {
        let (started_tx, started_rx) = futures::channel::oneshot::channel();
        let handle = gorun::spawn(async move {
            let _token = token;
            started_tx.send(()).unwrap();
            pending::<()>().await
        });
        started_rx.await.unwrap();
        handle.abort();
        let err = handle.await.unwrap_err();
        assert!(err.is_cancelled());
        assert!(!err.is_panic());
    });
    assert_eq!(drops.dropped(), 1);
}

#[test]
fn abort_of_a_task_that_never_ran_drops_it_unpolled() {
    let rt = runtime(1);
    let drops = DropCounter::default();
    let token = drops.token();
    rt.block_on(rt.spawn(async move {
        // One worker, busy with this task: the spawned one cannot run yet.
        let handle = gorun::spawn(async move {
            let _token = token;
            unreachable!("an aborted task must not be polled");
        });
        handle.abort();
        assert!(handle.await.unwrap_err().is_cancelled());
    }))
    .unwrap();
    assert_eq!(drops.dropped(), 1);
}

#[test]
fn abort_after_completion_keeps_the_output() {
    let rt = runtime(1);
    rt.block_on(async {
        let handle = gorun::spawn(async { 7 });
        while !handle.is_finished() {
            gorun::yield_now().await;
        }
        handle.abort();
        assert_eq!(handle.await.unwrap(), 7);
    });
}

#[test]
fn aborting_twice_is_harmless() {
    let rt = runtime(2);
    rt.block_on(async {
        let handle = gorun::spawn(pending::<()>());
        handle.abort();
        handle.abort();
        assert!(handle.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn abort_racing_with_the_first_wait_is_never_missed() {
    let rt = runtime(2);
    rt.block_on(async {
        for _ in 0..2_000 {
            let handle = gorun::spawn(async {
                gorun::yield_now().await;
                pending::<()>().await
            });
            handle.abort();
            assert!(handle.await.unwrap_err().is_cancelled());
        }
    });
    assert_eq!(rt.num_goroutines(), 0);
}

#[test]
fn cancelled_join_error_displays_the_task_id() {
    let rt = runtime(1);
    rt.block_on(async {
        let handle = gorun::spawn(pending::<()>());
        let id = handle.id();
        handle.abort();
        let err = handle.await.unwrap_err();
        assert_eq!(err.id(), id);
        assert_eq!(err.to_string(), format!("task {id} was cancelled"));
        assert!(err.try_into_panic().is_err());
    });
}
