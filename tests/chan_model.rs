//! Model test: random sequences of channel operations, checked step by step
//! against a plain `VecDeque` model of Go's semantics.
//!
//! Besides `try_send`/`try_recv`/`close` and dropping or cloning ends, the
//! sequences start `send`/`recv` futures (each owning a clone of its end),
//! poll them again, and drop them while pending, also after a counterpart
//! already completed them: the cancel-safety rules are part of the model.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::task::noop_waker_ref;
use gorun::{chan, Receiver, SendError, Sender, TryRecvError, TrySendError};
use proptest::prelude::*;

/// One step of a sequence. Indices pick among the live ends or futures
/// (modulo their number); a step with nothing to pick is skipped.
#[derive(Clone, Debug)]
enum Op {
    TrySend(usize),
    TryRecv(usize),
    Close(usize),
    CloneSender(usize),
    CloneReceiver(usize),
    DropSender(usize),
    DropReceiver(usize),
    StartSend(usize),
    StartRecv(usize),
    PollSend(usize),
    PollRecv(usize),
    DropSend(usize),
    DropRecv(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let i = 0..8usize;
    prop_oneof![
        3 => i.clone().prop_map(Op::TrySend),
        3 => i.clone().prop_map(Op::TryRecv),
        1 => i.clone().prop_map(Op::Close),
        1 => i.clone().prop_map(Op::CloneSender),
        1 => i.clone().prop_map(Op::CloneReceiver),
        1 => i.clone().prop_map(Op::DropSender),
        1 => i.clone().prop_map(Op::DropReceiver),
        3 => i.clone().prop_map(Op::StartSend),
        3 => i.clone().prop_map(Op::StartRecv),
        2 => i.clone().prop_map(Op::PollSend),
        2 => i.clone().prop_map(Op::PollRecv),
        2 => i.clone().prop_map(Op::DropSend),
        2 => i.prop_map(Op::DropRecv),
    ]
}

/// What a modelled receive future holds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum RecvState {
    Waiting,
    Got(u32),
    Closed,
}

/// What a modelled send future holds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum SendState {
    Waiting(u32),
    Sent,
    Failed(u32),
}

/// Go's channel, as plainly as possible.
#[derive(Debug, Default)]
struct Model {
    cap: usize,
    buf: VecDeque<u32>,
    closed: bool,
    senders: usize,
    receivers: usize,
    recvs: HashMap<usize, RecvState>,
    recvq: VecDeque<usize>,
    sends: HashMap<usize, SendState>,
    sendq: VecDeque<usize>,
}

impl Model {
    fn deliver(&mut self, v: u32) -> bool {
        match self.recvq.pop_front() {
            Some(id) => {
                self.recvs.insert(id, RecvState::Got(v));
                true
            }
            None => false,
        }
    }

    fn take_from_sender(&mut self) -> Option<u32> {
        let id = self.sendq.pop_front()?;
        let SendState::Waiting(v) = self.sends[&id] else {
            unreachable!()
        };
        self.sends.insert(id, SendState::Sent);
        Some(v)
    }

    fn try_send(&mut self, v: u32) -> Result<(), TrySendError<u32>> {
        if self.closed || self.receivers == 0 {
            Err(TrySendError::Closed(v))
        } else if self.deliver(v) {
            Ok(())
        } else if self.buf.len() < self.cap {
            self.buf.push_back(v);
            Ok(())
        } else {
            Err(TrySendError::Full(v))
        }
    }

    fn try_recv(&mut self) -> Result<u32, TryRecvError> {
        if let Some(v) = self.buf.pop_front() {
            if self.buf.len() < self.cap {
                if let Some(refill) = self.take_from_sender() {
                    self.buf.push_back(refill);
                }
            }
            Ok(v)
        } else if let Some(v) = self.take_from_sender() {
            Ok(v)
        } else if self.closed {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    fn close(&mut self) -> bool {
        if self.closed {
            return false;
        }
        self.closed = true;
        self.fail_senders();
        for id in self.recvq.drain(..) {
            self.recvs.insert(id, RecvState::Closed);
        }
        true
    }

    fn fail_senders(&mut self) {
        for id in self.sendq.drain(..) {
            let SendState::Waiting(v) = self.sends[&id] else {
                unreachable!()
            };
            self.sends.insert(id, SendState::Failed(v));
        }
    }

    fn drop_sender(&mut self) {
        self.senders -= 1;
        if self.senders == 0 {
            self.close();
        }
    }

    fn drop_receiver(&mut self) {
        self.receivers -= 1;
        if self.receivers == 0 {
            self.buf.clear();
            self.fail_senders();
        }
    }

    /// A receive future that was handed `v` is dropped: `v` goes to the next
    /// parked receiver or back to the front of the buffer.
    fn put_back(&mut self, v: u32) {
        if !self.deliver(v) {
            self.buf.push_front(v);
        }
    }
}

type SendFut = Pin<Box<dyn Future<Output = Result<(), SendError<u32>>>>>;
type RecvFut = Pin<Box<dyn Future<Output = Option<u32>>>>;

/// The real channel's ends and futures, beside the model.
struct Real {
    senders: Vec<Sender<u32>>,
    receivers: Vec<Receiver<u32>>,
    sends: Vec<(usize, SendFut)>,
    recvs: Vec<(usize, RecvFut)>,
}

fn poll<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(noop_waker_ref()))
}

fn run(cap: usize, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let (tx, rx) = chan::<u32>(cap);
    let mut real = Real {
        senders: vec![tx],
        receivers: vec![rx],
        sends: Vec::new(),
        recvs: Vec::new(),
    };
    let mut model = Model {
        cap,
        senders: 1,
        receivers: 1,
        ..Model::default()
    };
    let mut next_value = 0u32;
    let mut next_id = 0usize;

    for op in ops {
        match op {
            Op::TrySend(i) if !real.senders.is_empty() => {
                let v = next_value;
                next_value += 1;
                let got = real.senders[i % real.senders.len()].try_send(v);
                prop_assert_eq!(got, model.try_send(v));
            }
            Op::TryRecv(i) if !real.receivers.is_empty() => {
                let got = real.receivers[i % real.receivers.len()].try_recv();
                prop_assert_eq!(got, model.try_recv());
            }
            Op::Close(i) if !real.senders.is_empty() => {
                let got = real.senders[i % real.senders.len()].close();
                prop_assert_eq!(got, model.close());
            }
            Op::CloneSender(i) if !real.senders.is_empty() => {
                let tx = real.senders[i % real.senders.len()].clone();
                real.senders.push(tx);
                model.senders += 1;
            }
            Op::CloneReceiver(i) if !real.receivers.is_empty() => {
                let rx = real.receivers[i % real.receivers.len()].clone();
                real.receivers.push(rx);
                model.receivers += 1;
            }
            Op::DropSender(i) if !real.senders.is_empty() => {
                real.senders.swap_remove(i % real.senders.len());
                model.drop_sender();
            }
            Op::DropReceiver(i) if !real.receivers.is_empty() => {
                real.receivers.swap_remove(i % real.receivers.len());
                model.drop_receiver();
            }
            Op::StartSend(i) if !real.senders.is_empty() => {
                let v = next_value;
                next_value += 1;
                let tx = real.senders[i % real.senders.len()].clone();
                let mut fut: SendFut = Box::pin(async move { tx.send(v).await });
                model.senders += 1;
                let got = poll(fut.as_mut());
                let want = if model.closed || model.receivers == 0 {
                    Poll::Ready(Err(SendError(v)))
                } else if model.deliver(v) {
                    Poll::Ready(Ok(()))
                } else if model.buf.len() < model.cap {
                    model.buf.push_back(v);
                    Poll::Ready(Ok(()))
                } else {
                    model.sends.insert(next_id, SendState::Waiting(v));
                    model.sendq.push_back(next_id);
                    Poll::Pending
                };
                prop_assert_eq!(&got, &want);
                if got.is_pending() {
                    real.sends.push((next_id, fut));
                    next_id += 1;
                } else {
                    drop(fut);
                    model.drop_sender();
                }
            }
            Op::StartRecv(i) if !real.receivers.is_empty() => {
                let rx = real.receivers[i % real.receivers.len()].clone();
                let mut fut: RecvFut = Box::pin(async move { rx.recv().await });
                model.receivers += 1;
                let got = poll(fut.as_mut());
                let want = match model.try_recv() {
                    Ok(v) => Poll::Ready(Some(v)),
                    Err(TryRecvError::Closed) => Poll::Ready(None),
                    Err(TryRecvError::Empty) => {
                        model.recvs.insert(next_id, RecvState::Waiting);
                        model.recvq.push_back(next_id);
                        Poll::Pending
                    }
                };
                prop_assert_eq!(got, want);
                if got.is_pending() {
                    real.recvs.push((next_id, fut));
                    next_id += 1;
                } else {
                    drop(fut);
                    model.drop_receiver();
                }
            }
            Op::PollSend(i) if !real.sends.is_empty() => {
                let k = i % real.sends.len();
                let id = real.sends[k].0;
                let got = poll(real.sends[k].1.as_mut());
                let want = match model.sends[&id] {
                    SendState::Waiting(_) => Poll::Pending,
                    SendState::Sent => Poll::Ready(Ok(())),
                    SendState::Failed(v) => Poll::Ready(Err(SendError(v))),
                };
                prop_assert_eq!(&got, &want);
                if got.is_ready() {
                    drop(real.sends.swap_remove(k));
                    model.sends.remove(&id);
                    model.drop_sender();
                }
            }
            Op::PollRecv(i) if !real.recvs.is_empty() => {
                let k = i % real.recvs.len();
                let id = real.recvs[k].0;
                let got = poll(real.recvs[k].1.as_mut());
                let want = match model.recvs[&id] {
                    RecvState::Waiting => Poll::Pending,
                    RecvState::Got(v) => Poll::Ready(Some(v)),
                    RecvState::Closed => Poll::Ready(None),
                };
                prop_assert_eq!(got, want);
                if got.is_ready() {
                    drop(real.recvs.swap_remove(k));
                    model.recvs.remove(&id);
                    model.drop_receiver();
                }
            }
            Op::DropSend(i) if !real.sends.is_empty() => {
                let (id, fut) = real.sends.swap_remove(i % real.sends.len());
                drop(fut);
                if let Some(SendState::Waiting(_)) = model.sends.remove(&id) {
                    model.sendq.retain(|&q| q != id);
                }
                model.drop_sender();
            }
            Op::DropRecv(i) if !real.recvs.is_empty() => {
                let (id, fut) = real.recvs.swap_remove(i % real.recvs.len());
                drop(fut);
                match model.recvs.remove(&id) {
                    Some(RecvState::Waiting) => model.recvq.retain(|&q| q != id),
                    Some(RecvState::Got(v)) => model.put_back(v),
                    _ => {}
                }
                model.drop_receiver();
            }
            _ => continue,
        }
        if let Some(tx) = real.senders.first() {
            prop_assert_eq!(tx.len(), model.buf.len());
            prop_assert_eq!(tx.is_closed(), model.closed || model.receivers == 0);
        }
        if let Some(rx) = real.receivers.first() {
            prop_assert_eq!(rx.len(), model.buf.len());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn channel_matches_the_model(cap in 0..4usize, ops in prop::collection::vec(op(), 1..80)) {
        run(cap, ops)?;
    }
}
