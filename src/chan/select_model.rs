//! A minimal select built only from the hooks `select!` uses (through
//! `select::engine`), to check that they suffice and that the protocol in the module
//! essay holds: exactly one case commits, nothing is lost or duplicated,
//! also when two selects meet on the same channels. Tests only; run its
//! loom models with
//! `RUSTFLAGS="--cfg loom" cargo test --release --lib chan::select_model`.

use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use super::channel::Channel;
use super::error::{SendError, TryRecvError, TrySendError};
use super::waiter::{Selected, Token, Waiter};

/// What a case does.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Dir {
    Send,
    Recv,
}

/// What the committed case produced.
#[derive(Debug, PartialEq)]
enum Outcome<T> {
    Sent(Result<(), SendError<T>>),
    Received(Option<T>),
}

/// A select over cases on channels of one `T`.
struct Select<'a, T> {
    /// Each case's direction and channel.
    cases: Vec<(Dir, &'a Channel<T>)>,
    /// One waiter per case; a send case's waiter holds its value. The Vec
    /// is never resized, so the waiters never move.
    waiters: Vec<Waiter<T>>,
    /// The commit point shared by the waiters.
    token: Token,
    /// Whether the waiters are (or may be) linked: step 2 ran and step 5
    /// has not.
    registered: bool,
    /// The token and waiters are pointed to while registered.
    _pin: PhantomPinned,
}

impl<'a, T> Select<'a, T> {
    fn new(mut cases: Vec<(Dir, &'a Channel<T>, Option<T>)>) -> Pin<Box<Self>> {
        let waiters = cases.iter_mut().map(|c| Waiter::new(c.2.take())).collect();
        Box::pin(Select {
            cases: cases.into_iter().map(|(d, c, _)| (d, c)).collect(),
            waiters,
            token: Token::new(),
            registered: false,
            _pin: PhantomPinned,
        })
    }

    /// Step 1: try each case now (in order; `select!` randomises).
    fn try_now(&self) -> Option<(usize, Outcome<T>)> {
        for (i, &(dir, chan)) in self.cases.iter().enumerate() {
            let waiter = &self.waiters[i];
            match dir {
                Dir::Recv => match chan.try_recv() {
                    Ok(v) => return Some((i, Outcome::Received(Some(v)))),
                    Err(TryRecvError::Closed) => return Some((i, Outcome::Received(None))),
                    Err(TryRecvError::Empty) => {}
                },
                Dir::Send => {
                    // SAFETY: the waiter is ours and not linked.
                    let v = unsafe { waiter.take_value() }.expect("send case holds its value");
                    match chan.try_send(v) {
                        Ok(()) => return Some((i, Outcome::Sent(Ok(())))),
                        Err(TrySendError::Closed(v)) => {
                            return Some((i, Outcome::Sent(Err(SendError(v)))))
                        }
                        // SAFETY: as above.
                        Err(TrySendError::Full(v)) => unsafe { waiter.put_value(v) },
                    }
                }
            }
        }
        None
    }

    /// Unregisters every waiter (step 5's first half, and the retry path).
    fn unregister_all(&self) {
        for (i, &(dir, chan)) in self.cases.iter().enumerate() {
            // SAFETY: pinned: the Vec is never resized and `Select` is
            // pinned.
            let waiter = unsafe { Pin::new_unchecked(&self.waiters[i]) };
            match dir {
                Dir::Send => chan.unregister_send(waiter),
                Dir::Recv => chan.unregister_recv(waiter),
            };
        }
    }

    /// Step 5: takes the committed case's outcome.
    fn finish(&self, sel: Selected) -> (usize, Outcome<T>) {
        self.unregister_all();
        let case = sel.case as usize;
        let waiter = &self.waiters[case];
        // SAFETY: every waiter is unlinked and the token's `Acquire`
        // ordered the counterpart's write before this.
        let value = unsafe { waiter.take_value() };
        let outcome = match self.cases[case].0 {
            Dir::Recv => Outcome::Received(if sel.closed { None } else { value }),
            Dir::Send if sel.closed => Outcome::Sent(Err(SendError(value.expect("kept")))),
            Dir::Send => Outcome::Sent(Ok(())),
        };
        (case, outcome)
    }
}

impl<T> Future for Select<'_, T> {
    type Output = (usize, Outcome<T>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: nothing is moved out of the pinned select.
        let this = unsafe { self.get_unchecked_mut() };
        if this.registered {
            return match this.token.selected() {
                Some(sel) => {
                    this.registered = false;
                    Poll::Ready(this.finish(sel))
                }
                // A spurious wake-up: the same waker stays registered
                // (select! refreshes each waiter's waker here).
                None => Poll::Pending,
            };
        }
        loop {
            if let Some(done) = this.try_now() {
                return Poll::Ready(done);
            }
            let token = NonNull::from(&this.token);
            let mut refused = false;
            this.registered = true;
            for (i, &(dir, chan)) in this.cases.iter().enumerate() {
                // SAFETY: pinned, as in `unregister_all`; the waiter and the
                // token stay put until `unregister_all` runs (in `finish`,
                // below, or in `Drop`).
                let waiter = unsafe { Pin::new_unchecked(&this.waiters[i]) };
                // SAFETY: as above.
                let linked = unsafe {
                    match dir {
                        Dir::Send => chan.register_send(waiter, token, i as u32, cx.waker()),
                        Dir::Recv => chan.register_recv(waiter, token, i as u32, cx.waker()),
                    }
                };
                if !linked {
                    refused = true;
                    break;
                }
            }
            if !refused {
                return Poll::Pending;
            }
            // Step 3: withdraw, or learn that a case committed meanwhile.
            match this.token.try_abort() {
                Err(sel) => {
                    this.registered = false;
                    return Poll::Ready(this.finish(sel));
                }
                Ok(()) => {
                    this.unregister_all();
                    this.registered = false;
                    this.token.reset();
                }
            }
        }
    }
}

impl<T> Drop for Select<'_, T> {
    fn drop(&mut self) {
        if !self.registered {
            return;
        }
        let committed = self.token.try_abort().err();
        self.unregister_all();
        if let Some(sel) = committed {
            let case = sel.case as usize;
            if self.cases[case].0 == Dir::Recv && !sel.closed {
                // SAFETY: unlinked, and the commit was acquired.
                if let Some(v) = unsafe { self.waiters[case].take_value() } {
                    self.cases[case].1.put_back(v);
                }
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::chan::chan;
    use std::pin::pin;

    fn noop_cx() -> Context<'static> {
        Context::from_waker(futures::task::noop_waker_ref())
    }

    #[test]
    fn ready_case_commits_without_registering() {
        let (tx1, rx1) = chan::<u32>(1);
        let (_tx2, rx2) = chan::<u32>(1);
        tx1.try_send(5).unwrap();
        let mut sel = Select::new(vec![
            (Dir::Recv, &*rx1.chan, None),
            (Dir::Recv, &*rx2.chan, None),
        ]);
        let got = sel.as_mut().poll(&mut noop_cx());
        assert_eq!(got, Poll::Ready((0, Outcome::Received(Some(5)))));
    }

    #[test]
    fn parked_select_is_completed_by_one_counterpart_only() {
        let (tx1, rx1) = chan::<u32>(0);
        let (tx2, rx2) = chan::<u32>(0);
        let mut sel = Select::new(vec![
            (Dir::Recv, &*rx1.chan, None),
            (Dir::Recv, &*rx2.chan, None),
        ]);
        assert!(sel.as_mut().poll(&mut noop_cx()).is_pending());
        tx2.try_send(2).unwrap();
        // The select committed to case 1: case 0 no longer takes values.
        assert_eq!(tx1.try_send(1), Err(TrySendError::Full(1)));
        let got = sel.as_mut().poll(&mut noop_cx());
        assert_eq!(got, Poll::Ready((1, Outcome::Received(Some(2)))));
    }

    #[test]
    fn parked_send_case_is_taken_once() {
        let (tx1, rx1) = chan::<u32>(0);
        let (tx2, rx2) = chan::<u32>(0);
        let mut sel = Select::new(vec![
            (Dir::Send, &*tx1.chan, Some(1)),
            (Dir::Send, &*tx2.chan, Some(2)),
        ]);
        assert!(sel.as_mut().poll(&mut noop_cx()).is_pending());
        assert_eq!(rx1.try_recv(), Ok(1));
        assert_eq!(
            rx2.try_recv(),
            Err(TryRecvError::Empty),
            "the other send withdrew"
        );
        let got = sel.as_mut().poll(&mut noop_cx());
        assert_eq!(got, Poll::Ready((0, Outcome::Sent(Ok(())))));
    }

    #[test]
    fn close_commits_a_receive_case() {
        let (tx1, rx1) = chan::<u32>(0);
        let (_tx2, rx2) = chan::<u32>(0);
        let mut sel = Select::new(vec![
            (Dir::Recv, &*rx1.chan, None),
            (Dir::Recv, &*rx2.chan, None),
        ]);
        assert!(sel.as_mut().poll(&mut noop_cx()).is_pending());
        tx1.close();
        let got = sel.as_mut().poll(&mut noop_cx());
        assert_eq!(got, Poll::Ready((0, Outcome::Received(None))));
    }

    #[test]
    fn dropped_committed_select_puts_the_value_back() {
        let (tx1, rx1) = chan::<u32>(0);
        let (_tx2, rx2) = chan::<u32>(0);
        let mut sel = Select::new(vec![
            (Dir::Recv, &*rx1.chan, None),
            (Dir::Recv, &*rx2.chan, None),
        ]);
        assert!(sel.as_mut().poll(&mut noop_cx()).is_pending());
        tx1.try_send(7).unwrap();
        drop(sel);
        assert_eq!(rx1.try_recv(), Ok(7));
    }

    #[test]
    fn a_plain_receive_and_a_select_on_the_same_channel() {
        let (tx, rx) = chan::<u32>(0);
        let (_tx2, rx2) = chan::<u32>(0);
        let mut sel = Select::new(vec![
            (Dir::Recv, &*rx.chan, None),
            (Dir::Recv, &*rx2.chan, None),
        ]);
        let mut plain = pin!(rx.recv());
        assert!(sel.as_mut().poll(&mut noop_cx()).is_pending());
        assert!(plain.as_mut().poll(&mut noop_cx()).is_pending());
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        // First come, first served: the select parked first.
        assert_eq!(
            sel.as_mut().poll(&mut noop_cx()),
            Poll::Ready((0, Outcome::Received(Some(1))))
        );
        assert_eq!(plain.as_mut().poll(&mut noop_cx()), Poll::Ready(Some(2)));
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::chan::chan;

    fn noop_cx() -> Context<'static> {
        Context::from_waker(futures::task::noop_waker_ref())
    }

    #[test]
    fn two_racing_senders_commit_one_case() {
        loom::model(|| {
            let (tx1, rx1) = chan::<u32>(0);
            let (tx2, rx2) = chan::<u32>(0);
            let s1 = {
                let tx1 = tx1.clone();
                loom::thread::spawn(move || tx1.try_send(1).is_ok())
            };
            let s2 = {
                let tx2 = tx2.clone();
                loom::thread::spawn(move || tx2.try_send(2).is_ok())
            };
            let mut sel = Select::new(vec![
                (Dir::Recv, &*rx1.chan, None),
                (Dir::Recv, &*rx2.chan, None),
            ]);
            let first = sel.as_mut().poll(&mut noop_cx());
            let sent = [s1.join().unwrap(), s2.join().unwrap()];
            assert!(first.is_pending(), "nothing was ready before");
            match sel.as_mut().poll(&mut noop_cx()) {
                // The one send that found the select parked committed it;
                // the other found no receiver.
                Poll::Ready((case, Outcome::Received(Some(v)))) => {
                    assert_eq!(v, case as u32 + 1);
                    assert_eq!(sent, [case == 0, case == 1]);
                }
                Poll::Ready(other) => panic!("unexpected {other:?}"),
                Poll::Pending => assert_eq!(sent, [false, false]),
            }
            drop(sel);
            assert!(
                rx1.try_recv().is_err() && rx2.try_recv().is_err(),
                "no duplicate"
            );
        });
    }

    #[test]
    fn two_racing_receivers_take_one_send_case() {
        loom::model(|| {
            let (tx1, rx1) = chan::<u32>(0);
            let (tx2, rx2) = chan::<u32>(0);
            let r1 = {
                let rx1 = rx1.clone();
                loom::thread::spawn(move || rx1.try_recv().ok())
            };
            let r2 = {
                let rx2 = rx2.clone();
                loom::thread::spawn(move || rx2.try_recv().ok())
            };
            let cases = vec![
                (Dir::Send, &*tx1.chan, Some(1)),
                (Dir::Send, &*tx2.chan, Some(2)),
            ];
            let mut sel = Select::new(cases);
            assert!(sel.as_mut().poll(&mut noop_cx()).is_pending());
            let got = [r1.join().unwrap(), r2.join().unwrap()];
            match sel.as_mut().poll(&mut noop_cx()) {
                Poll::Ready((case, Outcome::Sent(Ok(())))) => {
                    let want = [(case == 0).then_some(1), (case == 1).then_some(2)];
                    assert_eq!(got, want, "exactly the committed case was taken");
                }
                Poll::Ready(other) => panic!("unexpected {other:?}"),
                Poll::Pending => assert_eq!(got, [None, None]),
            }
        });
    }

    #[test]
    fn dropped_select_races_with_a_sender() {
        loom::model(|| {
            let (tx1, rx1) = chan::<u32>(0);
            let (_tx2, rx2) = chan::<u32>(0);
            let tx = tx1.clone();
            let sender = loom::thread::spawn(move || tx.try_send(1));
            let mut sel = Select::new(vec![
                (Dir::Recv, &*rx1.chan, None),
                (Dir::Recv, &*rx2.chan, None),
            ]);
            let first = sel
                .as_mut()
                .poll(&mut Context::from_waker(futures::task::noop_waker_ref()));
            drop(sel);
            let sent = sender.join().unwrap();
            let later = rx1.try_recv();
            match (sent, first) {
                (Ok(()), Poll::Pending) => assert_eq!(later, Ok(1), "put back"),
                (Ok(()), Poll::Ready(_)) => unreachable!("nothing was ready before"),
                (Err(_), _) => assert_eq!(later, Err(TryRecvError::Empty)),
            }
        });
    }
}
