//! smol-stack implementation (async-executor on N threads, async-channel,
//! async-io, event-listener, futures) of the workloads of WORKLOADS.md and of
//! the channel matrix (see ../README.md). One process runs one workload.

use async_channel::{bounded, Receiver, Sender};
use async_executor::{Executor, Task};
use async_io::{Async, Timer};
use bench_common::{
    fail, hog_evaluate, parse_args, per, rss_bytes, sum_below, sum_squares_below, tcp_message,
    verify, work, Args, MatrixKind, Outcome, MATRIX_THREADS, SEQ_CAP0,
};
use event_listener::Event;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use futures::{FutureExt, StreamExt};
use std::future::Future;
use std::net::{TcpListener, TcpStream};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use std::sync::Arc;
use std::time::{Duration, Instant};

const IMPL: &str = "smol";

static EX: Executor<'static> = Executor::new();

fn spawn<T: Send + 'static>(f: impl Future<Output = T> + Send + 'static) -> Task<T> {
    EX.spawn(f)
}

async fn sleep(d: Duration) {
    Timer::after(d).await;
}

fn main() {
    let args = parse_args(IMPL);
    let workers = if args.workload == "hog_latency" { 1 } else { 2 };
    for i in 0..workers {
        std::thread::Builder::new()
            .name(format!("smol-worker-{i}"))
            .spawn(|| async_io::block_on(EX.run(std::future::pending::<()>())))
            .expect("spawn executor thread");
    }
    // The root is an ordinary spawned task; the main thread only waits for it.
    let (tx, rx) = std::sync::mpsc::channel();
    let a = args.clone();
    spawn(async move {
        let out = root(a).await;
        let _ = tx.send(out);
    })
    .detach();
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
        handles.push(spawn(async move {
            c.fetch_add(1, Relaxed);
        }));
    }
    for h in handles {
        h.await;
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
    let mut senders: Vec<Sender<()>> = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, rx) = bounded::<()>(1);
        senders.push(tx);
        let (s, f) = (started.clone(), finished.clone());
        spawn(async move {
            s.fetch_add(1, Relaxed);
            let _ = rx.recv().await;
            f.fetch_add(1, Relaxed);
        })
        .detach();
    }
    wait_started(&started, n).await;
    let rss = rss_bytes();
    for tx in &senders {
        if tx.send(()).await.is_err() {
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
    // async-channel has no rendezvous channel: capacity 1.
    let (tx1, rx1) = bounded::<u64>(1);
    let (tx2, rx2) = bounded::<u64>(1);
    let start = Instant::now();
    let b = spawn(async move {
        while let Ok(v) = rx1.recv().await {
            if tx2.send(v).await.is_err() {
                break;
            }
        }
    });
    for i in 0..n {
        if tx1.send(i).await.is_err() {
            fail("c1 closed early");
        }
        let w = rx2.recv().await.ok();
        verify(w == Some(i), || format!("pingpong got {w:?}, want {i}"));
    }
    drop(tx1);
    b.await;
    Outcome::Value(per(start.elapsed(), n))
}

async fn mpmc(a: &Args) -> Outcome {
    let m = a.sizes.mpmc_per_producer;
    let (tx, rx) = bounded::<u64>(128);
    let start = Instant::now();
    let mut producers = Vec::with_capacity(4);
    for _ in 0..4 {
        let tx = tx.clone();
        producers.push(spawn(async move {
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
        consumers.push(spawn(async move {
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
        p.await;
    }
    let mut total = 0u64;
    for c in consumers {
        total = total.wrapping_add(c.await);
    }
    let el = start.elapsed();
    let want = 4u64.wrapping_mul(sum_below(m));
    verify(total == want, || format!("mpmc total {total} != {want}"));
    Outcome::Value(per(el, 4 * m))
}

async fn pipeline(a: &Args) -> Outcome {
    let n = a.sizes.pipeline_n;
    let (jtx, jrx) = bounded::<u64>(64);
    let (rtx, rrx) = bounded::<u64>(64);
    let start = Instant::now();
    let generator = spawn(async move {
        for x in 0..n {
            if jtx.send(x).await.is_err() {
                fail("jobs closed early");
            }
        }
    });
    let mut workers = Vec::with_capacity(8);
    for _ in 0..8 {
        let (jrx, rtx) = (jrx.clone(), rtx.clone());
        workers.push(spawn(async move {
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
    while let Ok(v) = rrx.recv().await {
        sum = sum.wrapping_add(v);
    }
    generator.await;
    for w in workers {
        w.await;
    }
    let el = start.elapsed();
    let want = sum_squares_below(n);
    verify(sum == want, || format!("pipeline sum {sum} != {want}"));
    Outcome::Value(per(el, n))
}

async fn select4(a: &Args) -> Outcome {
    let m = a.sizes.select4_per_producer;
    // async-channel's Receiver is !Unpin: pin each one to use it as a fused stream.
    let mut rxs: Vec<Pin<Box<Receiver<u64>>>> = Vec::new();
    let mut txs = Vec::new();
    for _ in 0..4 {
        let (tx, rx) = bounded::<u64>(16);
        txs.push(tx);
        rxs.push(Box::pin(rx));
    }
    let start = Instant::now();
    for tx in txs {
        spawn(async move {
            for v in 0..m {
                if tx.send(v).await.is_err() {
                    fail("select4 channel closed early");
                }
            }
        })
        .detach();
    }
    let [r0, r1, r2, r3] = &mut rxs[..] else {
        unreachable!()
    };
    let (mut count, mut sum, mut selects) = (0u64, 0u64, 0u64);
    loop {
        selects += 1;
        let v = futures::select! {
            v = r0.next() => v,
            v = r1.next() => v,
            v = r2.next() => v,
            v = r3.next() => v,
            complete => { selects -= 1; break }
        };
        // `None` is a channel observed closed; the fused stream then stays out.
        if let Some(v) = v {
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

async fn timers(a: &Args) -> Outcome {
    let n = a.sizes.timers_n;
    let mut handles = Vec::with_capacity(n);
    let cpu0 = bench_common::cpu_time();
    let start = Instant::now();
    for i in 0..n {
        let d = Duration::from_millis((i % 100 + 1) as u64);
        handles.push(spawn(async move {
            Timer::after(d).await;
        }));
    }
    for h in handles {
        h.await;
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

/// A node of the cancellation tree built over event-listener (smol has no
/// native one).
struct Node {
    cancelled: AtomicBool,
    event: Event,
    children: Vec<Arc<Node>>,
}

impl Node {
    fn new(children: Vec<Arc<Node>>) -> Arc<Node> {
        Arc::new(Node {
            cancelled: AtomicBool::new(false),
            event: Event::new(),
            children,
        })
    }

    /// Sets the flag, wakes every waiter, then cancels the subtree, synchronously.
    fn cancel(&self) {
        self.cancelled.store(true, SeqCst);
        self.event.notify(usize::MAX);
        for c in &self.children {
            c.cancel();
        }
    }

    async fn done(&self) {
        loop {
            if self.cancelled.load(SeqCst) {
                return;
            }
            let l = self.event.listen();
            if self.cancelled.load(SeqCst) {
                return;
            }
            l.await;
        }
    }
}

async fn ctx_cancel(a: &Args) -> Outcome {
    let (nc, nl) = (a.sizes.ctx_children, a.sizes.ctx_leaves_per_child);
    let total = nc * nl;
    let mut middles = Vec::with_capacity(nc);
    let mut leaves = Vec::with_capacity(total);
    for _ in 0..nc {
        let ls: Vec<Arc<Node>> = (0..nl).map(|_| Node::new(Vec::new())).collect();
        leaves.extend(ls.iter().cloned());
        middles.push(Node::new(ls));
    }
    let root_node = Node::new(middles);
    let waiting = Arc::new(AtomicUsize::new(0));
    let remaining = Arc::new(AtomicUsize::new(total));
    let all_done = Arc::new(Event::new());
    for leaf in leaves {
        let (w, r, d) = (waiting.clone(), remaining.clone(), all_done.clone());
        spawn(async move {
            w.fetch_add(1, Relaxed);
            leaf.done().await;
            if r.fetch_sub(1, AcqRel) == 1 {
                d.notify(usize::MAX);
            }
        })
        .detach();
    }
    wait_started(&waiting, total).await;
    let start = Instant::now();
    root_node.cancel();
    loop {
        if remaining.load(Acquire) == 0 {
            break;
        }
        let l = all_done.listen();
        if remaining.load(Acquire) == 0 {
            break;
        }
        l.await;
    }
    let el = start.elapsed();
    Outcome::Value(el.as_secs_f64() * 1e6)
}

async fn tcp_echo(a: &Args) -> Outcome {
    let (clients, rounds) = (a.sizes.tcp_clients, a.sizes.tcp_rounds);
    let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0)).expect("bind");
    let addr = listener.get_ref().local_addr().expect("local_addr");
    spawn(async move {
        loop {
            let (mut s, _) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => fail(&format!("accept: {e}")),
            };
            s.get_ref().set_nodelay(true).expect("nodelay");
            spawn(async move {
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
            })
            .detach();
        }
    })
    .detach();
    let start = Instant::now();
    let mut handles = Vec::with_capacity(clients);
    for c in 0..clients {
        handles.push(spawn(async move {
            let mut s = Async::<TcpStream>::connect(addr).await.expect("connect");
            s.get_ref().set_nodelay(true).expect("nodelay");
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
        h.await;
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
        handles.push(spawn(async move { work(i as u64 + 1, iters) }));
    }
    let mut acc2 = 0u64;
    for h in handles {
        acc2 ^= h.await;
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
    let hog = spawn(async move {
        let (tx, rx) = bounded::<u64>(1);
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
    let ticker = spawn(async move {
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
    let pairs = hog.await;
    let rec = ticker.await;
    let a_end = Duration::from_nanos(a_end.load(Acquire));
    Outcome::Value(hog_evaluate(a, &rec, a_end, pairs))
}

// ---------------------------------------------------------------------------
// Channel matrix over async-channel (MPMC; no capacity 0, so those cells are n/a).

async fn matrix(a: &Args, kind: MatrixKind, cap: usize) -> Outcome {
    if cap == 0 {
        let why = if kind == MatrixKind::Seq {
            SEQ_CAP0
        } else {
            "async-channel has no capacity-0 (rendezvous) channel"
        };
        return Outcome::NotAvailable(why.into());
    }
    let n = a.sizes.matrix_messages;
    let per_task = n / MATRIX_THREADS;
    let total = per_task * MATRIX_THREADS;
    let start = Instant::now();
    match kind {
        MatrixKind::Seq => {
            let (tx, rx) = bounded::<u64>(cap);
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
                    let v = rx.recv().await.ok();
                    verify(v == Some(next), || format!("seq got {v:?} want {next}"));
                    next += 1;
                }
                sent += batch;
            }
        }
        MatrixKind::Spsc => {
            let (tx, rx) = bounded::<u64>(cap);
            let p = spawn(async move {
                for i in 0..n as u64 {
                    if tx.send(i).await.is_err() {
                        fail("spsc closed");
                    }
                }
            });
            for i in 0..n as u64 {
                let v = rx.recv().await.ok();
                verify(v == Some(i), || format!("spsc got {v:?} want {i}"));
            }
            p.await;
        }
        MatrixKind::Mpsc => {
            let (tx, rx) = bounded::<u64>(cap);
            let ps = senders(&[tx], per_task, false);
            let mut sum = 0u64;
            for _ in 0..total {
                sum += rx.recv().await.unwrap_or_else(|_| fail("mpsc closed"));
            }
            for p in ps {
                p.await;
            }
            check_sum(sum, per_task);
        }
        MatrixKind::Mpmc => {
            let (tx, rx) = bounded::<u64>(cap);
            let ps = senders(&[tx], per_task, false);
            let mut cs = Vec::new();
            for _ in 0..MATRIX_THREADS {
                let rx = rx.clone();
                cs.push(spawn(async move {
                    let mut sum = 0u64;
                    for _ in 0..per_task {
                        sum += rx.recv().await.unwrap_or_else(|_| fail("mpmc closed"));
                    }
                    sum
                }));
            }
            for p in ps {
                p.await;
            }
            let mut sum = 0u64;
            for c in cs {
                sum += c.await;
            }
            check_sum(sum, per_task);
        }
        MatrixKind::SelectRx => {
            let (txs, rxs): (Vec<_>, Vec<_>) =
                (0..MATRIX_THREADS).map(|_| bounded::<u64>(cap)).unzip();
            // One sender task per channel; the root keeps `txs`, so no channel closes.
            let ps = senders(&txs, per_task, true);
            let mut sum = 0u64;
            for _ in 0..total {
                sum += select_recv(&rxs).await;
            }
            for p in ps {
                p.await;
            }
            check_sum(sum, per_task);
        }
        MatrixKind::SelectBoth => {
            let (txs, rxs): (Vec<_>, Vec<_>) =
                (0..MATRIX_THREADS).map(|_| bounded::<u64>(cap)).unzip();
            let mut ps = Vec::new();
            for _ in 0..MATRIX_THREADS {
                let txs = txs.clone();
                ps.push(spawn(async move {
                    for i in 0..per_task as u64 {
                        let [t0, t1, t2, t3] = &txs[..] else {
                            unreachable!()
                        };
                        let r = futures::select! {
                            r = t0.send(i).fuse() => r,
                            r = t1.send(i).fuse() => r,
                            r = t2.send(i).fuse() => r,
                            r = t3.send(i).fuse() => r,
                        };
                        if r.is_err() {
                            fail("select_both closed");
                        }
                    }
                }));
            }
            let mut cs = Vec::new();
            for _ in 0..MATRIX_THREADS {
                let rxs = rxs.clone();
                cs.push(spawn(async move {
                    let mut sum = 0u64;
                    for _ in 0..per_task {
                        sum += select_recv(&rxs).await;
                    }
                    sum
                }));
            }
            for p in ps {
                p.await;
            }
            let mut sum = 0u64;
            for c in cs {
                sum += c.await;
            }
            check_sum(sum, per_task);
            drop((txs, rxs));
        }
    }
    Outcome::Value(per(start.elapsed(), total as u64))
}

/// Spawns MATRIX_THREADS sender tasks sending 0..per_task; task t uses
/// `txs[t]` when `one_each`, else `txs[0]`.
fn senders(txs: &[Sender<u64>], per_task: usize, one_each: bool) -> Vec<Task<()>> {
    (0..MATRIX_THREADS)
        .map(|t| {
            let tx = txs[if one_each { t } else { 0 }].clone();
            spawn(async move {
                for i in 0..per_task as u64 {
                    if tx.send(i).await.is_err() {
                        fail("matrix channel closed");
                    }
                }
            })
        })
        .collect()
}

/// One receive selecting over 4 channels (futures::select!, random among ready).
async fn select_recv(rxs: &[Receiver<u64>]) -> u64 {
    let [r0, r1, r2, r3] = rxs else {
        unreachable!()
    };
    let v = futures::select! {
        v = r0.recv().fuse() => v,
        v = r1.recv().fuse() => v,
        v = r2.recv().fuse() => v,
        v = r3.recv().fuse() => v,
    };
    v.unwrap_or_else(|_| fail("select channel closed"))
}

fn check_sum(sum: u64, per_task: usize) {
    let want = MATRIX_THREADS as u64 * sum_below(per_task as u64);
    verify(sum == want, || format!("matrix sum {sum} != {want}"));
}
