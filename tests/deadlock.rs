//! The deadlock detector: `block_on` and `run` panic with Go's message and
//! a task dump when nothing can make progress, and never when something
//! still can.
//!
//! The detector fires only when every thread of the process belongs to the
//! runtime, so these cases cannot run under libtest (its threads would
//! count as foreign). This file has its own `main` (`harness = false`):
//! it runs each case in a child process of its own, which has no thread
//! but the runtime's, and kills a case that does not finish in time, so a
//! detector that fails to fire fails the test instead of hanging CI.

mod common;

use std::io::Write;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use gorun::sync::WaitGroup;
use gorun::{chan, Runtime};

const DEADLOCK: &str = "all goroutines are asleep - deadlock!";

/// How long a child may take before it counts as hung.
const CASE_TIMEOUT: Duration = Duration::from_secs(30);

fn runtime() -> Runtime {
    Runtime::builder().workers(2).build().unwrap()
}

/// Runs `f`, which must panic with the deadlock message; returns the
/// message.
fn expect_deadlock(f: impl FnOnce()) -> String {
    std::panic::set_hook(Box::new(|_| {}));
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .expect_err("no deadlock was reported");
    let _ = std::panic::take_hook();
    let message = common::panic_message(&*payload);
    assert!(
        message.starts_with(DEADLOCK),
        "not the deadlock message: {message}"
    );
    message
}

// ---- true positives

/// Two tasks each wait to receive from the other before sending.
fn a_receive_cycle_is_a_deadlock() {
    let rt = runtime();
    let message = expect_deadlock(|| {
        rt.block_on(async {
            let (a_tx, a_rx) = chan::<u32>(0);
            let (b_tx, b_rx) = chan::<u32>(0);
            let first = gorun::spawn(async move {
                let v = a_rx.recv().await;
                b_tx.send(1).await.ok();
                v
            });
            let second = gorun::spawn(async move {
                let v = b_rx.recv().await;
                a_tx.send(2).await.ok();
                v
            });
            first.await.unwrap();
            second.await.unwrap();
        })
    });
    assert!(message.contains("chan receive"), "{message}");
    assert!(
        message.contains("spawned at tests/deadlock.rs"),
        "{message}"
    );
    assert!(message.contains("block_on [join task"), "{message}");
}

/// `main` waits on a WaitGroup that never reaches zero.
fn waiting_on_a_wait_group_that_never_reaches_zero_is_a_deadlock() {
    let rt = runtime();
    let message = expect_deadlock(|| {
        rt.block_on(async {
            let wg = WaitGroup::new();
            wg.add(2);
            let done = wg.clone();
            gorun::spawn(async move { done.done() });
            wg.wait().await;
        })
    });
    assert!(message.contains("sync.WaitGroup.Wait"), "{message}");
}

/// The root waits on a channel only it could send on.
fn receiving_on_a_channel_nobody_else_holds_is_a_deadlock() {
    let rt = runtime();
    expect_deadlock(|| {
        rt.block_on(async {
            let (_tx, rx) = chan::<u32>(1);
            rx.recv().await;
        })
    });
}

/// Blocking work kept the runtime alive; once it is done, nothing can
/// wake the root.
fn a_deadlock_is_reported_once_blocking_work_finishes() {
    let rt = runtime();
    expect_deadlock(|| {
        rt.block_on(async {
            let (_tx, rx) = chan::<u32>(0);
            drop(gorun::spawn_blocking(|| {
                std::thread::sleep(Duration::from_millis(200))
            }));
            rx.recv().await;
        })
    });
}

/// The same through `gorun::run` and the global runtime.
fn run_reports_a_deadlock_too() {
    expect_deadlock(|| {
        gorun::run(async {
            let (tx, rx) = chan::<u32>(0);
            gorun::spawn(async move { tx.send(1).await.ok() });
            // Never receives: the sender waits forever, and so do we.
            std::future::pending::<()>().await;
            drop(rx);
        })
    });
}

/// The runtime is usable after a reported deadlock, and dropping it frees
/// the stuck tasks.
fn the_runtime_survives_a_reported_deadlock() {
    let rt = runtime();
    expect_deadlock(|| {
        rt.block_on(async {
            let (_tx, rx) = chan::<u32>(0);
            gorun::spawn(async move { rx.recv().await });
            std::future::pending::<()>().await;
        })
    });
    assert_eq!(rt.block_on(async { 6 * 7 }), 42);
    drop(rt);
}

/// With detection off, a deadlocked program hangs as it would without
/// gorun's help (the parent expects this case to time out).
fn with_detection_off_a_deadlock_hangs() {
    let rt = Runtime::builder()
        .workers(2)
        .detect_deadlocks(false)
        .build()
        .unwrap();
    rt.block_on(async {
        let (_tx, rx) = chan::<u32>(0);
        rx.recv().await;
    });
    unreachable!("a deadlocked block_on returned");
}

// ---- true negatives

/// A task sleeps, then sends: the pending timer means progress is coming.
fn a_pending_timer_is_not_a_deadlock() {
    let rt = runtime();
    let v = rt.block_on(async {
        let (tx, rx) = chan::<u32>(0);
        gorun::spawn(async move {
            gorun::sleep(Duration::from_millis(300)).await;
            tx.send(7).await.unwrap();
        });
        rx.recv().await
    });
    assert_eq!(v, Some(7));
}

/// A task accepts on a listener; a connection comes from another process
/// (no thread of ours) later.
fn an_open_listener_is_not_a_deadlock() {
    let rt = runtime();
    rt.block_on(async {
        let listener = gorun::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let acceptor = gorun::spawn(async move { listener.accept().await.map(|_| ()) });
        let mut client = Command::new(std::env::current_exe().unwrap())
            .args(["--connect-after-300ms", &port.to_string()])
            .spawn()
            .unwrap();
        acceptor.await.unwrap().unwrap();
        assert!(client.wait().unwrap().success());
    });
}

/// A plain thread holds a sender and sends later.
fn a_plain_thread_that_will_send_later_is_not_a_deadlock() {
    let rt = runtime();
    let (tx, rx) = chan::<u32>(0);
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        tx.send_blocking(9).unwrap();
    });
    assert_eq!(rt.block_on(async move { rx.recv().await }), Some(9));
    thread.join().unwrap();
}

/// `spawn_blocking` work is running: its result will come.
fn running_blocking_work_is_not_a_deadlock() {
    let rt = runtime();
    let v = rt.block_on(async {
        gorun::spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(300));
            5
        })
        .await
        .unwrap()
    });
    assert_eq!(v, 5);
}

/// Workers busy with a long computation while the root waits.
fn busy_workers_are_not_a_deadlock() {
    let rt = runtime();
    let v = rt.block_on(async {
        gorun::spawn(async {
            let mut x = 0u64;
            for i in 0..20_000_000u64 {
                x = x.wrapping_add(std::hint::black_box(i));
            }
            x
        })
        .await
        .unwrap()
    });
    assert_ne!(v, 1);
}

/// Cases that must still be running when this much time has passed.
const HANGS: &[&str] = &["with_detection_off_a_deadlock_hangs"];
const HANG_TIMEOUT: Duration = Duration::from_secs(2);

const CASES: &[(&str, fn())] = &[
    (
        "with_detection_off_a_deadlock_hangs",
        with_detection_off_a_deadlock_hangs,
    ),
    (
        "a_receive_cycle_is_a_deadlock",
        a_receive_cycle_is_a_deadlock,
    ),
    (
        "waiting_on_a_wait_group_that_never_reaches_zero_is_a_deadlock",
        waiting_on_a_wait_group_that_never_reaches_zero_is_a_deadlock,
    ),
    (
        "receiving_on_a_channel_nobody_else_holds_is_a_deadlock",
        receiving_on_a_channel_nobody_else_holds_is_a_deadlock,
    ),
    (
        "a_deadlock_is_reported_once_blocking_work_finishes",
        a_deadlock_is_reported_once_blocking_work_finishes,
    ),
    ("run_reports_a_deadlock_too", run_reports_a_deadlock_too),
    (
        "the_runtime_survives_a_reported_deadlock",
        the_runtime_survives_a_reported_deadlock,
    ),
    (
        "a_pending_timer_is_not_a_deadlock",
        a_pending_timer_is_not_a_deadlock,
    ),
    (
        "an_open_listener_is_not_a_deadlock",
        an_open_listener_is_not_a_deadlock,
    ),
    (
        "a_plain_thread_that_will_send_later_is_not_a_deadlock",
        a_plain_thread_that_will_send_later_is_not_a_deadlock,
    ),
    (
        "running_blocking_work_is_not_a_deadlock",
        running_blocking_work_is_not_a_deadlock,
    ),
    (
        "busy_workers_are_not_a_deadlock",
        busy_workers_are_not_a_deadlock,
    ),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        // A child: run one case.
        Some("--case") => {
            let (_, case) = CASES
                .iter()
                .find(|(name, _)| Some(*name) == args.get(1).map(String::as_str))
                .expect("unknown case");
            case();
            ExitCode::SUCCESS
        }
        // The client of `an_open_listener_is_not_a_deadlock`.
        Some("--connect-after-300ms") => {
            std::thread::sleep(Duration::from_millis(300));
            let port: u16 = args[1].parse().unwrap();
            std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            ExitCode::SUCCESS
        }
        _ => run_all(&args),
    }
}

/// The parent: each case in a child process, with a timeout. A filter
/// argument (as `cargo test --test deadlock -- NAME`) selects cases.
fn run_all(args: &[String]) -> ExitCode {
    if !cfg!(target_os = "linux") {
        println!("deadlock: the detector works on Linux only; 0 cases run");
        return ExitCode::SUCCESS;
    }
    let filter = args.iter().find(|a| !a.starts_with('-'));
    let cases: Vec<_> = CASES
        .iter()
        .filter(|(name, _)| filter.is_none_or(|f| name.contains(f.as_str())))
        .collect();
    println!("\nrunning {} tests", cases.len());
    let mut failed = Vec::new();
    for (name, _) in &cases {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--case", name])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            let limit = if HANGS.contains(name) {
                HANG_TIMEOUT
            } else {
                CASE_TIMEOUT
            };
            if start.elapsed() > limit {
                let _ = child.kill();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let output = child.wait_with_output().unwrap();
        match status {
            None if HANGS.contains(name) => println!("test {name} ... ok (hung, as it should)"),
            Some(s) if s.success() && !HANGS.contains(name) => println!("test {name} ... ok"),
            other => {
                println!(
                    "test {name} ... FAILED ({})",
                    other.map_or("timed out".to_owned(), |s| s.to_string())
                );
                failed.push(name);
                let _ = std::io::stdout().write_all(&output.stdout);
                let _ = std::io::stdout().write_all(&output.stderr);
            }
        }
    }
    let passed = cases.len() - failed.len();
    println!(
        "\ntest result: {}. {passed} passed; {} failed\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
