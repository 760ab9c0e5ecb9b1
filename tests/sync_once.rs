//! `gorun::sync::Once`: exactly once, waiting callers, cancellation of the
//! running caller, Go's rule for panics, and the cooperative budget.

mod common;

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use common::{runtime, watchdog};
use gorun::sync::Once;

/// Polls `future` once with a waker that does nothing, outside any
/// runtime (so with an unlimited budget).
fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(futures::task::noop_waker_ref()))
}

#[test]
fn runs_exactly_once_with_100_concurrent_callers() {
    let _w = watchdog("once 100 callers", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let once = Arc::new(Once::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let initialized = Arc::new(AtomicBool::new(false));
        let callers: Vec<_> = (0..100)
            .map(|_| {
                let (once, runs, initialized) = (once.clone(), runs.clone(), initialized.clone());
                gorun::spawn(async move {
                    once.call_once(|| async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        // Take a while, so that others arrive meanwhile.
                        for _ in 0..10 {
                            gorun::yield_now().await;
                        }
                        initialized.store(true, Ordering::SeqCst);
                    })
                    .await;
                    // Every caller returns only after the initializer has finished.
                    assert!(initialized.load(Ordering::SeqCst));
                })
            })
            .collect();
        for c in callers {
            c.await.unwrap();
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(once.is_completed());
    });
}

#[test]
fn callers_wait_for_the_running_initializer_to_finish() {
    let once = Once::new();
    let (release, released) = futures::channel::oneshot::channel::<()>();
    let mut first = pin!(once.call_once(|| async {
        released.await.unwrap();
    }));
    let mut second = pin!(once.call_once(|| async { unreachable!("ran a second time") }));
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    assert!(!once.is_completed());
    release.send(()).unwrap();
    // The initializer can finish, but only its runner drives it.
    assert!(poll_once(second.as_mut()).is_pending());
    assert!(poll_once(first.as_mut()).is_ready());
    assert!(once.is_completed());
    assert!(poll_once(second.as_mut()).is_ready());
}

#[test]
fn a_completed_once_returns_at_once_without_running_the_initializer() {
    let once = Once::new();
    assert!(poll_once(pin!(once.call_once(|| async {}))).is_ready());
    let ran = AtomicBool::new(false);
    assert!(poll_once(pin!(
        once.call_once(|| async { ran.store(true, Ordering::SeqCst) })
    ))
    .is_ready());
    assert!(!ran.load(Ordering::SeqCst));
}

#[test]
fn cancelling_the_running_caller_lets_a_waiting_caller_run_its_initializer() {
    let once = Once::new();
    let first_finished = AtomicBool::new(false);
    let second_ran = AtomicBool::new(false);
    let mut second = pin!(once.call_once(|| async { second_ran.store(true, Ordering::SeqCst) }));
    {
        let mut first = pin!(once.call_once(|| async {
            std::future::pending::<()>().await;
            first_finished.store(true, Ordering::SeqCst);
        }));
        assert!(poll_once(first.as_mut()).is_pending());
        assert!(poll_once(second.as_mut()).is_pending());
        assert!(!second_ran.load(Ordering::SeqCst));
    }
    assert!(!once.is_completed());
    assert!(poll_once(second.as_mut()).is_ready());
    assert!(second_ran.load(Ordering::SeqCst));
    assert!(!first_finished.load(Ordering::SeqCst));
    assert!(once.is_completed());
}

#[test]
fn cancelling_the_running_task_lets_another_task_run_it() {
    let _w = watchdog("once cancel across tasks", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let once = Arc::new(Once::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(AtomicBool::new(false));
        let stuck = {
            let (once, started) = (once.clone(), started.clone());
            gorun::spawn(async move {
                once.call_once(|| async {
                    started.store(true, Ordering::SeqCst);
                    std::future::pending::<()>().await;
                })
                .await;
            })
        };
        while !started.load(Ordering::SeqCst) {
            gorun::yield_now().await;
        }
        let waiters: Vec<_> = (0..10)
            .map(|_| {
                let (once, runs) = (once.clone(), runs.clone());
                gorun::spawn(async move {
                    once.call_once(|| async {
                        runs.fetch_add(1, Ordering::SeqCst);
                    })
                    .await;
                })
            })
            .collect();
        stuck.abort();
        assert!(stuck.await.unwrap_err().is_cancelled());
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(once.is_completed());
    });
}

#[test]
fn a_panicking_initializer_counts_as_done_as_in_go() {
    let _w = watchdog("once panic", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let once = Arc::new(Once::new());
        let panicked = {
            let once = once.clone();
            gorun::spawn(async move {
                once.call_once(|| async {
                    gorun::yield_now().await;
                    panic!("init failed");
                })
                .await;
            })
        };
        assert!(panicked.await.unwrap_err().is_panic());
        assert!(once.is_completed());
        let ran = AtomicBool::new(false);
        once.call_once(|| async { ran.store(true, Ordering::SeqCst) })
            .await;
        assert!(!ran.load(Ordering::SeqCst));
    });
}

#[test]
fn a_task_looping_on_a_completed_call_once_does_not_starve_another_on_one_worker() {
    let _w = watchdog("once budget", Duration::from_secs(30));
    let rt = runtime(1);
    let loops = rt
        .block_on(rt.spawn(async {
            let flag = Arc::new(AtomicBool::new(false));
            let setter = {
                let flag = flag.clone();
                gorun::spawn(async move { flag.store(true, Ordering::SeqCst) })
            };
            let once = Once::new();
            let mut loops = 0u64;
            while !flag.load(Ordering::SeqCst) {
                once.call_once(|| async {}).await;
                loops += 1;
            }
            setter.await.unwrap();
            loops
        }))
        .unwrap();
    assert!(loops > 0);
}

#[test]
fn once_and_its_future_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let once = Once::new();
    send_sync(&once);
    send_sync(&once.call_once(|| async {}));
}
