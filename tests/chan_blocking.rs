//! The blocking forms, `send_blocking` and `recv_blocking`, for plain
//! threads; and their interplay with tasks.

use std::thread;
use std::time::Duration;

use gorun::{chan, SendError};

#[test]
fn blocking_send_waits_for_a_blocking_receiver() {
    let (tx, rx) = chan::<u32>(0);
    let t = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        rx.recv_blocking()
    });
    tx.send_blocking(1).unwrap();
    assert_eq!(t.join().unwrap(), Some(1));
}

#[test]
fn blocking_receive_waits_for_a_blocking_sender() {
    let (tx, rx) = chan::<u32>(2);
    let t = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        tx.send_blocking(2)
    });
    assert_eq!(rx.recv_blocking(), Some(2));
    t.join().unwrap().unwrap();
}

#[test]
fn blocking_receive_drains_then_sees_close() {
    let (tx, rx) = chan::<u32>(2);
    tx.send_blocking(1).unwrap();
    tx.send_blocking(2).unwrap();
    drop(tx);
    assert_eq!(rx.recv_blocking(), Some(1));
    assert_eq!(rx.recv_blocking(), Some(2));
    assert_eq!(rx.recv_blocking(), None);
}

#[test]
fn blocking_send_fails_when_the_last_receiver_drops() {
    let (tx, rx) = chan::<u32>(0);
    let t = thread::spawn(move || tx.send_blocking(3));
    thread::sleep(Duration::from_millis(20));
    drop(rx);
    assert_eq!(t.join().unwrap(), Err(SendError(3)));
}

#[test]
fn thread_feeds_a_task_and_a_task_feeds_a_thread() {
    let (to_task, from_thread) = chan::<u64>(0);
    let (to_thread, from_task) = chan::<u64>(0);
    let feeder = thread::spawn(move || {
        for i in 0..1000 {
            to_task.send_blocking(i).unwrap();
        }
    });
    let reader = thread::spawn(move || {
        let mut sum = 0;
        while let Some(v) = from_task.recv_blocking() {
            sum += v;
        }
        sum
    });
    gorun::run(async move {
        while let Some(v) = from_thread.recv().await {
            to_thread.send(v * 2).await.unwrap();
        }
    });
    feeder.join().unwrap();
    assert_eq!(reader.join().unwrap(), 2 * (999 * 1000 / 2));
}
