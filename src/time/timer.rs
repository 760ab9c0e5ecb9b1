//! Timer channels: Go's `time.After`, `time.NewTimer` and `time.NewTicker`,
//! with Go 1.23's guarantee that a timer channel never holds a stale value.
//!
//! Each timer owns a channel of capacity 1 and a runtime timer whose
//! callback sends the firing instant with `try_send` (it never blocks; a
//! tick that finds the buffer full is dropped, which is how a `Ticker`
//! drops ticks for a slow receiver).
//!
//! Staleness protocol: the timer's state (the armed runtime timer and a
//! generation number) sits behind one mutex. The firing callback carries
//! the generation it was armed with; it sends only if that generation is
//! still current, under the lock. `stop` and `reset`, under the same lock,
//! disarm the runtime timer, bump the generation (so a callback already
//! running cannot deliver) and drain the channel (so a value that fired but
//! was not received is withdrawn, and counts as "still pending" in the
//! result, as in Go 1.23). After either returns, no value from the earlier
//! setting can be received.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::after_func::{call_at, AfterFunc};
use super::sleep::far_future_saturating;
use crate::chan::{chan, Receiver, Sender};
use crate::runtime::scheduler::Shared;

/// A channel that delivers the instant `duration` has elapsed, once, and
/// then closes: Go's `time.After`. Useful as a `select!` case.
///
/// In a task dump, a task waiting on the channel shows as sleeping until
/// the deadline; the channel counts as made where `after` was called.
///
/// ```
/// use std::time::Duration;
///
/// gorun::run(async {
///     let fired = gorun::after(Duration::from_millis(5)).recv().await;
///     assert!(fired.is_some());
/// });
/// ```
#[track_caller]
pub fn after(duration: Duration) -> Receiver<std::time::Instant> {
    let (tx, rx) = chan(1);
    let deadline = far_future_saturating(Instant::now(), duration);
    tx.set_timer_due(Some(deadline));
    // Dropping the handle does not disarm the timer. The callback sends
    // and then drops the only sender, which closes the channel.
    drop(call_at(
        crate::runtime::current_or_global(),
        deadline,
        move || {
            let _ = tx.try_send(Instant::now());
        },
    ));
    rx
}

/// The state shared by a `Timer` or `Ticker` and its firing callback.
struct State {
    /// The runtime timer of the current setting, if armed.
    armed: Option<AfterFunc>,
    /// Bumped by every `stop` and `reset`: callbacks of older settings
    /// must not deliver.
    generation: u64,
    /// `Some(period)` for a ticker.
    period: Option<Duration>,
}

/// What `Timer` and `Ticker` share: the channel and the settings.
struct Setting {
    state: Mutex<State>,
    tx: Sender<Instant>,
    runtime: Arc<Shared>,
}

impl Setting {
    /// `#[track_caller]`: the channel counts as made where the caller's
    /// caller (`Timer::new`, `Ticker::new`) was called.
    #[track_caller]
    fn new(period: Option<Duration>) -> (Arc<Setting>, Receiver<Instant>) {
        let (tx, rx) = chan(1);
        let shared = Arc::new(Setting {
            state: Mutex::new(State {
                armed: None,
                generation: 0,
                period,
            }),
            tx,
            runtime: crate::runtime::current_or_global(),
        });
        (shared, rx)
    }

    /// Arms the runtime timer for `deadline` under the current generation.
    /// The caller holds the state lock.
    fn arm(self: &Arc<Self>, state: &mut State, deadline: Instant) {
        let this = Arc::downgrade(self);
        let generation = state.generation;
        self.tx.set_timer_due(Some(deadline));
        state.armed = Some(call_at(self.runtime.clone(), deadline, move || {
            if let Some(this) = this.upgrade() {
                this.fire(generation, deadline);
            }
        }));
    }

    /// The callback: delivers the instant unless the setting changed, and
    /// re-arms a ticker for its next tick.
    fn fire(self: &Arc<Self>, generation: u64, deadline: Instant) {
        let mut state = self.state.lock().unwrap();
        if state.generation != generation {
            return;
        }
        state.armed = None;
        let now = Instant::now();
        match state.period {
            Some(period) => {
                // The next tick on the original schedule that is still ahead.
                // Armed before this tick is sent: the send may wake a
                // `block_on` whose deadlock check must then see the timer.
                let mut next = deadline + period;
                while next <= now {
                    next += period;
                }
                self.arm(&mut state, next);
            }
            // A fired timer never sends again: for the task dump, a receiver
            // still waiting waits on the channel, not on the timer.
            None => self.tx.set_timer_due(None),
        }
        // Full buffer: the receiver has not taken the last tick. Drop this
        // one, as Go's tickers do.
        let _ = self.tx.try_send(now);
    }

    /// Disarms the current setting and withdraws a value it delivered but
    /// nobody received. Returns whether the setting was still pending.
    fn stop(&self, state: &mut State, rx: &Receiver<Instant>) -> bool {
        state.generation += 1;
        let was_armed = state.armed.take().is_some_and(|t| t.stop());
        self.tx.set_timer_due(None);
        let withdrew = rx.try_recv().is_ok();
        was_armed || withdrew
    }
}

/// A single event in the future, delivered on a channel: Go's `time.Timer`.
///
/// ```
/// use std::time::Duration;
/// use gorun::time::Timer;
///
/// gorun::run(async {
///     let timer = Timer::new(Duration::from_millis(5));
///     let fired_at = timer.c().recv().await.unwrap();
///     assert!(fired_at.elapsed() < Duration::from_secs(60));
/// });
/// ```
pub struct Timer {
    shared: Arc<Setting>,
    rx: Receiver<Instant>,
}

impl Timer {
    /// A timer that sends the current instant on its channel after
    /// `duration`.
    ///
    /// ```
    /// let t = gorun::time::Timer::new(std::time::Duration::from_secs(1));
    /// assert!(t.stop());
    /// ```
    #[track_caller]
    pub fn new(duration: Duration) -> Timer {
        let (shared, rx) = Setting::new(None);
        {
            let mut state = shared.state.lock().unwrap();
            shared.arm(&mut state, far_future_saturating(Instant::now(), duration));
        }
        Timer { shared, rx }
    }

    /// The channel the timer delivers on (Go's `t.C`).
    ///
    /// In a task dump, a task waiting on it shows as sleeping until the
    /// timer fires; if the timer was stopped or had fired when the task
    /// started waiting, as receiving from a channel made where `Timer::new`
    /// was called. (The dump shows the timer as it was when the task
    /// started waiting: a `reset` or `stop` while it waits shows at its
    /// next wait.)
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// gorun::run(async {
    ///     let t = gorun::time::Timer::new(Duration::from_millis(1));
    ///     assert!(t.c().recv().await.is_some());
    /// });
    /// ```
    pub fn c(&self) -> &Receiver<Instant> {
        &self.rx
    }

    /// Stops the timer. Returns `true` if it had not fired yet, or had
    /// fired but its value was not received (the value is withdrawn);
    /// `false` if it already delivered or was stopped. After `stop`
    /// returns, nothing can be received from this setting.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// gorun::run(async {
    ///     let t = gorun::time::Timer::new(Duration::from_millis(1));
    ///     gorun::sleep(Duration::from_millis(5)).await;
    ///     // Fired, not received: still counts as pending, and is withdrawn.
    ///     assert!(t.stop());
    ///     assert!(t.c().try_recv().is_err());
    /// });
    /// ```
    pub fn stop(&self) -> bool {
        let mut state = self.shared.state.lock().unwrap();
        self.shared.stop(&mut state, &self.rx)
    }

    /// Stops the timer and sets it to fire after `duration`. Returns what
    /// [`stop`](Timer::stop) would have returned. No value of the earlier
    /// setting can be received afterwards.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// gorun::run(async {
    ///     let t = gorun::time::Timer::new(Duration::from_secs(3600));
    ///     assert!(t.reset(Duration::from_millis(1)));
    ///     assert!(t.c().recv().await.is_some());
    /// });
    /// ```
    pub fn reset(&self, duration: Duration) -> bool {
        let mut state = self.shared.state.lock().unwrap();
        let pending = self.shared.stop(&mut state, &self.rx);
        self.shared
            .arm(&mut state, far_future_saturating(Instant::now(), duration));
        pending
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let armed = self.shared.state.lock().unwrap().armed.is_some();
        f.debug_struct("Timer").field("armed", &armed).finish()
    }
}

/// Delivers the instant on a channel every `period`: Go's `time.Ticker`. A
/// receiver that falls behind misses ticks rather than receiving a backlog.
///
/// ```
/// use std::time::Duration;
/// use gorun::time::Ticker;
///
/// gorun::run(async {
///     let ticker = Ticker::new(Duration::from_millis(2));
///     for _ in 0..3 {
///         ticker.c().recv().await.unwrap();
///     }
///     ticker.stop();
/// });
/// ```
pub struct Ticker {
    shared: Arc<Setting>,
    rx: Receiver<Instant>,
}

impl Ticker {
    /// A ticker with the given period.
    ///
    /// # Panics
    /// If `period` is zero (Go: "non-positive interval for NewTicker").
    ///
    /// ```
    /// let t = gorun::time::Ticker::new(std::time::Duration::from_secs(1));
    /// t.stop();
    /// ```
    #[track_caller]
    pub fn new(period: Duration) -> Ticker {
        assert!(
            !period.is_zero(),
            "Ticker::new: the period must be positive"
        );
        let (shared, rx) = Setting::new(Some(period));
        {
            let mut state = shared.state.lock().unwrap();
            shared.arm(&mut state, far_future_saturating(Instant::now(), period));
        }
        Ticker { shared, rx }
    }

    /// The channel the ticks arrive on (Go's `t.C`).
    ///
    /// In a task dump, a task waiting on it shows as sleeping until the
    /// next tick; if the ticker was stopped when the task started waiting,
    /// as receiving from a channel made where `Ticker::new` was called.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// gorun::run(async {
    ///     let t = gorun::time::Ticker::new(Duration::from_millis(1));
    ///     assert!(t.c().recv().await.is_some());
    /// });
    /// ```
    pub fn c(&self) -> &Receiver<Instant> {
        &self.rx
    }

    /// Stops the ticker: no tick is delivered afterwards, and a tick that
    /// was delivered but not received is withdrawn. The channel stays open.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// gorun::run(async {
    ///     let t = gorun::time::Ticker::new(Duration::from_millis(1));
    ///     t.stop();
    ///     gorun::sleep(Duration::from_millis(5)).await;
    ///     assert!(t.c().try_recv().is_err());
    /// });
    /// ```
    pub fn stop(&self) {
        let mut state = self.shared.state.lock().unwrap();
        self.shared.stop(&mut state, &self.rx);
    }

    /// Stops the ticker and restarts it with a new period.
    ///
    /// # Panics
    /// If `period` is zero.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// gorun::run(async {
    ///     let t = gorun::time::Ticker::new(Duration::from_secs(3600));
    ///     t.reset(Duration::from_millis(1));
    ///     assert!(t.c().recv().await.is_some());
    /// });
    /// ```
    pub fn reset(&self, period: Duration) {
        assert!(
            !period.is_zero(),
            "Ticker::reset: the period must be positive"
        );
        let mut state = self.shared.state.lock().unwrap();
        self.shared.stop(&mut state, &self.rx);
        state.period = Some(period);
        self.shared
            .arm(&mut state, far_future_saturating(Instant::now(), period));
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state.lock().unwrap();
        f.debug_struct("Ticker")
            .field("period", &state.period)
            .field("armed", &state.armed.is_some())
            .finish()
    }
}
