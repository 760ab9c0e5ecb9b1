//! Criterion benchmarks of `select!`: an uncontended select over two ready
//! channels, a non-blocking select with `default` on empty channels, a
//! select that parks and is completed by another thread's send, and the
//! `select4` workload of WORKLOADS.md scaled down.
//!
//! `cargo bench --bench select`. The single-select groups poll the select
//! by hand on one thread (no scheduler); `select4` runs on a runtime of 2
//! workers, the comparison harness's setting. The cross-runtime comparison
//! lives in `benches/compare/` (`gorun select4`).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::task::noop_waker_ref;

/// Polls `fut` once with a no-op waker.
fn poll_once<F: Future>(fut: F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(noop_waker_ref());
    pin!(fut).poll(&mut cx)
}

/// One select, no scheduler: two ready channels; and `default` over two
/// empty ones.
fn single(c: &mut Criterion) {
    let mut group = c.benchmark_group("select");
    group.throughput(Throughput::Elements(1));
    group.bench_function("uncontended_two_ready", |b| {
        let (t0, r0) = gorun::chan::<u64>(1);
        let (t1, r1) = gorun::chan::<u64>(1);
        t0.try_send(0).unwrap();
        t1.try_send(1).unwrap();
        let txs = [&t0, &t1];
        b.iter(|| {
            let got = poll_once(async {
                gorun::select! {
                    v = r0.recv() => v,
                    v = r1.recv() => v,
                }
            });
            let Poll::Ready(Some(v)) = got else {
                unreachable!()
            };
            txs[v as usize].try_send(v).unwrap();
        })
    });
    group.bench_function("default_on_empty", |b| {
        let (_t0, r0) = gorun::chan::<u64>(1);
        let (_t1, r1) = gorun::chan::<u64>(0);
        b.iter(|| {
            poll_once(async {
                gorun::select! {
                    v = r0.recv() => v,
                    v = r1.recv() => v,
                    default => None,
                }
            })
        })
    });
    group.bench_function("park_then_complete", |b| {
        let (t0, r0) = gorun::chan::<u64>(0);
        let (_t1, r1) = gorun::chan::<u64>(0);
        let mut cx = Context::from_waker(noop_waker_ref());
        b.iter(|| {
            let mut sel = pin!(async {
                gorun::select! {
                    v = r0.recv() => v,
                    v = r1.recv() => v,
                }
            });
            assert!(sel.as_mut().poll(&mut cx).is_pending());
            t0.try_send(7).unwrap();
            assert_eq!(sel.as_mut().poll(&mut cx), Poll::Ready(Some(7)));
        })
    });
    group.finish();
}

/// The `select4` workload: 4 producers each send `PER_PRODUCER` values on
/// their own channel of capacity 16; the root selects over the open ones.
fn select4(c: &mut Criterion) {
    const PER_PRODUCER: u64 = 25_000;
    let rt = gorun::Runtime::builder().workers(2).build().unwrap();
    let mut group = c.benchmark_group("select4");
    group.throughput(Throughput::Elements(4 * PER_PRODUCER));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("4x25k_cap16", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // The root is a spawned task, as in the comparison harness:
                // the select loop runs on a worker, not on the caller.
                total += rt.block_on(async {
                    gorun::spawn(async {
                        let chans: Vec<_> = (0..4).map(|_| gorun::chan::<u64>(16)).collect();
                        let start = Instant::now();
                        let mut rxs = Vec::new();
                        for (tx, rx) in chans {
                            rxs.push(rx);
                            drop(gorun::spawn(async move {
                                for v in 0..PER_PRODUCER {
                                    tx.send(v).await.unwrap();
                                }
                            }));
                        }
                        let mut open = [true; 4];
                        let mut count = 0;
                        while open.iter().any(|&o| o) {
                            let (i, v) = gorun::select! {
                                v = rxs[0].recv(), if open[0] => (0, v),
                                v = rxs[1].recv(), if open[1] => (1, v),
                                v = rxs[2].recv(), if open[2] => (2, v),
                                v = rxs[3].recv(), if open[3] => (3, v),
                            };
                            match v {
                                Some(_) => count += 1,
                                None => open[i] = false,
                            }
                        }
                        assert_eq!(count, 4 * PER_PRODUCER);
                        start.elapsed()
                    })
                    .await
                    .unwrap()
                });
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, single, select4);
criterion_main!(benches);
