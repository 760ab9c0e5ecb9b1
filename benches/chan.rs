//! Criterion benchmarks of channels: the hand-off itself, ping-pong,
//! buffered throughput, and the `pingpong`, `mpmc` and `pipeline` workloads
//! of WORKLOADS.md scaled down.
//!
//! The task benches run on a runtime of 2 workers (the comparison
//! harness's setting); set `CHAN_BENCH_WORKERS=1` to see the channel
//! without cross-core contention.
//!
//! `cargo bench --bench chan`. Each group reports time per message (or per
//! round trip) through `Throughput::Elements`. The cross-runtime comparison
//! lives in `benches/compare/`.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::task::noop_waker_ref;

/// A runtime with the comparison harness's two workers, or
/// `CHAN_BENCH_WORKERS` of them.
fn runtime() -> gorun::Runtime {
    let n = std::env::var("CHAN_BENCH_WORKERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    gorun::Runtime::builder().workers(n).build().unwrap()
}

/// The channel's own cost, without a scheduler: one thread parks a receive,
/// hands it a value, and takes it.
fn hand_off(c: &mut Criterion) {
    let mut group = c.benchmark_group("hand_off");
    group.throughput(Throughput::Elements(1));
    let mut cx = Context::from_waker(noop_waker_ref());
    group.bench_function("park_recv_then_try_send", |b| {
        let (tx, rx) = gorun::chan::<u64>(0);
        b.iter(|| {
            let mut recv = pin!(rx.recv());
            assert!(recv.as_mut().poll(&mut cx).is_pending());
            tx.try_send(1).unwrap();
            assert_eq!(recv.as_mut().poll(&mut cx), Poll::Ready(Some(1)));
        })
    });
    group.bench_function("buffered_try_send_try_recv", |b| {
        let (tx, rx) = gorun::chan::<u64>(1);
        b.iter(|| {
            tx.try_send(1).unwrap();
            rx.try_recv().unwrap()
        })
    });
    group.finish();
}

/// Round trips over two unbuffered channels: the `pingpong` workload.
fn pingpong(c: &mut Criterion) {
    const ROUND_TRIPS: u64 = 10_000;
    let mut group = c.benchmark_group("pingpong");
    group.throughput(Throughput::Elements(ROUND_TRIPS));
    let rt = runtime();
    group.bench_function("unbuffered_tasks", |b| {
        b.iter_custom(|iters| {
            rt.block_on(rt.spawn(async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let (tx1, rx1) = gorun::chan::<u64>(0);
                    let (tx2, rx2) = gorun::chan::<u64>(0);
                    let echo = gorun::spawn(async move {
                        while let Some(v) = rx1.recv().await {
                            tx2.send(v).await.unwrap();
                        }
                    });
                    for i in 0..ROUND_TRIPS {
                        tx1.send(i).await.unwrap();
                        assert_eq!(rx2.recv().await, Some(i));
                    }
                    drop(tx1);
                    echo.await.unwrap();
                }
                start.elapsed()
            }))
            .unwrap()
        })
    });
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROUND_TRIPS / 10));
    group.bench_function("unbuffered_threads", |b| {
        b.iter(|| {
            let (tx1, rx1) = gorun::chan::<u64>(0);
            let (tx2, rx2) = gorun::chan::<u64>(0);
            let echo = thread::spawn(move || {
                while let Some(v) = rx1.recv_blocking() {
                    tx2.send_blocking(v).unwrap();
                }
            });
            for i in 0..ROUND_TRIPS / 10 {
                tx1.send_blocking(i).unwrap();
                assert_eq!(rx2.recv_blocking(), Some(i));
            }
            drop(tx1);
            echo.join().unwrap();
        })
    });
    group.finish();
}

/// One producer, one consumer, a buffered channel of capacity 128.
fn spsc(c: &mut Criterion) {
    const MESSAGES: u64 = 100_000;
    let mut group = c.benchmark_group("spsc");
    group.throughput(Throughput::Elements(MESSAGES));
    let rt = runtime();
    group.bench_function("buffered_tasks", |b| {
        b.iter_custom(|iters| {
            rt.block_on(rt.spawn(async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let (tx, rx) = gorun::chan::<u64>(128);
                    gorun::spawn(async move {
                        for i in 0..MESSAGES {
                            tx.send(i).await.unwrap();
                        }
                    });
                    let mut sum = 0;
                    while let Some(v) = rx.recv().await {
                        sum += v;
                    }
                    assert_eq!(sum, MESSAGES * (MESSAGES - 1) / 2);
                }
                start.elapsed()
            }))
            .unwrap()
        })
    });
    group.sample_size(10);
    group.bench_function("buffered_threads", |b| {
        b.iter(|| {
            let (tx, rx) = gorun::chan::<u64>(128);
            let producer = thread::spawn(move || {
                for i in 0..MESSAGES {
                    tx.send_blocking(i).unwrap();
                }
            });
            let mut sum = 0;
            while let Some(v) = rx.recv_blocking() {
                sum += v;
            }
            producer.join().unwrap();
            assert_eq!(sum, MESSAGES * (MESSAGES - 1) / 2);
        })
    });
    group.finish();
}

/// The `mpmc` workload: 4 producers, 4 consumers, capacity 128.
fn mpmc(c: &mut Criterion) {
    const PER_PRODUCER: u64 = 100_000;
    let mut group = c.benchmark_group("mpmc");
    group.throughput(Throughput::Elements(4 * PER_PRODUCER));
    group.sample_size(20);
    let rt = runtime();
    group.bench_function("cap128_4x4_tasks", |b| {
        b.iter_custom(|iters| {
            rt.block_on(rt.spawn(async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let (tx, rx) = gorun::chan::<u64>(128);
                    for _ in 0..4 {
                        let tx = tx.clone();
                        gorun::spawn(async move {
                            for v in 0..PER_PRODUCER {
                                tx.send(v).await.unwrap();
                            }
                        });
                    }
                    drop(tx);
                    let consumers: Vec<_> = (0..4)
                        .map(|_| {
                            let rx = rx.clone();
                            gorun::spawn(async move {
                                let mut sum = 0u64;
                                while let Some(v) = rx.recv().await {
                                    sum = sum.wrapping_add(v);
                                }
                                sum
                            })
                        })
                        .collect();
                    drop(rx);
                    let mut total = 0u64;
                    for c in consumers {
                        total = total.wrapping_add(c.await.unwrap());
                    }
                    assert_eq!(total, 4 * (PER_PRODUCER * (PER_PRODUCER - 1) / 2));
                }
                start.elapsed()
            }))
            .unwrap()
        })
    });
    group.finish();
}

/// The `pipeline` workload: generator → jobs (64) → 8 workers → results
/// (64) → root.
fn pipeline(c: &mut Criterion) {
    const ITEMS: u64 = 100_000;
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(ITEMS));
    group.sample_size(20);
    let rt = runtime();
    group.bench_function("cap64_8_workers", |b| {
        b.iter_custom(|iters| {
            rt.block_on(rt.spawn(async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let (jobs_tx, jobs_rx) = gorun::chan::<u64>(64);
                    let (results_tx, results_rx) = gorun::chan::<u64>(64);
                    gorun::spawn(async move {
                        for x in 0..ITEMS {
                            jobs_tx.send(x).await.unwrap();
                        }
                    });
                    for _ in 0..8 {
                        let (jobs, results) = (jobs_rx.clone(), results_tx.clone());
                        gorun::spawn(async move {
                            while let Some(x) = jobs.recv().await {
                                results.send(x.wrapping_mul(x)).await.unwrap();
                            }
                        });
                    }
                    drop((jobs_rx, results_tx));
                    let mut sum = 0u64;
                    while let Some(v) = results_rx.recv().await {
                        sum = sum.wrapping_add(v);
                    }
                    assert_ne!(sum, 0);
                }
                start.elapsed()
            }))
            .unwrap()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = hand_off, pingpong, spsc, mpmc, pipeline
}
criterion_main!(benches);
