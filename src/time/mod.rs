//! Time: Go's `time.Sleep`, timeouts, and (with channels) `time.After`,
//! `Timer`, `Ticker` and `AfterFunc`.
//!
//! Timers live in the runtime's timer store (`reactor/timers.rs`) and are
//! fired by the worker that drives the reactor, or by busy workers every
//! few dozen scheduling ticks, so they need no thread of their own.

mod after_func;
mod sleep;
mod timeout;
mod timer;

pub(crate) use after_func::call_at;
pub use after_func::{after_func, AfterFunc};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
pub use timer::{after, Ticker, Timer};
