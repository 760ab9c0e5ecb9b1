//! Keeping per-worker hot data on cache lines of its own.

use std::ops::Deref;

/// A `T` aligned to 128 bytes: two 64-byte lines, because adjacent-line
/// prefetch on x86 pulls lines in pairs. Without it, two workers updating
/// neighbouring counters would invalidate each other's caches.
#[repr(align(128))]
#[derive(Default)]
pub(crate) struct CachePadded<T>(pub(crate) T);

impl<T> Deref for CachePadded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}
