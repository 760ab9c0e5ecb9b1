//! `gorun::sync::Mutex`: mutual exclusion, `try_lock`, cancellation,
//! starvation and the cooperative budget.

mod common;

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use common::{runtime, wait_for_reason, watchdog};
use gorun::debug::WaitReason;
use gorun::sync::Mutex;

/// Polls `future` once with a waker that does nothing, outside any
/// runtime (so with an unlimited budget).
fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(futures::task::noop_waker_ref()))
}

#[test]
fn mutual_exclusion_under_contention_on_two_workers() {
    const TASKS: usize = 64;
    const ROUNDS: usize = 500;
    let _w = watchdog("mutex contention", Duration::from_secs(60));
    let rt = runtime(2);
    let total = rt.block_on(async {
        let counter = Arc::new(Mutex::new(0usize));
        let inside = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let (counter, inside) = (counter.clone(), inside.clone());
                gorun::spawn(async move {
                    for i in 0..ROUNDS {
                        let mut guard = counter.lock().await;
                        assert!(!inside.swap(true, Ordering::SeqCst), "two holders at once");
                        let seen = *guard;
                        if (t + i) % 16 == 0 {
                            // Hold the lock across a yield: others must wait.
                            gorun::yield_now().await;
                        }
                        *guard = seen + 1;
                        inside.store(false, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let total = *counter.lock().await;
        total
    });
    assert_eq!(total, TASKS * ROUNDS);
}

#[test]
fn try_lock_fails_while_locked_and_succeeds_after() {
    let m = Mutex::new(1);
    let guard = m.try_lock().expect("free");
    assert!(m.try_lock().is_none());
    assert!(poll_once(pin!(m.lock())).is_pending());
    drop(guard);
    let mut guard = m.try_lock().expect("free again");
    *guard += 1;
    drop(guard);
    assert_eq!(m.into_inner(), 2);
}

#[test]
fn a_cancelled_lock_does_not_wedge_the_mutex() {
    let m = Mutex::new(());
    let guard = m.try_lock().unwrap();
    {
        let mut waiting = pin!(m.lock());
        assert!(poll_once(waiting.as_mut()).is_pending());
    }
    drop(guard);
    assert!(poll_once(pin!(m.lock())).is_ready());
    assert!(m.try_lock().is_some());
}

#[test]
fn a_lock_cancelled_after_being_woken_passes_the_wake_up_on() {
    let m = Mutex::new(());
    let guard = m.try_lock().unwrap();
    let mut second = pin!(m.lock());
    {
        let mut first = pin!(m.lock());
        assert!(poll_once(first.as_mut()).is_pending());
        assert!(poll_once(second.as_mut()).is_pending());
        // The unlock wakes `first`, which is dropped before it runs.
        drop(guard);
    }
    assert!(poll_once(second.as_mut()).is_ready());
}

#[test]
fn a_woken_waiter_cancelled_among_many_does_not_strand_the_others() {
    let _w = watchdog("mutex woken then dropped", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let m = Arc::new(Mutex::new(0));
        let guard = m.try_lock().unwrap();
        // The first in line, so the unlock below wakes it.
        let mut first = Box::pin(m.lock());
        assert!(poll_once(first.as_mut()).is_pending());
        let waiters: Vec<_> = (0..8)
            .map(|_| {
                let m = m.clone();
                gorun::spawn(async move { *m.lock().await += 1 })
            })
            .collect();
        // Let every waiter park on the lock first, so the unlock below
        // has a queue to hand off through.
        for h in &waiters {
            wait_for_reason(h.id(), |r| r == WaitReason::Mutex).await;
        }
        drop(guard);
        drop(first);
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(*m.lock().await, 8);
    });
}

#[test]
fn a_waiter_that_keeps_losing_past_the_threshold_switches_to_starvation_mode() {
    let m = Mutex::new(());
    let holder = m.try_lock().unwrap();
    let mut waiter = pin!(m.lock());
    assert!(poll_once(waiter.as_mut()).is_pending());

    // Normal mode: an unlock wakes the waiter, but a newcomer barges in.
    drop(holder);
    let barger = m
        .try_lock()
        .expect("normal mode lets newcomers take a free lock");
    assert!(poll_once(waiter.as_mut()).is_pending());

    // Past Go's 1 ms threshold, the next lost race makes the waiter starve.
    std::thread::sleep(Duration::from_millis(2));
    drop(barger);
    let barger = m
        .try_lock()
        .expect("the waiter has not lost past the threshold yet");
    assert!(poll_once(waiter.as_mut()).is_pending());

    // Starvation mode: a free lock goes to the starving waiter only.
    drop(barger);
    assert!(
        m.try_lock().is_none(),
        "a newcomer overtook a starving waiter"
    );
    let guard = match poll_once(waiter.as_mut()) {
        Poll::Ready(guard) => guard,
        Poll::Pending => panic!("the starving waiter did not get the free lock"),
    };
    drop(guard);

    // Back to normal mode.
    assert!(m.try_lock().is_some());
}

#[test]
fn a_cancelled_starving_waiter_hands_a_free_lock_back_to_normal_mode() {
    let m = Mutex::new(());
    let holder = m.try_lock().unwrap();
    let mut starving = Box::pin(m.lock());
    assert!(poll_once(starving.as_mut()).is_pending());
    drop(holder);
    let barger = m.try_lock().unwrap();
    assert!(poll_once(starving.as_mut()).is_pending());
    std::thread::sleep(Duration::from_millis(2));
    drop(barger);
    let barger = m.try_lock().unwrap();
    assert!(poll_once(starving.as_mut()).is_pending()); // now starving

    let mut normal = pin!(m.lock());
    assert!(poll_once(normal.as_mut()).is_pending());
    drop(barger); // wakes the starving waiter...
    drop(starving); // ...which gives up
    assert!(poll_once(normal.as_mut()).is_ready());
}

#[test]
fn a_guard_can_be_held_across_await_in_a_spawned_task() {
    let rt = runtime(2);
    rt.block_on(async {
        let m = Arc::new(Mutex::new(Vec::new()));
        let writer = {
            let m = m.clone();
            gorun::spawn(async move {
                let mut guard = m.lock().await;
                guard.push(1);
                gorun::yield_now().await;
                guard.push(2);
            })
        };
        writer.await.unwrap();
        assert_eq!(*m.lock().await, [1, 2]);
    });
}

#[test]
fn get_mut_and_into_inner_need_no_lock() {
    let mut m = Mutex::new(String::from("a"));
    m.get_mut().push('b');
    assert_eq!(m.into_inner(), "ab");
}

#[test]
fn a_waiter_is_not_starved_by_a_task_relocking_on_another_worker() {
    let _w = watchdog("mutex starvation", Duration::from_secs(60));
    let rt = runtime(2);
    rt.block_on(async {
        let m = Arc::new(Mutex::new(()));
        let stop = Arc::new(AtomicBool::new(false));
        let hog = {
            let (m, stop) = (m.clone(), stop.clone());
            gorun::spawn(async move {
                let mut rounds = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    let guard = m.lock().await;
                    // Hold it a little, so the waiter mostly finds it taken.
                    let until = Instant::now() + Duration::from_micros(20);
                    while Instant::now() < until {
                        std::hint::spin_loop();
                    }
                    drop(guard);
                    rounds += 1;
                }
                rounds
            })
        };
        // Let the hog get going, then contend from this task.
        while m.try_lock().is_some() {
            gorun::yield_now().await;
        }
        // Go bounds the wait by about the 1 ms starvation threshold plus
        // one hold; a starved waiter would never get the lock at all.
        drop(
            gorun::timeout(Duration::from_secs(10), m.lock())
                .await
                .expect("the waiter starved for 10 s"),
        );
        stop.store(true, Ordering::SeqCst);
        assert!(hog.await.unwrap() > 0);
    });
}

#[test]
fn many_tasks_each_get_the_lock_while_one_task_relocks_in_a_loop() {
    let _w = watchdog("mutex fairness", Duration::from_secs(60));
    let rt = runtime(2);
    rt.block_on(async {
        let m = Arc::new(Mutex::new(()));
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        let hog = {
            let (m, stop) = (m.clone(), stop.clone());
            gorun::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    drop(m.lock().await);
                }
            })
        };
        let others: Vec<_> = (0..16)
            .map(|_| {
                let (m, served) = (m.clone(), served.clone());
                gorun::spawn(async move {
                    for _ in 0..20 {
                        drop(m.lock().await);
                    }
                    served.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        for o in others {
            o.await.unwrap();
        }
        stop.store(true, Ordering::SeqCst);
        hog.await.unwrap();
        assert_eq!(served.load(Ordering::SeqCst), 16);
    });
}

#[test]
fn a_task_looping_on_lock_and_unlock_does_not_starve_another_on_one_worker() {
    let _w = watchdog("mutex budget", Duration::from_secs(30));
    let rt = runtime(1);
    let loops = rt
        .block_on(rt.spawn(async {
            let flag = Arc::new(AtomicBool::new(false));
            let setter = {
                let flag = flag.clone();
                gorun::spawn(async move { flag.store(true, Ordering::SeqCst) })
            };
            let m = Mutex::new(0u64);
            while !flag.load(Ordering::SeqCst) {
                *m.lock().await += 1;
            }
            setter.await.unwrap();
            m.into_inner()
        }))
        .unwrap();
    assert!(loops > 0);
}

#[test]
fn mutex_its_futures_and_guards_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let m = Mutex::new(Vec::<u8>::new());
    send_sync(&m);
    send_sync(&m.lock());
    send_sync(&m.try_lock().unwrap());
}
