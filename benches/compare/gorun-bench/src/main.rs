//! gorun implementation of the workloads of WORKLOADS.md and of the channel
//! matrix (see ../README.md). One process runs one workload.
//!
//! Every workload is one `async fn`, written against API.md and compiled
//! only when the Cargo features for the gorun primitives it uses are on (see
//! Cargo.toml). With a feature off the workload prints
//! `<workload> gorun n/a <unit>` and `not yet: <primitive>` on stderr; when
//! the primitive lands, turning the feature on is all that is needed.
// Which helpers are used depends on the features that are on.
#![allow(dead_code, unused_imports)]

use bench_common::{
    fail, hog_evaluate, parse_args, per, rss_bytes, sum_below, sum_squares_below, tcp_message,
    verify, work, Args, MatrixKind, Outcome, MATRIX_THREADS, SEQ_CAP0,
};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};
use std::sync::Arc;
use std::time::{Duration, Instant};

const IMPL: &str = "gorun";

/// Whether the gorun primitive behind a Cargo feature of this package is on.
fn enabled(feature: &str) -> bool {
    match feature {
        "rt" => cfg!(feature = "rt"),
        "chan" => cfg!(feature = "chan"),
        "select" => cfg!(feature = "select"),
        "sleep" => cfg!(feature = "sleep"),
        "net" => cfg!(feature = "net"),
        "context" => cfg!(feature = "context"),
        "waitgroup" => cfg!(feature = "waitgroup"),
        other => unreachable!("unknown feature {other}"),
    }
}

fn primitive(feature: &str) -> &'static str {
    match feature {
        "rt" => "gorun::Runtime / gorun::spawn",
        "chan" => "gorun::chan",
        "select" => "gorun::select!",
        "sleep" => "gorun::sleep",
        "net" => "gorun::net",
        "context" => "gorun::Context",
        "waitgroup" => "gorun::sync::WaitGroup",
        other => unreachable!("unknown feature {other}"),
    }
}

/// n/a outcome naming the primitives (among `needs`) that are not in yet.
fn not_yet(needs: &[&str]) -> Outcome {
    let missing: Vec<&str> = needs.iter().copied().filter(|f| !enabled(f)).collect();
    let prims: Vec<&str> = missing.iter().map(|f| primitive(f)).collect();
    Outcome::NotAvailable(format!(
        "not yet: {} (turn on gorun-bench feature(s) {} once it lands)",
        prims.join(", "),
        missing.join(", ")
    ))
}

fn main() {
    let args = parse_args(IMPL);
    #[cfg(not(feature = "rt"))]
    args.finish(not_yet(&["rt"]));
    #[cfg(feature = "rt")]
    {
        let workers = if args.workload == "hog_latency" { 1 } else { 2 };
        let rt = gorun::Runtime::builder().workers(workers).build().unwrap();
        let a = args.clone();
        // The root is a spawned task; block_on only waits for its handle.
        let out = rt.block_on(async move {
            match gorun::spawn(root(a)).await {
                Ok(out) => out,
                Err(_) => fail("root task failed"),
            }
        });
        args.finish(out)
    }
}

async fn root(a: Args) -> Outcome {
    match a.workload.as_str() {
        "spawn_join" => spawn_join(&a).await,
        "parked_memory" => parked_memory(&a).await,
        "pingpong" => pingpong(&a).await,
        "mpmc" => mpmc(&a).await,
        "pipeline" => pipeline(&a).await,
        "select4" => select4(&a).await,
        "timers" => timers(&a).await,
        "ctx_cancel" => ctx_cancel(&a).await,
        "tcp_echo" => tcp_echo(&a).await,
        "steal" => steal(&a).await,
        "hog_latency" => hog_latency(&a).await,
        name => match bench_common::parse_matrix(name) {
            Some((kind, cap)) => matrix(&a, kind, cap).await,
            None => unreachable!("parse_args accepted {name}"),
        },
    }
}

#[cfg(feature = "rt")]
async fn join<T>(h: gorun::JoinHandle<T>) -> T {
    match h.await {
        Ok(v) => v,
        Err(_) => fail("task failed (JoinError)"),
    }
}

/// "Wait until all N have started": poll every 1 ms, then settle 10 ms.
#[cfg(feature = "sleep")]
async fn wait_started(counter: &AtomicUsize, n: usize) {
    while counter.load(Acquire) != n {
        gorun::sleep(Duration::from_millis(1)).await;
    }
    gorun::sleep(Duration::from_millis(10)).await;
}

// ---------------------------------------------------------------- 1. spawn_join

#[cfg(feature = "rt")]
async fn spawn_join(a: &Args) -> Outcome {
    let n = a.sizes.spawn_join_n;
    let counter = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let c = counter.clone();
        handles.push(gorun::spawn(async move {
            c.fetch_add(1, Relaxed);
        }));
    }
    for h in handles {
        join(h).await;
    }
    let el = start.elapsed();
    let got = counter.load(SeqCst);
    verify(got == n, || format!("counter {got} != {n}"));
    Outcome::Value(per(el, n as u64))
}
#[cfg(not(feature = "rt"))]
async fn spawn_join(_: &Args) -> Outcome {
    not_yet(&["rt"])
}

// ------------------------------------------------------------- 2. parked_memory

#[cfg(all(feature = "rt", feature = "chan", feature = "sleep"))]
async fn parked_memory(a: &Args) -> Outcome {
    let n = a.sizes.parked_n;
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let base = rss_bytes();
    let mut senders: Vec<gorun::Sender<()>> = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, rx) = gorun::chan::<()>(0);
        senders.push(tx);
        let (s, f) = (started.clone(), finished.clone());
        // Detached: the JoinHandle is dropped at once.
        drop(gorun::spawn(async move {
            s.fetch_add(1, Relaxed);
            let _ = rx.recv().await;
            f.fetch_add(1, Relaxed);
        }));
    }
    wait_started(&started, n).await;
    let rss = rss_bytes();
    for tx in &senders {
        if tx.send(()).await.is_err() {
            fail("a parked task dropped its receiver");
        }
    }
    while finished.load(Acquire) != n {
        gorun::sleep(Duration::from_millis(1)).await;
    }
    a.diag(&format!("base_rss={base} rss={rss}"));
    Outcome::Value((rss as f64 - base as f64) / n as f64)
}
#[cfg(not(all(feature = "rt", feature = "chan", feature = "sleep")))]
async fn parked_memory(_: &Args) -> Outcome {
    not_yet(&["chan", "sleep"])
}

// ------------------------------------------------------------------ 3. pingpong

#[cfg(all(feature = "rt", feature = "chan"))]
async fn pingpong(a: &Args) -> Outcome {
    let n = a.sizes.pingpong_n;
    let (tx1, rx1) = gorun::chan::<u64>(0);
    let (tx2, rx2) = gorun::chan::<u64>(0);
    let start = Instant::now();
    let b = gorun::spawn(async move {
        while let Some(v) = rx1.recv().await {
            if tx2.send(v).await.is_err() {
                break;
            }
        }
    });
    for i in 0..n {
        if tx1.send(i).await.is_err() {
            fail("c1 closed early");
        }
        let w = rx2.recv().await;
        verify(w == Some(i), || format!("pingpong got {w:?}, want {i}"));
    }
    drop(tx1); // closes c1
    join(b).await;
    Outcome::Value(per(start.elapsed(), n))
}
#[cfg(not(all(feature = "rt", feature = "chan")))]
async fn pingpong(_: &Args) -> Outcome {
    not_yet(&["chan"])
}

// ---------------------------------------------------------------------- 4. mpmc

#[cfg(all(feature = "rt", feature = "chan", feature = "waitgroup"))]
async fn mpmc(a: &Args) -> Outcome {
    let m = a.sizes.mpmc_per_producer;
    let (tx, rx) = gorun::chan::<u64>(128);
    let producers = gorun::sync::WaitGroup::new();
    let start = Instant::now();
    producers.add(4);
    for _ in 0..4 {
        let (tx, wg) = (tx.clone(), producers.clone());
        drop(gorun::spawn(async move {
            for v in 0..m {
                if tx.send(v).await.is_err() {
                    fail("mpmc channel closed early");
                }
            }
            drop(tx);
            wg.done();
        }));
    }
    let mut consumers = Vec::with_capacity(4);
    for _ in 0..4 {
        let rx = rx.clone();
        consumers.push(gorun::spawn(async move {
            let mut sum = 0u64;
            while let Some(v) = rx.recv().await {
                sum = sum.wrapping_add(v);
            }
            sum
        }));
    }
    // The channel closes when the last Sender (a producer's clone) drops.
    drop(tx);
    drop(rx);
    producers.wait().await;
    let mut total = 0u64;
    for c in consumers {
        total = total.wrapping_add(join(c).await);
    }
    let el = start.elapsed();
    let want = 4u64.wrapping_mul(sum_below(m));
    verify(total == want, || format!("mpmc total {total} != {want}"));
    Outcome::Value(per(el, 4 * m))
}
#[cfg(not(all(feature = "rt", feature = "chan", feature = "waitgroup")))]
async fn mpmc(_: &Args) -> Outcome {
    not_yet(&["chan", "waitgroup"])
}

// ------------------------------------------------------------------ 5. pipeline

#[cfg(all(feature = "rt", feature = "chan", feature = "waitgroup"))]
async fn pipeline(a: &Args) -> Outcome {
    let n = a.sizes.pipeline_n;
    let (jtx, jrx) = gorun::chan::<u64>(64);
    let (rtx, rrx) = gorun::chan::<u64>(64);
    // Generator + 8 workers, as Go's WaitGroups.
    let wg = gorun::sync::WaitGroup::new();
    let start = Instant::now();
    wg.add(9);
    let g = wg.clone();
    drop(gorun::spawn(async move {
        for x in 0..n {
            if jtx.send(x).await.is_err() {
                fail("jobs closed early");
            }
        }
        drop(jtx);
        g.done();
    }));
    for _ in 0..8 {
        let (jrx, rtx, g) = (jrx.clone(), rtx.clone(), wg.clone());
        drop(gorun::spawn(async move {
            while let Some(x) = jrx.recv().await {
                if rtx.send(x.wrapping_mul(x)).await.is_err() {
                    fail("results closed early");
                }
            }
            // `results` closes when the last worker's Sender drops.
            drop(rtx);
            g.done();
        }));
    }
    drop(jrx);
    drop(rtx);
    let mut sum = 0u64;
    while let Some(v) = rrx.recv().await {
        sum = sum.wrapping_add(v);
    }
    wg.wait().await;
    let el = start.elapsed();
    let want = sum_squares_below(n);
    verify(sum == want, || format!("pipeline sum {sum} != {want}"));
    Outcome::Value(per(el, n))
}
#[cfg(not(all(feature = "rt", feature = "chan", feature = "waitgroup")))]
async fn pipeline(_: &Args) -> Outcome {
    not_yet(&["chan", "waitgroup"])
}

// ------------------------------------------------------------------- 6. select4

#[cfg(all(feature = "rt", feature = "chan", feature = "select"))]
async fn select4(a: &Args) -> Outcome {
    let m = a.sizes.select4_per_producer;
    let (t0, r0) = gorun::chan::<u64>(16);
    let (t1, r1) = gorun::chan::<u64>(16);
    let (t2, r2) = gorun::chan::<u64>(16);
    let (t3, r3) = gorun::chan::<u64>(16);
    let start = Instant::now();
    for tx in [t0, t1, t2, t3] {
        drop(gorun::spawn(async move {
            for v in 0..m {
                if tx.send(v).await.is_err() {
                    fail("select4 channel closed early");
                }
            }
            drop(tx); // closes channel p
        }));
    }
    let (mut o0, mut o1, mut o2, mut o3) = (true, true, true, true);
    let (mut count, mut sum, mut selects) = (0u64, 0u64, 0u64);
    // A closed channel's case is disabled with a guard (Go's nil channel).
    while o0 || o1 || o2 || o3 {
        selects += 1;
        let got: Option<u64> = gorun::select! {
            v = r0.recv(), if o0 => { if v.is_none() { o0 = false; } v }
            v = r1.recv(), if o1 => { if v.is_none() { o1 = false; } v }
            v = r2.recv(), if o2 => { if v.is_none() { o2 = false; } v }
            v = r3.recv(), if o3 => { if v.is_none() { o3 = false; } v }
        };
        if let Some(v) = got {
            count += 1;
            sum = sum.wrapping_add(v);
        }
    }
    let el = start.elapsed();
    verify(count == 4 * m, || {
        format!("select4 count {count} != {}", 4 * m)
    });
    let want = 4 * sum_below(m);
    verify(sum == want, || format!("select4 sum {sum} != {want}"));
    a.diag(&format!("select_calls={selects}"));
    Outcome::Value(per(el, 4 * m))
}
#[cfg(not(all(feature = "rt", feature = "chan", feature = "select")))]
async fn select4(_: &Args) -> Outcome {
    not_yet(&["chan", "select"])
}

// -------------------------------------------------------------------- 7. timers

#[cfg(all(feature = "rt", feature = "sleep"))]
async fn timers(a: &Args) -> Outcome {
    let n = a.sizes.timers_n;
    let mut handles = Vec::with_capacity(n);
    let cpu0 = bench_common::cpu_time();
    let start = Instant::now();
    for i in 0..n {
        let d = Duration::from_millis((i % 100 + 1) as u64);
        handles.push(gorun::spawn(async move { gorun::sleep(d).await }));
    }
    for h in handles {
        join(h).await;
    }
    let el = start.elapsed();
    let cpu = bench_common::cpu_time() - cpu0;
    let el_ms = el.as_secs_f64() * 1e3;
    a.diag(&format!(
        "elapsed_ms={:.2} cpu_ms={:.2}",
        el_ms,
        cpu.as_secs_f64() * 1e3
    ));
    Outcome::Value(el_ms - 100.0)
}
#[cfg(not(all(feature = "rt", feature = "sleep")))]
async fn timers(_: &Args) -> Outcome {
    not_yet(&["sleep"])
}

// ---------------------------------------------------------------- 8. ctx_cancel

#[cfg(all(
    feature = "rt",
    feature = "context",
    feature = "waitgroup",
    feature = "sleep"
))]
async fn ctx_cancel(a: &Args) -> Outcome {
    let (nc, nl) = (a.sizes.ctx_children, a.sizes.ctx_leaves_per_child);
    let total = nc * nl;
    let (root_ctx, root_cancel) = gorun::Context::background().with_cancel();
    // Every CancelFunc is kept until the end: dropping one cancels its node.
    let mut cancels = Vec::with_capacity(nc + total);
    let mut leaves = Vec::with_capacity(total);
    for _ in 0..nc {
        let (mid, mc) = root_ctx.with_cancel();
        for _ in 0..nl {
            let (leaf, lc) = mid.with_cancel();
            leaves.push(leaf);
            cancels.push(lc);
        }
        cancels.push(mc);
    }
    let waiting = Arc::new(AtomicUsize::new(0));
    let wg = gorun::sync::WaitGroup::new();
    wg.add(total);
    for leaf in leaves {
        let (w, g) = (waiting.clone(), wg.clone());
        drop(gorun::spawn(async move {
            w.fetch_add(1, Relaxed);
            leaf.done().await;
            g.done();
        }));
    }
    wait_started(&waiting, total).await;
    let start = Instant::now();
    root_cancel.cancel();
    wg.wait().await;
    let el = start.elapsed();
    drop(cancels);
    Outcome::Value(el.as_secs_f64() * 1e6)
}
#[cfg(not(all(
    feature = "rt",
    feature = "context",
    feature = "waitgroup",
    feature = "sleep"
)))]
async fn ctx_cancel(_: &Args) -> Outcome {
    not_yet(&["context", "waitgroup", "sleep"])
}

// ------------------------------------------------------------------ 9. tcp_echo

#[cfg(all(feature = "rt", feature = "net", feature = "waitgroup"))]
async fn tcp_echo(a: &Args) -> Outcome {
    use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
    use gorun::net::{TcpListener, TcpStream};
    let (clients, rounds) = (a.sizes.tcp_clients, a.sizes.tcp_rounds);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    drop(gorun::spawn(async move {
        loop {
            let (mut s, _) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => fail(&format!("accept: {e}")),
            };
            s.set_nodelay(true).expect("nodelay");
            drop(gorun::spawn(async move {
                let mut buf = [0u8; 4096];
                loop {
                    let n = match s.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if s.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }));
        }
    }));
    let wg = gorun::sync::WaitGroup::new();
    let start = Instant::now();
    wg.add(clients);
    for c in 0..clients {
        let g = wg.clone();
        drop(gorun::spawn(async move {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            s.set_nodelay(true).expect("nodelay");
            let mut back = [0u8; 64];
            for r in 0..rounds {
                let msg = tcp_message(c, r);
                s.write_all(&msg).await.expect("write");
                s.read_exact(&mut back).await.expect("read");
                verify(back == msg, || {
                    format!("client {c} round {r}: echo mismatch")
                });
            }
            g.done();
        }));
    }
    wg.wait().await;
    let el = start.elapsed();
    Outcome::Value((clients * rounds) as f64 / el.as_secs_f64())
}
#[cfg(not(all(feature = "rt", feature = "net", feature = "waitgroup")))]
async fn tcp_echo(_: &Args) -> Outcome {
    not_yet(&["net", "waitgroup"])
}

// --------------------------------------------------------------------- 10. steal

#[cfg(feature = "rt")]
async fn steal(a: &Args) -> Outcome {
    let (n, iters) = (a.sizes.steal_tasks, a.sizes.steal_iters);
    let t0 = Instant::now();
    let mut acc = 0u64;
    for i in 0..n {
        acc ^= work(i as u64 + 1, iters);
    }
    let serial = t0.elapsed();
    let t1 = Instant::now();
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        handles.push(gorun::spawn(async move { work(i as u64 + 1, iters) }));
    }
    let mut acc2 = 0u64;
    for h in handles {
        acc2 ^= join(h).await;
    }
    let parallel = t1.elapsed();
    verify(acc == acc2, || {
        format!("steal checksum {acc2:#x} != {acc:#x}")
    });
    a.diag(&format!(
        "serial_ms={:.2} parallel_ms={:.2} checksum={:#x}",
        serial.as_secs_f64() * 1e3,
        parallel.as_secs_f64() * 1e3,
        acc
    ));
    Outcome::Value(serial.as_secs_f64() / (parallel.as_secs_f64() * 2.0) * 100.0)
}
#[cfg(not(feature = "rt"))]
async fn steal(_: &Args) -> Outcome {
    not_yet(&["rt"])
}

// --------------------------------------------------------------- 11. hog_latency

#[cfg(all(feature = "rt", feature = "chan", feature = "sleep"))]
async fn hog_latency(a: &Args) -> Outcome {
    let (hog_for, ticks) = (a.sizes.hog_duration, a.sizes.hog_ticks);
    let epoch = Instant::now();
    let a_end = Arc::new(AtomicU64::new(u64::MAX));
    let ae = a_end.clone();
    let hog = gorun::spawn(async move {
        let (tx, rx) = gorun::chan::<u64>(1);
        let begin = Instant::now();
        let mut i = 0u64;
        let mut pairs = 0u64;
        while begin.elapsed() < hog_for {
            for _ in 0..100 {
                if tx.send(i).await.is_err() {
                    fail("hog send");
                }
                i = rx.recv().await.unwrap_or_else(|| fail("hog recv")) + 1;
            }
            pairs += 100;
        }
        ae.store(epoch.elapsed().as_nanos() as u64, Release);
        pairs
    });
    let b_spawn = epoch.elapsed();
    let ticker = gorun::spawn(async move {
        let mut rec = Vec::with_capacity(ticks);
        let mut t = b_spawn;
        for _ in 0..ticks {
            gorun::sleep(Duration::from_millis(1)).await;
            let now = epoch.elapsed();
            let late = now.saturating_sub(t + Duration::from_millis(1));
            rec.push((t, late));
            t = now;
        }
        rec
    });
    let pairs = join(hog).await;
    let rec = join(ticker).await;
    let a_end = Duration::from_nanos(a_end.load(Acquire));
    Outcome::Value(hog_evaluate(a, &rec, a_end, pairs))
}
#[cfg(not(all(feature = "rt", feature = "chan", feature = "sleep")))]
async fn hog_latency(_: &Args) -> Outcome {
    not_yet(&["chan", "sleep"])
}

// ---------------------------------------------------------------------------
// Channel matrix over gorun::chan (capacity 0 is a rendezvous channel, as Go's).

async fn matrix(a: &Args, kind: MatrixKind, cap: usize) -> Outcome {
    if kind == MatrixKind::Seq && cap == 0 {
        return Outcome::NotAvailable(SEQ_CAP0.into());
    }
    match kind {
        MatrixKind::Seq => matrix_seq(a, cap).await,
        MatrixKind::Spsc => matrix_spsc(a, cap).await,
        MatrixKind::Mpsc | MatrixKind::Mpmc => matrix_mpxc(a, kind, cap).await,
        MatrixKind::SelectRx => matrix_select_rx(a, cap).await,
        MatrixKind::SelectBoth => matrix_select_both(a, cap).await,
    }
}

#[cfg(all(feature = "rt", feature = "chan"))]
async fn matrix_seq(a: &Args, cap: usize) -> Outcome {
    let n = a.sizes.matrix_messages;
    let (tx, rx) = gorun::chan::<u64>(cap);
    let start = Instant::now();
    let mut sent = 0usize;
    let mut next = 0u64;
    while sent < n {
        let batch = cap.min(n - sent);
        for k in 0..batch {
            if tx.send((sent + k) as u64).await.is_err() {
                fail("seq closed");
            }
        }
        for _ in 0..batch {
            let v = rx.recv().await;
            verify(v == Some(next), || format!("seq got {v:?} want {next}"));
            next += 1;
        }
        sent += batch;
    }
    Outcome::Value(per(start.elapsed(), n as u64))
}
#[cfg(not(all(feature = "rt", feature = "chan")))]
async fn matrix_seq(_: &Args, _: usize) -> Outcome {
    not_yet(&["chan"])
}

#[cfg(all(feature = "rt", feature = "chan"))]
async fn matrix_spsc(a: &Args, cap: usize) -> Outcome {
    let n = a.sizes.matrix_messages;
    let (tx, rx) = gorun::chan::<u64>(cap);
    let start = Instant::now();
    let p = gorun::spawn(async move {
        for i in 0..n as u64 {
            if tx.send(i).await.is_err() {
                fail("spsc closed");
            }
        }
    });
    for i in 0..n as u64 {
        let v = rx.recv().await;
        verify(v == Some(i), || format!("spsc got {v:?} want {i}"));
    }
    join(p).await;
    Outcome::Value(per(start.elapsed(), n as u64))
}
#[cfg(not(all(feature = "rt", feature = "chan")))]
async fn matrix_spsc(_: &Args, _: usize) -> Outcome {
    not_yet(&["chan"])
}

/// Spawns MATRIX_THREADS tasks sending 0..per_task on `txs[t % txs.len()]`,
/// tracked by the returned WaitGroup.
#[cfg(all(feature = "rt", feature = "chan", feature = "waitgroup"))]
fn matrix_senders(txs: &[gorun::Sender<u64>], per_task: usize) -> gorun::sync::WaitGroup {
    let wg = gorun::sync::WaitGroup::new();
    wg.add(MATRIX_THREADS);
    for t in 0..MATRIX_THREADS {
        let (tx, g) = (txs[t % txs.len()].clone(), wg.clone());
        drop(gorun::spawn(async move {
            for i in 0..per_task as u64 {
                if tx.send(i).await.is_err() {
                    fail("matrix channel closed");
                }
            }
            g.done();
        }));
    }
    wg
}

#[cfg(all(feature = "rt", feature = "chan", feature = "waitgroup"))]
async fn matrix_mpxc(a: &Args, kind: MatrixKind, cap: usize) -> Outcome {
    let per_task = a.sizes.matrix_messages / MATRIX_THREADS;
    let total = per_task * MATRIX_THREADS;
    let (tx, rx) = gorun::chan::<u64>(cap);
    let start = Instant::now();
    let senders = matrix_senders(&[tx], per_task);
    let mut sum = 0u64;
    if kind == MatrixKind::Mpsc {
        for _ in 0..total {
            sum += rx.recv().await.unwrap_or_else(|| fail("mpsc closed"));
        }
    } else {
        let mut cs = Vec::with_capacity(MATRIX_THREADS);
        for _ in 0..MATRIX_THREADS {
            let rx = rx.clone();
            cs.push(gorun::spawn(async move {
                let mut s = 0u64;
                for _ in 0..per_task {
                    s += rx.recv().await.unwrap_or_else(|| fail("mpmc closed"));
                }
                s
            }));
        }
        for c in cs {
            sum += join(c).await;
        }
    }
    senders.wait().await;
    let el = start.elapsed();
    check_sum(sum, per_task);
    Outcome::Value(per(el, total as u64))
}
#[cfg(not(all(feature = "rt", feature = "chan", feature = "waitgroup")))]
async fn matrix_mpxc(_: &Args, _: MatrixKind, _: usize) -> Outcome {
    not_yet(&["chan", "waitgroup"])
}

/// One receive selecting over 4 channels.
#[cfg(all(feature = "rt", feature = "chan", feature = "select"))]
async fn select_recv(rxs: &[gorun::Receiver<u64>]) -> u64 {
    let [r0, r1, r2, r3] = rxs else {
        unreachable!()
    };
    let v: Option<u64> = gorun::select! {
        v = r0.recv() => { v }
        v = r1.recv() => { v }
        v = r2.recv() => { v }
        v = r3.recv() => { v }
    };
    v.unwrap_or_else(|| fail("select channel closed"))
}

#[cfg(all(
    feature = "rt",
    feature = "chan",
    feature = "select",
    feature = "waitgroup"
))]
async fn matrix_select_rx(a: &Args, cap: usize) -> Outcome {
    let per_task = a.sizes.matrix_messages / MATRIX_THREADS;
    let total = per_task * MATRIX_THREADS;
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..MATRIX_THREADS).map(|_| gorun::chan::<u64>(cap)).unzip();
    let start = Instant::now();
    // One sender task per channel; the root keeps `txs`, so no channel closes.
    let senders = matrix_senders(&txs, per_task);
    let mut sum = 0u64;
    for _ in 0..total {
        sum += select_recv(&rxs).await;
    }
    senders.wait().await;
    let el = start.elapsed();
    check_sum(sum, per_task);
    drop(txs);
    Outcome::Value(per(el, total as u64))
}
#[cfg(not(all(
    feature = "rt",
    feature = "chan",
    feature = "select",
    feature = "waitgroup"
)))]
async fn matrix_select_rx(_: &Args, _: usize) -> Outcome {
    not_yet(&["chan", "select", "waitgroup"])
}

#[cfg(all(
    feature = "rt",
    feature = "chan",
    feature = "select",
    feature = "waitgroup"
))]
async fn matrix_select_both(a: &Args, cap: usize) -> Outcome {
    let per_task = a.sizes.matrix_messages / MATRIX_THREADS;
    let total = per_task * MATRIX_THREADS;
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..MATRIX_THREADS).map(|_| gorun::chan::<u64>(cap)).unzip();
    let start = Instant::now();
    let wg = gorun::sync::WaitGroup::new();
    wg.add(MATRIX_THREADS);
    for _ in 0..MATRIX_THREADS {
        let (txs, g) = (txs.clone(), wg.clone());
        drop(gorun::spawn(async move {
            let [t0, t1, t2, t3] = &txs[..] else {
                unreachable!()
            };
            for i in 0..per_task as u64 {
                let r = gorun::select! {
                    r = t0.send(i) => { r.is_ok() }
                    r = t1.send(i) => { r.is_ok() }
                    r = t2.send(i) => { r.is_ok() }
                    r = t3.send(i) => { r.is_ok() }
                };
                if !r {
                    fail("select_both closed");
                }
            }
            g.done();
        }));
    }
    let mut cs = Vec::with_capacity(MATRIX_THREADS);
    for _ in 0..MATRIX_THREADS {
        let rxs = rxs.clone();
        cs.push(gorun::spawn(async move {
            let mut s = 0u64;
            for _ in 0..per_task {
                s += select_recv(&rxs).await;
            }
            s
        }));
    }
    let mut sum = 0u64;
    for c in cs {
        sum += join(c).await;
    }
    wg.wait().await;
    let el = start.elapsed();
    check_sum(sum, per_task);
    drop((txs, rxs));
    Outcome::Value(per(el, total as u64))
}
#[cfg(not(all(
    feature = "rt",
    feature = "chan",
    feature = "select",
    feature = "waitgroup"
)))]
async fn matrix_select_both(_: &Args, _: usize) -> Outcome {
    not_yet(&["chan", "select", "waitgroup"])
}

fn check_sum(sum: u64, per_task: usize) {
    let want = MATRIX_THREADS as u64 * sum_below(per_task as u64);
    verify(sum == want, || format!("matrix sum {sum} != {want}"));
}
