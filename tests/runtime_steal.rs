//! Work stealing: idle workers take tasks queued on busy ones.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{runtime, watchdog};

#[test]
fn tasks_spawned_by_a_busy_worker_are_stolen_by_the_other() {
    let _w = watchdog("stealing", Duration::from_secs(60));
    let rt = runtime(2);
    rt.block_on(rt.spawn(async {
        let root_thread = std::thread::current().id();
        let threads = Arc::new(Mutex::new(Vec::new()));
        let done = Arc::new(AtomicUsize::new(0));
        const N: usize = 100;
        for _ in 0..N {
            let threads = threads.clone();
            let done = done.clone();
            drop(gorun::spawn(async move {
                threads.lock().unwrap().push(std::thread::current().id());
                done.fetch_add(1, Ordering::SeqCst);
            }));
        }
        // Keep this worker busy without yielding: only a thief can run the
        // tasks it queued.
        let deadline = Instant::now() + Duration::from_secs(30);
        while done.load(Ordering::SeqCst) < N {
            assert!(Instant::now() < deadline, "queued tasks were never stolen");
            std::hint::spin_loop();
        }
        let threads = threads.lock().unwrap();
        assert!(threads.iter().all(|&t| t != root_thread));
    }))
    .unwrap();
}

#[test]
fn a_busy_worker_lifo_slot_is_eventually_taken_by_a_thief() {
    let _w = watchdog("runnext stealing", Duration::from_secs(60));
    let rt = runtime(2);
    rt.block_on(rt.spawn(async {
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        let waiting = Arc::new(AtomicUsize::new(0));
        let waiter = {
            let waiting = waiting.clone();
            gorun::spawn(async move {
                waiting.store(1, Ordering::SeqCst);
                rx.await.unwrap();
            })
        };
        while waiting.load(Ordering::SeqCst) == 0 {
            gorun::yield_now().await;
        }
        // Waking it from this task puts it in this worker's LIFO slot; then
        // stay busy without yielding, so only a thief can run it.
        tx.send(()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !waiter.is_finished() {
            assert!(Instant::now() < deadline, "the LIFO slot was never stolen");
            std::hint::spin_loop();
        }
        waiter.await.unwrap();
    }))
    .unwrap();
}

#[test]
fn work_spreads_over_both_workers() {
    let rt = runtime(2);
    let threads = rt.block_on(rt.spawn(async {
        let handles: Vec<_> = (0..64)
            .map(|_| {
                gorun::spawn(async {
                    let start = Instant::now();
                    while start.elapsed() < Duration::from_millis(2) {
                        std::hint::spin_loop();
                    }
                    std::thread::current().id()
                })
            })
            .collect();
        let mut threads = Vec::new();
        for h in handles {
            threads.push(h.await.unwrap());
        }
        threads.sort_by_key(|t| format!("{t:?}"));
        threads.dedup();
        threads.len()
    }));
    assert_eq!(threads.unwrap(), 2);
}
