//! TCP: [`TcpListener`], [`TcpStream`], the stream of accepted connections
//! ([`Incoming`]) and the halves a stream splits into.
//!
//! Both types wrap the std socket in an [`Async`], so every operation is the
//! readiness protocol of `reactor/source.rs`: try the system call, and wait
//! for the reactor's edge only when it would block. Listening sockets are
//! created with `SO_REUSEADDR` (as std does on Unix) and a backlog of
//! `LISTEN_BACKLOG` connections; streams connect without blocking (see `socket.rs`).
//!
//! A stream is read and written through `&TcpStream` as well as through
//! `TcpStream`: reading and writing are independent directions of the
//! socket, so one task may read while another writes. [`TcpStream::split`]
//! names that for borrowers, [`TcpStream::into_split`] for halves that move
//! to different tasks.

#[cfg(target_os = "linux")]
mod inq;
mod split;

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use rustix::net::{AddressFamily, SocketType};

use super::addr::{each_addr, resolve, ToSocketAddrs};
use super::socket::{self, new_socket};
use crate::io::Async;

pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};

/// Length of the queue of connections that the kernel has accepted and the
/// program has not, for every listener. std uses 128, which a burst of a few
/// hundred simultaneous connects overflows (the kernel then drops SYNs and
/// the clients retry a second later); 1024 is tokio's figure. Linux caps it
/// at `net.core.somaxconn` (4096 by default).
pub(crate) const LISTEN_BACKLOG: i32 = 1024;

/// A TCP socket listening for connections: Go's `net.Listener` from
/// `net.Listen("tcp", addr)`.
///
/// ```
/// use gorun::net::{TcpListener, TcpStream};
///
/// gorun::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let client = gorun::spawn(async move { TcpStream::connect(addr).await.unwrap() });
///     let (_server_side, peer) = listener.accept().await.unwrap();
///     let client = client.await.unwrap();
///     assert_eq!(peer, client.local_addr().unwrap());
/// });
/// ```
#[derive(Debug)]
pub struct TcpListener {
    /// The listening socket, registered with the reactor.
    inner: Async<std::net::TcpListener>,
}

impl TcpListener {
    /// Creates a listener bound to `addr`, resolving it first if it is a
    /// host name; each resolved address is tried in turn, as std does.
    ///
    /// Port 0 asks the OS for a free port; [`local_addr`](Self::local_addr)
    /// tells which.
    ///
    /// # Errors
    /// The last address's error (`AddrInUse` if another socket listens
    /// there, `PermissionDenied` for a privileged port...), or a resolver
    /// error.
    ///
    /// ```
    /// gorun::run(async {
    ///     let listener = gorun::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(listener.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let addrs = resolve(addr).await?;
        each_addr(addrs, |addr| {
            std::future::ready(TcpListener::bind_one(addr))
        })
        .await
    }

    /// Binds and listens on one address.
    fn bind_one(addr: SocketAddr) -> io::Result<TcpListener> {
        let fd = new_socket(family(addr), SocketType::STREAM)?;
        rustix::net::sockopt::set_socket_reuseaddr(&fd, true)?;
        rustix::net::bind(&fd, &addr)?;
        rustix::net::listen(&fd, LISTEN_BACKLOG)?;
        let inner = Async::new(std::net::TcpListener::from(fd))?;
        Ok(TcpListener { inner })
    }

    /// Waits for a connection and returns the stream and the peer's
    /// address.
    ///
    /// # Errors
    /// What `accept` reports: running out of file descriptors, a connection
    /// aborted before it was accepted...
    ///
    /// ```
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     gorun::spawn(async move { TcpStream::connect(addr).await });
    ///     let (stream, peer) = listener.accept().await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), peer);
    /// });
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection: the poll-style form of
    /// [`accept`](Self::accept), for hand-written futures and streams.
    ///
    /// # Errors
    /// As for [`accept`](Self::accept).
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     gorun::spawn(async move { TcpStream::connect(addr).await });
    ///     let (_stream, _peer) = poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
    /// });
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (stream, peer) = ready!(self.inner.poll_read_with(cx, |l| l.accept()))?;
        Poll::Ready(TcpStream::from_accepted(stream).map(|s| (s, peer)))
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    /// If the OS cannot report it (practically never).
    ///
    /// ```
    /// gorun::run(async {
    ///     let listener = gorun::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(listener.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// A [`Stream`] of accepted connections, without their peer addresses:
    /// the `for { conn, err := l.Accept() ... }` loop as a stream. It never
    /// ends; each error is yielded as an item.
    ///
    /// ```
    /// use futures::StreamExt;
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     gorun::spawn(async move { TcpStream::connect(addr).await });
    ///     let mut incoming = listener.incoming();
    ///     let stream = incoming.next().await.unwrap().unwrap();
    ///     assert_eq!(stream.local_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }
}

crate::net::impl_as_fd!(TcpListener);

/// The stream of connections a [`TcpListener`] accepts, from
/// [`TcpListener::incoming`]. It never ends.
///
/// ```
/// use futures::StreamExt;
/// use gorun::net::{TcpListener, TcpStream};
///
/// gorun::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     for _ in 0..3 {
///         gorun::spawn(async move { TcpStream::connect(addr).await });
///     }
///     let accepted: Vec<_> = listener.incoming().take(3).collect().await;
///     assert!(accepted.iter().all(|s| s.is_ok()));
/// });
/// ```
pub struct Incoming<'a> {
    /// The listener accepting.
    listener: &'a TcpListener,
}

impl fmt::Debug for Incoming<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Incoming")
            .field("listener", self.listener)
            .finish()
    }
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let accepted = ready!(self.listener.poll_accept(cx));
        Poll::Ready(Some(accepted.map(|(stream, _peer)| stream)))
    }
}

/// A TCP connection: Go's `net.Conn` from `net.Dial("tcp", addr)` or
/// `Accept`.
///
/// Implements `futures::io::{AsyncRead, AsyncWrite}`, as does `&TcpStream`;
/// use `futures::io::{AsyncReadExt, AsyncWriteExt}` for `read`,
/// `write_all` and friends. A read returns `Ok(0)` once the peer has
/// closed its side; `close` (from `AsyncWriteExt`) shuts down the writing
/// side. Dropping the stream closes the socket.
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use gorun::net::{TcpListener, TcpStream};
///
/// gorun::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     gorun::spawn(async move {
///         let (mut stream, _) = listener.accept().await.unwrap();
///         stream.write_all(b"hello").await.unwrap();
///     });
///     let mut stream = TcpStream::connect(addr).await.unwrap();
///     let mut text = String::new();
///     stream.read_to_string(&mut text).await.unwrap();
///     assert_eq!(text, "hello");
/// });
/// ```
#[derive(Debug)]
pub struct TcpStream {
    /// The connected socket, registered with the reactor.
    inner: Async<std::net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr`, resolving it first if it is a host
    /// name, and trying each address in turn until one accepts.
    ///
    /// The connect does not block the worker: the task waits for the
    /// handshake like for any other I/O (Go's `net.Dial`).
    ///
    /// # Errors
    /// The last address's error: `ConnectionRefused` when nothing listens
    /// there, `TimedOut`, `NetworkUnreachable`..., or a resolver error.
    ///
    /// ```
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let addrs = resolve(addr).await?;
        each_addr(addrs, TcpStream::connect_one).await
    }

    /// Connects to one address.
    async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
        let fd = new_socket(family(addr), SocketType::STREAM)?;
        let inner = socket::connect(fd, &addr).await?;
        Ok(TcpStream::new(inner))
    }

    /// Wraps a stream returned by `accept`.
    fn from_accepted(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream::new(Async::new(stream)?))
    }

    /// Wraps a connected, registered socket.
    fn new(inner: Async<std::net::TcpStream>) -> TcpStream {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsFd;
            // Refused only by kernels older than 4.18; reads then simply
            // never learn that they emptied the socket.
            inq::enable(inner.get_ref().as_fd());
        }
        TcpStream { inner }
    }

    /// Reads into `buf`, waiting while nothing is available. On Linux the
    /// read learns whether it emptied the socket, and the next one then
    /// waits for data without trying first (see `tcp/inq.rs`).
    fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsFd;
            self.inner
                .poll_read_draining(cx, |s| inq::recv(s.as_fd(), buf))
        }
        #[cfg(not(target_os = "linux"))]
        {
            self.inner
                .poll_read_with(cx, |mut s| std::io::Read::read(&mut s, buf))
        }
    }

    /// The local address of the connection.
    ///
    /// # Errors
    /// If the OS cannot report it.
    ///
    /// ```
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(stream.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The address of the peer.
    ///
    /// # Errors
    /// `NotConnected` once the connection is gone.
    ///
    /// ```
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let stream = TcpStream::connect(addr).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Sets `TCP_NODELAY`: whether small writes go out at once instead of
    /// waiting to be coalesced (Nagle's algorithm). Go sets it on every
    /// connection; the OS default, kept here, is off.
    ///
    /// # Errors
    /// If the OS refuses the option.
    ///
    /// ```
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_nodelay(true).unwrap();
    ///     assert!(stream.nodelay().unwrap());
    /// });
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set (see [`set_nodelay`](Self::set_nodelay)).
    ///
    /// # Errors
    /// If the OS cannot report it.
    ///
    /// ```
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(!stream.nodelay().unwrap());
    /// });
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.get_ref().nodelay()
    }

    /// Shuts down the reading side, the writing side, or both. After
    /// `Shutdown::Write` the peer reads end of stream (`Ok(0)`) once it has
    /// read what was sent; this side can still read. Returns at once: it
    /// never waits for the peer.
    ///
    /// # Errors
    /// `NotConnected` if the connection is already gone.
    ///
    /// ```
    /// use std::net::Shutdown;
    /// use futures::io::AsyncReadExt;
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     client.shutdown(Shutdown::Write).unwrap();
    ///     assert_eq!(server.read(&mut [0; 8]).await.unwrap(), 0);
    /// });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.get_ref().shutdown(how)
    }

    /// Borrows the stream as a reading half and a writing half, to read and
    /// write at the same time (in two branches of a `join`, say). Both can
    /// be used at once because `&TcpStream` reads and writes; for halves
    /// that move to different tasks, see [`into_split`](Self::into_split).
    ///
    /// # Method resolution
    /// Where `futures::io::AsyncReadExt` is in scope, `stream.split()` on
    /// an owned `stream` calls that trait's `split` instead, which takes the
    /// stream by value and puts a lock between its halves (Rust prefers a
    /// method that takes `self` by value). Write `TcpStream::split(&stream)`
    /// or `(&stream).split()` to get these lock-free halves; on a
    /// `&TcpStream`, `.split()` is this method.
    ///
    /// ```
    /// use futures::io::{AsyncReadExt, AsyncWriteExt};
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     gorun::spawn(async move {
    ///         // An echo server: copy the reading half into the writing half.
    ///         let (reader, mut writer) = TcpStream::split(&server);
    ///         futures::io::copy(reader, &mut writer).await.unwrap();
    ///     });
    ///     client.write_all(b"echo").await.unwrap();
    ///     let mut buf = [0; 4];
    ///     client.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"echo");
    /// });
    /// ```
    pub fn split(&self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Splits the stream into a reading half and a writing half that own
    /// it together and can move to different tasks: one goroutine reading
    /// a connection while another writes it. The socket closes when both
    /// are dropped; dropping the [`OwnedWriteHalf`] shuts down the writing
    /// side at once.
    ///
    /// ```
    /// use futures::io::{AsyncReadExt, AsyncWriteExt};
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     gorun::spawn(async move {
    ///         let (server, _) = listener.accept().await.unwrap();
    ///         futures::io::copy(&server, &mut &server).await.unwrap();
    ///     });
    ///     let (mut reader, mut writer) = TcpStream::connect(addr).await.unwrap().into_split();
    ///     let sender = gorun::spawn(async move { writer.write_all(b"ping").await });
    ///     let mut buf = [0; 4];
    ///     reader.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"ping");
    ///     sender.await.unwrap().unwrap();
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }
}

/// The address family of `addr`.
fn family(addr: SocketAddr) -> AddressFamily {
    match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    }
}

crate::net::impl_stream_io!(TcpStream, custom_read);
