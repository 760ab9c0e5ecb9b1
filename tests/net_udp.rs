//! `gorun::net` UDP: datagram round trips over loopback.

mod common;

use std::time::Duration;

use common::wait_for_reason;
use gorun::debug::WaitReason;
use gorun::net::UdpSocket;

/// A socket bound to a free loopback port.
async fn bound() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").await.unwrap()
}

#[test]
fn send_to_and_recv_from_round_trip() {
    let _w = common::watchdog("send_to_and_recv_from_round_trip", Duration::from_secs(10));
    gorun::run(async {
        let (a, b) = (bound().await, bound().await);
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        assert_eq!(a.send_to(b"ping", b_addr).await.unwrap(), 4);
        let mut buf = [0; 64];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"ping"[..], a_addr));
        b.send_to(b"pong", from).await.unwrap();
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"pong"[..], b_addr));
    });
}

#[test]
fn connect_send_and_recv_round_trip() {
    let _w = common::watchdog("connect_send_and_recv_round_trip", Duration::from_secs(10));
    gorun::run(async {
        let (a, b) = (bound().await, bound().await);
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        a.send(b"hello").await.unwrap();
        let mut buf = [0; 64];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hello");
        b.send(b"world").await.unwrap();
        let n = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"world");
    });
}

#[test]
fn recv_from_waits_for_a_datagram_sent_later() {
    let _w = common::watchdog("recv_from_waits_for_a_datagram", Duration::from_secs(10));
    gorun::run(async {
        let receiver = bound().await;
        let to = receiver.local_addr().unwrap();
        let waiting = gorun::spawn(async move {
            let mut buf = [0; 8];
            let (n, _) = receiver.recv_from(&mut buf).await.unwrap();
            buf[..n].to_vec()
        });
        wait_for_reason(waiting.id(), |r| r == WaitReason::Io).await;
        bound().await.send_to(b"late", to).await.unwrap();
        assert_eq!(waiting.await.unwrap(), b"late");
    });
}

#[test]
fn many_datagrams_arrive_in_order_on_loopback() {
    let _w = common::watchdog("many_datagrams_arrive_in_order", Duration::from_secs(20));
    // Few enough that loopback's receive buffer holds them all.
    const DATAGRAMS: u32 = 200;
    gorun::run(async {
        let (a, b) = (bound().await, bound().await);
        let to = b.local_addr().unwrap();
        for i in 0..DATAGRAMS {
            a.send_to(&i.to_le_bytes(), to).await.unwrap();
        }
        let mut buf = [0; 4];
        for i in 0..DATAGRAMS {
            let (n, _) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!(n, 4);
            assert_eq!(u32::from_le_bytes(buf), i);
        }
    });
}

#[test]
fn bind_to_address_in_use_fails_with_addr_in_use() {
    gorun::run(async {
        let a = bound().await;
        let err = UdpSocket::bind(a.local_addr().unwrap()).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
    });
}

#[test]
fn peer_addr_of_unconnected_socket_is_an_error() {
    gorun::run(async {
        assert!(bound().await.peer_addr().is_err());
    });
}
