//! Timer channels: `after`, `Timer`, `Ticker`, with Go 1.23 semantics.

mod common;

use std::time::{Duration, Instant};

use common::{runtime, watchdog};
use gorun::time::{Ticker, Timer};

#[test]
fn after_delivers_once_and_then_closes() {
    let rt = runtime(2);
    rt.block_on(async {
        let start = Instant::now();
        let rx = gorun::after(Duration::from_millis(10));
        let fired = rx.recv().await.unwrap();
        assert!(fired >= start + Duration::from_millis(10));
        assert_eq!(
            rx.recv().await,
            None,
            "after closes its channel once it fired"
        );
    });
}

#[test]
fn a_timer_delivers_the_instant_it_fired() {
    let rt = runtime(1);
    rt.block_on(async {
        let start = Instant::now();
        let timer = Timer::new(Duration::from_millis(10));
        let fired = timer.c().recv().await.unwrap();
        assert!(fired >= start + Duration::from_millis(10));
    });
}

#[test]
fn stopping_a_timer_before_it_fires_returns_true_and_delivers_nothing() {
    let rt = runtime(1);
    rt.block_on(async {
        let timer = Timer::new(Duration::from_millis(5));
        assert!(timer.stop());
        gorun::sleep(Duration::from_millis(20)).await;
        assert!(timer.c().try_recv().is_err());
        assert!(!timer.stop(), "a second stop finds nothing to stop");
    });
}

#[test]
fn a_fired_but_unreceived_value_counts_as_pending_and_is_withdrawn_by_stop() {
    let rt = runtime(1);
    rt.block_on(async {
        let timer = Timer::new(Duration::from_millis(1));
        gorun::sleep(Duration::from_millis(10)).await;
        assert!(timer.stop());
        assert!(timer.c().try_recv().is_err(), "a stale value survived stop");
    });
}

#[test]
fn stop_after_the_value_was_received_returns_false() {
    let rt = runtime(1);
    rt.block_on(async {
        let timer = Timer::new(Duration::from_millis(1));
        timer.c().recv().await.unwrap();
        assert!(!timer.stop());
    });
}

#[test]
fn reset_discards_the_old_setting_and_fires_on_the_new_one() {
    let rt = runtime(1);
    rt.block_on(async {
        let timer = Timer::new(Duration::from_millis(1));
        gorun::sleep(Duration::from_millis(10)).await;
        // Fired, not received: reset withdraws it and reports it pending.
        let reset_at = Instant::now();
        assert!(timer.reset(Duration::from_millis(10)));
        let fired = timer.c().recv().await.unwrap();
        assert!(
            fired >= reset_at + Duration::from_millis(10),
            "received the stale value"
        );
    });
}

#[test]
fn a_timer_racing_with_stop_never_leaves_a_stale_value() {
    let _w = watchdog("timer stop race", Duration::from_secs(60));
    let rt = runtime(2);
    rt.block_on(async {
        for i in 0..300u64 {
            let timer = Timer::new(Duration::from_micros(i % 50));
            if i % 2 == 0 {
                gorun::yield_now().await;
            }
            timer.stop();
            assert!(
                timer.c().try_recv().is_err(),
                "stale value after stop at {i}"
            );
            gorun::sleep(Duration::from_micros(100)).await;
            assert!(
                timer.c().try_recv().is_err(),
                "a value arrived after stop at {i}"
            );
        }
    });
}

#[test]
fn a_ticker_ticks_repeatedly() {
    let rt = runtime(1);
    rt.block_on(async {
        let start = Instant::now();
        let ticker = Ticker::new(Duration::from_millis(2));
        for _ in 0..5 {
            ticker.c().recv().await.unwrap();
        }
        assert!(start.elapsed() >= Duration::from_millis(10));
    });
}

#[test]
fn a_ticker_drops_ticks_for_a_slow_receiver() {
    let rt = runtime(1);
    rt.block_on(async {
        let ticker = Ticker::new(Duration::from_millis(1));
        gorun::sleep(Duration::from_millis(30)).await;
        // About 30 ticks came due; the channel holds at most one.
        assert!(ticker.c().try_recv().is_ok());
        assert!(ticker.c().try_recv().is_err());
    });
}

#[test]
fn a_stopped_ticker_delivers_nothing_more() {
    let rt = runtime(1);
    rt.block_on(async {
        let ticker = Ticker::new(Duration::from_millis(1));
        ticker.c().recv().await.unwrap();
        ticker.stop();
        gorun::sleep(Duration::from_millis(10)).await;
        assert!(ticker.c().try_recv().is_err());
    });
}

#[test]
fn ticker_reset_changes_the_period() {
    let rt = runtime(1);
    rt.block_on(async {
        let ticker = Ticker::new(Duration::from_secs(3600));
        ticker.reset(Duration::from_millis(1));
        ticker.c().recv().await.unwrap();
        ticker.c().recv().await.unwrap();
    });
}

#[test]
#[should_panic(expected = "period must be positive")]
fn a_zero_ticker_period_panics() {
    let _ = Ticker::new(Duration::ZERO);
}
