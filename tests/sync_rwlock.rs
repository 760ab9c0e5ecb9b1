//! `gorun::sync::RwLock`: shared readers, exclusive writers, Go's rule
//! that a waiting writer holds back new readers, cancellation and budget.

mod common;

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use common::{runtime, watchdog};
use gorun::sync::RwLock;

/// Polls `future` once with a waker that does nothing, outside any
/// runtime (so with an unlimited budget).
fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(futures::task::noop_waker_ref()))
}

#[test]
fn many_readers_hold_the_lock_at_once() {
    const READERS: usize = 16;
    let _w = watchdog("rwlock many readers", Duration::from_secs(30));
    let rt = runtime(2);
    rt.block_on(async {
        let lock = Arc::new(RwLock::new(5));
        let inside = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                let (lock, inside) = (lock.clone(), inside.clone());
                gorun::spawn(async move {
                    let guard = lock.read().await;
                    inside.fetch_add(1, Ordering::SeqCst);
                    // Every reader holds its guard until all are inside:
                    // this finishes only if they share the lock.
                    while inside.load(Ordering::SeqCst) < READERS {
                        gorun::yield_now().await;
                    }
                    *guard
                })
            })
            .collect();
        for r in readers {
            assert_eq!(r.await.unwrap(), 5);
        }
    });
}

#[test]
fn a_writer_excludes_readers_and_writers() {
    let lock = RwLock::new(0);
    let mut writer = lock.try_write().unwrap();
    assert!(lock.try_read().is_none());
    assert!(lock.try_write().is_none());
    let mut read = pin!(lock.read());
    assert!(poll_once(read.as_mut()).is_pending());
    *writer = 1;
    drop(writer);
    match poll_once(read.as_mut()) {
        Poll::Ready(guard) => assert_eq!(*guard, 1),
        Poll::Pending => panic!("the reader did not get in after the writer left"),
    };
}

#[test]
fn readers_exclude_writers() {
    let lock = RwLock::new(0);
    let r1 = lock.try_read().unwrap();
    let r2 = lock.try_read().unwrap();
    assert!(lock.try_write().is_none());
    let mut write = pin!(lock.write());
    assert!(poll_once(write.as_mut()).is_pending());
    drop(r1);
    assert!(poll_once(write.as_mut()).is_pending());
    drop(r2);
    assert!(poll_once(write.as_mut()).is_ready());
}

#[test]
fn a_waiting_writer_blocks_new_readers() {
    let lock = RwLock::new(());
    let reader = lock.try_read().unwrap();
    let mut write = pin!(lock.write());
    assert!(poll_once(write.as_mut()).is_pending());
    // The lock is only read-locked, but a writer waits: newcomers queue.
    assert!(lock.try_read().is_none());
    let mut late_reader = pin!(lock.read());
    assert!(poll_once(late_reader.as_mut()).is_pending());
    drop(reader);
    let writer = match poll_once(write.as_mut()) {
        Poll::Ready(guard) => guard,
        Poll::Pending => panic!("the writer did not get in after the reader left"),
    };
    assert!(poll_once(late_reader.as_mut()).is_pending());
    drop(writer);
    assert!(poll_once(late_reader.as_mut()).is_ready());
}

#[test]
fn readers_queued_behind_a_writer_go_before_the_next_writer() {
    let lock = RwLock::new(());
    let first_writer = lock.try_write().unwrap();
    let mut r1 = pin!(lock.read());
    let mut r2 = pin!(lock.read());
    let mut next_writer = pin!(lock.write());
    assert!(poll_once(r1.as_mut()).is_pending());
    assert!(poll_once(r2.as_mut()).is_pending());
    assert!(poll_once(next_writer.as_mut()).is_pending());
    drop(first_writer);
    let (g1, g2) = match (poll_once(r1.as_mut()), poll_once(r2.as_mut())) {
        (Poll::Ready(g1), Poll::Ready(g2)) => (g1, g2),
        _ => panic!("the queued readers did not get in together"),
    };
    assert!(poll_once(next_writer.as_mut()).is_pending());
    drop(g1);
    drop(g2);
    assert!(poll_once(next_writer.as_mut()).is_ready());
}

#[test]
fn a_cancelled_waiting_writer_lets_the_readers_behind_it_in() {
    let lock = RwLock::new(());
    let reader = lock.try_read().unwrap();
    let mut late_reader = pin!(lock.read());
    {
        let mut write = pin!(lock.write());
        assert!(poll_once(write.as_mut()).is_pending());
        assert!(poll_once(late_reader.as_mut()).is_pending());
    }
    let Poll::Ready(late_guard) = poll_once(late_reader.as_mut()) else {
        panic!("the reader behind the cancelled writer did not get in");
    };
    drop(reader);
    assert!(lock.try_write().is_none(), "the late reader holds it");
    drop(late_guard);
    assert!(lock.try_write().is_some(), "a token leaked");
}

#[test]
fn a_cancelled_read_does_not_wedge_the_lock() {
    let lock = RwLock::new(());
    let writer = lock.try_write().unwrap();
    {
        let mut read = pin!(lock.read());
        assert!(poll_once(read.as_mut()).is_pending());
    }
    drop(writer);
    assert!(lock.try_write().is_some());
}

#[test]
fn readers_and_writers_never_overlap_under_contention_on_two_workers() {
    let _w = watchdog("rwlock contention", Duration::from_secs(60));
    let rt = runtime(2);
    let value = rt.block_on(async {
        let lock = Arc::new(RwLock::new(0usize));
        let writing = Arc::new(AtomicBool::new(false));
        let readers_in = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..32usize)
            .map(|t| {
                let (lock, writing, readers_in) =
                    (lock.clone(), writing.clone(), readers_in.clone());
                gorun::spawn(async move {
                    for i in 0..200usize {
                        if (t + i) % 4 == 0 {
                            let mut guard = lock.write().await;
                            assert!(!writing.swap(true, Ordering::SeqCst));
                            assert_eq!(readers_in.load(Ordering::SeqCst), 0);
                            if i % 8 == 0 {
                                gorun::yield_now().await;
                            }
                            *guard += 1;
                            writing.store(false, Ordering::SeqCst);
                        } else {
                            let guard = lock.read().await;
                            readers_in.fetch_add(1, Ordering::SeqCst);
                            assert!(!writing.load(Ordering::SeqCst));
                            let _ = *guard;
                            if i % 8 == 1 {
                                gorun::yield_now().await;
                            }
                            readers_in.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let value = *lock.read().await;
        value
    });
    assert_eq!(
        value,
        (0..32usize)
            .map(|t| (0..200usize).filter(|i| (t + i) % 4 == 0).count())
            .sum()
    );
}

#[test]
fn get_mut_and_into_inner_need_no_lock() {
    let mut lock = RwLock::new(vec![1]);
    lock.get_mut().push(2);
    assert_eq!(lock.into_inner(), [1, 2]);
}

#[test]
fn a_task_looping_on_read_and_write_does_not_starve_another_on_one_worker() {
    let _w = watchdog("rwlock budget", Duration::from_secs(30));
    let rt = runtime(1);
    let loops = rt
        .block_on(rt.spawn(async {
            let flag = Arc::new(AtomicBool::new(false));
            let setter = {
                let flag = flag.clone();
                gorun::spawn(async move { flag.store(true, Ordering::SeqCst) })
            };
            let lock = RwLock::new(0u64);
            while !flag.load(Ordering::SeqCst) {
                let seen = *lock.read().await;
                *lock.write().await = seen + 1;
            }
            setter.await.unwrap();
            lock.into_inner()
        }))
        .unwrap();
    assert!(loops > 0);
}

#[test]
fn rwlock_its_futures_and_guards_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let lock = RwLock::new(Vec::<u8>::new());
    send_sync(&lock);
    send_sync(&lock.read());
    send_sync(&lock.write());
    send_sync(&lock.try_read().unwrap());
    drop(lock.try_read());
    send_sync(&lock.try_write());
}
