//! Leak checks: `num_goroutines` is exact, and `assert_no_leaks` fails with
//! a dump when a task outlives the body.

use gorun::testing::assert_no_leaks;
use gorun::Runtime;

#[test]
fn num_goroutines_counts_each_live_task_exactly() {
    let rt = Runtime::builder().workers(2).build().unwrap();
    let (tx, rx) = gorun::chan::<()>(0);
    let handles: Vec<_> = (0..25)
        .map(|_| {
            let rx = rx.clone();
            rt.spawn(async move { rx.recv().await })
        })
        .collect();
    assert_eq!(rt.num_goroutines(), 25);
    for h in handles.iter().take(10) {
        h.abort();
    }
    for h in handles.into_iter().take(10) {
        let _ = rt.block_on(h);
    }
    assert_eq!(rt.num_goroutines(), 15);
    drop(tx);
    while rt.num_goroutines() > 0 {
        std::thread::yield_now();
    }
}

#[test]
fn a_body_whose_tasks_all_finish_passes() {
    let sum = assert_no_leaks(async {
        let hs: Vec<_> = (0..100u64)
            .map(|i| gorun::spawn(async move { i }))
            .collect();
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 4950);
}

#[test]
fn a_detached_task_finishing_just_after_the_body_is_not_a_leak() {
    assert_no_leaks(async {
        gorun::spawn(gorun::sleep(std::time::Duration::from_millis(20)));
    });
}

#[test]
fn a_task_left_waiting_is_reported_with_its_spawn_location() {
    let line = line!() + 5;
    let payload = std::panic::catch_unwind(|| {
        assert_no_leaks(async {
            let (tx, rx) = gorun::chan::<u32>(0);
            std::mem::forget(tx);
            gorun::spawn(async move { rx.recv().await });
        })
    })
    .expect_err("the leak was not reported");
    let message = payload.downcast_ref::<String>().unwrap();
    assert!(message.contains("1 task(s) still alive"), "{message}");
    assert!(
        message.contains(&format!("spawned at {}:{line}:", file!())),
        "{message}"
    );
}
