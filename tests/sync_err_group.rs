//! `gorun::sync::ErrGroup`: Go's `errgroup` semantics, the limit and its
//! queue, `try_go`, panics, and the derived context.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{panic_message, runtime, watchdog};
use gorun::sync::ErrGroup;
use gorun::{Context, ContextError};

#[derive(Debug, Clone, PartialEq)]
struct Failed(u32);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "task {} failed", self.0)
    }
}

impl std::error::Error for Failed {}

#[test]
fn wait_returns_ok_when_every_task_succeeds() {
    let _w = watchdog("all succeed", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let group = ErrGroup::<Failed>::new();
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..100 {
            let ran = ran.clone();
            group.go(async move {
                gorun::yield_now().await;
                ran.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
        }
        assert_eq!(group.wait().await, Ok(()));
        assert_eq!(ran.load(Ordering::SeqCst), 100, "wait waited for all");
    });
}

#[test]
fn wait_on_an_empty_group_returns_at_once() {
    let rt = runtime(1);
    rt.block_on(async {
        assert_eq!(ErrGroup::<Failed>::new().wait().await, Ok(()));
    });
}

#[test]
fn wait_returns_the_first_error_after_every_task_finished() {
    let _w = watchdog("first error", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let group = ErrGroup::<Failed>::new();
        let finished = Arc::new(AtomicUsize::new(0));
        group.go(async { Err(Failed(1)) });
        for i in 2..5 {
            let finished = finished.clone();
            group.go(async move {
                gorun::sleep(Duration::from_millis(10 * u64::from(i))).await;
                finished.fetch_add(1, Ordering::SeqCst);
                Err(Failed(i))
            });
        }
        assert_eq!(group.wait().await, Err(Failed(1)));
        assert_eq!(finished.load(Ordering::SeqCst), 3);
        assert_eq!(
            group.wait().await,
            Ok(()),
            "later errors are dropped, as in Go"
        );
    });
}

#[test]
fn the_first_error_cancels_the_context_and_the_others_observe_it() {
    let _w = watchdog("others observe", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let (group, ctx) = ErrGroup::<Failed>::with_context(&Context::background());
        let observed = Arc::new(AtomicUsize::new(0));
        for _ in 0..10 {
            let (ctx, observed) = (ctx.clone(), observed.clone());
            group.go(async move {
                // Would run for an hour unless cancelled.
                match ctx.run(gorun::sleep(Duration::from_secs(3600))).await {
                    Ok(()) => Ok(()),
                    Err(ContextError::Canceled) => {
                        observed.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    }
                    Err(e) => panic!("unexpected {e}"),
                }
            });
        }
        group.go(async {
            gorun::sleep(Duration::from_millis(5)).await;
            Err(Failed(7))
        });
        assert_eq!(group.wait().await, Err(Failed(7)));
        assert_eq!(observed.load(Ordering::SeqCst), 10);
        assert_eq!(ctx.err(), Some(ContextError::Canceled));
        let cause = ctx.cause().unwrap();
        assert_eq!(cause.downcast_ref::<Failed>(), Some(&Failed(7)));
    });
}

#[test]
fn a_string_error_becomes_a_cause_that_displays_it() {
    let rt = runtime(1);
    rt.block_on(async {
        let (group, ctx) = ErrGroup::<String>::with_context(&Context::background());
        group.go(async { Err("no route to host".to_string()) });
        assert_eq!(group.wait().await, Err("no route to host".to_string()));
        assert_eq!(ctx.cause().unwrap().to_string(), "no route to host");
    });
}

#[test]
fn the_context_is_cancelled_when_wait_returns() {
    let rt = runtime(1);
    rt.block_on(async {
        let (parent, _cancel) = Context::background().with_cancel();
        let (group, ctx) = ErrGroup::<Failed>::with_context(&parent);
        group.go(async { Ok(()) });
        gorun::sleep(Duration::from_millis(2)).await;
        assert_eq!(ctx.err(), None, "not before wait");
        assert_eq!(group.wait().await, Ok(()));
        assert_eq!(ctx.err(), Some(ContextError::Canceled));
        assert_eq!(parent.err(), None, "the parent is not touched");
        assert_eq!(parent.child_count_for_tests(), 0);
    });
}

/// Tracks how many tasks run at once, and the most ever.
#[derive(Default)]
struct Concurrency {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Concurrency {
    async fn section(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        gorun::sleep(Duration::from_micros(200)).await;
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn a_limited_group_never_runs_more_than_its_limit_at_once() {
    const LIMIT: usize = 3;
    let _w = watchdog("limit", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let group = ErrGroup::<Failed>::new();
        group.set_limit(LIMIT);
        let c = Arc::new(Concurrency::default());
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..200 {
            let (c, ran) = (c.clone(), ran.clone());
            group.go(async move {
                c.section().await;
                ran.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
        }
        assert_eq!(group.wait().await, Ok(()));
        assert_eq!(ran.load(Ordering::SeqCst), 200, "queued tasks all ran");
        let peak = c.peak.load(Ordering::SeqCst);
        assert!(peak <= LIMIT, "peak {peak} > limit {LIMIT}");
        assert!(peak >= 1);
    });
}

#[test]
fn go_beyond_the_limit_queues_instead_of_blocking() {
    let _w = watchdog("go queues", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let group = ErrGroup::<Failed>::new();
        group.set_limit(1);
        let (release, hold) = gorun::chan::<()>(0);
        group.go(async move {
            let _ = hold.recv().await;
            Ok(())
        });
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        for i in 0..50 {
            let order = order.clone();
            // Returns at once although the only slot is taken.
            group.go(async move {
                order.lock().unwrap().push(i);
                Ok(())
            });
        }
        assert!(
            order.lock().unwrap().is_empty(),
            "none started past the limit"
        );
        drop(release);
        assert_eq!(group.wait().await, Ok(()));
        assert_eq!(
            *order.lock().unwrap(),
            (0..50).collect::<Vec<_>>(),
            "started in go order"
        );
    });
}

#[test]
fn try_go_refuses_at_the_limit_and_the_refused_future_never_runs() {
    let _w = watchdog("try_go", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let group = ErrGroup::<Failed>::new();
        group.set_limit(2);
        let (release, hold) = gorun::chan::<()>(0);
        for _ in 0..2 {
            let hold = hold.clone();
            assert!(group.try_go(async move {
                let _ = hold.recv().await;
                Ok(())
            }));
        }
        let refused_ran = Arc::new(AtomicBool::new(false));
        let flag = refused_ran.clone();
        assert!(!group.try_go(async move {
            flag.store(true, Ordering::SeqCst);
            Ok(())
        }));
        drop(release);
        assert_eq!(group.wait().await, Ok(()));
        gorun::sleep(Duration::from_millis(5)).await;
        assert!(!refused_ran.load(Ordering::SeqCst));
        assert!(group.try_go(async { Ok(()) }), "slots are free again");
        assert_eq!(group.wait().await, Ok(()));
    });
}

#[test]
fn try_go_with_a_limit_of_zero_refuses_and_go_panics() {
    let group = ErrGroup::<Failed>::new();
    group.set_limit(0);
    assert!(!group.try_go(async { unreachable!() }));
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        group.go(async { unreachable!() })
    }))
    .unwrap_err();
    assert!(panic_message(&*err).contains("limit of 0"));
}

#[test]
fn set_limit_while_tasks_are_active_panics() {
    let _w = watchdog("set_limit panics", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let group = ErrGroup::<Failed>::new();
        let (release, hold) = gorun::chan::<()>(0);
        group.go(async move {
            let _ = hold.recv().await;
            Ok(())
        });
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| group.set_limit(4)))
            .unwrap_err();
        assert_eq!(
            panic_message(&*err),
            "errgroup: modify limit while 1 goroutines in the group are still active"
        );
        drop(release);
        group.wait().await.unwrap();
        group.set_limit(4); // fine between rounds
    });
}

#[test]
fn a_panicking_task_is_resumed_by_wait_after_the_others_finish() {
    let _w = watchdog("panic", Duration::from_secs(30));
    let rt = runtime(2);
    let finished = Arc::new(AtomicUsize::new(0));
    let counter = finished.clone();
    let result = rt.block_on(rt.spawn(async move {
        let (group, ctx) = ErrGroup::<Failed>::with_context(&Context::background());
        for _ in 0..4 {
            let (ctx, counter) = (ctx.clone(), counter.clone());
            group.go(async move {
                ctx.done().await;
                counter.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
        }
        group.go(async { panic!("task exploded") });
        let _ = group.wait().await;
    }));
    let err = result.unwrap_err();
    assert!(err.is_panic());
    assert_eq!(panic_message(&*err.into_panic()), "task exploded");
    assert_eq!(
        finished.load(Ordering::SeqCst),
        4,
        "the panic cancelled the context"
    );
}

#[test]
fn waits_for_10_000_tasks_like_a_wait_group() {
    const TASKS: usize = 10_000;
    let _w = watchdog("10_000 tasks", Duration::from_secs(60));
    let rt = runtime(2);
    rt.block_on(async {
        let group = ErrGroup::<Failed>::new();
        let done = Arc::new(AtomicUsize::new(0));
        for _ in 0..TASKS {
            let done = done.clone();
            group.go(async move {
                done.fetch_add(1, Ordering::Relaxed);
                Ok(())
            });
        }
        assert_eq!(group.wait().await, Ok(()));
        assert_eq!(done.load(Ordering::Relaxed), TASKS);
    });
}

#[test]
fn tasks_can_add_tasks_to_their_group() {
    let _w = watchdog("nested go", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let group = Arc::new(ErrGroup::<Failed>::new());
        let leaves = Arc::new(AtomicUsize::new(0));
        for _ in 0..10 {
            let (inner, leaves) = (group.clone(), leaves.clone());
            group.go(async move {
                for _ in 0..10 {
                    let leaves = leaves.clone();
                    inner.go(async move {
                        leaves.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    });
                }
                Ok(())
            });
        }
        assert_eq!(group.wait().await, Ok(()));
        assert_eq!(leaves.load(Ordering::SeqCst), 100);
    });
}

#[test]
fn an_err_group_and_its_wait_future_can_move_between_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let group = ErrGroup::<Failed>::new();
    send_sync(&group);
    send(&group.wait());
}
