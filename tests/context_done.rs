//! `gorun::Context::done`, `run` and `after_func`: waiting on a context,
//! cancel safety, the cooperative budget, and functions run after cancel.

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use common::{runtime, wait_for_reason, watchdog, DropCounter};
use futures::FutureExt;
use gorun::debug::WaitReason;
use gorun::{Context, ContextError};

/// Polls `future` once with a waker that does nothing, outside any
/// runtime (so with an unlimited budget).
fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut TaskContext::from_waker(futures::task::noop_waker_ref()))
}

#[test]
fn done_completes_when_another_task_cancels() {
    let _w = watchdog("done completes", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let (ctx, cancel) = Context::background().with_cancel();
        let waiter = {
            let ctx = ctx.clone();
            gorun::spawn(async move {
                ctx.done().await;
                ctx.err()
            })
        };
        wait_for_reason(waiter.id(), |r| r == WaitReason::Context).await;
        gorun::spawn(async move { cancel.cancel() });
        assert_eq!(waiter.await.unwrap(), Some(ContextError::Canceled));
    });
}

#[test]
fn done_of_a_context_that_cannot_be_done_stays_pending() {
    let background = Context::background();
    assert!(poll_once(pin!(background.done())).is_pending());
    let (ctx, cancel) = Context::background().with_cancel();
    let detached = ctx.without_cancel();
    cancel.cancel();
    assert!(poll_once(pin!(detached.done())).is_pending());
}

#[test]
fn done_stays_ready_after_completing() {
    let (ctx, cancel) = Context::background().with_cancel();
    cancel.cancel();
    let mut done = pin!(ctx.done());
    assert!(poll_once(done.as_mut()).is_ready());
    assert!(poll_once(done.as_mut()).is_ready());
}

#[test]
fn a_dropped_pending_done_unregisters_its_waker() {
    let (ctx, _cancel) = Context::background().with_cancel();
    for _ in 0..1000 {
        let mut done = Box::pin(ctx.done());
        assert!(poll_once(done.as_mut()).is_pending());
        assert!(
            poll_once(done.as_mut()).is_pending(),
            "re-polling reuses its slot"
        );
        assert_eq!(ctx.waiter_count_for_tests(), 1);
        drop(done);
        assert_eq!(ctx.waiter_count_for_tests(), 0);
    }
}

#[test]
fn done_in_a_select_loop_is_cancel_safe() {
    const MESSAGES: u64 = 2_000;
    let _w = watchdog("done in select loop", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let (ctx, cancel) = Context::background().with_cancel();
        let (tx, rx) = gorun::chan::<u64>(0);
        let producer = gorun::spawn(async move {
            for i in 0..MESSAGES {
                tx.send(i).await.unwrap();
            }
            cancel.cancel();
        });
        let mut received = 0u64;
        let mut sum = 0u64;
        loop {
            // A fresh `done()` each iteration, dropped when the receive
            // wins: no waker may be left behind, and no message lost.
            futures::select! {
                v = rx.recv().fuse() => {
                    if let Some(v) = v {
                        received += 1;
                        sum += v;
                    }
                }
                _ = ctx.done() => break,
            }
            assert!(ctx.waiter_count_for_tests() <= 1);
        }
        producer.await.unwrap();
        // As in Go, the select may pick `done` while the last value is
        // ready too; that value is still in the channel, not lost.
        while let Some(v) = rx.recv().await {
            received += 1;
            sum += v;
        }
        assert_eq!(received, MESSAGES);
        assert_eq!(sum, MESSAGES * (MESSAGES - 1) / 2);
        assert_eq!(ctx.err(), Some(ContextError::Canceled));
    });
}

#[test]
fn racing_done_against_sleeps_leaves_no_waiters() {
    let _w = watchdog("racing done", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let (ctx, cancel) = Context::background().with_cancel();
        for _ in 0..200 {
            let sleep = pin!(gorun::sleep(Duration::from_micros(50)));
            match futures::future::select(ctx.done(), sleep).await {
                futures::future::Either::Left(_) => unreachable!("not cancelled yet"),
                futures::future::Either::Right(_) => {}
            }
            assert_eq!(
                ctx.waiter_count_for_tests(),
                0,
                "the losing done() unregistered"
            );
        }
        cancel.cancel();
        let sleep = pin!(gorun::sleep(Duration::from_secs(3600)));
        assert!(matches!(
            futures::future::select(ctx.done(), sleep).await,
            futures::future::Either::Left(_)
        ));
    });
}

#[test]
fn a_done_moved_between_tasks_wakes_the_last_poller() {
    let _w = watchdog("done moved", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let (ctx, cancel) = Context::background().with_cancel();
        let ctx: &'static Context = Box::leak(Box::new(ctx));
        // Task A polls a `Done` once (registering A's waker), then hands
        // it to task B, which awaits it: the cancel must wake B.
        let (tx, rx) = gorun::chan::<std::pin::Pin<Box<gorun::context::Done<'static>>>>(1);
        let a = gorun::spawn(async move {
            let mut done = Box::pin(ctx.done());
            futures::future::poll_fn(|cx| {
                assert!(done.as_mut().poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
            tx.send(done).await.unwrap();
        });
        let b = gorun::spawn(async move {
            let done = rx.recv().await.unwrap();
            done.await;
            ctx.err()
        });
        a.await.unwrap();
        wait_for_reason(b.id(), |r| r == WaitReason::Context).await;
        cancel.cancel();
        assert_eq!(b.await.unwrap(), Some(ContextError::Canceled));
    });
}

#[test]
fn done_spends_the_cooperative_budget() {
    let _w = watchdog("done budget", Duration::from_secs(30));
    let rt = runtime(1);
    let loops = rt
        .block_on(rt.spawn(async {
            let flag = Arc::new(AtomicBool::new(false));
            let setter = {
                let flag = flag.clone();
                gorun::spawn(async move { flag.store(true, Ordering::SeqCst) })
            };
            let (ctx, cancel) = Context::background().with_cancel();
            cancel.cancel();
            let mut loops = 0u64;
            // Without the budget this loop would never let `setter` run
            // on the single worker.
            while !flag.load(Ordering::SeqCst) {
                ctx.done().await;
                loops += 1;
            }
            setter.await.unwrap();
            loops
        }))
        .unwrap();
    assert!(loops > 0);
}

#[test]
fn run_returns_the_output_when_the_future_completes_first() {
    let rt = runtime(1);
    rt.block_on(async {
        let (ctx, _cancel) = Context::background().with_cancel();
        let out = ctx
            .run(async {
                gorun::sleep(Duration::from_millis(1)).await;
                "done"
            })
            .await;
        assert_eq!(out, Ok("done"));
    });
}

#[test]
fn run_returns_the_error_and_drops_the_future_when_the_context_is_done_first() {
    let _w = watchdog("run cancelled", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let drops = DropCounter::default();
        let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(5));
        let token = drops.token();
        let out = ctx
            .run(async move {
                let _token = token;
                std::future::pending::<()>().await
            })
            .await;
        assert_eq!(out, Err(ContextError::DeadlineExceeded));
        assert_eq!(drops.dropped(), 1);
    });
}

#[test]
fn run_never_polls_the_future_of_a_done_context() {
    let (ctx, cancel) = Context::background().with_cancel();
    cancel.cancel();
    let polled = AtomicBool::new(false);
    let out = poll_once(pin!(ctx.run(futures::future::poll_fn(|_| {
        polled.store(true, Ordering::SeqCst);
        Poll::Ready(())
    }))));
    assert_eq!(out, Poll::Ready(Err(ContextError::Canceled)));
    assert!(!polled.load(Ordering::SeqCst));
}

/// Waits (bounded by the caller's watchdog) until `counter` is at least 1.
async fn until_positive(counter: &AtomicUsize) {
    while counter.load(Ordering::SeqCst) == 0 {
        gorun::sleep(Duration::from_millis(1)).await;
    }
}

#[test]
fn after_func_runs_once_after_cancel() {
    let _w = watchdog("after_func runs", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let (ctx, cancel) = Context::background().with_cancel();
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        let handle = ctx.after_func(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        gorun::sleep(Duration::from_millis(5)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 0, "not before the cancel");
        cancel.cancel();
        cancel.cancel();
        until_positive(&runs).await;
        gorun::sleep(Duration::from_millis(10)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(!handle.stop(), "already run");
    });
}

#[test]
fn after_func_stop_prevents_the_run() {
    let _w = watchdog("after_func stop", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let (ctx, cancel) = Context::background().with_cancel();
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        let handle = ctx.after_func(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(ctx.child_count_for_tests(), 1);
        assert!(handle.stop());
        assert_eq!(ctx.child_count_for_tests(), 0, "unregistered at once");
        assert!(!handle.stop(), "only the first stop stops");
        cancel.cancel();
        gorun::sleep(Duration::from_millis(20)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn after_func_on_a_done_context_runs_at_once() {
    let _w = watchdog("after_func done ctx", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let (ctx, cancel) = Context::background().with_cancel();
        cancel.cancel();
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        let _handle = ctx.after_func(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        until_positive(&runs).await;
    });
}

#[test]
fn after_func_runs_when_an_ancestor_is_cancelled_from_a_plain_thread() {
    let _w = watchdog("after_func ancestor", Duration::from_secs(30));
    let rt = runtime(2);
    let (root, cancel) = Context::background().with_cancel();
    let (leaf, _c) = root.with_cancel();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let _handle = rt.block_on(async move {
        leaf.after_func(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        })
    });
    std::thread::spawn(move || cancel.cancel()).join().unwrap();
    rt.block_on(until_positive(&runs));
}

#[test]
fn after_func_on_background_never_runs_and_stop_reports_it() {
    let handle = Context::background().after_func(|| unreachable!());
    assert!(handle.stop());
    assert!(!handle.stop());
}

#[test]
fn run_reports_a_completed_send_even_if_the_context_was_cancelled_meanwhile() {
    // One worker: the receiver takes the value and then cancels, all
    // before the sender's task is polled again.
    let rt = gorun::Runtime::builder().workers(1).build().unwrap();
    rt.block_on(rt.spawn(async {
        let (ctx, cancel) = gorun::Context::background().with_cancel();
        let (tx, rx) = gorun::chan::<u32>(0);
        let receiver = gorun::spawn(async move {
            let v = rx.recv().await;
            cancel.cancel();
            v
        });
        let sent = ctx.run(tx.send(7)).await;
        assert_eq!(receiver.await.unwrap(), Some(7));
        assert!(
            matches!(sent, Ok(Ok(()))),
            "the value was delivered, yet run said {sent:?}"
        );
    }))
    .unwrap();
}
