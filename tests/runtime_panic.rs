//! Panics in tasks are contained; misuse panics with a clear message.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{panic_message, runtime};

#[test]
fn a_panicking_task_yields_a_panic_join_error_with_its_payload() {
    let rt = runtime(2);
    rt.block_on(async {
        let err = gorun::spawn(async { panic!("boom {}", 42) })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        assert!(!err.is_cancelled());
        assert!(err.to_string().contains("boom 42"), "{err}");
        assert_eq!(panic_message(&*err.into_panic()), "boom 42");
    });
}

#[test]
fn a_panic_does_not_kill_the_worker_thread() {
    let rt = runtime(1);
    rt.block_on(async {
        let before = gorun::spawn(async { std::thread::current().id() })
            .await
            .unwrap();
        for _ in 0..100 {
            assert!(gorun::spawn(async { panic!("contained") }).await.is_err());
        }
        let after = gorun::spawn(async { std::thread::current().id() })
            .await
            .unwrap();
        assert_eq!(before, after, "the single worker thread was replaced");
    });
}

#[test]
fn a_panic_does_not_affect_other_tasks() {
    let rt = runtime(2);
    rt.block_on(async {
        let handles: Vec<_> = (0..1_000u32)
            .map(|i| {
                gorun::spawn(async move {
                    gorun::yield_now().await;
                    if i % 10 == 0 {
                        panic!("task {i}");
                    }
                    i
                })
            })
            .collect();
        let mut ok = 0;
        for (i, h) in handles.into_iter().enumerate() {
            match h.await {
                Ok(v) => {
                    assert_eq!(v as usize, i);
                    ok += 1;
                }
                Err(e) => assert!(e.is_panic() && i % 10 == 0),
            }
        }
        assert_eq!(ok, 900);
    });
}

#[test]
fn block_on_inside_a_worker_panics_with_an_explanation() {
    let rt = runtime(1);
    let err = rt
        .block_on(rt.spawn(async { gorun::run(async {}) }))
        .unwrap_err();
    let msg = panic_message(&*err.into_panic());
    assert!(msg.contains("worker thread"), "{msg}");
    assert!(
        msg.contains(".await"),
        "the message should say what to do: {msg}"
    );
}

#[test]
fn block_on_inside_block_on_panics_with_an_explanation() {
    let rt = runtime(1);
    let result = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async { rt.block_on(async {}) })
    }));
    let msg = panic_message(&*result.unwrap_err());
    assert!(msg.contains("inside another block_on"), "{msg}");
}

/// Panics in `Drop` unless the thread is already unwinding.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("drop panicked");
        }
    }
}

#[test]
fn a_destructor_that_panics_after_completion_is_reported_as_a_panic() {
    let rt = runtime(1);
    rt.block_on(async {
        let guard = PanicOnDrop;
        let err = gorun::spawn(async move {
            let _guard = guard;
            gorun::yield_now().await;
            7
        })
        .await
        .unwrap_err();
        assert!(err.is_panic());
        assert!(err.to_string().contains("drop panicked"), "{err}");
        assert_eq!(gorun::spawn(async { 1 }).await.unwrap(), 1);
    });
    assert_eq!(rt.num_goroutines(), 0);
}

#[test]
fn a_destructor_that_panics_during_abort_is_contained() {
    let rt = runtime(1);
    rt.block_on(async {
        let guard = PanicOnDrop;
        let handle = gorun::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        });
        gorun::yield_now().await;
        handle.abort();
        assert!(handle.await.is_err());
        assert_eq!(gorun::spawn(async { 1 }).await.unwrap(), 1);
    });
}

/// Counts its drops, and panics in the first one.
struct CountingPanicOnDrop(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for CountingPanicOnDrop {
    fn drop(&mut self) {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n == 0 && !std::thread::panicking() {
            panic!("drop panicked");
        }
    }
}

#[test]
fn a_future_whose_destructor_panics_is_dropped_exactly_once() {
    let rt = runtime(1);
    let drops = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let guard = CountingPanicOnDrop(drops.clone());
    rt.block_on(async move {
        let err = gorun::spawn(async move {
            let _guard = guard;
            gorun::yield_now().await;
        })
        .await
        .unwrap_err();
        assert!(err.to_string().contains("drop panicked"), "{err}");
    });
    assert_eq!(drops.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(rt.num_goroutines(), 0);
}

/// A future whose `poll` panics, and whose own destructor panics too (by
/// dropping the probe it holds).
struct PanicsInPollAndDrop {
    _probe: CountingPanicOnDrop,
}

impl std::future::Future for PanicsInPollAndDrop {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        panic!("poll panicked")
    }
}

#[test]
fn a_destructor_that_panics_after_a_panicking_poll_is_reported_in_its_place() {
    let rt = runtime(1);
    let drops = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let future = PanicsInPollAndDrop {
        _probe: CountingPanicOnDrop(drops.clone()),
    };
    rt.block_on(async move {
        let err = gorun::spawn(future).await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(panic_message(&*err.into_panic()), "drop panicked");
    });
    assert_eq!(drops.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(rt.num_goroutines(), 0);
}
