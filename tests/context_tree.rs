//! `gorun::Context`, the cancellation tree: propagation, exactly-once
//! cancellation under contention, removal of cancelled children, and
//! waking many waiters at once.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::{runtime, watchdog};
use gorun::sync::WaitGroup;
use gorun::{CancelFunc, Context, ContextError};

#[test]
fn cancel_propagates_through_three_layers() {
    let (root, cancel_root) = Context::background().with_cancel();
    let (middle, _c1) = root.with_cancel();
    let (leaf, _c2) = middle.with_value("layer", 3u8).with_cancel();
    let (grandleaf, _c3) = leaf.with_cancel();
    for ctx in [&root, &middle, &leaf, &grandleaf] {
        assert_eq!(ctx.err(), None);
    }
    cancel_root.cancel();
    for ctx in [&root, &middle, &leaf, &grandleaf] {
        assert_eq!(ctx.err(), Some(ContextError::Canceled));
    }
}

#[test]
fn cancelling_a_child_leaves_the_parent_alone() {
    let (parent, _cancel_parent) = Context::background().with_cancel();
    let (child, cancel_child) = parent.with_cancel();
    let (sibling, _cancel_sibling) = parent.with_cancel();
    cancel_child.cancel();
    assert_eq!(child.err(), Some(ContextError::Canceled));
    assert_eq!(parent.err(), None);
    assert_eq!(sibling.err(), None);
}

#[test]
fn a_child_of_a_cancelled_parent_is_born_cancelled() {
    let (parent, cancel) = Context::background().with_cancel();
    cancel.cancel();
    let (child, _c) = parent.with_cancel();
    assert_eq!(child.err(), Some(ContextError::Canceled));
    assert_eq!(parent.child_count_for_tests(), 0);
}

#[test]
fn background_and_without_cancel_are_never_done() {
    let (ctx, cancel) = Context::background().with_cancel();
    let detached = ctx.without_cancel();
    let (under_detached, _c) = detached.with_cancel();
    cancel.cancel();
    assert_eq!(Context::background().err(), None);
    assert_eq!(detached.err(), None);
    assert_eq!(detached.cause().map(|c| c.to_string()), None);
    assert_eq!(under_detached.err(), None, "not a descendant any more");
}

#[test]
fn dropping_the_cancel_func_cancels() {
    let (ctx, cancel) = Context::background().with_cancel();
    let (child, _c) = ctx.with_cancel();
    drop(cancel);
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
    assert_eq!(child.err(), Some(ContextError::Canceled));
}

#[test]
fn dropping_one_clone_of_a_cancel_func_does_not_cancel() {
    let (ctx, cancel) = Context::background().with_cancel();
    let clone = cancel.clone();
    drop(cancel);
    assert_eq!(ctx.err(), None, "a clone is still alive");
    drop(clone);
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
}

#[test]
fn a_cancelled_child_is_removed_from_its_parent_at_once() {
    let (parent, _cancel) = Context::background().with_cancel();
    let (_a, cancel_a) = parent.with_cancel();
    let (_b, cancel_b) = parent.with_timeout(Duration::from_secs(3600));
    assert_eq!(parent.child_count_for_tests(), 2);
    cancel_a.cancel();
    assert_eq!(parent.child_count_for_tests(), 1);
    drop(cancel_b);
    assert_eq!(parent.child_count_for_tests(), 0);
}

/// Creates and cancels `n` children of one long-lived parent one by one,
/// checking after each that the parent holds no child.
fn churn_children(n: usize) {
    let (parent, _cancel) = Context::background().with_cancel();
    let (_keep, _keep_cancel) = parent.with_cancel();
    for i in 0..n {
        let (child, cancel) = parent.with_cancel();
        let (_grandchild, _gc) = child.with_cancel();
        if i % 2 == 0 {
            cancel.cancel();
        } else {
            drop(cancel);
        }
        assert_eq!(parent.child_count_for_tests(), 1, "iteration {i}");
    }
}

#[test]
fn a_parent_with_1_000_000_short_lived_children_keeps_a_constant_child_count() {
    // About a second in a debug build.
    let _w = watchdog("1_000_000 children", Duration::from_secs(120));
    churn_children(1_000_000);
}

/// A root → `width` → `width` tree; returns every context (root first)
/// and keeps every cancel function in the returned vector.
fn tree(width: usize) -> (Vec<Context>, Vec<CancelFunc>) {
    let (root, cancel_root) = Context::background().with_cancel();
    let mut contexts = vec![root.clone()];
    let mut cancels = vec![cancel_root];
    for _ in 0..width {
        let (mid, c) = root.with_cancel();
        cancels.push(c);
        for _ in 0..width {
            let (leaf, c) = mid.with_cancel();
            contexts.push(leaf);
            cancels.push(c);
        }
        contexts.push(mid);
    }
    (contexts, cancels)
}

#[test]
fn concurrent_cancels_from_many_threads_cancel_each_context_exactly_once() {
    const THREADS: usize = 8;
    let _w = watchdog("concurrent cancels", Duration::from_secs(60));
    let rt = runtime(2);
    for _round in 0..20 {
        let (contexts, cancels) = tree(12);
        let cancels = Arc::new(cancels);
        // One after_func per context: it runs once per cancellation.
        let runs: Arc<Vec<AtomicUsize>> =
            Arc::new((0..contexts.len()).map(|_| AtomicUsize::new(0)).collect());
        let _handles: Vec<_> = rt.block_on(async {
            (0..contexts.len())
                .map(|i| {
                    let runs = runs.clone();
                    contexts[i].after_func(move || {
                        runs[i].fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect()
        });
        let barrier = Arc::new(Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let (cancels, barrier) = (cancels.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    // Each thread cancels everything, in its own order:
                    // leaves first, root first, or strided.
                    let n = cancels.len();
                    for k in 0..n {
                        let i = match t % 3 {
                            0 => n - 1 - k,
                            1 => k,
                            _ => (k * 7 + t) % n,
                        };
                        cancels[i].cancel();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        for ctx in &contexts {
            assert_eq!(ctx.err(), Some(ContextError::Canceled));
        }
        let all_ran = || runs.iter().all(|r| r.load(Ordering::SeqCst) >= 1);
        while !all_ran() {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(5));
        for (i, r) in runs.iter().enumerate() {
            assert_eq!(
                r.load(Ordering::SeqCst),
                1,
                "context {i} done more than once"
            );
        }
    }
}

#[test]
fn interlocked_cancels_and_creations_from_threads_and_tasks_do_not_deadlock() {
    let _w = watchdog("interlocked cancels", Duration::from_secs(60));
    let rt = runtime(2);
    for _round in 0..50 {
        let (root, cancel_root) = Context::background().with_cancel();
        let cancel_root = Arc::new(cancel_root);
        let (a, cancel_a) = root.with_cancel();
        let (b, cancel_b) = root.with_cancel();
        let (cancel_a, cancel_b) = (Arc::new(cancel_a), Arc::new(cancel_b));
        let created = Arc::new(AtomicUsize::new(0));
        // Threads and tasks create grandchildren under `a` and `b` and
        // cancel parents and children in crossing orders.
        let mut threads = Vec::new();
        for t in 0..4 {
            let (a, b) = (a.clone(), b.clone());
            let (ca, cb, cr) = (cancel_a.clone(), cancel_b.clone(), cancel_root.clone());
            let created = created.clone();
            threads.push(std::thread::spawn(move || {
                for i in 0..200 {
                    let (x, cx) = if (i + t) % 2 == 0 {
                        a.with_cancel()
                    } else {
                        b.with_cancel()
                    };
                    let (_y, _cy) = x.with_cancel();
                    created.fetch_add(1, Ordering::Relaxed);
                    if i == 100 {
                        if t % 2 == 0 {
                            ca.cancel();
                            cb.cancel();
                        } else {
                            cb.cancel();
                            cr.cancel();
                        }
                    }
                    drop(cx);
                }
            }));
        }
        let tasks = rt.block_on(async {
            (0..4)
                .map(|t| {
                    let (a, b, cr) = (a.clone(), b.clone(), cancel_root.clone());
                    gorun::spawn(async move {
                        for i in 0..200 {
                            let (x, cx) = if (i + t) % 2 == 0 {
                                b.with_cancel()
                            } else {
                                a.with_cancel()
                            };
                            if i == 50 {
                                cr.cancel();
                            }
                            if i % 10 == 0 {
                                gorun::yield_now().await;
                            }
                            drop(cx);
                            x.done().await;
                        }
                    })
                })
                .collect::<Vec<_>>()
        });
        for t in threads {
            t.join().unwrap();
        }
        rt.block_on(async {
            for t in tasks {
                t.await.unwrap();
            }
        });
        for ctx in [&root, &a, &b] {
            assert_eq!(ctx.err(), Some(ContextError::Canceled));
            assert_eq!(ctx.child_count_for_tests(), 0);
        }
        assert_eq!(created.load(Ordering::Relaxed), 800);
    }
}

#[test]
fn one_root_cancel_wakes_10_000_leaf_waiters() {
    const WIDTH: usize = 100;
    const LEAVES: usize = WIDTH * WIDTH;
    let _w = watchdog("10_000 leaf waiters", Duration::from_secs(60));
    let rt = runtime(2);
    rt.block_on(rt.spawn(async {
        let (contexts, cancels) = tree(WIDTH);
        let waiting = Arc::new(AtomicUsize::new(0));
        let wg = WaitGroup::new();
        let leaves: Vec<_> = contexts
            .iter()
            .skip(1)
            .filter(|c| c.child_count_for_tests() == 0)
            .cloned()
            .collect();
        assert_eq!(leaves.len(), LEAVES);
        for leaf in leaves {
            let (waiting, wg) = (waiting.clone(), wg.clone());
            wg.add(1);
            gorun::spawn(async move {
                waiting.fetch_add(1, Ordering::SeqCst);
                leaf.done().await;
                assert_eq!(leaf.err(), Some(ContextError::Canceled));
                wg.done();
            });
        }
        while waiting.load(Ordering::SeqCst) < LEAVES {
            gorun::sleep(Duration::from_millis(1)).await;
        }
        cancels[0].cancel();
        wg.wait().await;
        assert_eq!(contexts[0].child_count_for_tests(), 0);
    }))
    .unwrap();
}

#[test]
fn cancelling_a_ten_thousand_deep_chain_does_not_overflow_the_stack() {
    let (root, cancel) = Context::background().with_cancel();
    let mut keep = Vec::new();
    let mut ctx = root.clone();
    for _ in 0..10_000 {
        let (child, c) = ctx.with_cancel();
        keep.push(c);
        ctx = child;
    }
    cancel.cancel();
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
    drop(keep);
    drop(ctx);
}

#[test]
fn context_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Context>();
    send_sync::<CancelFunc>();
    send_sync::<gorun::CancelCauseFunc>();
    send_sync::<gorun::context::AfterFuncHandle>();
    send_sync::<gorun::context::Done<'static>>();
    send_sync::<ContextError>();
}
