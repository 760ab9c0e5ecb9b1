//! `gorun::sync::Semaphore`: Go's `x/sync/semaphore.Weighted` semantics:
//! FIFO, oversize requests, cancellation, over-release, budget.

mod common;

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use common::{panic_message, runtime, watchdog};
use gorun::sync::Semaphore;

/// Polls `future` once with a waker that does nothing, outside any
/// runtime (so with an unlimited budget).
fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(futures::task::noop_waker_ref()))
}

#[test]
fn acquire_takes_free_tokens_at_once() {
    let sem = Semaphore::new(5);
    assert!(poll_once(pin!(sem.acquire(3))).is_ready());
    assert!(poll_once(pin!(sem.acquire(2))).is_ready());
    assert!(!sem.try_acquire(1));
    sem.release(5);
    assert!(sem.try_acquire(5));
}

#[test]
fn a_waiting_acquire_gets_the_tokens_when_released() {
    let sem = Semaphore::new(2);
    assert!(sem.try_acquire(2));
    let mut waiter = pin!(sem.acquire(2));
    assert!(poll_once(waiter.as_mut()).is_pending());
    sem.release(1);
    assert!(poll_once(waiter.as_mut()).is_pending());
    sem.release(1);
    assert!(poll_once(waiter.as_mut()).is_ready());
    assert!(!sem.try_acquire(1));
}

#[test]
fn try_acquire_does_not_overtake_a_waiting_big_acquire() {
    let sem = Semaphore::new(10);
    assert!(sem.try_acquire(5));
    let mut big = pin!(sem.acquire(10));
    assert!(poll_once(big.as_mut()).is_pending());
    // Five tokens are free, but the big request came first.
    assert!(!sem.try_acquire(1));
    assert!(!sem.try_acquire(0));
    sem.release(5);
    assert!(poll_once(big.as_mut()).is_ready());
    sem.release(10);
    assert!(sem.try_acquire(10));
}

#[test]
fn acquire_does_not_overtake_a_waiting_big_acquire() {
    let sem = Semaphore::new(10);
    assert!(sem.try_acquire(5));
    let mut big = pin!(sem.acquire(10));
    let mut small = pin!(sem.acquire(1));
    assert!(poll_once(big.as_mut()).is_pending());
    assert!(poll_once(small.as_mut()).is_pending());
    sem.release(4);
    assert!(poll_once(small.as_mut()).is_pending());
    sem.release(1);
    assert!(poll_once(big.as_mut()).is_ready());
    assert!(poll_once(small.as_mut()).is_pending());
    sem.release(10);
    assert!(poll_once(small.as_mut()).is_ready());
}

#[test]
fn waiters_are_served_in_arrival_order() {
    let sem = Semaphore::new(1);
    assert!(sem.try_acquire(1));
    let mut waiters: Vec<_> = (0..8).map(|_| Box::pin(sem.acquire(1))).collect();
    for w in &mut waiters {
        assert!(poll_once(w.as_mut()).is_pending());
    }
    for i in 0..waiters.len() {
        sem.release(1);
        for (j, w) in waiters.iter_mut().enumerate().skip(i) {
            assert_eq!(
                poll_once(w.as_mut()).is_ready(),
                j == i,
                "waiter {j} after release {i}"
            );
        }
    }
}

#[test]
fn a_request_larger_than_the_capacity_does_not_block_others() {
    let sem = Semaphore::new(3);
    let mut too_big = pin!(sem.acquire(4));
    assert!(poll_once(too_big.as_mut()).is_pending());
    assert!(poll_once(pin!(sem.acquire(1))).is_ready());
    assert!(sem.try_acquire(2));
    sem.release(3);
    assert!(poll_once(too_big.as_mut()).is_pending());
    assert!(sem.try_acquire(3));
}

#[test]
fn a_cancelled_head_keeps_nothing_and_lets_the_next_waiters_proceed() {
    let sem = Semaphore::new(4);
    assert!(sem.try_acquire(3));
    let mut next = pin!(sem.acquire(1));
    {
        // The head takes the one free token as a first part, then gives up.
        let mut head = pin!(sem.acquire(4));
        assert!(poll_once(head.as_mut()).is_pending());
        assert!(poll_once(next.as_mut()).is_pending());
    }
    assert!(poll_once(next.as_mut()).is_ready());
    sem.release(4);
    assert!(sem.try_acquire(4), "a token leaked");
}

#[test]
fn a_cancelled_waiter_behind_the_head_leaves_the_line() {
    let sem = Semaphore::new(2);
    assert!(sem.try_acquire(2));
    let mut first = pin!(sem.acquire(1));
    assert!(poll_once(first.as_mut()).is_pending());
    {
        let mut middle = pin!(sem.acquire(2));
        assert!(poll_once(middle.as_mut()).is_pending());
    }
    let mut last = pin!(sem.acquire(1));
    assert!(poll_once(last.as_mut()).is_pending());
    sem.release(2);
    assert!(poll_once(first.as_mut()).is_ready());
    assert!(poll_once(last.as_mut()).is_ready());
    sem.release(2);
    assert!(sem.try_acquire(2), "a token leaked");
}

#[test]
fn an_acquire_cancelled_after_being_granted_gives_its_tokens_back() {
    let sem = Semaphore::new(3);
    assert!(sem.try_acquire(3));
    {
        let mut waiter = pin!(sem.acquire(2));
        assert!(poll_once(waiter.as_mut()).is_pending());
        sem.release(3); // grants the waiter, which never sees it
    }
    assert!(sem.try_acquire(3), "the granted tokens leaked");
}

#[test]
fn releasing_more_than_held_panics() {
    let sem = Semaphore::new(2);
    let err = std::panic::catch_unwind(|| sem.release(1)).unwrap_err();
    assert_eq!(panic_message(&*err), "semaphore: released more than held");
    // Left unchanged.
    assert!(sem.try_acquire(2));
    assert!(!sem.try_acquire(1));
}

#[test]
fn releasing_more_than_held_panics_while_a_waiter_holds_a_part() {
    let sem = Semaphore::new(4);
    assert!(sem.try_acquire(2));
    let mut waiter = pin!(sem.acquire(4));
    assert!(poll_once(waiter.as_mut()).is_pending());
    let err = std::panic::catch_unwind(|| sem.release(3)).unwrap_err();
    assert_eq!(panic_message(&*err), "semaphore: released more than held");
    sem.release(2);
    assert!(poll_once(waiter.as_mut()).is_ready());
}

#[test]
fn never_more_than_the_capacity_is_held_under_contention() {
    const CAPACITY: u64 = 10;
    let _w = watchdog("semaphore contention", Duration::from_secs(60));
    let rt = runtime(2);
    rt.block_on(async {
        let sem = Arc::new(Semaphore::new(CAPACITY));
        let held = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..64u64)
            .map(|t| {
                let (sem, held) = (sem.clone(), held.clone());
                gorun::spawn(async move {
                    for i in 0..200u64 {
                        let n = 1 + (t + i) % CAPACITY;
                        sem.acquire(n).await;
                        let now = held.fetch_add(n, Ordering::SeqCst) + n;
                        assert!(now <= CAPACITY, "{now} tokens held");
                        if i % 4 == 0 {
                            gorun::yield_now().await;
                        }
                        held.fetch_sub(n, Ordering::SeqCst);
                        sem.release(n);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert!(sem.try_acquire(CAPACITY));
    });
}

#[test]
fn cancelling_waiters_at_random_never_leaks_tokens() {
    const CAPACITY: u64 = 4;
    let _w = watchdog("semaphore cancellation", Duration::from_secs(60));
    let rt = runtime(2);
    rt.block_on(async {
        let sem = Arc::new(Semaphore::new(CAPACITY));
        let tasks: Vec<_> = (0..32u64)
            .map(|t| {
                let sem = sem.clone();
                gorun::spawn(async move {
                    for i in 0..100u64 {
                        let n = 1 + (t * 7 + i) % CAPACITY;
                        // Race the acquire against a yield; whichever loses is dropped.
                        let mut acquire = pin!(sem.acquire(n));
                        let got = futures::future::poll_fn(|cx| match acquire.as_mut().poll(cx) {
                            Poll::Ready(()) => Poll::Ready(true),
                            Poll::Pending if i % 3 == 0 => Poll::Ready(false),
                            Poll::Pending => Poll::Pending,
                        })
                        .await;
                        if got {
                            gorun::yield_now().await;
                            sem.release(n);
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert!(sem.try_acquire(CAPACITY), "tokens leaked");
    });
}

#[test]
fn a_task_looping_on_acquire_and_release_does_not_starve_another_on_one_worker() {
    let _w = watchdog("semaphore budget", Duration::from_secs(30));
    let rt = runtime(1);
    let loops = rt
        .block_on(rt.spawn(async {
            let flag = Arc::new(AtomicBool::new(false));
            let setter = {
                let flag = flag.clone();
                gorun::spawn(async move { flag.store(true, Ordering::SeqCst) })
            };
            let sem = Semaphore::new(1);
            let mut loops = 0u64;
            while !flag.load(Ordering::SeqCst) {
                sem.acquire(1).await;
                sem.release(1);
                loops += 1;
            }
            setter.await.unwrap();
            loops
        }))
        .unwrap();
    assert!(loops > 0);
}

#[test]
fn semaphore_and_its_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let sem = Semaphore::new(1);
    send_sync(&sem);
    send_sync(&sem.acquire(1));
}
