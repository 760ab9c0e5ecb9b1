//! Pipelines and cancellation, after the Go blog post of that name: a
//! generator stage, a fan-out of squaring stages, a merge stage, and a
//! consumer that stops early and cancels everything upstream.
//!
//! Each stage selects between sending downstream and `<-ctx.Done()`, as in
//! Go: `select { case out <- v: case <-done: return }` is
//! `gorun::select! { r = out.send(v) => .., _ = ctx.done() => return }`,
//! with Go's guarantee that exactly one case happens.
//!
//! Run with `cargo run --release --example pipeline`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gorun::{Context, Receiver};

/// Emits `nums` on a channel, then closes it (by dropping the sender).
fn gen(ctx: Context, nums: Vec<u64>, alive: Arc<AtomicUsize>) -> Receiver<u64> {
    let (out, rx) = gorun::chan(0);
    alive.fetch_add(1, Ordering::SeqCst);
    gorun::spawn(async move {
        for n in nums {
            gorun::select! {
                // Err: every receiver is gone, so nobody wants more.
                sent = out.send(n) => if sent.is_err() { break },
                _ = ctx.done() => break, // cancelled downstream
            }
        }
        alive.fetch_sub(1, Ordering::SeqCst);
    });
    rx
}

/// Squares every value it receives.
fn sq(ctx: Context, input: Receiver<u64>, alive: Arc<AtomicUsize>) -> Receiver<u64> {
    let (out, rx) = gorun::chan(0);
    alive.fetch_add(1, Ordering::SeqCst);
    gorun::spawn(async move {
        while let Some(n) = input.recv().await {
            gorun::select! {
                sent = out.send(n * n) => if sent.is_err() { break },
                _ = ctx.done() => break,
            }
        }
        alive.fetch_sub(1, Ordering::SeqCst);
    });
    rx
}

/// Merges several channels into one, closed when all inputs are.
fn merge(ctx: Context, inputs: Vec<Receiver<u64>>, alive: Arc<AtomicUsize>) -> Receiver<u64> {
    let (out, rx) = gorun::chan(0);
    for input in inputs {
        let (ctx, out, alive) = (ctx.clone(), out.clone(), alive.clone());
        alive.fetch_add(1, Ordering::SeqCst);
        gorun::spawn(async move {
            while let Some(n) = input.recv().await {
                gorun::select! {
                    sent = out.send(n) => if sent.is_err() { break },
                    _ = ctx.done() => break,
                }
            }
            alive.fetch_sub(1, Ordering::SeqCst);
        });
    }
    // `out` is dropped here; the clones held by the merging tasks close
    // the channel when the last one finishes: what Go spells with a
    // WaitGroup, `wg.Wait(); close(out)`.
    rx
}

fn main() {
    gorun::run(async {
        let alive = Arc::new(AtomicUsize::new(0));

        // The whole pipeline, drained to the end.
        let ctx = Context::background();
        let src = gen(ctx.clone(), (1..=1_000).collect(), alive.clone());
        let stages: Vec<_> = (0..4)
            .map(|_| sq(ctx.clone(), src.clone(), alive.clone()))
            .collect();
        drop(src);
        let merged = merge(ctx, stages, alive.clone());
        let mut sum = 0;
        while let Some(v) = merged.recv().await {
            sum += v;
        }
        println!("sum of squares of 1..=1000 through gen -> 4 x sq -> merge: {sum}");
        assert_eq!(sum, (1..=1_000u64).map(|n| n * n).sum());

        // Stop early: take three values, then cancel. Every stage notices
        // and exits, with nothing left blocked (no goroutine leak).
        let (ctx, cancel) = Context::background().with_cancel();
        let src = gen(ctx.clone(), (1..=1_000_000).collect(), alive.clone());
        let stages: Vec<_> = (0..4)
            .map(|_| sq(ctx.clone(), src.clone(), alive.clone()))
            .collect();
        drop(src);
        let merged = merge(ctx, stages, alive.clone());
        let first: Vec<u64> = vec![
            merged.recv().await.unwrap(),
            merged.recv().await.unwrap(),
            merged.recv().await.unwrap(),
        ];
        println!(
            "took {first:?}, then cancelled with {} stages running",
            alive.load(Ordering::SeqCst)
        );
        cancel.cancel();
        while alive.load(Ordering::SeqCst) > 0 {
            gorun::yield_now().await;
        }
        println!(
            "every stage exited after the cancel: {} running, {} live tasks",
            alive.load(Ordering::SeqCst),
            gorun::num_goroutines()
        );
    });
}
