//! Allocation and size: a parked operation allocates nothing, zero-sized
//! values cost no allocation per message, and the handles and futures stay
//! small (the `parked_memory` workload's budget).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use futures::task::noop_waker_ref;
use gorun::chan;

/// Counts the allocations made by the current thread.
struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to `System`, only adding a thread-local counter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
        let _ = BYTES.try_with(|n| n.set(n.get() + layout.size()));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The number of allocations `f` makes on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(noop_waker_ref()))
}

#[test]
fn zero_sized_messages_allocate_nothing() {
    for cap in [1, 16, 1 << 20] {
        let (tx, rx) = chan::<()>(cap);
        let n = allocations(|| {
            for _ in 0..1000 {
                tx.try_send(()).unwrap();
                rx.try_recv().unwrap();
            }
        });
        assert_eq!(n, 0, "capacity {cap}");
    }
}

#[test]
fn parked_receive_and_hand_off_allocate_nothing() {
    let (tx, rx) = chan::<u64>(0);
    let n = allocations(|| {
        for i in 0..100 {
            let mut recv = pin!(rx.recv());
            assert!(poll_once(recv.as_mut()).is_pending());
            tx.try_send(i).unwrap();
            assert_eq!(poll_once(recv.as_mut()), Poll::Ready(Some(i)));
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn parked_send_allocates_nothing() {
    let (tx, rx) = chan::<u64>(0);
    let n = allocations(|| {
        for i in 0..100 {
            let mut send = pin!(tx.send(i));
            assert!(poll_once(send.as_mut()).is_pending());
            assert_eq!(rx.try_recv(), Ok(i));
            assert_eq!(poll_once(send.as_mut()), Poll::Ready(Ok(())));
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn buffered_messages_allocate_nothing_after_creation() {
    let (tx, rx) = chan::<u64>(64);
    let n = allocations(|| {
        for round in 0..100 {
            for i in 0..64 {
                tx.try_send(round * 64 + i).unwrap();
            }
            for _ in 0..64 {
                rx.try_recv().unwrap();
            }
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn one_small_allocation_per_unbuffered_channel() {
    for bytes_per_value in [0, 8] {
        let before = BYTES.with(Cell::get);
        let n = if bytes_per_value == 0 {
            allocations(|| drop(chan::<()>(0)))
        } else {
            allocations(|| drop(chan::<u64>(0)))
        };
        let bytes = BYTES.with(Cell::get) - before;
        assert_eq!(n, 1);
        assert!(bytes <= 88, "{bytes} bytes");
    }
}

#[test]
fn handles_and_futures_are_small() {
    use std::mem::size_of;
    assert_eq!(size_of::<gorun::Sender<()>>(), 8);
    assert_eq!(size_of::<gorun::Receiver<()>>(), 16);
    assert!(size_of::<gorun::chan::Recv<'static, ()>>() <= 56);
    assert!(size_of::<gorun::chan::Send<'static, ()>>() <= 56);
}
