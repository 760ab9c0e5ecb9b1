//! Wake-ups from many threads are never lost.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{runtime, watchdog};

#[test]
fn one_hundred_thousand_wakes_from_plain_threads_all_arrive() {
    let _w = watchdog("wake storm", Duration::from_secs(120));
    const TASKS: usize = 100_000;
    const THREADS: usize = 4;
    let rt = runtime(2);
    let (senders, handles): (Vec<_>, Vec<_>) = rt.block_on(async {
        (0..TASKS)
            .map(|i| {
                let (tx, rx) = futures::channel::oneshot::channel::<usize>();
                (tx, gorun::spawn(async move { rx.await.unwrap() == i }))
            })
            .unzip()
    });
    let mut chunks: Vec<Vec<_>> = (0..THREADS).map(|_| Vec::new()).collect();
    for (i, tx) in senders.into_iter().enumerate() {
        chunks[i % THREADS].push((i, tx));
    }
    let threads: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            std::thread::spawn(move || {
                for (i, tx) in chunk {
                    tx.send(i).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let all_ok = rt.block_on(async move {
        let mut ok = 0;
        for h in handles {
            ok += usize::from(h.await.unwrap());
        }
        ok
    });
    assert_eq!(all_ok, TASKS);
}

#[test]
fn spawn_and_wake_hammered_across_threads_never_hangs() {
    let _w = watchdog("spawn/wake hammer", Duration::from_secs(120));
    let rt = Arc::new(runtime(2));
    let finished = Arc::new(AtomicUsize::new(0));
    for _round in 0..20 {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let rt = rt.clone();
                let finished = finished.clone();
                std::thread::spawn(move || {
                    let mut senders = Vec::new();
                    let mut handles = Vec::new();
                    for _ in 0..500 {
                        let (tx, rx) = futures::channel::oneshot::channel::<()>();
                        let finished = finished.clone();
                        handles.push(rt.spawn(async move {
                            rx.await.unwrap();
                            gorun::yield_now().await;
                            finished.fetch_add(1, Ordering::SeqCst);
                        }));
                        senders.push(tx);
                    }
                    for tx in senders {
                        tx.send(()).unwrap();
                    }
                    for h in handles {
                        futures::executor::block_on(h).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }
    assert_eq!(finished.load(Ordering::SeqCst), 20 * 4 * 500);
}

#[test]
fn tasks_waking_each_other_across_workers_never_hang() {
    let _w = watchdog("ring of wakes", Duration::from_secs(120));
    let rt = runtime(2);
    rt.block_on(async {
        // A ring of 64 tasks passing a token 10,000 times.
        const N: usize = 64;
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..N)
            .map(|_| futures::channel::mpsc::unbounded::<u32>())
            .unzip();
        let mut handles = Vec::new();
        for (i, mut rx) in rxs.into_iter().enumerate() {
            let next = txs[(i + 1) % N].clone();
            handles.push(gorun::spawn(async move {
                while let Some(hops) = futures::StreamExt::next(&mut rx).await {
                    if hops == 0 {
                        let _ = next.unbounded_send(0);
                        return;
                    }
                    next.unbounded_send(hops - 1).unwrap();
                }
            }));
        }
        txs[0].unbounded_send(10_000).unwrap();
        drop(txs);
        for h in handles {
            h.await.unwrap();
        }
    });
}

#[test]
fn spawns_from_outside_onto_a_single_worker_are_never_lost() {
    // A lone worker that parks right after a producer looked at it must
    // still see the producer's task (the last-searcher re-check).
    let _w = watchdog("single-worker handoff", Duration::from_secs(120));
    let rt = runtime(1);
    for i in 0..5_000u32 {
        assert_eq!(rt.block_on(rt.spawn(async move { i })).unwrap(), i);
    }
}
