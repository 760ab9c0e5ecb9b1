//! tokio implementation of the workloads of WORKLOADS.md and of the channel
//! matrix (see ../README.md). One process runs one workload.

use bench_common::{
    fail, hog_evaluate, parse_args, per, rss_bytes, sum_below, sum_squares_below, tcp_message,
    verify, work, Args, MatrixKind, Outcome, MATRIX_THREADS,
};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;
use tokio::time::sleep;

const IMPL: &str = "tokio";

fn main() {
    let args = parse_args(IMPL);
    let workers = if args.workload == "hog_latency" { 1 } else { 2 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("build tokio runtime");
    // The root is an ordinary spawned task; the main thread only waits for it.
    let (tx, rx) = std::sync::mpsc::channel();
    let a = args.clone();
    rt.spawn(async move {
        let out = root(a).await;
        let _ = tx.send(out);
    });
    let out = rx.recv().expect("root task vanished");
    args.finish(out)
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

async fn join<T>(h: JoinHandle<T>) -> T {
    match h.await {
        Ok(v) => v,
        Err(e) => fail(&format!("task failed: {e}")),
    }
}

/// "Wait until all N have started": poll every 1 ms, then settle 10 ms.
async fn wait_started(counter: &AtomicUsize, n: usize) {
    while counter.load(Acquire) != n {
        sleep(Duration::from_millis(1)).await;
    }
    sleep(Duration::from_millis(10)).await;
}

async fn spawn_join(a: &Args) -> Outcome {
    let n = a.sizes.spawn_join_n;
    let counter = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let c = counter.clone();
        handles.push(tokio::spawn(async move {
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

async fn parked_memory(a: &Args) -> Outcome {
    let n = a.sizes.parked_n;
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let base = rss_bytes();
    let mut senders: Vec<oneshot::Sender<()>> = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, rx) = oneshot::channel::<()>();
        senders.push(tx);
        let (s, f) = (started.clone(), finished.clone());
        tokio::spawn(async move {
            s.fetch_add(1, Relaxed);
            let _ = rx.await;
            f.fetch_add(1, Relaxed);
        });
    }
    wait_started(&started, n).await;
    let rss = rss_bytes();
    for tx in senders {
        if tx.send(()).is_err() {
            fail("a parked task dropped its receiver");
        }
    }
    while finished.load(Acquire) != n {
        sleep(Duration::from_millis(1)).await;
    }
    a.diag(&format!("base_rss={base} rss={rss}"));
    Outcome::Value((rss as f64 - base as f64) / n as f64)
}

async fn pingpong(a: &Args) -> Outcome {
    let n = a.sizes.pingpong_n;
    // tokio has no rendezvous channel: capacity 1.
    let (tx1, mut rx1) = mpsc::channel::<u64>(1);
    let (tx2, mut rx2) = mpsc::channel::<u64>(1);
    let start = Instant::now();
    let b = tokio::spawn(async move {
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
    drop(tx1);
    join(b).await;
    Outcome::Value(per(start.elapsed(), n))
}

async fn mpmc(a: &Args) -> Outcome {
    let m = a.sizes.mpmc_per_producer;
    // tokio::sync::mpsc is single-consumer: async-channel, as WORKLOADS says.
    let (tx, rx) = async_channel::bounded::<u64>(128);
    let start = Instant::now();
    let mut producers = Vec::with_capacity(4);
    for _ in 0..4 {
        let tx = tx.clone();
        producers.push(tokio::spawn(async move {
            for v in 0..m {
                if tx.send(v).await.is_err() {
                    fail("mpmc channel closed early");
                }
            }
        }));
    }
    let mut consumers = Vec::with_capacity(4);
    for _ in 0..4 {
        let rx = rx.clone();
        consumers.push(tokio::spawn(async move {
            let mut sum = 0u64;
            while let Ok(v) = rx.recv().await {
                sum = sum.wrapping_add(v);
            }
            sum
        }));
    }
    drop(tx);
    drop(rx);
    for p in producers {
        join(p).await;
    }
    let mut total = 0u64;
    for c in consumers {
        total = total.wrapping_add(join(c).await);
    }
    let el = start.elapsed();
    let want = 4u64.wrapping_mul(sum_below(m));
    verify(total == want, || format!("mpmc total {total} != {want}"));
    Outcome::Value(per(el, 4 * m))
}

async fn pipeline(a: &Args) -> Outcome {
    let n = a.sizes.pipeline_n;
    // jobs: async-channel (8 consumers); results: tokio mpsc (root is the only consumer).
    let (jtx, jrx) = async_channel::bounded::<u64>(64);
    let (rtx, mut rrx) = mpsc::channel::<u64>(64);
    let start = Instant::now();
    let generator = tokio::spawn(async move {
        for x in 0..n {
            if jtx.send(x).await.is_err() {
                fail("jobs closed early");
            }
        }
    });
    let mut workers = Vec::with_capacity(8);
    for _ in 0..8 {
        let (jrx, rtx) = (jrx.clone(), rtx.clone());
        workers.push(tokio::spawn(async move {
            while let Ok(x) = jrx.recv().await {
                if rtx.send(x.wrapping_mul(x)).await.is_err() {
                    fail("results closed early");
                }
            }
        }));
    }
    drop(jrx);
    drop(rtx);
    let mut sum = 0u64;
    while let Some(v) = rrx.recv().await {
        sum = sum.wrapping_add(v);
    }
    join(generator).await;
    for w in workers {
        join(w).await;
    }
    let el = start.elapsed();
    let want = sum_squares_below(n);
    verify(sum == want, || format!("pipeline sum {sum} != {want}"));
    Outcome::Value(per(el, n))
}

async fn select4(a: &Args) -> Outcome {
    let m = a.sizes.select4_per_producer;
    let (t0, mut r0) = mpsc::channel::<u64>(16);
    let (t1, mut r1) = mpsc::channel::<u64>(16);
    let (t2, mut r2) = mpsc::channel::<u64>(16);
    let (t3, mut r3) = mpsc::channel::<u64>(16);
    let start = Instant::now();
    for tx in [t0, t1, t2, t3] {
        tokio::spawn(async move {
            for v in 0..m {
                if tx.send(v).await.is_err() {
                    fail("select4 channel closed early");
                }
            }
        });
    }
    let (mut o0, mut o1, mut o2, mut o3) = (true, true, true, true);
    let (mut count, mut sum, mut selects) = (0u64, 0u64, 0u64);
    loop {
        selects += 1;
        tokio::select! {
            v = r0.recv(), if o0 => match v { Some(v) => { count += 1; sum = sum.wrapping_add(v); } None => o0 = false },
            v = r1.recv(), if o1 => match v { Some(v) => { count += 1; sum = sum.wrapping_add(v); } None => o1 = false },
            v = r2.recv(), if o2 => match v { Some(v) => { count += 1; sum = sum.wrapping_add(v); } None => o2 = false },
            v = r3.recv(), if o3 => match v { Some(v) => { count += 1; sum = sum.wrapping_add(v); } None => o3 = false },
            else => { selects -= 1; break }
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

async fn timers(a: &Args) -> Outcome {
    let n = a.sizes.timers_n;
    let mut handles = Vec::with_capacity(n);
    let cpu0 = bench_common::cpu_time();
    let start = Instant::now();
    for i in 0..n {
        let d = Duration::from_millis((i % 100 + 1) as u64);
        handles.push(tokio::spawn(async move { sleep(d).await }));
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

async fn ctx_cancel(a: &Args) -> Outcome {
    use tokio_util::sync::CancellationToken;
    let (nc, nl) = (a.sizes.ctx_children, a.sizes.ctx_leaves_per_child);
    let total = nc * nl;
    let root_tok = CancellationToken::new();
    // The middle tokens stay alive until the end so the tree keeps its shape.
    let mut middles = Vec::with_capacity(nc);
    let mut leaves = Vec::with_capacity(total);
    for _ in 0..nc {
        let mid = root_tok.child_token();
        for _ in 0..nl {
            leaves.push(mid.child_token());
        }
        middles.push(mid);
    }
    let waiting = Arc::new(AtomicUsize::new(0));
    let remaining = Arc::new(AtomicUsize::new(total));
    let notify = Arc::new(Notify::new());
    for leaf in leaves {
        let (w, r, nt) = (waiting.clone(), remaining.clone(), notify.clone());
        tokio::spawn(async move {
            w.fetch_add(1, Relaxed);
            leaf.cancelled().await;
            if r.fetch_sub(1, AcqRel) == 1 {
                nt.notify_one();
            }
        });
    }
    wait_started(&waiting, total).await;
    let start = Instant::now();
    root_tok.cancel();
    while remaining.load(Acquire) != 0 {
        notify.notified().await;
    }
    let el = start.elapsed();
    drop(middles);
    Outcome::Value(el.as_secs_f64() * 1e6)
}

async fn tcp_echo(a: &Args) -> Outcome {
    let (clients, rounds) = (a.sizes.tcp_clients, a.sizes.tcp_rounds);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    tokio::spawn(async move {
        loop {
            let (mut s, _) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => fail(&format!("accept: {e}")),
            };
            s.set_nodelay(true).expect("nodelay");
            tokio::spawn(async move {
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
            });
        }
    });
    let start = Instant::now();
    let mut handles = Vec::with_capacity(clients);
    for c in 0..clients {
        handles.push(tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
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
        }));
    }
    for h in handles {
        join(h).await;
    }
    let el = start.elapsed();
    Outcome::Value((clients * rounds) as f64 / el.as_secs_f64())
}

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
        handles.push(tokio::spawn(async move { work(i as u64 + 1, iters) }));
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

async fn hog_latency(a: &Args) -> Outcome {
    let (hog_for, ticks) = (a.sizes.hog_duration, a.sizes.hog_ticks);
    let epoch = Instant::now();
    let a_end = Arc::new(AtomicU64::new(u64::MAX));
    let ae = a_end.clone();
    let hog = tokio::spawn(async move {
        let (tx, mut rx) = mpsc::channel::<u64>(1);
        let begin = Instant::now();
        let mut i = 0u64;
        let mut pairs = 0u64;
        while begin.elapsed() < hog_for {
            for _ in 0..100 {
                tx.send(i).await.expect("hog send");
                i = rx.recv().await.expect("hog recv") + 1;
            }
            pairs += 100;
        }
        ae.store(epoch.elapsed().as_nanos() as u64, Release);
        pairs
    });
    let b_spawn = epoch.elapsed();
    let ticker = tokio::spawn(async move {
        let mut rec = Vec::with_capacity(ticks);
        let mut t = b_spawn;
        for _ in 0..ticks {
            sleep(Duration::from_millis(1)).await;
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

// ---------------------------------------------------------------------------
// Channel matrix. tokio's channel is tokio::sync::mpsc: no capacity 0 and a
// single consumer, so mpmc and select_both (several receivers per channel)
// and every capacity-0 cell are n/a.

async fn matrix(a: &Args, kind: MatrixKind, cap: usize) -> Outcome {
    if cap == 0 {
        return Outcome::NotAvailable(
            "tokio::sync::mpsc has no capacity-0 (rendezvous) channel".into(),
        );
    }
    let n = a.sizes.matrix_messages;
    let per_task = n / MATRIX_THREADS;
    let start = Instant::now();
    match kind {
        MatrixKind::Seq => {
            let (tx, mut rx) = mpsc::channel::<u64>(cap);
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
        }
        MatrixKind::Spsc => {
            let (tx, mut rx) = mpsc::channel::<u64>(cap);
            let p = tokio::spawn(async move {
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
        }
        MatrixKind::Mpsc => {
            let (tx, mut rx) = mpsc::channel::<u64>(cap);
            let mut ps = Vec::new();
            for _ in 0..MATRIX_THREADS {
                let tx = tx.clone();
                ps.push(tokio::spawn(async move {
                    for i in 0..per_task as u64 {
                        if tx.send(i).await.is_err() {
                            fail("mpsc closed");
                        }
                    }
                }));
            }
            let mut sum = 0u64;
            for _ in 0..per_task * MATRIX_THREADS {
                sum += rx.recv().await.unwrap_or_else(|| fail("mpsc closed"));
            }
            for p in ps {
                join(p).await;
            }
            check_sum(sum, per_task);
        }
        MatrixKind::Mpmc => {
            return Outcome::NotAvailable(
                "tokio::sync::mpsc is single-consumer; mpmc needs 4 receivers on one channel"
                    .into(),
            )
        }
        MatrixKind::SelectRx => {
            let mut txs = Vec::new();
            let mut rxs = Vec::new();
            for _ in 0..MATRIX_THREADS {
                let (tx, rx) = mpsc::channel::<u64>(cap);
                txs.push(tx);
                rxs.push(rx);
            }
            let mut ps = Vec::new();
            // The root keeps its senders, so no channel closes (like Go's).
            for tx in &txs {
                let tx = tx.clone();
                ps.push(tokio::spawn(async move {
                    for i in 0..per_task as u64 {
                        if tx.send(i).await.is_err() {
                            fail("select_rx closed");
                        }
                    }
                }));
            }
            let [r0, r1, r2, r3] = &mut rxs[..] else {
                unreachable!()
            };
            let mut sum = 0u64;
            for _ in 0..per_task * MATRIX_THREADS {
                let v = tokio::select! {
                    v = r0.recv() => v,
                    v = r1.recv() => v,
                    v = r2.recv() => v,
                    v = r3.recv() => v,
                };
                sum += v.unwrap_or_else(|| fail("select_rx closed"));
            }
            for p in ps {
                join(p).await;
            }
            check_sum(sum, per_task);
        }
        MatrixKind::SelectBoth => return Outcome::NotAvailable(
            "tokio::sync::mpsc is single-consumer; select_both needs 4 receiving tasks per channel"
                .into(),
        ),
    }
    Outcome::Value(per(start.elapsed(), n as u64))
}

fn check_sum(sum: u64, per_task: usize) {
    let want = MATRIX_THREADS as u64 * sum_below(per_task as u64);
    verify(sum == want, || format!("matrix sum {sum} != {want}"));
}
