#![recursion_limit = "256"]
//! `select!`: syntax, `default`, guards, closed channels, evaluation
//! order, and bodies with control flow.

mod common;

use std::cell::{Cell, RefCell};
use std::time::Duration;

use common::{runtime, watchdog};
use gorun::SendError;

#[test]
fn default_runs_when_nothing_is_ready() {
    runtime(2).block_on(async {
        let (_tx, rx) = gorun::chan::<u32>(0);
        let got = gorun::select! {
            v = rx.recv() => v,
            default => Some(99),
        };
        assert_eq!(got, Some(99));
    });
}

#[test]
fn default_is_skipped_when_a_case_is_ready() {
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan::<u32>(1);
        tx.send(5).await.unwrap();
        let got = gorun::select! {
            v = rx.recv() => v,
            default => None,
        };
        assert_eq!(got, Some(5));
    });
}

#[test]
fn default_commits_no_send_on_an_unbuffered_channel() {
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan::<u32>(0);
        let sent = gorun::select! {
            r = tx.send(1) => r.is_ok(),
            default => false,
        };
        assert!(!sent);
        assert_eq!(rx.try_recv(), Err(gorun::TryRecvError::Empty));
    });
}

#[test]
fn disabled_case_is_never_chosen_but_evaluated_once() {
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan::<u32>(1);
        let (tx2, rx2) = gorun::chan::<u32>(1);
        let evaluated = Cell::new(0);
        for _ in 0..100 {
            tx.try_send(1).ok();
            tx2.try_send(2).ok();
            let got = gorun::select! {
                v = { evaluated.set(evaluated.get() + 1); rx.recv() }, if false => v,
                v = rx2.recv() => v,
            };
            assert_eq!(got, Some(2));
        }
        assert_eq!(evaluated.get(), 100);
        assert_eq!(rx.try_recv(), Ok(1), "the disabled case took nothing");
    });
}

#[test]
fn case_expressions_are_evaluated_once_in_source_order() {
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan::<u32>(1);
        let order = RefCell::new(Vec::new());
        tx.send(1).await.unwrap();
        let _ = gorun::select! {
            v = { order.borrow_mut().push(0); rx.recv() } => v,
            r = { order.borrow_mut().push(1); tx.send({ order.borrow_mut().push(2); 7 }) },
                if { order.borrow_mut().push(3); false } => r.ok().map(|_| 0),
            _ = { order.borrow_mut().push(4); gorun::sleep(Duration::from_secs(1)) } => None,
        };
        assert_eq!(*order.borrow(), [0, 1, 2, 3, 4]);
    });
}

#[test]
fn closed_channel_wakes_a_waiting_select_with_none() {
    let _w = watchdog(
        "closed_channel_wakes_a_waiting_select",
        Duration::from_secs(10),
    );
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan::<u32>(0);
        let (_tx2, rx2) = gorun::chan::<u32>(0);
        let closer = gorun::spawn(async move {
            gorun::sleep(Duration::from_millis(20)).await;
            drop(tx);
        });
        let got = gorun::select! {
            v = rx.recv() => ("rx", v),
            v = rx2.recv() => ("rx2", v),
        };
        assert_eq!(got, ("rx", None));
        closer.await.unwrap();
    });
}

#[test]
fn closed_channel_is_always_ready() {
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan::<u32>(0);
        drop(tx);
        for _ in 0..10 {
            let got = gorun::select! {
                v = rx.recv() => v,
                default => Some(1),
            };
            assert_eq!(got, None);
        }
    });
}

#[test]
fn send_case_gets_its_value_back_on_closed_channel() {
    let _w = watchdog("send_case_gets_its_value_back", Duration::from_secs(10));
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan::<String>(0);
        let (_tx2, rx2) = gorun::chan::<u32>(0);
        let closer = gorun::spawn(async move {
            gorun::sleep(Duration::from_millis(20)).await;
            drop(rx);
        });
        let got = gorun::select! {
            r = tx.send("hello".to_string()) => r,
            _ = rx2.recv() => Ok(()),
        };
        assert_eq!(got, Err(SendError("hello".to_string())));
        closer.await.unwrap();
    });
}

#[test]
fn select_driven_loop_breaks_and_continues() {
    let _w = watchdog("select_driven_loop", Duration::from_secs(10));
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan::<u32>(0);
        let (quit_tx, quit_rx) = gorun::chan::<()>(0);
        gorun::spawn(async move {
            for i in 0..10 {
                tx.send(i).await.unwrap();
            }
            quit_tx.send(()).await.unwrap();
        });
        let mut sum = 0;
        let mut odd_skipped = 0;
        loop {
            gorun::select! {
                v = rx.recv() => {
                    let v = v.unwrap();
                    if v % 2 == 1 {
                        odd_skipped += 1;
                        continue;
                    }
                    sum += v;
                }
                _ = quit_rx.recv() => break,
            }
        }
        assert_eq!((sum, odd_skipped), (20, 5));
    });
}

#[test]
fn select_inside_a_select_body() {
    let _w = watchdog("select_inside_a_select_body", Duration::from_secs(10));
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan::<u32>(1);
        let (tx2, rx2) = gorun::chan::<u32>(1);
        tx.send(1).await.unwrap();
        let got = gorun::select! {
            v = rx.recv() => {
                tx2.send(v.unwrap() + 1).await.unwrap();
                gorun::select! {
                    w = rx2.recv() => w,
                    _ = gorun::sleep(Duration::from_secs(5)) => None,
                }
            }
        };
        assert_eq!(got, Some(2));
    });
}

#[test]
fn question_mark_and_return_leave_the_caller() {
    async fn first(rx: &gorun::Receiver<Result<u32, String>>) -> Result<u32, String> {
        let v = gorun::select! {
            v = rx.recv() => v.ok_or("closed")??,
        };
        if v == 0 {
            return Ok(100);
        }
        gorun::select! {
            _ = gorun::sleep(Duration::from_millis(1)) => {
                if v > 1 {
                    return Ok(v * 2);
                }
            }
        }
        Ok(v)
    }
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan(3);
        tx.send(Err("bad".to_string())).await.unwrap();
        tx.send(Ok(0)).await.unwrap();
        tx.send(Ok(4)).await.unwrap();
        assert_eq!(first(&rx).await, Err("bad".to_string()));
        assert_eq!(first(&rx).await, Ok(100));
        assert_eq!(first(&rx).await, Ok(8));
        drop(tx);
        assert_eq!(first(&rx).await, Err("closed".to_string()));
    });
}

#[test]
fn after_temporary_lives_through_the_select() {
    let _w = watchdog("after_temporary", Duration::from_secs(10));
    runtime(2).block_on(async {
        let (_tx, rx) = gorun::chan::<u32>(0);
        let got = gorun::select! {
            v = rx.recv() => v.map(|_| "value"),
            t = gorun::after(Duration::from_millis(10)).recv() => t.map(|_| "timeout"),
        };
        assert_eq!(got, Some("timeout"));
    });
}

#[test]
fn context_done_is_a_case() {
    let _w = watchdog("context_done_is_a_case", Duration::from_secs(10));
    runtime(2).block_on(async {
        let (ctx, cancel) = gorun::Context::background().with_cancel();
        let (_tx, rx) = gorun::chan::<u32>(0);
        gorun::spawn(async move {
            gorun::sleep(Duration::from_millis(10)).await;
            cancel.cancel();
        });
        let got = gorun::select! {
            _ = rx.recv() => "value",
            _ = ctx.done() => "done",
        };
        assert_eq!(got, "done");
    });
}

#[test]
fn all_cases_disabled_blocks_forever() {
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan::<u32>(1);
        tx.send(1).await.unwrap();
        let blocked = gorun::timeout(Duration::from_millis(30), async {
            gorun::select! {
                v = rx.recv(), if false => v,
            }
        })
        .await;
        assert!(blocked.is_err());
        let empty = gorun::timeout(Duration::from_millis(10), async {
            let () = gorun::select! {};
        })
        .await;
        assert!(empty.is_err());
        assert_eq!(rx.try_recv(), Ok(1), "the disabled case took nothing");
    });
}

#[test]
fn body_may_await() {
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan::<u32>(1);
        tx.send(3).await.unwrap();
        let got = gorun::select! {
            v = rx.recv() => {
                gorun::yield_now().await;
                tx.send(v.unwrap() + 1).await.unwrap();
                rx.recv().await
            }
        };
        assert_eq!(got, Some(4));
    });
}

#[test]
fn dropped_pending_select_loses_no_value() {
    let _w = watchdog(
        "dropped_pending_select_loses_no_value",
        Duration::from_secs(10),
    );
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan::<u32>(0);
        let (_tx2, rx2) = gorun::chan::<u32>(0);
        let timed_out = gorun::timeout(Duration::from_millis(10), async {
            gorun::select! {
                v = rx.recv() => v,
                v = rx2.recv() => v,
            }
        })
        .await;
        assert!(timed_out.is_err());
        // The dropped select is no longer a receiver.
        assert!(tx.try_send(1).is_err());
    });
}

#[test]
fn select_future_is_send() {
    fn assert_send<F: std::future::Future + Send>(_: F) {}
    let (tx, rx) = gorun::chan::<u32>(0);
    assert_send(async move {
        gorun::select! {
            v = rx.recv() => v,
            r = tx.send(1) => r.ok().map(|_| 0),
            _ = gorun::sleep(Duration::from_millis(1)) => None,
        }
    });
}

#[test]
fn always_ready_select_loop_yields_to_other_tasks() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let _w = watchdog("always_ready_select_loop_yields", Duration::from_secs(10));
    gorun::Runtime::builder()
        .workers(1)
        .build()
        .unwrap()
        .block_on(async {
            let (tx, rx) = gorun::chan::<u32>(0);
            drop(tx); // closed: always ready
            let flag = Arc::new(AtomicBool::new(false));
            let spinner = {
                let flag = flag.clone();
                gorun::spawn(async move {
                    // Without the budget this loop would never give the
                    // single worker to the setter below.
                    while !flag.load(Ordering::SeqCst) {
                        gorun::select! {
                            _ = rx.recv() => {}
                        }
                    }
                })
            };
            let setter = gorun::spawn(async move { flag.store(true, Ordering::SeqCst) });
            setter.await.unwrap();
            spinner.await.unwrap();
        });
}

#[test]
fn sixty_four_cases_with_a_raised_recursion_limit() {
    runtime(2).block_on(async {
        let (tx, rx) = gorun::chan::<u32>(1);
        tx.send(1).await.unwrap();
        let last = 63;
        let got = gorun::select! {
            v = rx.recv(), if 0 == last => (0, v),
            v = rx.recv(), if 1 == last => (1, v),
            v = rx.recv(), if 2 == last => (2, v),
            v = rx.recv(), if 3 == last => (3, v),
            v = rx.recv(), if 4 == last => (4, v),
            v = rx.recv(), if 5 == last => (5, v),
            v = rx.recv(), if 6 == last => (6, v),
            v = rx.recv(), if 7 == last => (7, v),
            v = rx.recv(), if 8 == last => (8, v),
            v = rx.recv(), if 9 == last => (9, v),
            v = rx.recv(), if 10 == last => (10, v),
            v = rx.recv(), if 11 == last => (11, v),
            v = rx.recv(), if 12 == last => (12, v),
            v = rx.recv(), if 13 == last => (13, v),
            v = rx.recv(), if 14 == last => (14, v),
            v = rx.recv(), if 15 == last => (15, v),
            v = rx.recv(), if 16 == last => (16, v),
            v = rx.recv(), if 17 == last => (17, v),
            v = rx.recv(), if 18 == last => (18, v),
            v = rx.recv(), if 19 == last => (19, v),
            v = rx.recv(), if 20 == last => (20, v),
            v = rx.recv(), if 21 == last => (21, v),
            v = rx.recv(), if 22 == last => (22, v),
            v = rx.recv(), if 23 == last => (23, v),
            v = rx.recv(), if 24 == last => (24, v),
            v = rx.recv(), if 25 == last => (25, v),
            v = rx.recv(), if 26 == last => (26, v),
            v = rx.recv(), if 27 == last => (27, v),
            v = rx.recv(), if 28 == last => (28, v),
            v = rx.recv(), if 29 == last => (29, v),
            v = rx.recv(), if 30 == last => (30, v),
            v = rx.recv(), if 31 == last => (31, v),
            v = rx.recv(), if 32 == last => (32, v),
            v = rx.recv(), if 33 == last => (33, v),
            v = rx.recv(), if 34 == last => (34, v),
            v = rx.recv(), if 35 == last => (35, v),
            v = rx.recv(), if 36 == last => (36, v),
            v = rx.recv(), if 37 == last => (37, v),
            v = rx.recv(), if 38 == last => (38, v),
            v = rx.recv(), if 39 == last => (39, v),
            v = rx.recv(), if 40 == last => (40, v),
            v = rx.recv(), if 41 == last => (41, v),
            v = rx.recv(), if 42 == last => (42, v),
            v = rx.recv(), if 43 == last => (43, v),
            v = rx.recv(), if 44 == last => (44, v),
            v = rx.recv(), if 45 == last => (45, v),
            v = rx.recv(), if 46 == last => (46, v),
            v = rx.recv(), if 47 == last => (47, v),
            v = rx.recv(), if 48 == last => (48, v),
            v = rx.recv(), if 49 == last => (49, v),
            v = rx.recv(), if 50 == last => (50, v),
            v = rx.recv(), if 51 == last => (51, v),
            v = rx.recv(), if 52 == last => (52, v),
            v = rx.recv(), if 53 == last => (53, v),
            v = rx.recv(), if 54 == last => (54, v),
            v = rx.recv(), if 55 == last => (55, v),
            v = rx.recv(), if 56 == last => (56, v),
            v = rx.recv(), if 57 == last => (57, v),
            v = rx.recv(), if 58 == last => (58, v),
            v = rx.recv(), if 59 == last => (59, v),
            v = rx.recv(), if 60 == last => (60, v),
            v = rx.recv(), if 61 == last => (61, v),
            v = rx.recv(), if 62 == last => (62, v),
            v = rx.recv(), if 63 == last => (63, v),
        };
        assert_eq!(got, (63, Some(1)));
    });
}

#[test]
fn future_case_completing_with_a_committed_receive_wins_and_loses_nothing() {
    use std::future::Future;
    use std::task::{Context, Poll};
    let (tx, rx) = gorun::chan::<u32>(0);
    let mut polls = 0;
    // A future case that, on its second poll, commits the select's receive
    // case itself (a counterpart racing it) and completes too.
    let racer = std::future::poll_fn(|_| {
        polls += 1;
        if polls == 1 {
            return Poll::Pending;
        }
        tx.try_send(5).unwrap();
        Poll::Ready("future")
    });
    let mut sel = Box::pin(async {
        gorun::select! {
            v = rx.recv() => v.map(|_| "receive"),
            f = racer => Some(f),
        }
    });
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    assert!(sel.as_mut().poll(&mut cx).is_pending());
    assert_eq!(sel.as_mut().poll(&mut cx), Poll::Ready(Some("future")));
    drop(sel);
    assert_eq!(rx.try_recv(), Ok(5), "the received value went back");
}
