//! Go's classic channel programs, rewritten for gorun: each test names the
//! Go program it follows (`test/chan/*.go` in the Go tree, or the talk it
//! comes from).

use gorun::{chan, Receiver, Sender};

/// `test/chan/sieve1.go`: the concurrent prime sieve. A generator feeds the
/// integers into a daisy chain of filters on unbuffered channels; each
/// prime that reaches the end of the chain adds a filter for its multiples.
mod sieve {
    use super::*;

    async fn generate(tx: Sender<u32>) {
        for i in 2.. {
            if tx.send(i).await.is_err() {
                return; // the sieve is done and dropped its end
            }
        }
    }

    async fn filter(rx: Receiver<u32>, tx: Sender<u32>, prime: u32) {
        while let Some(i) = rx.recv().await {
            if i % prime != 0 && tx.send(i).await.is_err() {
                return;
            }
        }
    }

    async fn first_primes(n: usize) -> Vec<u32> {
        let (tx, mut rx) = chan::<u32>(0);
        gorun::spawn(generate(tx));
        let mut primes = Vec::with_capacity(n);
        for _ in 0..n {
            let prime = rx.recv().await.unwrap();
            primes.push(prime);
            let (tx, next) = chan::<u32>(0);
            gorun::spawn(filter(rx, tx, prime));
            rx = next;
        }
        primes
    }

    #[test]
    fn first_hundred_primes() {
        let primes = gorun::run(first_primes(100));
        let want: Vec<u32> = (2..)
            .filter(|n| (2..*n).take_while(|d| d * d <= *n).all(|d| n % d != 0))
            .take(100)
            .collect();
        assert_eq!(primes, want);
        assert_eq!(primes[99], 541);
    }
}

/// Rob Pike's "Chinese whispers" (Go Concurrency Patterns, 2012): 100,000
/// tasks in a daisy chain, each passing on one more than it received.
mod whispers {
    use super::*;

    const N: u32 = 100_000;

    #[test]
    fn hundred_thousand_tasks_in_a_daisy_chain() {
        let got = gorun::run(async {
            let (leftmost_tx, leftmost_rx) = chan::<u32>(0);
            // `left` is the channel the next task to the right writes to.
            let mut left = leftmost_tx;
            for _ in 0..N {
                let (right, from_right) = chan::<u32>(0);
                let to_left = left;
                gorun::spawn(async move {
                    let v = from_right.recv().await.unwrap();
                    to_left.send(v + 1).await.unwrap();
                });
                left = right;
            }
            left.send(1).await.unwrap(); // whisper to the rightmost task
            leftmost_rx.recv().await.unwrap()
        });
        assert_eq!(got, N + 1);
    }
}

/// `test/chan/fifo.go`: values sent by one sender through a chain of
/// channels arrive in order, buffered and unbuffered alike.
mod fifo {
    use super::*;

    #[test]
    fn buffered_channel_is_first_in_first_out() {
        gorun::run(async {
            let (tx, rx) = chan::<u32>(10);
            for i in 0..10 {
                tx.send(i).await.unwrap();
            }
            for i in 0..10 {
                assert_eq!(rx.recv().await, Some(i));
            }
        });
    }

    #[test]
    fn chain_of_unbuffered_hand_offs_keeps_order() {
        const N: u32 = 300;
        gorun::run(async {
            // Task i waits for its turn on `turn_in`, sends i, then passes
            // the turn on: the receiver must see 0, 1, 2, ... in order.
            let (values_tx, values_rx) = chan::<u32>(0);
            let (first_turn_tx, mut turn_rx) = chan::<()>(0);
            for i in 0..N {
                let (next_tx, next_rx) = chan::<()>(0);
                let (values_tx, turn_in, turn_out) = (values_tx.clone(), turn_rx, next_tx);
                gorun::spawn(async move {
                    turn_in.recv().await.unwrap();
                    values_tx.send(i).await.unwrap();
                    let _ = turn_out.send(()).await;
                });
                turn_rx = next_rx;
            }
            drop(values_tx);
            first_turn_tx.send(()).await.unwrap();
            for i in 0..N {
                assert_eq!(values_rx.recv().await, Some(i));
            }
            assert_eq!(turn_rx.recv().await, Some(()));
            assert_eq!(values_rx.recv().await, None);
        });
    }
}

/// `test/chan/zerosize.go`: channels of zero-sized values work like any
/// other.
mod zerosize {
    use super::*;

    #[test]
    fn channels_of_unit_values() {
        gorun::run(async {
            for cap in [0, 1, 128] {
                let (tx, rx) = chan::<()>(cap);
                let producer = gorun::spawn(async move {
                    for _ in 0..1000 {
                        tx.send(()).await.unwrap();
                    }
                });
                let mut n = 0;
                while rx.recv().await.is_some() {
                    n += 1;
                }
                producer.await.unwrap();
                assert_eq!(n, 1000);
            }
        });
    }
}
