//! `Slab`: a vector with stable keys and a free list, for a context's
//! children and waiters.
//!
//! A cancelled child must leave its parent in O(1), and a long-lived
//! parent that sees a million short-lived children come and go must not
//! grow. A slab gives both: `insert` returns a key that stays valid until
//! `remove(key)`, `remove` is an index plus a push onto the free list, and
//! freed entries are reused before the vector grows, so its length is the
//! largest number of entries ever live at once, not the number ever
//! inserted.
//!
//! `drain` empties the slab but keeps its allocation: cancelling a context
//! drains its children and waiters under its lock (a `memcpy`, no
//! allocator call), and the node never inserts again afterwards.
//!
//! Rejected: a `HashMap` keyed by child pointer (Go's `map[canceler]struct{}`):
//! hashing on every insert and removal, and a table that never shrinks
//! either; an intrusive doubly linked list: O(1) too, but `unsafe` pointer
//! juggling across three locks for no measurable gain at these sizes.

/// One place of a [`Slab`].
enum Entry<T> {
    /// Holds a value.
    Occupied(T),
    /// Free; holds the key of the next free entry (`entries.len()` ends the
    /// list).
    Vacant(usize),
}

/// A vector with stable keys and a free list (see the module docs).
pub(super) struct Slab<T> {
    /// The entries, occupied or free.
    entries: Vec<Entry<T>>,
    /// The first free entry, or `entries.len()` if none is free.
    next_free: usize,
    /// The number of occupied entries.
    len: usize,
}

impl<T> Slab<T> {
    /// An empty slab; allocates nothing.
    pub(super) const fn new() -> Slab<T> {
        Slab {
            entries: Vec::new(),
            next_free: 0,
            len: 0,
        }
    }

    /// The number of values in the slab.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Stores `value` and returns its key, reusing a free entry if there is
    /// one.
    pub(super) fn insert(&mut self, value: T) -> usize {
        let key = self.next_free;
        if key == self.entries.len() {
            self.entries.push(Entry::Occupied(value));
            self.next_free = key + 1;
        } else {
            match std::mem::replace(&mut self.entries[key], Entry::Occupied(value)) {
                Entry::Vacant(next) => self.next_free = next,
                Entry::Occupied(_) => unreachable!("the free list points at an occupied entry"),
            }
        }
        self.len += 1;
        key
    }

    /// A mutable reference to the value under `key`, if occupied.
    pub(super) fn get_mut(&mut self, key: usize) -> Option<&mut T> {
        match self.entries.get_mut(key) {
            Some(Entry::Occupied(value)) => Some(value),
            _ => None,
        }
    }

    /// Removes and returns the value under `key`, if occupied.
    pub(super) fn remove(&mut self, key: usize) -> Option<T> {
        let entry = self.entries.get_mut(key)?;
        if let Entry::Vacant(_) = entry {
            return None;
        }
        match std::mem::replace(entry, Entry::Vacant(self.next_free)) {
            Entry::Occupied(value) => {
                self.next_free = key;
                self.len -= 1;
                Some(value)
            }
            Entry::Vacant(_) => unreachable!(),
        }
    }

    /// Removes every value, keeping the allocation. Keys handed out before
    /// must not be used afterwards.
    pub(super) fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.next_free = 0;
        self.len = 0;
        self.entries.drain(..).filter_map(|entry| match entry {
            Entry::Occupied(value) => Some(value),
            Entry::Vacant(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Slab;

    #[test]
    fn reuses_freed_keys_before_growing() {
        let mut slab = Slab::new();
        let a = slab.insert('a');
        let b = slab.insert('b');
        assert_eq!(slab.remove(a), Some('a'));
        assert_eq!(slab.remove(a), None, "already removed");
        let c = slab.insert('c');
        assert_eq!(c, a, "the freed key is reused");
        assert_eq!(slab.len(), 2);
        assert_eq!(slab.entries.len(), 2, "no growth");
        assert_eq!(slab.get_mut(b), Some(&mut 'b'));
    }

    #[test]
    fn drain_empties_and_restarts_keys() {
        let mut slab = Slab::new();
        for i in 0..5 {
            slab.insert(i);
        }
        slab.remove(2);
        let mut drained: Vec<_> = slab.drain().collect();
        drained.sort_unstable();
        assert_eq!(drained, [0, 1, 3, 4]);
        assert_eq!(slab.len(), 0);
        assert_eq!(slab.insert(9), 0);
    }
}
