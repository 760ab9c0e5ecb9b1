//! `gorun::sync::WaitGroup`: Go's `sync.WaitGroup` semantics, `go`, reuse
//! and the cooperative budget.

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use common::{panic_message, runtime, watchdog};
use gorun::sync::WaitGroup;

/// Polls `future` once with a waker that does nothing, outside any
/// runtime (so with an unlimited budget).
fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(futures::task::noop_waker_ref()))
}

#[test]
fn waits_for_100_000_tasks() {
    const TASKS: usize = 100_000;
    let _w = watchdog("waits_for_100_000_tasks", Duration::from_secs(60));
    let rt = runtime(2);
    let finished = rt.block_on(async {
        let wg = WaitGroup::new();
        let finished = Arc::new(AtomicUsize::new(0));
        wg.add(TASKS);
        for _ in 0..TASKS {
            let (wg, finished) = (wg.clone(), finished.clone());
            gorun::spawn(async move {
                finished.fetch_add(1, Ordering::Relaxed);
                wg.done();
            });
        }
        wg.wait().await;
        finished.load(Ordering::Relaxed)
    });
    assert_eq!(finished, TASKS);
}

#[test]
fn done_below_zero_panics_with_gos_message() {
    let wg = WaitGroup::new();
    wg.add(1);
    wg.done();
    let err = std::panic::catch_unwind(|| wg.done()).unwrap_err();
    assert_eq!(panic_message(&*err), "sync: negative WaitGroup counter");
    // The counter is left at zero, and the group still works.
    assert!(poll_once(pin!(wg.wait())).is_ready());
    wg.add(1);
    assert!(poll_once(pin!(wg.wait())).is_pending());
    wg.done();
    assert!(poll_once(pin!(wg.wait())).is_ready());
}

#[test]
fn add_past_the_32_bit_counter_panics() {
    let wg = WaitGroup::new();
    wg.add(u32::MAX as usize);
    let err = std::panic::catch_unwind(|| wg.add(1)).unwrap_err();
    assert_eq!(panic_message(&*err), "sync: WaitGroup counter overflow");
}

#[test]
fn wait_with_a_zero_counter_returns_at_once() {
    let wg = WaitGroup::new();
    assert!(poll_once(pin!(wg.wait())).is_ready());
    wg.add(3);
    for _ in 0..3 {
        wg.done();
    }
    assert!(poll_once(pin!(wg.wait())).is_ready());
    wg.add(0);
    assert!(poll_once(pin!(wg.wait())).is_ready());
}

#[test]
fn every_waiter_is_released_when_the_counter_reaches_zero() {
    let _w = watchdog("every_waiter_is_released", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let wg = WaitGroup::new();
        wg.add(1);
        let waiters: Vec<_> = (0..50)
            .map(|_| {
                let wg = wg.clone();
                gorun::spawn(async move { wg.wait().await })
            })
            .collect();
        gorun::yield_now().await;
        wg.done();
        for w in waiters {
            w.await.unwrap();
        }
    });
}

#[test]
fn a_wait_group_is_reusable_after_wait_returns() {
    let _w = watchdog("reuse", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let wg = WaitGroup::new();
        let count = Arc::new(AtomicUsize::new(0));
        for round in 1..=100 {
            wg.add(10);
            for _ in 0..10 {
                let (wg, count) = (wg.clone(), count.clone());
                gorun::spawn(async move {
                    count.fetch_add(1, Ordering::Relaxed);
                    wg.done();
                });
            }
            wg.wait().await;
            assert_eq!(count.load(Ordering::Relaxed), round * 10);
        }
    });
}

#[test]
fn a_waiter_of_a_finished_round_is_released_even_if_a_new_round_started() {
    let wg = WaitGroup::new();
    wg.add(1);
    let mut wait = pin!(wg.wait());
    assert!(poll_once(wait.as_mut()).is_pending());
    // The round ends and the next begins before the waiter runs again.
    wg.done();
    wg.add(1);
    assert!(poll_once(wait.as_mut()).is_ready());
    // A waiter of the new round waits for the new round.
    assert!(poll_once(pin!(wg.wait())).is_pending());
}

#[test]
fn go_tracks_the_task_and_returns_its_handle() {
    let rt = runtime(2);
    rt.block_on(async {
        let wg = WaitGroup::new();
        let flag = Arc::new(AtomicBool::new(false));
        let handle = {
            let flag = flag.clone();
            wg.go(async move {
                gorun::yield_now().await;
                flag.store(true, Ordering::SeqCst);
                7
            })
        };
        wg.wait().await;
        assert!(flag.load(Ordering::SeqCst));
        assert_eq!(handle.await.unwrap(), 7);
    });
}

#[test]
fn go_counts_a_panicking_task_as_done() {
    let _w = watchdog(
        "go_counts_a_panicking_task_as_done",
        Duration::from_secs(30),
    );
    let rt = runtime(2);
    rt.block_on(async {
        let wg = WaitGroup::new();
        let panicked = wg.go(async {
            gorun::yield_now().await;
            panic!("task failed");
        });
        let fine = wg.go(async { 1 });
        wg.wait().await;
        assert!(panicked.await.unwrap_err().is_panic());
        assert_eq!(fine.await.unwrap(), 1);
    });
}

#[test]
fn go_counts_an_aborted_task_as_done() {
    let _w = watchdog("go_counts_an_aborted_task_as_done", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let wg = WaitGroup::new();
        let forever = wg.go(std::future::pending::<()>());
        forever.abort();
        wg.wait().await;
        assert!(forever.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn a_dropped_wait_leaves_the_group_usable() {
    let wg = WaitGroup::new();
    wg.add(1);
    {
        let mut wait = pin!(wg.wait());
        assert!(poll_once(wait.as_mut()).is_pending());
    }
    let mut wait = pin!(wg.wait());
    assert!(poll_once(wait.as_mut()).is_pending());
    wg.done();
    assert!(poll_once(wait.as_mut()).is_ready());
}

#[test]
fn a_task_looping_on_a_ready_wait_does_not_starve_another_on_one_worker() {
    let _w = watchdog("wait_group budget", Duration::from_secs(30));
    let rt = runtime(1);
    let loops = rt
        .block_on(rt.spawn(async {
            let flag = Arc::new(AtomicBool::new(false));
            let setter = {
                let flag = flag.clone();
                gorun::spawn(async move { flag.store(true, Ordering::SeqCst) })
            };
            let wg = WaitGroup::new();
            let mut loops = 0u64;
            while !flag.load(Ordering::SeqCst) {
                wg.wait().await;
                loops += 1;
            }
            setter.await.unwrap();
            loops
        }))
        .unwrap();
    assert!(loops > 0);
}

#[test]
fn wait_group_and_its_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let wg = WaitGroup::new();
    send_sync(&wg);
    send_sync(&wg.wait());
}
