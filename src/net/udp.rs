//! UDP: [`UdpSocket`].
//!
//! A datagram socket has no connection to wait for, so binding and
//! connecting (which only records the peer) never block; sending and
//! receiving follow the readiness protocol of `reactor/source.rs` through
//! [`Async`]. All methods take `&self`: one task may receive while others
//! send, as with Go's `net.UDPConn`.

use std::io;
use std::net::SocketAddr;

use super::addr::{resolve, resolve_first, ToSocketAddrs};
use crate::io::Async;

/// A UDP socket: Go's `net.UDPConn` from `net.ListenUDP` or `net.DialUDP`.
///
/// ```
/// use gorun::net::UdpSocket;
///
/// gorun::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"hello", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"hello");
///     assert_eq!(from, a.local_addr().unwrap());
/// });
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    /// The socket, registered with the reactor.
    inner: Async<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Creates a socket bound to `addr`, resolving it first if it is a
    /// host name; each resolved address is tried in turn, as std does.
    ///
    /// # Errors
    /// The last address's error (`AddrInUse`...), or a resolver error.
    ///
    /// ```
    /// gorun::run(async {
    ///     let socket = gorun::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(socket.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let addrs = resolve(addr).await?;
        let socket = std::net::UdpSocket::bind(&addrs[..])?;
        Ok(UdpSocket {
            inner: Async::new(socket)?,
        })
    }

    /// The address the socket is bound to.
    ///
    /// # Errors
    /// If the OS cannot report it.
    ///
    /// ```
    /// gorun::run(async {
    ///     let socket = gorun::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(socket.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The address the socket is connected to.
    ///
    /// # Errors
    /// `NotConnected` if [`connect`](Self::connect) was not called.
    ///
    /// ```
    /// gorun::run(async {
    ///     let a = gorun::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = gorun::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(a.peer_addr().is_err());
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Sets the peer for [`send`](Self::send) and [`recv`](Self::recv),
    /// and filters out datagrams from anyone else. Each resolved address is
    /// tried in turn, as std does.
    ///
    /// # Errors
    /// The last address's error, or a resolver error.
    ///
    /// ```
    /// use gorun::net::UdpSocket;
    ///
    /// gorun::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     a.send(b"hi").await.unwrap();
    ///     let mut buf = [0; 2];
    ///     b.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"hi");
    /// });
    /// ```
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let addrs = resolve(addr).await?;
        self.inner.get_ref().connect(&addrs[..])
    }

    /// Sends `buf` as one datagram to `target` (its first address, if it
    /// resolves to several) and returns the number of bytes sent.
    ///
    /// # Errors
    /// If `buf` is larger than a datagram may be (`EMSGSIZE`), the target
    /// is unreachable, or it does not resolve.
    ///
    /// ```
    /// use gorun::net::UdpSocket;
    ///
    /// gorun::run(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let me = socket.local_addr().unwrap();
    ///     assert_eq!(socket.send_to(b"to myself", me).await.unwrap(), 9);
    /// });
    /// ```
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = resolve_first(target).await?;
        self.inner.write_with(|s| s.send_to(buf, target)).await
    }

    /// Receives one datagram into `buf` and returns its length and sender.
    /// A datagram longer than `buf` is truncated: the rest is lost.
    ///
    /// # Errors
    /// What the OS reports, such as `ConnectionRefused` after an earlier
    /// datagram found no listener (on a connected socket).
    ///
    /// ```
    /// use gorun::net::UdpSocket;
    ///
    /// gorun::run(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let me = socket.local_addr().unwrap();
    ///     socket.send_to(b"echo", me).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let (n, from) = socket.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!((&buf[..n], from), (&b"echo"[..], me));
    /// });
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.read_with(|s| s.recv_from(buf)).await
    }

    /// Sends `buf` as one datagram to the connected peer (see
    /// [`connect`](Self::connect)).
    ///
    /// # Errors
    /// `NotConnected` if the socket is not connected, and as for
    /// [`send_to`](Self::send_to).
    ///
    /// ```
    /// use gorun::net::UdpSocket;
    ///
    /// gorun::run(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.connect(socket.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(socket.send(b"ping").await.unwrap(), 4);
    /// });
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write_with(|s| s.send(buf)).await
    }

    /// Receives one datagram from the connected peer into `buf` and
    /// returns its length (see [`connect`](Self::connect)).
    ///
    /// # Errors
    /// As for [`recv_from`](Self::recv_from).
    ///
    /// ```
    /// use gorun::net::UdpSocket;
    ///
    /// gorun::run(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.connect(socket.local_addr().unwrap()).await.unwrap();
    ///     socket.send(b"pong").await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let n = socket.recv(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"pong");
    /// });
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read_with(|s| s.recv(buf)).await
    }
}

crate::net::impl_as_fd!(UdpSocket);
