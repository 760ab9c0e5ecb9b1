//! A tour of gorun: everything the library does, one section each.
//!
//! Run it with `cargo run --release --example tour`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

fn main() {
    println!("gorun tour\n==========");
    gorun::run(async {
        goroutines().await;
        fan_out_fan_in().await;
        panics_are_contained().await;
        abort().await;
        cooperative_scheduling().await;
    });
    own_runtime();
    println!("\ndone.");
}

/// `go f()` is `gorun::spawn`; the handle is how you wait for the result.
async fn goroutines() {
    println!("\n## goroutines: spawn and join");
    let handle = gorun::spawn(async { "hello from a task" });
    println!("  {}", handle.await.unwrap());

    let started = Instant::now();
    let counter = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..100_000)
        .map(|_| {
            let counter = counter.clone();
            gorun::spawn(async move {
                counter.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    println!(
        "  100,000 tasks spawned and joined in {:?} (counter = {})",
        started.elapsed(),
        counter.load(Ordering::Relaxed)
    );
}

/// Fan out work to tasks, fan the results back in.
async fn fan_out_fan_in() {
    println!("\n## fan-out / fan-in");
    fn is_prime(n: u64) -> bool {
        n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
    }
    let chunks: Vec<_> = (0..8u64)
        .map(|c| {
            gorun::spawn(async move {
                (c * 25_000..(c + 1) * 25_000)
                    .filter(|&n| is_prime(n))
                    .count()
            })
        })
        .collect();
    let mut primes = 0;
    for chunk in chunks {
        primes += chunk.await.unwrap();
    }
    println!("  {primes} primes below 200,000, counted by 8 tasks");
}

/// A panic in a task is caught and handed to whoever joins it.
async fn panics_are_contained() {
    println!("\n## panics are contained");
    // The default hook prints a panic (with a backtrace if RUST_BACKTRACE
    // is set), as Go prints a goroutine's panic; keep the tour's output short.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| println!("  [panic hook] {info}")));
    let err = gorun::spawn(async { panic!("something went wrong") })
        .await
        .unwrap_err();
    std::panic::set_hook(default_hook);
    println!("  joined a task that panicked: {err}");
    println!(
        "  the runtime carries on: {}",
        gorun::spawn(async { 1 + 1 }).await.unwrap()
    );
}

/// `abort` drops a task's future and reports the cancellation.
async fn abort() {
    println!("\n## abort");
    let forever = gorun::spawn(std::future::pending::<()>());
    println!("  live tasks before abort: {}", gorun::num_goroutines());
    forever.abort();
    let err = forever.await.unwrap_err();
    println!("  {err}; live tasks now: {}", gorun::num_goroutines());
}

/// Tasks yield to each other: explicitly, or when their budget runs out.
async fn cooperative_scheduling() {
    println!("\n## cooperative scheduling");
    let mut yields = 0;
    for _ in 0..3 {
        gorun::yield_now().await;
        yields += 1;
    }
    println!("  yielded {yields} times with yield_now (Go's runtime.Gosched)");
    let mut sum = 0u64;
    for i in 0..1_000_000u64 {
        sum = sum.wrapping_add(i);
        gorun::consume_budget().await;
    }
    println!("  a 1,000,000-step loop that spends budget, so it cannot hog a worker: sum = {sum}");
}

/// A runtime of your own: choose the workers; drop it to stop everything.
fn own_runtime() {
    println!("\n## a runtime of your own");
    let rt = gorun::Runtime::builder()
        .workers(2)
        .thread_name("tour-worker")
        .build()
        .unwrap();
    let name = rt.block_on(async {
        gorun::spawn(async { std::thread::current().name().unwrap().to_owned() })
            .await
            .unwrap()
    });
    println!("  a task ran on thread {name:?}");
    let parked = rt.block_on(async {
        for _ in 0..3 {
            drop(gorun::spawn(std::future::pending::<()>()));
        }
        gorun::num_goroutines()
    });
    drop(rt);
    println!("  dropped the runtime with {parked} parked tasks: their futures were dropped, its threads joined");
}
