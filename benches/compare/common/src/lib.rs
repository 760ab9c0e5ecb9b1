//! Shared plumbing for the Rust comparison binaries (tokio, smol, gorun):
//! argument parsing, workload names and units, sizes, output formatting,
//! verification failures, RSS / CPU-time probes and the `steal` kernel.
//!
//! This crate depends on nothing but `libc`, so the gorun binary can be built
//! without pulling in any other runtime.

use std::io::Write;
use std::time::Duration;

/// The 11 workloads of WORKLOADS.md with their units.
pub const WORKLOADS: &[(&str, &str)] = &[
    ("spawn_join", "ns/task"),
    ("parked_memory", "bytes/task"),
    ("pingpong", "ns/roundtrip"),
    ("mpmc", "ns/msg"),
    ("pipeline", "ns/item"),
    ("select4", "ns/select"),
    ("timers", "ms"),
    ("ctx_cancel", "us"),
    ("tcp_echo", "round_trips_per_sec"),
    ("steal", "percent"),
    ("hog_latency", "ms"),
];

/// Kinds of the channel matrix (crossbeam-channel's cross-language suite).
pub const MATRIX_KINDS: &[&str] = &["seq", "spsc", "mpsc", "mpmc", "select_rx", "select_both"];
/// Capacities of the channel matrix.
pub const MATRIX_CAPS: &[usize] = &[0, 1, 1000];
/// Unit of every matrix workload.
pub const MATRIX_UNIT: &str = "ns/msg";
/// Number of producer / consumer tasks in the matrix.
pub const MATRIX_THREADS: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatrixKind {
    Seq,
    Spsc,
    Mpsc,
    Mpmc,
    SelectRx,
    SelectBoth,
}

/// Parses `chan_<kind>_<cap>`.
pub fn parse_matrix(name: &str) -> Option<(MatrixKind, usize)> {
    let rest = name.strip_prefix("chan_")?;
    let (kind, cap) = rest.rsplit_once('_')?;
    let cap: usize = cap.parse().ok()?;
    if !MATRIX_CAPS.contains(&cap) {
        return None;
    }
    let kind = match kind {
        "seq" => MatrixKind::Seq,
        "spsc" => MatrixKind::Spsc,
        "mpsc" => MatrixKind::Mpsc,
        "mpmc" => MatrixKind::Mpmc,
        "select_rx" => MatrixKind::SelectRx,
        "select_both" => MatrixKind::SelectBoth,
        _ => return None,
    };
    Some((kind, cap))
}

/// All matrix workload names, in a stable order.
pub fn matrix_names() -> Vec<String> {
    let mut v = Vec::new();
    for k in MATRIX_KINDS {
        for c in MATRIX_CAPS {
            v.push(format!("chan_{k}_{c}"));
        }
    }
    v
}

/// Unit of a workload name (one of the 11 or a matrix name).
pub fn unit_of(name: &str) -> Option<&'static str> {
    if let Some((_, u)) = WORKLOADS.iter().find(|(n, _)| *n == name) {
        return Some(u);
    }
    parse_matrix(name).map(|_| MATRIX_UNIT)
}

/// Problem sizes; `--quick` shrinks them for smoke tests.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub spawn_join_n: usize,
    pub parked_n: usize,
    pub pingpong_n: u64,
    /// Values sent by each of the 4 mpmc producers.
    pub mpmc_per_producer: u64,
    pub pipeline_n: u64,
    /// Values sent by each of the 4 select4 producers.
    pub select4_per_producer: u64,
    pub timers_n: usize,
    pub ctx_children: usize,
    pub ctx_leaves_per_child: usize,
    pub tcp_clients: usize,
    pub tcp_rounds: usize,
    pub steal_tasks: usize,
    pub steal_iters: u64,
    pub hog_duration: Duration,
    pub hog_ticks: usize,
    pub matrix_messages: usize,
}

impl Sizes {
    pub fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                spawn_join_n: 10_000,
                parked_n: 10_000,
                pingpong_n: 10_000,
                mpmc_per_producer: 10_000,
                pipeline_n: 10_000,
                select4_per_producer: 2_500,
                timers_n: 1_000,
                ctx_children: 10,
                ctx_leaves_per_child: 10,
                tcp_clients: 50,
                tcp_rounds: 100,
                steal_tasks: 200,
                steal_iters: 2_000,
                hog_duration: Duration::from_millis(100),
                hog_ticks: 100,
                matrix_messages: 10_000,
            }
        } else {
            Sizes {
                spawn_join_n: 1_000_000,
                parked_n: 1_000_000,
                pingpong_n: 1_000_000,
                mpmc_per_producer: 1_000_000,
                pipeline_n: 1_000_000,
                select4_per_producer: 250_000,
                timers_n: 100_000,
                ctx_children: 100,
                ctx_leaves_per_child: 100,
                tcp_clients: 50,
                tcp_rounds: 10_000,
                steal_tasks: 2_000,
                steal_iters: 200_000,
                hog_duration: Duration::from_secs(1),
                hog_ticks: 100,
                matrix_messages: 1_000_000,
            }
        }
    }
}

/// Parsed command line: `<exe> <workload> [--quick]`.
#[derive(Clone, Debug)]
pub struct Args {
    pub workload: String,
    pub unit: &'static str,
    pub quick: bool,
    pub sizes: Sizes,
    pub imp: &'static str,
}

/// Parses argv; an unknown or missing workload exits with status 2.
pub fn parse_args(imp: &'static str) -> Args {
    let mut workload = None;
    let mut quick = false;
    for a in std::env::args().skip(1) {
        if a == "--quick" {
            quick = true;
        } else if workload.is_none() {
            workload = Some(a);
        } else {
            eprintln!("{imp}: unexpected argument {a:?}");
            std::process::exit(2);
        }
    }
    let Some(workload) = workload else {
        eprintln!("usage: {imp} <workload> [--quick]");
        std::process::exit(2);
    };
    let Some(unit) = unit_of(&workload) else {
        eprintln!("{imp}: unknown workload {workload:?}");
        std::process::exit(2);
    };
    Args {
        workload,
        unit,
        quick,
        sizes: Sizes::new(quick),
        imp,
    }
}

/// What a root task hands back to the main thread.
pub enum Outcome {
    Value(f64),
    /// Not run faithfully; the reason goes to stderr.
    NotAvailable(String),
}

impl Args {
    /// Prints a diagnostic line `<workload> <impl>: <msg>` to stderr.
    pub fn diag(&self, msg: &str) {
        eprintln!("{} {}: {}", self.workload, self.imp, msg);
    }

    /// Prints the result line (or n/a + reason) and exits with status 0
    /// without tearing the runtime down.
    pub fn finish(&self, outcome: Outcome) -> ! {
        let mut out = std::io::stdout().lock();
        match outcome {
            Outcome::Value(v) => {
                let _ = writeln!(out, "{} {} {:.2} {}", self.workload, self.imp, v, self.unit);
            }
            Outcome::NotAvailable(reason) => {
                let _ = writeln!(out, "{} {} n/a {}", self.workload, self.imp, self.unit);
                eprintln!("{} {}: n/a: {}", self.workload, self.imp, reason);
            }
        }
        let _ = out.flush();
        drop(out);
        let _ = std::io::stderr().flush();
        std::process::exit(0)
    }
}

/// A failed verification: message on stderr, exit status 3.
pub fn fail(msg: &str) -> ! {
    eprintln!("VERIFICATION FAILED: {msg}");
    let _ = std::io::stderr().flush();
    std::process::exit(3)
}

/// Fails unless `cond` holds.
pub fn verify(cond: bool, msg: impl FnOnce() -> String) {
    if !cond {
        fail(&msg());
    }
}

/// Resident set size: field 2 of /proc/self/statm times 4096.
pub fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .expect("parse /proc/self/statm");
    pages * 4096
}

/// Process CPU time (user + system) from getrusage(RUSAGE_SELF).
pub fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    assert_eq!(rc, 0, "getrusage failed");
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// The `steal` kernel: `iters` rounds of xorshift on `seed`.
#[inline(never)]
pub fn work(seed: u64, iters: u64) -> u64 {
    let mut x = std::hint::black_box(seed);
    let n = std::hint::black_box(iters);
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    std::hint::black_box(x)
}

/// Σ_{x<n} x, wrapping.
pub fn sum_below(n: u64) -> u64 {
    // n(n-1)/2 computed without overflow for the sizes used here.
    if n & 1 == 0 {
        (n / 2).wrapping_mul(n.wrapping_sub(1))
    } else {
        n.wrapping_mul((n - 1) / 2)
    }
}

/// Σ_{x<n} x², wrapping (computed in u128, exact for n < 2^40).
pub fn sum_squares_below(n: u64) -> u64 {
    let n = n as u128;
    if n == 0 {
        return 0;
    }
    let m = n - 1;
    (m * (m + 1) * (2 * m + 1) / 6) as u64
}

/// Shared evaluation of `hog_latency`: `ticks` holds (start, lateness) of
/// every iteration of B, `a_end` the time A finished (both since epoch).
/// Prints the diagnostics and returns the value in ms.
pub fn hog_evaluate(
    args: &Args,
    ticks: &[(Duration, Duration)],
    a_end: Duration,
    pairs: u64,
) -> f64 {
    let mut overlapped = 0usize;
    let mut max_overlap = Duration::ZERO;
    let mut max_all = Duration::ZERO;
    for &(t, late) in ticks {
        if t < a_end {
            overlapped += 1;
            max_overlap = max_overlap.max(late);
        }
        max_all = max_all.max(late);
    }
    args.diag(&format!(
        "overlapping_iterations={} a_pairs={} max_lateness_all_ms={:.2} a_end_ms={:.2}",
        overlapped,
        pairs,
        max_all.as_secs_f64() * 1e3,
        a_end.as_secs_f64() * 1e3
    ));
    max_overlap.as_secs_f64() * 1e3
}

/// `ns` per unit of an elapsed time.
pub fn per(elapsed: Duration, n: u64) -> f64 {
    elapsed.as_nanos() as f64 / n as f64
}

/// Message payload of the tcp_echo clients.
pub fn tcp_message(client: usize, round: usize) -> [u8; 64] {
    let mut m = [client as u8; 64];
    m[0] = (round % 256) as u8;
    m
}

/// Shared description of why seq cannot run with capacity 0.
pub const SEQ_CAP0: &str =
    "chan_seq with capacity 0: a single task cannot rendezvous with itself (crossbeam runs seq only on buffered channels)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums() {
        assert_eq!(4u64.wrapping_mul(sum_below(1_000_000)), 1_999_998_000_000);
        assert_eq!(sum_squares_below(1_000_000), 333_332_833_333_500_000);
        assert_eq!(4 * sum_below(250_000), 124_999_500_000);
    }

    #[test]
    fn names() {
        assert_eq!(matrix_names().len(), 18);
        assert_eq!(
            parse_matrix("chan_select_both_1000"),
            Some((MatrixKind::SelectBoth, 1000))
        );
        assert_eq!(parse_matrix("chan_seq_5"), None);
        assert_eq!(unit_of("tcp_echo"), Some("round_trips_per_sec"));
    }
}
