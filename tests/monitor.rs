//! The blocking monitor (Go's sysmon): a task that holds a worker too long
//! is reported once, and the runtime keeps running other tasks meanwhile.

use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gorun::debug::BlockingReport;
use gorun::Runtime;

const THRESHOLD: Duration = Duration::from_millis(20);

/// A runtime whose monitor reports into the returned list.
fn monitored(workers: usize) -> (Runtime, Arc<Mutex<Vec<BlockingReport>>>) {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = reports.clone();
    let rt = Runtime::builder()
        .workers(workers)
        .blocking_threshold(Some(THRESHOLD))
        .on_blocking(move |r| sink.lock().unwrap().push(r.clone()))
        .build()
        .unwrap();
    (rt, reports)
}

/// Waits (on this plain thread) until `flag` is set: a task has started.
fn wait_until_set(flag: &AtomicBool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !flag.load(SeqCst) {
        assert!(Instant::now() < deadline, "the task never started");
        std::thread::yield_now();
    }
}

#[test]
fn a_task_holding_a_worker_past_the_threshold_is_reported_once_with_its_location() {
    let (rt, reports) = monitored(2);
    let (handle, line) = rt.block_on(async {
        let line = Location::caller().line() + 1;
        let h = gorun::spawn(async { std::thread::sleep(Duration::from_millis(300)) });
        (h, line)
    });
    let id = handle.id();
    rt.block_on(handle).unwrap();
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let r = &reports[0];
    assert_eq!(r.task(), id);
    assert_eq!(r.location().file(), file!());
    assert_eq!(r.location().line(), line);
    assert!(r.held() >= THRESHOLD);
    assert!(r.to_string().contains("spawn_blocking"), "{r}");
    assert_eq!(rt.metrics().blocking_reports, 1);
}

#[test]
fn a_task_that_yields_often_is_never_reported() {
    let (rt, reports) = monitored(2);
    rt.block_on(async {
        gorun::spawn(async {
            let end = Instant::now() + Duration::from_millis(200);
            while Instant::now() < end {
                gorun::yield_now().await;
            }
        })
        .await
        .unwrap();
    });
    assert!(reports.lock().unwrap().is_empty());
}

#[test]
fn other_tasks_run_while_the_only_worker_is_blocked() {
    let (rt, _reports) = monitored(1);
    let blocker_done = Arc::new(AtomicBool::new(false));
    let done = blocker_done.clone();
    let started = Arc::new(AtomicBool::new(false));
    let blocker_started = started.clone();
    let saw_blocker_done = rt.block_on(async move {
        let blocker = gorun::spawn(async move {
            blocker_started.store(true, SeqCst);
            std::thread::sleep(Duration::from_millis(500));
            done.store(true, SeqCst);
        });
        // The blocker holds the one worker before the other task exists.
        wait_until_set(&started);
        let flag = blocker_done.clone();
        let other = gorun::spawn(async move { flag.load(SeqCst) });
        let saw = other.await.unwrap();
        blocker.await.unwrap();
        saw
    });
    assert!(
        !saw_blocker_done,
        "the other task waited for the blocked worker"
    );
    assert!(rt.metrics().spare_workers_started >= 1);
}

#[test]
fn a_blocked_workers_queue_is_taken_by_the_other_workers() {
    let (rt, _reports) = monitored(2);
    let finished_before = rt.block_on(async {
        let blocker_done = Arc::new(AtomicBool::new(false));
        let done = blocker_done.clone();
        let (tx, rx) = gorun::chan::<bool>(16);
        let blocker = gorun::spawn(async move {
            // Queued on this worker's own ring, then the worker blocks.
            for _ in 0..10 {
                let tx = tx.clone();
                let done = done.clone();
                gorun::spawn(async move { tx.send(done.load(SeqCst)).await.unwrap() });
            }
            std::thread::sleep(Duration::from_millis(400));
            done.store(true, SeqCst);
        });
        let mut before = 0;
        for _ in 0..10 {
            if !rx.recv().await.unwrap() {
                before += 1;
            }
        }
        blocker.await.unwrap();
        drop(blocker_done);
        before
    });
    assert_eq!(finished_before, 10);
}

#[test]
fn spare_workers_exit_once_the_blocked_worker_returns() {
    let rt = Runtime::builder()
        .workers(1)
        .thread_name("sparetest")
        .blocking_threshold(Some(THRESHOLD))
        .on_blocking(|_| {})
        .build()
        .unwrap();
    let started = Arc::new(AtomicBool::new(false));
    let blocker_started = started.clone();
    rt.block_on(async move {
        let blocker = gorun::spawn(async move {
            blocker_started.store(true, SeqCst);
            std::thread::sleep(Duration::from_millis(200))
        });
        wait_until_set(&started);
        gorun::spawn(async {}).await.unwrap();
        blocker.await.unwrap();
    });
    assert!(rt.metrics().spare_workers_started >= 1);
    #[cfg(target_os = "linux")]
    {
        let spares = || {
            std::fs::read_dir("/proc/self/task")
                .unwrap()
                .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
                .filter(|name| name.starts_with("sparetest-spare"))
                .count()
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while spares() > 0 {
            assert!(Instant::now() < deadline, "a spare worker never exited");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    // The runtime still works with its one worker.
    assert_eq!(
        rt.block_on(async { gorun::spawn(async { 3 }).await.unwrap() }),
        3
    );
}

#[test]
fn with_the_monitor_off_nothing_is_reported() {
    let reports = Arc::new(Mutex::new(0));
    let sink = reports.clone();
    let rt = Runtime::builder()
        .workers(1)
        .blocking_threshold(None)
        .on_blocking(move |_| *sink.lock().unwrap() += 1)
        .build()
        .unwrap();
    rt.block_on(async {
        gorun::spawn(async { std::thread::sleep(Duration::from_millis(100)) })
            .await
            .unwrap();
    });
    assert_eq!(*reports.lock().unwrap(), 0);
    assert_eq!(rt.metrics().spare_workers_started, 0);
}

#[test]
#[should_panic(expected = "the threshold must be positive")]
fn a_zero_threshold_is_refused() {
    let _ = Runtime::builder().blocking_threshold(Some(Duration::ZERO));
}

/// Blocked workers, spare workers coming and going, and channel traffic
/// all at once: every value arrives, every task finishes.
#[test]
fn channel_traffic_survives_workers_blocking_and_spares_coming_and_going() {
    let (rt, _reports) = monitored(2);
    let total = rt.block_on(async {
        let (tx, rx) = gorun::chan::<u64>(4);
        let mut producers = Vec::new();
        for p in 0..8u64 {
            let tx = tx.clone();
            producers.push(gorun::spawn(async move {
                for i in 0..200u64 {
                    if i % 50 == p % 5 {
                        // Hold the worker well past the threshold.
                        std::thread::sleep(Duration::from_millis(30));
                    }
                    tx.send(p * 1000 + i).await.unwrap();
                }
            }));
        }
        drop(tx);
        let consumer = gorun::spawn(async move {
            let mut sum = 0;
            while let Some(v) = rx.recv().await {
                sum += v;
            }
            sum
        });
        for p in producers {
            p.await.unwrap();
        }
        consumer.await.unwrap()
    });
    let expected: u64 = (0..8u64)
        .map(|p| (0..200u64).map(|i| p * 1000 + i).sum::<u64>())
        .sum();
    assert_eq!(total, expected);
    assert!(rt.metrics().blocking_reports > 0);
    assert_eq!(rt.num_goroutines(), 0);
}
