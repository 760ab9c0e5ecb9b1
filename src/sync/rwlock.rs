//! `RwLock`: an async-aware reader/writer lock (Go's `sync.RWMutex`),
//! built on the FIFO [`Semaphore`].
//!
//! # Design
//!
//! The lock is a semaphore of [`MAX_READERS`] tokens. A reader takes one
//! token, a writer takes all of them. The semaphore's rules then give Go's:
//!
//! - Readers share: each holds one token of many.
//! - A writer excludes everyone: it holds every token.
//! - A waiting writer holds back new readers (Go: "a blocked Lock call
//!   excludes new readers from acquiring the lock"): the writer waits at
//!   the head of the line, collecting tokens as readers leave, and the
//!   semaphore lets no one overtake a waiter, so a reader arriving after it
//!   lines up behind it.
//! - No one starves: readers queued behind a writer all get in together
//!   when it unlocks (the tokens it releases flow down the line until they
//!   reach the next writer), before that next writer; a writer queued behind
//!   readers gets in as soon as they are done.
//!
//! Cancellation is the semaphore's: a dropped `read()`/`write()` future
//! keeps no tokens and lets the waiters behind it proceed (a writer that
//! gives up while holding some tokens passes them on).
//!
//! # Rejected alternatives
//!
//! - Go's own scheme (a writer mutex, a reader count pushed negative by a
//!   pending writer, semaphores released once per blocked reader), with
//!   event-listener events in place of the semaphores: a reader or writer
//!   that is cancelled while counted leaves the counts wrong unless it
//!   undoes its part with extra races to close, and with events in place of
//!   counted semaphores the readers woken by an unlock can lose the lock
//!   again to the next writer, which starves them.
//! - A second queue written for this lock alone: it would duplicate the
//!   semaphore's fairness and cancellation protocol.

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::semaphore::{Acquire, Semaphore};
use super::{poll_budgeted, recording};
use crate::task::WaitReason;

/// How many readers may hold the lock at once, and so how many tokens a
/// writer takes. Any number fits; about four billion is more readers than
/// a program will ever have at once, so readers never wait for each other.
const MAX_READERS: u64 = u32::MAX as u64;

/// An async-aware reader/writer lock: Go's `sync.RWMutex`, holding the data
/// it protects.
///
/// Any number of readers ([`read`](RwLock::read)) or one writer
/// ([`write`](RwLock::write)) at a time. Guards may be held across
/// `.await`.
///
/// # Fairness
///
/// First come, first served (see the module docs): a writer that waits
/// holds back readers that arrive after it, readers that waited for a
/// writer get in before the next writer, and no one starves.
///
/// # Cancellation safety
///
/// Dropping a [`read`](RwLock::read) or [`write`](RwLock::write) future
/// before it completes leaves the lock as it was and lets the tasks queued
/// behind it proceed.
///
/// ```
/// use gorun::sync::RwLock;
/// use std::sync::Arc;
///
/// gorun::run(async {
///     let config = Arc::new(RwLock::new(String::from("v1")));
///     let reader = {
///         let config = config.clone();
///         gorun::spawn(async move { config.read().await.len() })
///     };
///     assert_eq!(reader.await.unwrap(), 2);
///     config.write().await.push_str(".1");
///     assert_eq!(*config.read().await, "v1.1");
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    /// `MAX_READERS` tokens: one per reader, all of them for a writer.
    sem: Semaphore,
    /// The protected data; accessed only through a guard or `&mut self`.
    data: UnsafeCell<T>,
}

// SAFETY: the lock owns a `T`; moving the lock moves the `T`.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: readers on several threads share `&T` (needs `T: Sync`); a
// writer gets `&mut T` from whichever thread holds it (needs `T: Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// Creates an unlocked `RwLock` holding `value`.
    ///
    /// ```
    /// let lock = gorun::sync::RwLock::new(3);
    /// assert_eq!(lock.into_inner(), 3);
    /// ```
    pub fn new(value: T) -> RwLock<T> {
        RwLock {
            sem: Semaphore::new(MAX_READERS),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the data.
    ///
    /// ```
    /// let lock = gorun::sync::RwLock::new("data");
    /// assert_eq!(lock.into_inner(), "data");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared (read) access and returns a guard that gives it up
    /// when dropped.
    ///
    /// Waits while a writer holds the lock or waits for it. Spends a unit
    /// of the task's cooperative budget.
    ///
    /// ```
    /// gorun::run(async {
    ///     let lock = gorun::sync::RwLock::new(7);
    ///     let (a, b) = (lock.read().await, lock.read().await);
    ///     assert_eq!(*a + *b, 14);
    /// });
    /// ```
    pub fn read(&self) -> Read<'_, T> {
        Read {
            lock: self,
            acquire: Acquire::new(&self.sem, 1),
        }
    }

    /// Waits for exclusive (write) access and returns a guard that gives it
    /// up when dropped.
    ///
    /// From the moment it starts waiting, readers that arrive later wait
    /// behind it. Spends a unit of the task's cooperative budget.
    ///
    /// ```
    /// gorun::run(async {
    ///     let lock = gorun::sync::RwLock::new(vec![1]);
    ///     lock.write().await.push(2);
    ///     assert_eq!(*lock.read().await, [1, 2]);
    /// });
    /// ```
    pub fn write(&self) -> Write<'_, T> {
        Write {
            lock: self,
            acquire: Acquire::new(&self.sem, MAX_READERS),
        }
    }

    /// Takes shared access if no writer holds the lock or waits for it,
    /// without waiting.
    ///
    /// ```
    /// let lock = gorun::sync::RwLock::new(1);
    /// let r = lock.try_read().unwrap();
    /// assert!(lock.try_read().is_some());
    /// assert!(lock.try_write().is_none());
    /// drop(r);
    /// ```
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        self.sem.try_acquire(1).then(|| RwLockReadGuard::new(self))
    }

    /// Takes exclusive access if no one holds the lock or waits for it,
    /// without waiting.
    ///
    /// ```
    /// let lock = gorun::sync::RwLock::new(1);
    /// let mut w = lock.try_write().unwrap();
    /// *w = 2;
    /// assert!(lock.try_read().is_none());
    /// drop(w);
    /// assert_eq!(*lock.try_read().unwrap(), 2);
    /// ```
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        self.sem
            .try_acquire(MAX_READERS)
            .then(|| RwLockWriteGuard::new(self))
    }

    /// Returns a mutable reference to the data; no locking is needed, as
    /// the `&mut self` proves no guard exists.
    ///
    /// ```
    /// let mut lock = gorun::sync::RwLock::new(0);
    /// *lock.get_mut() += 1;
    /// assert_eq!(lock.into_inner(), 1);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> RwLock<T> {
        RwLock::new(value)
    }
}

/// The future returned by [`RwLock::read`].
///
/// ```
/// gorun::run(async {
///     let lock = gorun::sync::RwLock::new(1);
///     let read: gorun::sync::Read<'_, i32> = lock.read();
///     assert_eq!(*read.await, 1);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Read<'a, T: ?Sized> {
    /// The lock to read.
    lock: &'a RwLock<T>,
    /// One token of `lock.sem`.
    acquire: Acquire<'a>,
}

impl<'a, T: ?Sized> Future for Read<'a, T> {
    type Output = RwLockReadGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RwLockReadGuard<'a, T>> {
        let this = self.get_mut();
        poll_budgeted(cx, |cx| {
            recording(this.acquire.poll_acquire(cx), WaitReason::RwLock)
                .map(|()| RwLockReadGuard::new(this.lock))
        })
    }
}

impl<T: ?Sized> fmt::Debug for Read<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Read")
            .field("acquire", &self.acquire)
            .finish()
    }
}

/// The future returned by [`RwLock::write`].
///
/// ```
/// gorun::run(async {
///     let lock = gorun::sync::RwLock::new(1);
///     let write: gorun::sync::Write<'_, i32> = lock.write();
///     *write.await = 2;
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Write<'a, T: ?Sized> {
    /// The lock to write.
    lock: &'a RwLock<T>,
    /// All the tokens of `lock.sem`.
    acquire: Acquire<'a>,
}

impl<'a, T: ?Sized> Future for Write<'a, T> {
    type Output = RwLockWriteGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RwLockWriteGuard<'a, T>> {
        let this = self.get_mut();
        poll_budgeted(cx, |cx| {
            recording(this.acquire.poll_acquire(cx), WaitReason::RwLock)
                .map(|()| RwLockWriteGuard::new(this.lock))
        })
    }
}

impl<T: ?Sized> fmt::Debug for Write<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Write")
            .field("acquire", &self.acquire)
            .finish()
    }
}

/// Shared access to the data of an [`RwLock`]; gives it up when dropped.
///
/// ```
/// gorun::run(async {
///     let lock = gorun::sync::RwLock::new(5);
///     let guard: gorun::sync::RwLockReadGuard<'_, i32> = lock.read().await;
///     assert_eq!(*guard, 5);
/// });
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    /// The read-locked lock.
    lock: &'a RwLock<T>,
    /// Makes the guard `Send`/`Sync` exactly when `&T` is.
    _data: PhantomData<&'a T>,
}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// A guard for `lock`, of which the caller just took one token.
    fn new(lock: &'a RwLock<T>) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard {
            lock,
            _data: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds a token, so no writer (which needs all of
        // them) holds the lock while it exists; readers only share `&T`.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Exclusive access to the data of an [`RwLock`]; gives it up when
/// dropped.
///
/// ```
/// gorun::run(async {
///     let lock = gorun::sync::RwLock::new(5);
///     let mut guard: gorun::sync::RwLockWriteGuard<'_, i32> = lock.write().await;
///     *guard += 1;
///     assert_eq!(*guard, 6);
/// });
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    /// The write-locked lock.
    lock: &'a RwLock<T>,
    /// Makes the guard `Send`/`Sync` exactly when `&mut T` is.
    _data: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// A guard for `lock`, all of whose tokens the caller just took.
    fn new(lock: &'a RwLock<T>) -> RwLockWriteGuard<'a, T> {
        RwLockWriteGuard {
            lock,
            _data: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds every token, so no other guard exists
        // while it does; `&self` allows shared access only.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only access.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(MAX_READERS);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
