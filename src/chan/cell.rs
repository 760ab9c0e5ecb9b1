//! `UnsafeCell` for the channel core, swapped for loom's checked cell under
//! `--cfg loom`.
//!
//! The waiter fields that are shared between a parked task and the
//! counterpart that completes it (the links, the waker, the value slot) live
//! in these cells. Under loom every access goes through `with` / `with_mut`,
//! so loom reports any access that is not ordered by the channel lock or by
//! the waiter's state atomic; without loom the wrapper is free.

#[cfg(not(loom))]
mod imp {
    /// A `std::cell::UnsafeCell` with loom's closure-based access API.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        /// Wraps `value`.
        #[inline]
        pub(crate) const fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        /// Calls `f` with a shared pointer to the value.
        #[inline]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Calls `f` with a mutable pointer to the value.
        #[inline]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(not(loom))]
pub(crate) use imp::UnsafeCell;

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
