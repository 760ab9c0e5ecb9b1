//! Fan-out / fan-in: a bounded pool of workers reads jobs from one channel,
//! and their results are merged on another. The Go shape:
//!
//! ```go
//! jobs := make(chan int, 100)
//! results := make(chan result, 100)
//! for w := 0; w < workers; w++ { go worker(jobs, results) }
//! ```
//!
//! Run with `cargo run --release --example fan_out_fan_in`.

use std::time::{Duration, Instant};

use gorun::sync::WaitGroup;

/// What a worker reports for one job.
#[derive(Debug)]
struct Outcome {
    job: u64,
    worker: usize,
    digits: u32,
}

/// A deliberately uneven amount of work: the number of decimal digits of
/// `job!` mod a large prime, computed step by step.
async fn process(job: u64) -> u32 {
    let mut acc: u64 = 1;
    for i in 1..=(job % 5_000 + 1_000) {
        acc = acc.wrapping_mul(i) % 1_000_000_007;
        if i % 256 == 0 {
            gorun::consume_budget().await;
        }
    }
    acc.to_string().len() as u32
}

fn main() {
    const WORKERS: usize = 8;
    const JOBS: u64 = 2_000;

    gorun::run(async {
        let start = Instant::now();
        let (jobs_tx, jobs_rx) = gorun::chan::<u64>(64);
        let (results_tx, results_rx) = gorun::chan::<Outcome>(64);

        // Fan out: a fixed pool of workers, each draining the job channel.
        let workers = WaitGroup::new();
        for worker in 0..WORKERS {
            let (jobs, results) = (jobs_rx.clone(), results_tx.clone());
            workers.go(async move {
                while let Some(job) = jobs.recv().await {
                    let digits = process(job).await;
                    results
                        .send(Outcome {
                            job,
                            worker,
                            digits,
                        })
                        .await
                        .unwrap();
                }
            });
        }
        drop(jobs_rx);

        // The producer: closing the channel (dropping the last sender) ends
        // the workers' loops, like `close(jobs)`.
        gorun::spawn(async move {
            for job in 0..JOBS {
                jobs_tx.send(job).await.unwrap();
            }
        });

        // Close `results` once every worker is done: the Go idiom of a
        // goroutine that waits on the WaitGroup and then closes.
        let closer = gorun::spawn(async move {
            workers.wait().await;
            results_tx.close();
        });

        // Fan in: merge everything on this task.
        let mut per_worker = [0u64; WORKERS];
        let mut seen = vec![false; JOBS as usize];
        let mut total_digits = 0u64;
        while let Some(outcome) = results_rx.recv().await {
            assert!(
                !seen[outcome.job as usize],
                "job {} processed twice",
                outcome.job
            );
            seen[outcome.job as usize] = true;
            per_worker[outcome.worker] += 1;
            total_digits += u64::from(outcome.digits);
        }
        closer.await.unwrap();
        assert!(seen.iter().all(|&s| s), "a job was lost");

        println!(
            "fan-out/fan-in: {JOBS} jobs over {WORKERS} workers in {:?}",
            start.elapsed()
        );
        println!("  jobs per worker: {per_worker:?}");
        println!("  total digits: {total_digits}");

        // The same pool with a deadline: stop handing out work after 5 ms.
        let (ctx, _cancel) = gorun::Context::background().with_timeout(Duration::from_millis(5));
        let (jobs_tx, jobs_rx) = gorun::chan::<u64>(0);
        let done = WaitGroup::new();
        let processed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        for _ in 0..WORKERS {
            let (jobs, processed) = (jobs_rx.clone(), processed.clone());
            done.go(async move {
                while let Some(job) = jobs.recv().await {
                    process(job).await;
                    processed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
        drop(jobs_rx);
        let mut handed_out = 0u64;
        for job in 0.. {
            match ctx.run(jobs_tx.send(job)).await {
                Ok(sent) => sent.unwrap(),
                Err(reason) => {
                    println!("  with a 5 ms deadline: stopped handing out work ({reason})");
                    break;
                }
            }
            handed_out += 1;
        }
        drop(jobs_tx);
        done.wait().await;
        println!(
            "  {handed_out} jobs handed out before the deadline, {} processed",
            processed.load(std::sync::atomic::Ordering::Relaxed)
        );
    });
}
