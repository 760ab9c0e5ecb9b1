//! The task dump's wait reasons: each gorun primitive a task waits on shows
//! in `gorun::dump()` as Go's goroutine dump would name it, and the task
//! finishes once released.

mod common;

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{runtime, wait_for, wait_for_reason, watchdog, PATIENCE};
use gorun::debug::{TaskState, WaitReason};
use gorun::sync::{ErrGroup, Mutex, Once, RwLock, Semaphore, WaitGroup};
use gorun::time::{Ticker, Timer};
use gorun::{Context, TaskId};

/// A watchdog for one test: generous, since every wait here is bounded.
fn guard(name: &'static str) -> common::Watchdog {
    watchdog(name, Duration::from_secs(60))
}

/// The header line of task `id` in a dump's text.
fn header_of(text: &str, id: TaskId) -> &str {
    let prefix = format!("task {id} [");
    text.lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no line for task {id} in:\n{text}"))
}

/// Asserts `chan` is the location of the `chan()` call on `line` of this
/// file, and that the dump's line for task `id` names it.
fn assert_made_at(chan: &'static Location<'static>, line: u32, text: &str, id: TaskId) {
    assert_eq!(chan.file(), file!());
    assert_eq!(chan.line(), line);
    let header = header_of(text, id);
    assert!(
        header.contains(&format!("chan made at {}:{}:", file!(), line)),
        "{header}"
    );
}

/// Asserts `until` is at or a little after `deadline`, taken just before
/// the timer was made (timer channels keep their deadline to the
/// millisecond, rounded up).
fn assert_close_to(until: Instant, deadline: Instant) {
    assert!(
        until >= deadline && until - deadline <= Duration::from_millis(5),
        "until {until:?}, deadline {deadline:?}"
    );
}

/// Runs `body` on a fresh two-worker runtime.
fn on_runtime<F: Future>(body: F) -> F::Output {
    runtime(2).block_on(body)
}

// ---- channels

#[test]
fn a_receive_shows_chan_receive_and_where_the_chan_was_made() {
    let _w = guard("chan receive");
    on_runtime(async {
        let ((tx, rx), line) = (gorun::chan::<u32>(0), line!());
        let task = gorun::spawn(async move { rx.recv().await });
        let (reason, text) =
            wait_for_reason(task.id(), |r| matches!(r, WaitReason::ChanRecv { .. })).await;
        let WaitReason::ChanRecv { chan } = reason else {
            unreachable!()
        };
        assert_made_at(chan, line, &text, task.id());
        assert!(header_of(&text, task.id()).contains("chan receive"));
        tx.send(7).await.unwrap();
        assert_eq!(task.await.unwrap(), Some(7));
    });
}

#[test]
fn a_send_shows_chan_send_and_where_the_chan_was_made() {
    let _w = guard("chan send");
    on_runtime(async {
        let ((tx, rx), line) = (gorun::chan::<u32>(0), line!());
        let task = gorun::spawn(async move { tx.send(7).await });
        let (reason, text) =
            wait_for_reason(task.id(), |r| matches!(r, WaitReason::ChanSend { .. })).await;
        let WaitReason::ChanSend { chan } = reason else {
            unreachable!()
        };
        assert_made_at(chan, line, &text, task.id());
        assert!(header_of(&text, task.id()).contains("chan send"));
        assert_eq!(rx.recv().await, Some(7));
        task.await.unwrap().unwrap();
    });
}

#[test]
fn a_send_on_a_full_buffered_chan_shows_chan_send() {
    let _w = guard("full chan send");
    on_runtime(async {
        let ((tx, rx), line) = (gorun::chan::<u32>(1), line!());
        tx.send(1).await.unwrap();
        let task = gorun::spawn(async move { tx.send(2).await });
        let (reason, text) =
            wait_for_reason(task.id(), |r| matches!(r, WaitReason::ChanSend { .. })).await;
        let WaitReason::ChanSend { chan } = reason else {
            unreachable!()
        };
        assert_made_at(chan, line, &text, task.id());
        assert_eq!(rx.recv().await, Some(1));
        task.await.unwrap().unwrap();
        assert_eq!(rx.recv().await, Some(2));
    });
}

#[test]
fn a_receiver_polled_as_a_stream_shows_chan_receive() {
    use futures::StreamExt;

    let _w = guard("stream receive");
    on_runtime(async {
        let ((tx, mut rx), line) = (gorun::chan::<u32>(0), line!());
        let task = gorun::spawn(async move { rx.next().await });
        let (reason, text) =
            wait_for_reason(task.id(), |r| matches!(r, WaitReason::ChanRecv { .. })).await;
        let WaitReason::ChanRecv { chan } = reason else {
            unreachable!()
        };
        assert_made_at(chan, line, &text, task.id());
        tx.send(3).await.unwrap();
        assert_eq!(task.await.unwrap(), Some(3));
    });
}

// ---- select

#[test]
fn a_select_macro_shows_select() {
    let _w = guard("select!");
    on_runtime(async {
        let (tx1, rx1) = gorun::chan::<u32>(0);
        let (_tx2, rx2) = gorun::chan::<u32>(0);
        let task = gorun::spawn(async move {
            gorun::select! {
                v = rx1.recv() => v,
                v = rx2.recv() => v,
            }
        });
        let (_, text) = wait_for_reason(task.id(), |r| r == WaitReason::Select).await;
        assert!(header_of(&text, task.id()).contains("[select,"));
        tx1.send(1).await.unwrap();
        assert_eq!(task.await.unwrap(), Some(1));
    });
}

#[test]
fn a_select_with_a_sleep_case_shows_select_not_sleep() {
    let _w = guard("select! with sleep");
    on_runtime(async {
        let (tx, rx) = gorun::chan::<u32>(0);
        let task = gorun::spawn(async move {
            gorun::select! {
                v = rx.recv() => v,
                _ = gorun::sleep(Duration::from_secs(3600)) => None,
            }
        });
        wait_for_reason(task.id(), |r| r == WaitReason::Select).await;
        tx.send(2).await.unwrap();
        assert_eq!(task.await.unwrap(), Some(2));
    });
}

#[test]
fn a_dynamic_select_shows_select() {
    let _w = guard("Select");
    on_runtime(async {
        let (tx, rx) = gorun::chan::<u32>(0);
        let (_tx2, rx2) = gorun::chan::<u32>(0);
        let task = gorun::spawn(async move {
            let mut sel = gorun::Select::new();
            sel.recv(&rx);
            sel.recv(&rx2);
            match sel.select().await {
                (0, gorun::select::Outcome::Received(v)) => v,
                other => panic!("unexpected {other:?}"),
            }
        });
        let (_, text) = wait_for_reason(task.id(), |r| r == WaitReason::Select).await;
        assert!(header_of(&text, task.id()).contains("select"));
        tx.send(4).await.unwrap();
        assert_eq!(task.await.unwrap(), Some(4));
    });
}

// ---- time

#[test]
fn a_sleep_shows_sleep_until_its_deadline() {
    let _w = guard("sleep");
    on_runtime(async {
        // Long enough to be seen waiting even on a loaded machine.
        let deadline = Instant::now() + Duration::from_secs(1);
        let task = gorun::spawn(gorun::sleep_until(deadline));
        let (reason, text) =
            wait_for_reason(task.id(), |r| matches!(r, WaitReason::Sleep { .. })).await;
        let WaitReason::Sleep { until } = reason else {
            unreachable!()
        };
        // The status keeps nanoseconds; allow for rounding.
        assert!(until.max(deadline) - until.min(deadline) < Duration::from_micros(1));
        let header = header_of(&text, task.id());
        assert!(
            header.contains("sleep") && header.contains("fires in"),
            "{header}"
        );
        task.await.unwrap();
        assert!(Instant::now() >= deadline);
    });
}

#[test]
fn a_timeout_around_a_foreign_future_shows_sleep_until_its_deadline() {
    let _w = guard("timeout");
    on_runtime(async {
        let deadline = Instant::now() + Duration::from_secs(1);
        let task = gorun::spawn(gorun::time::timeout_at(
            deadline,
            std::future::pending::<()>(),
        ));
        let (reason, _) =
            wait_for_reason(task.id(), |r| matches!(r, WaitReason::Sleep { .. })).await;
        let WaitReason::Sleep { until } = reason else {
            unreachable!()
        };
        assert!(until.max(deadline) - until.min(deadline) < Duration::from_micros(1));
        assert!(task.await.unwrap().is_err());
    });
}

#[test]
fn a_timeout_around_a_receive_shows_the_receive() {
    let _w = guard("timeout around recv");
    on_runtime(async {
        let ((tx, rx), line) = (gorun::chan::<u32>(0), line!());
        let task =
            gorun::spawn(async move { gorun::timeout(Duration::from_secs(3600), rx.recv()).await });
        let (reason, text) =
            wait_for_reason(task.id(), |r| matches!(r, WaitReason::ChanRecv { .. })).await;
        let WaitReason::ChanRecv { chan } = reason else {
            unreachable!()
        };
        assert_made_at(chan, line, &text, task.id());
        tx.send(5).await.unwrap();
        assert_eq!(task.await.unwrap(), Ok(Some(5)));
    });
}

#[test]
fn a_receive_from_a_timer_shows_sleep_until_it_fires() {
    let _w = guard("Timer");
    on_runtime(async {
        let deadline = Instant::now() + Duration::from_secs(3600);
        let timer = Arc::new(Timer::new(Duration::from_secs(3600)));
        let waiting = timer.clone();
        let task = gorun::spawn(async move { waiting.c().recv().await });
        let (reason, text) =
            wait_for_reason(task.id(), |r| matches!(r, WaitReason::Sleep { .. })).await;
        let WaitReason::Sleep { until } = reason else {
            unreachable!()
        };
        assert_close_to(until, deadline);
        assert!(header_of(&text, task.id()).contains("sleep"));
        timer.reset(Duration::from_millis(1));
        assert!(task.await.unwrap().is_some());
    });
}

#[test]
fn a_receive_from_a_ticker_shows_sleep_until_the_next_tick() {
    let _w = guard("Ticker");
    on_runtime(async {
        // Long enough between ticks to see the task wait for the second.
        const PERIOD: Duration = Duration::from_millis(500);
        let first = Instant::now() + PERIOD;
        let ticker = Ticker::new(PERIOD);
        let task = gorun::spawn(async move {
            ticker.c().recv().await.unwrap();
            ticker.c().recv().await
        });
        // After the first tick, the ticker re-arms for the second, on the
        // original schedule.
        let second = first + PERIOD;
        let (reason, _) = wait_for_reason(
            task.id(),
            |r| matches!(r, WaitReason::Sleep { until } if until >= second),
        )
        .await;
        let WaitReason::Sleep { until } = reason else {
            unreachable!()
        };
        assert_close_to(until, second);
        assert!(task.await.unwrap().is_some());
    });
}

#[test]
fn a_receive_from_after_shows_sleep_until_it_fires() {
    let _w = guard("after");
    on_runtime(async {
        let deadline = Instant::now() + Duration::from_secs(3600);
        let rx = gorun::after(Duration::from_secs(3600));
        let task = gorun::spawn(async move { rx.recv().await });
        let (reason, _) =
            wait_for_reason(task.id(), |r| matches!(r, WaitReason::Sleep { .. })).await;
        let WaitReason::Sleep { until } = reason else {
            unreachable!()
        };
        assert_close_to(until, deadline);
        // Nothing else can release it within the test.
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn a_receive_from_a_stopped_timer_shows_a_receive_on_the_chan_made_by_timer_new() {
    let _w = guard("stopped Timer");
    on_runtime(async {
        let (timer, line) = (Arc::new(Timer::new(Duration::from_secs(3600))), line!());
        assert!(timer.stop());
        let waiting = timer.clone();
        let task = gorun::spawn(async move { waiting.c().recv().await });
        let (reason, text) =
            wait_for_reason(task.id(), |r| matches!(r, WaitReason::ChanRecv { .. })).await;
        let WaitReason::ChanRecv { chan } = reason else {
            unreachable!()
        };
        assert_made_at(chan, line, &text, task.id());
        timer.reset(Duration::from_millis(1));
        assert!(task.await.unwrap().is_some());
    });
}

// ---- I/O

#[test]
fn a_read_on_a_socket_shows_io_wait() {
    use futures::{AsyncReadExt, AsyncWriteExt};

    let _w = guard("read");
    on_runtime(async {
        let (mut a, mut b) = gorun::net::UnixStream::pair().unwrap();
        let task = gorun::spawn(async move {
            let mut buf = [0; 4];
            let n = a.read(&mut buf).await.unwrap();
            buf[..n].to_vec()
        });
        let (_, text) = wait_for_reason(task.id(), |r| r == WaitReason::Io).await;
        assert!(header_of(&text, task.id()).contains("IO wait"));
        b.write_all(b"hi").await.unwrap();
        assert_eq!(task.await.unwrap(), b"hi");
    });
}

#[test]
fn an_accept_shows_io_wait() {
    let _w = guard("accept");
    on_runtime(async {
        let listener = gorun::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = gorun::spawn(async move { listener.accept().await.map(|(_, peer)| peer) });
        wait_for_reason(task.id(), |r| r == WaitReason::Io).await;
        let stream = gorun::net::TcpStream::connect(addr).await.unwrap();
        assert_eq!(task.await.unwrap().unwrap(), stream.local_addr().unwrap());
    });
}

// ---- sync

#[test]
fn a_wait_group_wait_shows_sync_wait_group_wait() {
    let _w = guard("WaitGroup");
    on_runtime(async {
        let wg = WaitGroup::new();
        wg.add(1);
        let waiting = wg.clone();
        let task = gorun::spawn(async move { waiting.wait().await });
        let (_, text) = wait_for_reason(task.id(), |r| r == WaitReason::WaitGroup).await;
        assert!(header_of(&text, task.id()).contains("sync.WaitGroup.Wait"));
        wg.done();
        task.await.unwrap();
    });
}

#[test]
fn an_err_group_wait_shows_sync_wait_group_wait() {
    let _w = guard("ErrGroup");
    on_runtime(async {
        let (tx, rx) = gorun::chan::<()>(0);
        let group = Arc::new(ErrGroup::<String>::new());
        group.go(async move {
            rx.recv().await;
            Ok(())
        });
        let waiting = group.clone();
        let task = gorun::spawn(async move { waiting.wait().await });
        let (_, text) = wait_for_reason(task.id(), |r| r == WaitReason::WaitGroup).await;
        assert!(header_of(&text, task.id()).contains("sync.WaitGroup.Wait"));
        tx.send(()).await.unwrap();
        assert_eq!(task.await.unwrap(), Ok(()));
    });
}

#[test]
fn a_mutex_lock_shows_sync_mutex_lock() {
    let _w = guard("Mutex");
    on_runtime(async {
        let mutex = Arc::new(Mutex::new(0));
        let guard = mutex.lock().await;
        let locking = mutex.clone();
        let task = gorun::spawn(async move { *locking.lock().await += 1 });
        let (_, text) = wait_for_reason(task.id(), |r| r == WaitReason::Mutex).await;
        assert!(header_of(&text, task.id()).contains("sync.Mutex.Lock"));
        drop(guard);
        task.await.unwrap();
        assert_eq!(*mutex.lock().await, 1);
    });
}

#[test]
fn an_rwlock_read_shows_rwmutex_lock() {
    let _w = guard("RwLock read");
    on_runtime(async {
        let lock = Arc::new(RwLock::new(0));
        let writer = lock.write().await;
        let reading = lock.clone();
        let task = gorun::spawn(async move { *reading.read().await });
        let (_, text) = wait_for_reason(task.id(), |r| r == WaitReason::RwLock).await;
        assert!(header_of(&text, task.id()).contains("sync.RWMutex.Lock"));
        drop(writer);
        assert_eq!(task.await.unwrap(), 0);
    });
}

#[test]
fn an_rwlock_write_shows_rwmutex_lock() {
    let _w = guard("RwLock write");
    on_runtime(async {
        let lock = Arc::new(RwLock::new(0));
        let reader = lock.read().await;
        let writing = lock.clone();
        let task = gorun::spawn(async move { *writing.write().await = 1 });
        let (_, text) = wait_for_reason(task.id(), |r| r == WaitReason::RwLock).await;
        assert!(header_of(&text, task.id()).contains("sync.RWMutex.Lock"));
        drop(reader);
        task.await.unwrap();
        assert_eq!(*lock.read().await, 1);
    });
}

#[test]
fn a_semaphore_acquire_shows_semacquire() {
    let _w = guard("Semaphore");
    on_runtime(async {
        let sem = Arc::new(Semaphore::new(1));
        sem.acquire(1).await;
        let acquiring = sem.clone();
        let task = gorun::spawn(async move { acquiring.acquire(1).await });
        let (_, text) = wait_for_reason(task.id(), |r| r == WaitReason::Semaphore).await;
        assert!(header_of(&text, task.id()).contains("semacquire"));
        sem.release(1);
        task.await.unwrap();
    });
}

#[test]
fn a_once_waiting_for_another_callers_initializer_shows_sync_once_do() {
    let _w = guard("Once");
    on_runtime(async {
        let once = Arc::new(Once::new());
        let ((tx, rx), line) = (gorun::chan::<()>(0), line!());
        let running = once.clone();
        let initializer = gorun::spawn(async move {
            running
                .call_once(|| async move {
                    rx.recv().await;
                })
                .await
        });
        // The caller running the initializer waits on what it waits on.
        let (reason, text) = wait_for_reason(initializer.id(), |r| {
            matches!(r, WaitReason::ChanRecv { .. })
        })
        .await;
        let WaitReason::ChanRecv { chan } = reason else {
            unreachable!()
        };
        assert_made_at(chan, line, &text, initializer.id());
        let waiting = once.clone();
        let task = gorun::spawn(async move { waiting.call_once(|| async {}).await });
        let (_, text) = wait_for_reason(task.id(), |r| r == WaitReason::Once).await;
        assert!(header_of(&text, task.id()).contains("sync.Once.Do"));
        tx.send(()).await.unwrap();
        initializer.await.unwrap();
        task.await.unwrap();
        assert!(once.is_completed());
    });
}

// ---- context

#[test]
fn waiting_on_ctx_done_shows_context_done() {
    let _w = guard("ctx.done");
    on_runtime(async {
        let (ctx, cancel) = Context::background().with_cancel();
        let task = gorun::spawn(async move { ctx.done().await });
        let (_, text) = wait_for_reason(task.id(), |r| r == WaitReason::Context).await;
        assert!(header_of(&text, task.id()).contains("context done"));
        cancel.cancel();
        task.await.unwrap();
    });
}

#[test]
fn waiting_on_a_background_ctx_done_shows_context_done() {
    let _w = guard("background ctx.done");
    on_runtime(async {
        let task = gorun::spawn(async move { Context::background().done().await });
        wait_for_reason(task.id(), |r| r == WaitReason::Context).await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn ctx_run_around_a_foreign_future_shows_context_done() {
    let _w = guard("ctx.run");
    on_runtime(async {
        let (ctx, cancel) = Context::background().with_cancel();
        let task = gorun::spawn(async move { ctx.run(std::future::pending::<()>()).await });
        wait_for_reason(task.id(), |r| r == WaitReason::Context).await;
        cancel.cancel();
        assert!(task.await.unwrap().is_err());
    });
}

#[test]
fn ctx_run_around_a_receive_shows_the_receive() {
    let _w = guard("ctx.run around recv");
    on_runtime(async {
        let (ctx, _cancel) = Context::background().with_cancel();
        let ((tx, rx), line) = (gorun::chan::<u32>(0), line!());
        let task = gorun::spawn(async move { ctx.run(rx.recv()).await });
        let (reason, text) =
            wait_for_reason(task.id(), |r| matches!(r, WaitReason::ChanRecv { .. })).await;
        let WaitReason::ChanRecv { chan } = reason else {
            unreachable!()
        };
        assert_made_at(chan, line, &text, task.id());
        tx.send(6).await.unwrap();
        assert_eq!(task.await.unwrap(), Ok(Some(6)));
    });
}

// ---- tasks

#[test]
fn awaiting_a_join_handle_shows_join_and_the_awaited_task() {
    let _w = guard("join");
    on_runtime(async {
        let (tx, rx) = gorun::chan::<()>(0);
        let inner = gorun::spawn(async move { rx.recv().await });
        let inner_id = inner.id();
        let task = gorun::spawn(inner);
        let (_, text) =
            wait_for_reason(task.id(), |r| r == WaitReason::Join { task: inner_id }).await;
        assert!(header_of(&text, task.id()).contains(&format!("join task {inner_id}")));
        tx.send(()).await.unwrap();
        assert_eq!(task.await.unwrap().unwrap(), Some(()));
    });
}

#[test]
fn a_task_taking_a_dump_sees_itself_running() {
    let _w = guard("running");
    on_runtime(async {
        let (id_tx, id_rx) = gorun::chan::<TaskId>(1);
        let task = gorun::spawn(async move {
            let me = id_rx.recv().await.unwrap();
            let dump = gorun::dump();
            let state = dump.tasks().iter().find(|t| t.id == me).map(|t| t.state);
            (state, dump.to_string())
        });
        id_tx.send(task.id()).await.unwrap();
        let id = task.id();
        let (state, text) = task.await.unwrap();
        assert_eq!(state, Some(TaskState::Running), "{text}");
        assert!(header_of(&text, id).contains("[running,"));
    });
}

#[test]
fn a_spawn_blocking_task_shows_blocking() {
    let _w = guard("blocking");
    on_runtime(async {
        let (release, released) = std::sync::mpsc::channel::<()>();
        let task = gorun::spawn_blocking(move || released.recv().unwrap());
        let (_, dump) = wait_for(task.id(), |s| s == TaskState::Blocking).await;
        let text = dump.to_string();
        assert!(header_of(&text, task.id()).contains("running on the blocking pool"));
        release.send(()).unwrap();
        task.await.unwrap();
    });
}

#[test]
fn a_task_pending_on_a_foreign_future_shows_other() {
    let _w = guard("other");
    on_runtime(async {
        let task = gorun::spawn(std::future::pending::<()>());
        let (_, text) = wait_for_reason(task.id(), |r| r == WaitReason::Other).await;
        assert!(header_of(&text, task.id()).contains("[waiting,"));
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn a_reason_does_not_outlive_its_wait() {
    let _w = guard("stale reason");
    on_runtime(async {
        let (tx, rx) = gorun::chan::<u32>(0);
        let task = gorun::spawn(async move {
            rx.recv().await;
            std::future::pending::<()>().await
        });
        wait_for_reason(task.id(), |r| matches!(r, WaitReason::ChanRecv { .. })).await;
        tx.send(1).await.unwrap();
        wait_for_reason(task.id(), |r| r == WaitReason::Other).await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    });
}

// ---- block_on roots

#[test]
fn the_block_on_root_is_listed_as_running_while_it_takes_the_dump() {
    let _w = guard("root running");
    let rt = runtime(2);
    let (dump, line) = (rt.block_on(async { gorun::dump() }), line!());
    assert_eq!(dump.roots().len(), 1, "{dump}");
    let root = dump.roots()[0];
    assert_eq!(root.state, TaskState::Running);
    assert_eq!(root.location.file(), file!());
    assert_eq!(root.location.line(), line);
    let text = dump.to_string();
    assert!(
        text.contains(&format!("called at {}:{line}:", file!())),
        "{text}"
    );
    assert!(text.contains("block_on [running,"), "{text}");
}

#[test]
fn a_waiting_block_on_root_shows_what_it_waits_on() {
    let _w = guard("root waiting");
    let rt = runtime(2);
    let ((tx, rx), line) = (gorun::chan::<u32>(0), line!());
    std::thread::scope(|s| {
        let root = s.spawn(|| rt.block_on(rx.recv()));
        let start = Instant::now();
        let chan = loop {
            let dump = rt.dump();
            if let Some(TaskState::Waiting(WaitReason::ChanRecv { chan })) =
                dump.roots().first().map(|r| r.state)
            {
                assert!(
                    dump.to_string().contains("block_on [chan receive"),
                    "{dump}"
                );
                break chan;
            }
            assert!(start.elapsed() < PATIENCE, "the root never waited:\n{dump}");
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!((chan.file(), chan.line()), (file!(), line));
        tx.send_blocking(9).unwrap();
        assert_eq!(root.join().unwrap(), Some(9));
    });
    assert!(rt.dump().roots().is_empty());
}
