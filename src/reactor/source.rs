//! One file descriptor registered with the reactor, and the readiness
//! protocol that makes waiting for it race-free.
//!
//! The descriptor is registered once, edge-triggered, for both directions
//! (where the OS supports edge mode; elsewhere it is re-armed in one-shot
//! mode before each wait). Each direction keeps a readiness *sequence
//! number*, bumped by the reactor under the direction's lock every time an
//! event arrives, and the wakers of the tasks waiting for it.
//!
//! Protocol for an I/O operation (see `Async::poll_io`):
//! 1. Read the direction's sequence number.
//! 2. Try the non-blocking system call. Success or an error other than
//!    `WouldBlock`: done.
//! 3. `WouldBlock`: lock the direction. If the sequence number moved since
//!    step 1, an event arrived while we were trying: unlock and go to 1.
//!    Otherwise record the waker, unlock, and return `Pending`.
//!
//! The reactor bumps the number and takes the wakers under the same lock,
//! so an event that arrives after step 2 either is seen in step 3 or finds
//! the waker: no wake-up is lost. An operation that succeeds never takes
//! the lock.
//!
//! A read that knows it emptied the socket (TCP with `TCP_INQ`, see
//! `net/tcp/inq.rs`) records the sequence number it read in step 1 as
//! *drained*. The next read that finds the number unchanged skips step 2
//! (the system call could only fail with `WouldBlock`) and goes straight to
//! step 3. Any data that arrives after the draining read raises a new edge,
//! so the reactor bumps the number and the skip no longer applies.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering::*};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

/// Waiters one direction keeps before it flushes them all (see
/// `Source::poll_wait`). Typical sockets have one waiter per direction.
const MAX_WAITERS: usize = 16;

/// Which way data flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read = 0,
    Write = 1,
}

/// Readiness state of one direction of a source.
#[derive(Default)]
pub(crate) struct DirectionState {
    /// Bumped (under `waiters`' lock) each time the OS reports readiness.
    seq: AtomicU64,
    /// The tasks waiting for readiness.
    waiters: Mutex<Vec<Waker>>,
}

/// A registered file descriptor.
pub(crate) struct Source {
    /// The descriptor.
    pub(crate) fd: std::os::fd::RawFd,
    /// Its key in the reactor's table and in `polling` events.
    pub(crate) key: usize,
    /// Read and write readiness.
    directions: [DirectionState; 2],
    /// One more than the read sequence number at which a read emptied the
    /// descriptor (0: none known).
    drained: AtomicU64,
}

impl Source {
    pub(crate) fn new(fd: std::os::fd::RawFd, key: usize) -> Source {
        Source {
            fd,
            key,
            directions: Default::default(),
            drained: AtomicU64::new(0),
        }
    }

    /// Records that a read that began at read sequence `seen` left nothing
    /// to read.
    pub(crate) fn set_drained(&self, seen: u64) {
        self.drained.store(seen.wrapping_add(1), Relaxed);
    }

    /// Whether a read that begins at read sequence `seen` would find
    /// nothing: a read that began at the same number emptied the
    /// descriptor, and no event arrived since.
    pub(crate) fn is_drained(&self, seen: u64) -> bool {
        self.drained.load(Relaxed) == seen.wrapping_add(1)
    }

    /// Step 1 of the protocol.
    pub(crate) fn sequence(&self, dir: Direction) -> u64 {
        self.directions[dir as usize].seq.load(Acquire)
    }

    /// Step 3 of the protocol: waits for readiness in `dir` unless an event
    /// arrived since `seen`. Returns `Ready` if the caller should retry now.
    /// `arm` re-arms interest with the OS when edge mode is unavailable.
    pub(crate) fn poll_wait(
        &self,
        dir: Direction,
        seen: u64,
        cx: &mut Context<'_>,
        arm: impl FnOnce() -> io::Result<()>,
    ) -> Poll<io::Result<()>> {
        let state = &self.directions[dir as usize];
        let mut waiters = state.waiters.lock().unwrap();
        if state.seq.load(Acquire) != seen {
            return Poll::Ready(Ok(()));
        }
        let mut stale = Vec::new();
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            if waiters.len() >= MAX_WAITERS {
                // Wakers of futures that were dropped while waiting (a
                // `timeout` around a read, say) would otherwise pile up on
                // an idle socket until its next event. Waking them all is
                // harmless: a task still interested retries its operation
                // and registers again.
                stale = std::mem::take(&mut *waiters);
            }
            waiters.push(cx.waker().clone());
        }
        drop(waiters);
        stale.into_iter().for_each(Waker::wake);
        arm()?;
        crate::task::wait::record(crate::task::WaitReason::Io);
        Poll::Pending
    }

    /// Called by the reactor when the OS reports readiness in `dir`: bumps
    /// the sequence number and returns the wakers to wake.
    pub(crate) fn set_ready(&self, dir: Direction, wakers: &mut Vec<Waker>) {
        let state = &self.directions[dir as usize];
        let mut waiters = state.waiters.lock().unwrap();
        state.seq.fetch_add(1, Release);
        wakers.append(&mut waiters);
    }

    /// Whether any task waits in `dir` (for one-shot re-arming).
    pub(crate) fn has_waiters(&self, dir: Direction) -> bool {
        !self.directions[dir as usize]
            .waiters
            .lock()
            .unwrap()
            .is_empty()
    }

    /// Wakes every waiter in both directions (the source is going away, or
    /// the reactor is shutting down).
    pub(crate) fn wake_all(&self) {
        let mut wakers = Vec::new();
        self.set_ready(Direction::Read, &mut wakers);
        self.set_ready(Direction::Write, &mut wakers);
        wakers.into_iter().for_each(Waker::wake);
    }
}
