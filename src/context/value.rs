//! Context values: Go's `context.WithValue` with typed keys.
//!
//! Values form a singly linked chain from the innermost `with_value` out
//! to the first, separate from the cancellation tree: a
//! [`Context`](super::Context) holds the head of its chain, and every
//! context derived from it (with a cancel, a deadline, `without_cancel`)
//! shares that head. Each link stores its key and value by type (one
//! allocation per `with_value`), and the lookup downcasts through
//! [`Any`].
//!
//! # Lookup rule
//!
//! `value::<V>(&key)` walks from the innermost link outwards and stops at
//! the first link whose key has the same type as `key` *and* compares
//! equal to it. That link decides: its value if it is a `V`, else `None`;
//! outer links with an equal key are shadowed either way. Keys of
//! different types never match, even if they would compare equal through
//! some conversion: as in Go, where `WithValue` keys are compared as
//! interface values (type and value), the recommended key is a private
//! type of its own (`struct RequestId;`), which no other package can
//! collide with.
//!
//! A lookup costs one `TypeId` comparison per link, plus `==` on the links
//! whose key type matches; chains are short in practice (Go's is the same
//! linked list).
//!
//! # Dropping
//!
//! A link owns its parent link. A chain of a hundred thousand `with_value`
//! calls must not drop recursively (one stack frame per link), so a link's
//! `Drop` unlinks its ancestors in a loop, as long as it holds the only
//! reference to them.
//!
//! Rejected: a `HashMap<TypeId, Box<dyn Any>>` copied per `with_value`
//! (O(n) per insertion, and it cannot hold two keys of one type); string
//! keys (the stringly-typed collisions Go's documentation warns about).

use std::any::Any;
use std::sync::Arc;

/// The head of a value chain.
pub(super) type Chain = Arc<dyn Link>;

/// One `with_value` link, type-erased.
pub(super) trait Link: Send + Sync {
    /// The key, for a downcast and a comparison.
    fn key(&self) -> &dyn Any;
    /// The value, for a downcast.
    fn value(&self) -> &dyn Any;
    /// The next link outwards.
    fn parent(&self) -> Option<&Chain>;
    /// Detaches and returns the next link outwards (used by `Drop`).
    fn take_parent(&mut self) -> Option<Chain>;
}

/// A link with its key and value stored by type.
struct Entry<K, V> {
    /// The next link outwards.
    parent: Option<Chain>,
    /// The key, compared with `==` against lookups of the same type.
    key: K,
    /// The value.
    value: V,
}

impl<K, V> Link for Entry<K, V>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    fn key(&self) -> &dyn Any {
        &self.key
    }

    fn value(&self) -> &dyn Any {
        &self.value
    }

    fn parent(&self) -> Option<&Chain> {
        self.parent.as_ref()
    }

    fn take_parent(&mut self) -> Option<Chain> {
        self.parent.take()
    }
}

impl<K, V> Drop for Entry<K, V> {
    fn drop(&mut self) {
        // Unlink the ancestors we own alone one by one, so that dropping
        // each of them finds no parent to recurse into.
        let mut next = self.parent.take();
        while let Some(mut link) = next {
            next = Arc::get_mut(&mut link).and_then(Link::take_parent);
        }
    }
}

/// Adds a link with `key` and `value` in front of `parent`.
pub(super) fn push<K, V>(parent: Option<&Chain>, key: K, value: V) -> Chain
where
    K: PartialEq + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    Arc::new(Entry {
        parent: parent.cloned(),
        key,
        value,
    })
}

/// Looks `key` up in `chain` by the rule of the module docs.
pub(super) fn lookup<'a, K, V>(chain: Option<&'a Chain>, key: &K) -> Option<&'a V>
where
    K: PartialEq + 'static,
    V: 'static,
{
    let mut link = chain;
    while let Some(l) = link {
        if l.key().downcast_ref::<K>().is_some_and(|k| k == key) {
            return l.value().downcast_ref::<V>();
        }
        link = l.parent();
    }
    None
}
