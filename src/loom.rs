//! The concurrency facade: every atomic, `Arc`, `Mutex`, `Condvar` and
//! thread-local of the runtime and channel cores comes through here.
//!
//! Under `--cfg loom` the same names resolve to [loom]'s model-checked
//! versions, so `RUSTFLAGS="--cfg loom" cargo test --release --test 'loom_*'`
//! explores every interleaving of the core algorithms instead of a few lucky
//! ones. Code outside the core may use `std` directly.
//!
//! [loom]: https://docs.rs/loom

#[cfg(not(loom))]
pub(crate) use std::sync;

#[cfg(loom)]
pub(crate) use loom::sync;
