//! Configuring and building a [`Runtime`].

use std::fmt;
use std::io;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use super::monitor::{BlockingHook, BlockingReport, DEFAULT_BLOCKING_THRESHOLD};
use super::{blocking, coop, Config, Runtime};

/// The environment variable that overrides the default number of workers,
/// as `GOMAXPROCS` does in Go.
pub const MAXPROCS_ENV: &str = "GORUN_MAXPROCS";

/// Builds a [`Runtime`] with custom settings.
///
/// ```
/// let rt = gorun::Runtime::builder()
///     .workers(2)
///     .budget(64)
///     .thread_name("my-worker")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 6 * 7 }), 42);
/// ```
pub struct Builder {
    workers: Option<usize>,
    budget: u32,
    thread_name: String,
    max_blocking_threads: usize,
    blocking_threshold: Option<Duration>,
    on_blocking: Option<BlockingHook>,
    detect_deadlocks: bool,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("workers", &self.workers)
            .field("budget", &self.budget)
            .field("thread_name", &self.thread_name)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("blocking_threshold", &self.blocking_threshold)
            .field("on_blocking", &self.on_blocking.as_ref().map(|_| ".."))
            .field("detect_deadlocks", &self.detect_deadlocks)
            .finish()
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// Creates a builder with the defaults: one worker per CPU (or
    /// `GORUN_MAXPROCS`), a budget of 128 operations per poll, and threads
    /// named `gorun-worker-N`.
    ///
    /// ```
    /// let rt = gorun::runtime::Builder::new().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn new() -> Builder {
        Builder {
            workers: None,
            budget: coop::DEFAULT_BUDGET,
            thread_name: "gorun-worker".to_owned(),
            max_blocking_threads: blocking::DEFAULT_MAX_THREADS,
            blocking_threshold: Some(DEFAULT_BLOCKING_THRESHOLD),
            on_blocking: None,
            detect_deadlocks: true,
        }
    }

    /// How long a task may hold a worker in one poll before the runtime's
    /// monitor reports it (default 100 ms; `None` turns the monitor off).
    ///
    /// Like Go's `sysmon`, the monitor also keeps the runtime going while
    /// the task blocks: it wakes an idle worker to take the blocked
    /// worker's queue and, when every worker is blocked, starts a
    /// replacement worker (up to one per worker) that runs until a blocked
    /// one returns. Each task is reported once, to standard error or to
    /// the [`on_blocking`](Builder::on_blocking) hook.
    ///
    /// # Panics
    /// If the threshold is zero.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = gorun::Runtime::builder()
    ///     .blocking_threshold(Some(Duration::from_millis(20)))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn blocking_threshold(mut self, threshold: Option<Duration>) -> Builder {
        assert!(
            threshold != Some(Duration::ZERO),
            "Builder::blocking_threshold: the threshold must be positive (None turns the monitor off)"
        );
        self.blocking_threshold = threshold;
        self
    }

    /// Calls `hook` instead of printing to standard error when the monitor
    /// finds a task holding a worker past the
    /// [`blocking_threshold`](Builder::blocking_threshold). The hook runs on
    /// the monitor's thread.
    ///
    /// ```
    /// let rt = gorun::Runtime::builder()
    ///     .on_blocking(|report| eprintln!("slow task: {report}"))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn on_blocking(
        mut self,
        hook: impl Fn(&BlockingReport) + Send + Sync + 'static,
    ) -> Builder {
        self.on_blocking = Some(Arc::new(hook));
        self
    }

    /// Whether `block_on` panics with `all goroutines are asleep -
    /// deadlock!` and a task dump when nothing can make progress (default
    /// `true`; see [`Runtime::block_on`] for when it fires).
    ///
    /// ```
    /// let rt = gorun::Runtime::builder().detect_deadlocks(false).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn detect_deadlocks(mut self, on: bool) -> Builder {
        self.detect_deadlocks = on;
        self
    }

    /// Sets the number of worker threads (Go's `GOMAXPROCS`). This takes
    /// precedence over the `GORUN_MAXPROCS` environment variable.
    ///
    /// # Panics
    /// If `n` is zero.
    ///
    /// ```
    /// let rt = gorun::Runtime::builder().workers(1).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn workers(mut self, n: usize) -> Builder {
        assert!(
            n > 0,
            "Builder::workers: a runtime needs at least one worker"
        );
        self.workers = Some(n);
        self
    }

    /// Sets the cooperative budget: how many channel, timer, sync and I/O
    /// operations a task may complete in one poll before it must yield.
    ///
    /// # Panics
    /// If `budget` is zero (no task could ever make progress).
    ///
    /// ```
    /// let rt = gorun::Runtime::builder().budget(32).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn budget(mut self, budget: u32) -> Builder {
        assert!(budget > 0, "Builder::budget: the budget must be at least 1");
        self.budget = budget;
        self
    }

    /// Sets the prefix of the worker threads' names; worker `i` is named
    /// `{name}-{i}`.
    ///
    /// ```
    /// let rt = gorun::Runtime::builder().thread_name("crawler").build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.thread_name = name.into();
        self
    }

    /// Sets the most threads the [`spawn_blocking`](crate::spawn_blocking)
    /// pool may run at once (default 512). Beyond that, blocking tasks
    /// queue until a thread is free.
    ///
    /// # Panics
    /// If `n` is zero.
    ///
    /// ```
    /// let rt = gorun::Runtime::builder().max_blocking_threads(16).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        assert!(
            n > 0,
            "Builder::max_blocking_threads: the pool needs at least one thread"
        );
        self.max_blocking_threads = n;
        self
    }

    /// Starts the worker threads.
    ///
    /// # Errors
    /// If the operating system refuses to start a thread.
    ///
    /// # Panics
    /// If no worker count was set and `GORUN_MAXPROCS` is set to anything
    /// but a positive integer.
    ///
    /// ```
    /// let rt = gorun::Runtime::builder().workers(2).build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(self) -> io::Result<Runtime> {
        let workers = self.workers.unwrap_or_else(default_workers);
        Runtime::start(Config {
            workers,
            budget: self.budget,
            max_blocking_threads: self.max_blocking_threads,
            thread_name: self.thread_name,
            blocking_threshold: self.blocking_threshold,
            on_blocking: self.on_blocking,
            detect_deadlocks: self.detect_deadlocks,
        })
    }
}

/// `GORUN_MAXPROCS` if set, else the number of CPUs available.
fn default_workers() -> usize {
    match std::env::var(MAXPROCS_ENV) {
        Ok(value) => parse_maxprocs(&value)
            .unwrap_or_else(|| panic!("{MAXPROCS_ENV} must be a positive integer, got {value:?}")),
        Err(std::env::VarError::NotUnicode(value)) => {
            panic!("{MAXPROCS_ENV} must be a positive integer, got {value:?}")
        }
        Err(std::env::VarError::NotPresent) => std::thread::available_parallelism()
            .map(NonZeroUsize::get)
            .unwrap_or(1),
    }
}

/// Parses a worker count: a positive decimal integer, surrounding blanks
/// allowed.
pub(crate) fn parse_maxprocs(value: &str) -> Option<usize> {
    value.trim().parse::<usize>().ok().filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::parse_maxprocs;

    #[test]
    fn maxprocs_accepts_positive_integers() {
        assert_eq!(parse_maxprocs("4"), Some(4));
        assert_eq!(parse_maxprocs(" 16 "), Some(16));
    }

    #[test]
    fn maxprocs_rejects_everything_else() {
        for bad in ["", "0", "-1", "two", "1.5", "4x"] {
            assert_eq!(parse_maxprocs(bad), None, "{bad:?}");
        }
    }
}
