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
        channels().await;
        select().await;
        time().await;
        context().await;
        blocking_calls().await;
        sync().await;
        networking().await;
        seeing_inside().await;
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

/// Go channels: unbuffered rendezvous, buffers, close, range.
async fn channels() {
    println!("\n## channels");
    // Unbuffered: each send waits for its receiver.
    let (tx, rx) = gorun::chan::<u64>(0);
    gorun::spawn(async move {
        for i in 1..=5 {
            tx.send(i * i).await.unwrap();
        }
        // Dropping the last Sender closes the channel, like close(ch).
    });
    let mut squares = Vec::new();
    while let Some(v) = rx.recv().await {
        squares.push(v);
    }
    println!("  received over an unbuffered channel until closed: {squares:?}");

    // Buffered: sends complete while there is room.
    let (tx, rx) = gorun::chan::<&str>(2);
    tx.send("a").await.unwrap();
    tx.send("b").await.unwrap();
    println!(
        "  buffered: len {} of cap {}; try_send on a full channel: {:?}",
        tx.len(),
        tx.capacity(),
        tx.try_send("c")
    );
    tx.close();
    println!(
        "  after close: {:?} {:?} {:?}",
        rx.recv().await,
        rx.recv().await,
        rx.recv().await
    );
    println!(
        "  send on a closed channel hands the value back: {:?}",
        tx.send("late").await
    );

    // Go's prime sieve: a daisy chain of filter goroutines.
    let (tx, mut rx) = gorun::chan::<u32>(0);
    gorun::spawn(async move {
        for n in 2.. {
            if tx.send(n).await.is_err() {
                return;
            }
        }
    });
    let mut primes = Vec::new();
    for _ in 0..10 {
        let prime = rx.recv().await.unwrap();
        primes.push(prime);
        let (next_tx, next_rx) = gorun::chan::<u32>(0);
        let input = rx;
        gorun::spawn(async move {
            while let Some(n) = input.recv().await {
                if n % prime != 0 && next_tx.send(n).await.is_err() {
                    return;
                }
            }
        });
        rx = next_rx;
    }
    println!("  the prime sieve's first ten: {primes:?}");
}

/// Go's `select`: random choice among ready cases, exactly one commits.
async fn select() {
    use std::time::Duration;
    println!("\n## select!");
    let (a_tx, a_rx) = gorun::chan::<u32>(16);
    let (b_tx, b_rx) = gorun::chan::<u32>(16);
    for i in 0..8 {
        a_tx.send(i).await.unwrap();
        b_tx.send(100 + i).await.unwrap();
    }
    let (mut from_a, mut from_b) = (0, 0);
    for _ in 0..8 {
        gorun::select! {
            _ = a_rx.recv() => from_a += 1,
            _ = b_rx.recv() => from_b += 1,
        }
    }
    println!("  8 selects over two always-ready channels: {from_a} from a, {from_b} from b (random, like Go)");

    let (tx, rx) = gorun::chan::<&str>(0);
    let got = gorun::select! {
        v = rx.recv() => format!("received {v:?}"),
        default => "nothing ready: default ran, nothing was taken".to_string(),
    };
    println!("  {got}");
    drop(tx);

    let (ctx, cancel) = gorun::Context::background().with_cancel();
    let (work_tx, work_rx) = gorun::chan::<u32>(0);
    let worker = gorun::spawn(async move {
        let mut done = 0;
        loop {
            gorun::select! {
                job = work_rx.recv() => match job {
                    Some(_) => done += 1,
                    None => break "channel closed",
                },
                _ = ctx.done() => break "context cancelled",
                _ = gorun::after(Duration::from_secs(1)).recv() => break "idle timeout",
            }
        }
        .to_string()
            + &format!(" after {done} jobs")
    });
    for job in 0..5 {
        work_tx.send(job).await.unwrap();
    }
    cancel.cancel();
    println!(
        "  a worker selecting over jobs, ctx.done() and a timeout stopped: {}",
        worker.await.unwrap()
    );

    // The dynamic form, for a number of channels known at run time.
    let receivers: Vec<_> = (0..100u32)
        .map(|i| {
            let (tx, rx) = gorun::chan(1);
            tx.try_send(i * i).unwrap();
            rx
        })
        .collect();
    let mut sel = gorun::Select::new();
    for rx in &receivers {
        sel.recv(rx);
    }
    let (index, outcome) = sel.select().await;
    println!("  Select over 100 receivers picked case {index}: {outcome:?}");
}

/// Go's `context`: cancellation trees, deadlines, values.
async fn context() {
    use gorun::Context;
    use std::time::Duration;
    println!("\n## context");
    let (root, cancel) = Context::background().with_cancel();
    let workers: Vec<_> = (0..3)
        .map(|i| {
            let (ctx, _cancel_child) = root.with_cancel();
            gorun::spawn(async move {
                ctx.done().await;
                format!("worker {i} stopped: {}", ctx.err().unwrap())
            })
        })
        .collect();
    cancel.cancel();
    for w in workers {
        println!("  {}", w.await.unwrap());
    }

    let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(10));
    let slow = ctx.run(gorun::sleep(Duration::from_secs(3600))).await;
    println!("  a slow call under a 10 ms deadline: {slow:?}");

    #[derive(PartialEq)]
    struct RequestId;
    let ctx = Context::background().with_value(RequestId, 42u64);
    println!(
        "  value carried by the context: {:?}",
        ctx.value::<u64>(&RequestId)
    );
}

/// `time.Sleep`, timeouts and `time.AfterFunc`.
async fn time() {
    use std::time::Duration;
    println!("\n## time");
    let start = Instant::now();
    gorun::sleep(Duration::from_millis(20)).await;
    println!("  slept 20 ms (measured {:?})", start.elapsed());

    let handles: Vec<_> = (0..10_000u64)
        .map(|i| gorun::spawn(async move { gorun::sleep(Duration::from_millis(1 + i % 10)).await }))
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    println!(
        "  10,000 tasks slept 1-10 ms each: all done in {:?}",
        start.elapsed()
    );

    let too_slow = gorun::timeout(Duration::from_millis(10), std::future::pending::<()>()).await;
    println!("  timeout around a future that never finishes: {too_slow:?}");

    let (tx, rx) = gorun::chan(1);
    gorun::time::after_func(Duration::from_millis(5), move || {
        tx.try_send("after_func ran").unwrap()
    });
    println!("  {}", rx.recv().await.unwrap());

    let fired = gorun::after(Duration::from_millis(5)).recv().await.unwrap();
    println!(
        "  time.After delivered the instant it fired ({:?} ago)",
        fired.elapsed()
    );
    let ticker = gorun::time::Ticker::new(Duration::from_millis(2));
    for _ in 0..3 {
        ticker.c().recv().await.unwrap();
    }
    ticker.stop();
    println!("  a ticker ticked 3 times and was stopped");
}

/// Blocking calls go to a thread pool, so workers keep running tasks.
async fn blocking_calls() {
    println!("\n## spawn_blocking");
    let start = Instant::now();
    let sleepers: Vec<_> = (0..50)
        .map(|_| gorun::spawn_blocking(|| std::thread::sleep(std::time::Duration::from_millis(50))))
        .collect();
    let ticks = gorun::spawn(async {
        for _ in 0..10 {
            gorun::sleep(std::time::Duration::from_millis(1)).await;
        }
        Instant::now()
    });
    let ticks_done = ticks.await.unwrap();
    for s in sleepers {
        s.await.unwrap();
    }
    println!(
        "  50 blocking 50 ms sleeps ran on the pool; async ticks finished after {:?}, blocking work after {:?}",
        ticks_done - start,
        start.elapsed()
    );
}

/// `sync.WaitGroup`, `sync.Mutex`, `semaphore.Weighted`, `sync.Once`.
async fn sync() {
    use gorun::sync::{Mutex, Once, Semaphore, WaitGroup};
    println!("\n## sync");
    let wg = WaitGroup::new();
    let total = Arc::new(Mutex::new(0u64));
    for i in 1..=100u64 {
        let total = total.clone();
        wg.go(async move { *total.lock().await += i });
    }
    wg.wait().await;
    println!(
        "  WaitGroup + Mutex: 100 tasks added 1..=100 -> {}",
        *total.lock().await
    );

    let permits = Arc::new(Semaphore::new(3));
    let running = Arc::new(AtomicU64::new(0));
    let peak = Arc::new(AtomicU64::new(0));
    let wg = WaitGroup::new();
    for _ in 0..20 {
        let (permits, running, peak) = (permits.clone(), running.clone(), peak.clone());
        wg.go(async move {
            permits.acquire(1).await;
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            gorun::sleep(std::time::Duration::from_millis(2)).await;
            running.fetch_sub(1, Ordering::SeqCst);
            permits.release(1);
        });
    }
    wg.wait().await;
    println!(
        "  Semaphore(3): 20 tasks, at most {} ran at once",
        peak.load(Ordering::SeqCst)
    );

    let once = Arc::new(Once::new());
    let inits = Arc::new(AtomicU64::new(0));
    let wg = WaitGroup::new();
    for _ in 0..10 {
        let (once, inits) = (once.clone(), inits.clone());
        wg.go(async move {
            once.call_once(|| async move {
                inits.fetch_add(1, Ordering::SeqCst);
            })
            .await;
        });
    }
    wg.wait().await;
    println!(
        "  Once: 10 callers, initialised {} time(s)",
        inits.load(Ordering::SeqCst)
    );
}

/// A goroutine per connection, on the reactor.
async fn networking() {
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    use gorun::net::{TcpListener, TcpStream};
    println!("\n## net");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = gorun::spawn(async move {
        for _ in 0..10 {
            let (stream, _) = listener.accept().await.unwrap();
            gorun::spawn(async move { futures::io::copy(&stream, &mut &stream).await });
        }
    });
    let start = Instant::now();
    let clients: Vec<_> = (0..10u8)
        .map(|c| {
            gorun::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let mut buf = [0u8; 64];
                for round in 0..1_000u32 {
                    let msg = [c ^ round as u8; 64];
                    stream.write_all(&msg).await.unwrap();
                    stream.read_exact(&mut buf).await.unwrap();
                    assert_eq!(buf, msg);
                }
            })
        })
        .collect();
    for c in clients {
        c.await.unwrap();
    }
    server.await.unwrap();
    println!(
        "  echo server on {addr}: 10 clients x 1,000 round trips in {:?}",
        start.elapsed()
    );
}

/// Go's goroutine dump, runtime metrics and the blocking monitor.
async fn seeing_inside() {
    println!("\n## seeing inside: dump, metrics, blocking monitor");
    let (tx, rx) = gorun::chan::<u32>(0);
    let wg = gorun::sync::WaitGroup::new();
    wg.add(1);
    let receiver = gorun::spawn(async move { rx.recv().await });
    let waiter = {
        let wg = wg.clone();
        gorun::spawn(async move { wg.wait().await })
    };
    let sleeper = gorun::spawn(gorun::sleep(std::time::Duration::from_millis(50)));
    // Let the three tasks reach their waits (a few polls), then dump them.
    let waiting = || {
        gorun::dump()
            .tasks()
            .iter()
            .filter(|t| matches!(t.state, gorun::debug::TaskState::Waiting(_)))
            .count()
    };
    for _ in 0..10_000 {
        if waiting() >= 3 {
            break;
        }
        gorun::yield_now().await;
    }
    for line in gorun::dump().to_string().lines() {
        println!("  | {line}");
    }
    tx.send(1).await.unwrap();
    wg.done();
    receiver.await.unwrap();
    waiter.await.unwrap();
    sleeper.await.unwrap();
    let m = gorun::metrics();
    println!(
        "  metrics: {} tasks spawned, {} polls, {} steals, {} LIFO hits, {} parks, {} timers armed",
        m.tasks_spawned, m.polls, m.steals, m.lifo_hits, m.parks, m.timers_armed
    );
    // A task that blocks its worker is reported (on stderr by default) and
    // the runtime keeps running other tasks meanwhile.
    let rt = gorun::Runtime::builder()
        .workers(1)
        .blocking_threshold(Some(std::time::Duration::from_millis(20)))
        .on_blocking(|report| println!("  monitor: {report}"))
        .build()
        .unwrap();
    let blocker = rt.spawn(async { std::thread::sleep(std::time::Duration::from_millis(100)) });
    let other = rt.spawn(async { "ran while the only worker was blocked" });
    println!(
        "  {}",
        gorun::spawn_blocking(move || rt.block_on(other))
            .await
            .unwrap()
            .unwrap()
    );
    drop(blocker);
    println!(
        "  (and `run`/`block_on` panic with \"all goroutines are asleep - deadlock!\" and a dump instead of hanging)"
    );
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
