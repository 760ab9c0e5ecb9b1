//! The random order in which a select tries its cases: a per-thread wyrand
//! generator and a lazy Fisher–Yates shuffle.
//!
//! Go shuffles a select's cases with its per-M `fastrand`; the same idea
//! here is one thread-local `u64` of state, seeded once per thread from
//! std's randomly keyed hasher, and one multiply per draw. A shuffle only
//! draws as far as the select looks: a select whose first visited case is
//! ready costs one draw. The generator is not cryptographic and need not be;
//! it only has to make every order equally likely.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

thread_local! {
    /// This thread's wyrand state; 0 until first used.
    static STATE: Cell<u64> = const { Cell::new(0) };
}

/// wyrand's increment (from wyhash).
const WY_ADD: u64 = 0xa076_1d64_78bd_642f;
/// wyrand's mixing constant (from wyhash).
const WY_XOR: u64 = 0xe703_7ed1_a0b4_28db;

/// A random state for a thread that has none yet: std's random hash keys,
/// which std draws from the OS once per thread. Never 0.
#[cold]
fn seed() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(WY_ADD);
    h.finish() | 1
}

/// A random number in `0..n` (`n > 0`), by Lemire's multiply-shift; its
/// bias, at most `n / 2^64`, is far below what any test can see.
fn below(n: usize) -> usize {
    STATE.with(|state| {
        let mut s = state.get();
        if s == 0 {
            s = seed();
        }
        s = s.wrapping_add(WY_ADD);
        state.set(s);
        let t = u128::from(s) * u128::from(s ^ WY_XOR);
        let r = ((t >> 64) as u64) ^ (t as u64);
        ((u128::from(r) * n as u128) >> 64) as usize
    })
}

/// Visits `0..n` in a uniformly random order, calling `f` on each until it
/// returns `Some`, and returns that. `order` is scratch space of at least
/// `n` entries.
///
/// Each prefix of the visiting order is uniformly random, so when the
/// caller stops at the first ready case, each ready case is equally likely
/// to be the one.
pub(super) fn first_in_random_order<R>(
    n: usize,
    order: &mut [u32],
    mut f: impl FnMut(usize) -> Option<R>,
) -> Option<R> {
    let order = &mut order[..n];
    for (i, slot) in order.iter_mut().enumerate() {
        *slot = i as u32;
    }
    for j in 0..n {
        if j + 1 < n {
            order.swap(j, j + below(n - j));
        }
        if let Some(r) = f(order[j] as usize) {
            return Some(r);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_stays_in_range() {
        for n in 1..50 {
            for _ in 0..100 {
                assert!(below(n) < n);
            }
        }
    }

    #[test]
    fn every_position_is_visited_once() {
        let mut order = [0u32; 8];
        let mut seen = Vec::new();
        let none: Option<()> = first_in_random_order(8, &mut order, |i| {
            seen.push(i);
            None
        });
        assert!(none.is_none());
        seen.sort_unstable();
        assert_eq!(seen, (0..8).collect::<Vec<_>>());
    }
}
