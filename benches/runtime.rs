//! Criterion benchmarks of the runtime: spawning, yielding, stealing.
//!
//! `cargo bench --bench runtime`. The cross-runtime comparison (Go, tokio,
//! smol) lives in `benches/compare/`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn runtime(workers: usize) -> gorun::Runtime {
    gorun::Runtime::builder().workers(workers).build().unwrap()
}

/// Spawn `n` trivial tasks from a task, then await them in order.
fn spawn_join(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn_join");
    let rt = runtime(2);
    for n in [1_000u64, 100_000] {
        group.throughput(Throughput::Elements(n));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter_custom(|iters| {
                rt.block_on(rt.spawn(async move {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let handles: Vec<_> = (0..n)
                            .map(|i| gorun::spawn(async move { black_box(i) }))
                            .collect();
                        for h in handles {
                            h.await.unwrap();
                        }
                    }
                    start.elapsed()
                }))
                .unwrap()
            });
        });
    }
    group.finish();
}

/// Two tasks on one worker taking turns with `yield_now`.
fn yield_ping(c: &mut Criterion) {
    const YIELDS: u64 = 10_000;
    let mut group = c.benchmark_group("yield_ping");
    group.throughput(Throughput::Elements(2 * YIELDS));
    let rt = runtime(1);
    group.bench_function("two_tasks", |b| {
        b.iter_custom(|iters| {
            rt.block_on(rt.spawn(async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let other = gorun::spawn(async {
                        for _ in 0..YIELDS {
                            gorun::yield_now().await;
                        }
                    });
                    for _ in 0..YIELDS {
                        gorun::yield_now().await;
                    }
                    other.await.unwrap();
                }
                start.elapsed()
            }))
            .unwrap()
        });
    });
    group.finish();
}

/// The `steal` workload of WORKLOADS.md, scaled down: CPU-bound tasks
/// spawned from one worker must spread over both.
fn steal(c: &mut Criterion) {
    const TASKS: u64 = 200;
    const ROUNDS: u64 = 200_000;

    #[inline(never)]
    fn work(seed: u64) -> u64 {
        let mut x = black_box(seed);
        for _ in 0..black_box(ROUNDS) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        black_box(x)
    }

    let mut group = c.benchmark_group("steal");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    let rt = runtime(2);
    group.bench_function("serial_one_thread", |b| {
        b.iter(|| (1..=TASKS).fold(0, |acc, i| acc ^ work(i)))
    });
    group.bench_function("parallel_two_workers", |b| {
        b.iter(|| {
            rt.block_on(rt.spawn(async {
                let handles: Vec<_> = (1..=TASKS)
                    .map(|i| gorun::spawn(async move { work(i) }))
                    .collect();
                let mut acc = 0;
                for h in handles {
                    acc ^= h.await.unwrap();
                }
                acc
            }))
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, spawn_join, yield_ping, steal);
criterion_main!(benches);
