//! Unix domain stream sockets: [`UnixListener`] and [`UnixStream`].
//!
//! They work as their TCP counterparts do (see `tcp.rs`), with one
//! difference in connecting. A Unix connect never goes on in the
//! background: it succeeds or fails at once, except when the listener's
//! backlog is full, where a non-blocking connect fails with `EAGAIN` and
//! there is no readiness event that says when to retry. In that case only,
//! gorun makes a blocking connect on the blocking pool, which the kernel
//! wakes as soon as the listener accepts: the task waits without a worker
//! spinning or sleeping. (Rejected: retrying on a timer, which adds latency
//! and load exactly when the listener is overloaded; returning the
//! `WouldBlock` error, which an `async fn` should never do.)
//!
//! Binding is synchronous, as it is in tokio and async-net: it does not
//! wait for anything. The socket file is left behind when the listener is
//! dropped; remove it yourself.

use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use rustix::net::{AddressFamily, SocketAddrUnix, SocketType};

use super::socket::{self, new_socket};
use crate::io::Async;

/// A Unix domain socket listening for connections: Go's
/// `net.Listen("unix", path)`.
///
/// ```
/// use gorun::net::{UnixListener, UnixStream};
///
/// let path = std::env::temp_dir().join(format!("gorun-doc-listener-{}.sock", std::process::id()));
/// # let _ = std::fs::remove_file(&path);
/// gorun::run(async {
///     let listener = UnixListener::bind(&path).unwrap();
///     let client = UnixStream::connect(&path).await.unwrap();
///     let (server, _) = listener.accept().await.unwrap();
///     assert_eq!(server.local_addr().unwrap().as_pathname(), Some(path.as_path()));
///     # drop(client);
/// });
/// std::fs::remove_file(&path).unwrap();
/// ```
#[derive(Debug)]
pub struct UnixListener {
    /// The listening socket, registered with the reactor.
    inner: Async<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Creates a socket file at `path` and listens on it.
    ///
    /// # Errors
    /// `AddrInUse` if the file exists (remove a stale one first),
    /// `NotFound` if its directory does not, `PermissionDenied`...
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("gorun-doc-bind-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let listener = gorun::net::UnixListener::bind(&path).unwrap();
    /// assert!(path.exists());
    /// drop(listener);
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let listener = std::os::unix::net::UnixListener::bind(path)?;
        Ok(UnixListener {
            inner: Async::new(listener)?,
        })
    }

    /// Waits for a connection and returns the stream and the peer's
    /// address (usually unnamed).
    ///
    /// # Errors
    /// What `accept` reports, such as running out of file descriptors.
    ///
    /// ```
    /// use gorun::net::{UnixListener, UnixStream};
    ///
    /// let path = std::env::temp_dir().join(format!("gorun-doc-accept-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// gorun::run(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let _client = UnixStream::connect(&path).await.unwrap();
    ///     let (_stream, peer) = listener.accept().await.unwrap();
    ///     assert!(peer.is_unnamed());
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection: the poll-style form of
    /// [`accept`](Self::accept).
    ///
    /// # Errors
    /// As for [`accept`](Self::accept).
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use gorun::net::{UnixListener, UnixStream};
    ///
    /// let path = std::env::temp_dir().join(format!("gorun-doc-poll-accept-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// gorun::run(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let _client = UnixStream::connect(&path).await.unwrap();
    ///     let (_stream, _peer) = poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (stream, peer) = ready!(self.inner.poll_read_with(cx, |l| l.accept()))?;
        Poll::Ready(UnixStream::from_std(stream).map(|s| (s, peer)))
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    /// If the OS cannot report it.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("gorun-doc-laddr-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let listener = gorun::net::UnixListener::bind(&path).unwrap();
    /// assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// # drop(listener);
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }
}

crate::net::impl_as_fd!(UnixListener);

/// A Unix domain stream connection: Go's `net.Dial("unix", path)`.
///
/// Implements `futures::io::{AsyncRead, AsyncWrite}`, as does
/// `&UnixStream` (so one task may read while another writes through a
/// shared reference). A read returns `Ok(0)` once the peer has closed its
/// side; `close` shuts down the writing side.
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
///
/// gorun::run(async {
///     let (mut a, mut b) = gorun::net::UnixStream::pair().unwrap();
///     a.write_all(b"over the socket").await.unwrap();
///     a.close().await.unwrap();
///     let mut text = String::new();
///     b.read_to_string(&mut text).await.unwrap();
///     assert_eq!(text, "over the socket");
/// });
/// ```
#[derive(Debug)]
pub struct UnixStream {
    /// The connected socket, registered with the reactor.
    inner: Async<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path` without blocking the worker (see
    /// the module docs for a listener whose backlog is full).
    ///
    /// # Errors
    /// `NotFound` if there is no socket file, `ConnectionRefused` if
    /// nothing listens on it any more, `PermissionDenied`...
    ///
    /// ```
    /// use gorun::net::{UnixListener, UnixStream};
    ///
    /// let path = std::env::temp_dir().join(format!("gorun-doc-connect-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// gorun::run(async {
    ///     let _listener = UnixListener::bind(&path).unwrap();
    ///     let stream = UnixStream::connect(&path).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let fd = new_socket(AddressFamily::UNIX, SocketType::STREAM)?;
        let addr = SocketAddrUnix::new(path)?;
        match socket::connect(fd, &addr).await {
            Ok(inner) => Ok(UnixStream { inner }),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                UnixStream::connect_blocking(path).await
            }
            Err(e) => Err(e),
        }
    }

    /// Connects with a blocking connect on the blocking pool, for a
    /// listener whose backlog is full (see the module docs).
    async fn connect_blocking(path: &Path) -> io::Result<UnixStream> {
        let path = path.to_path_buf();
        let stream = super::blocking_io("connect", move || {
            std::os::unix::net::UnixStream::connect(path)
        })
        .await?;
        UnixStream::from_std(stream)
    }

    /// Creates a pair of connected sockets: a bidirectional pipe between
    /// two tasks.
    ///
    /// # Errors
    /// If the process is out of file descriptors.
    ///
    /// ```
    /// use futures::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// gorun::run(async {
    ///     let (mut a, mut b) = gorun::net::UnixStream::pair().unwrap();
    ///     gorun::spawn(async move { b.write_all(b"from b").await });
    ///     let mut buf = [0; 6];
    ///     a.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"from b");
    /// });
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// Wraps a connected std stream.
    fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            inner: Async::new(stream)?,
        })
    }

    /// The local address of the connection (usually unnamed for the
    /// connecting side).
    ///
    /// # Errors
    /// If the OS cannot report it.
    ///
    /// ```
    /// let (a, _b) = gorun::net::UnixStream::pair().unwrap();
    /// assert!(a.local_addr().unwrap().is_unnamed());
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
    /// let (a, _b) = gorun::net::UnixStream::pair().unwrap();
    /// assert!(a.peer_addr().unwrap().is_unnamed());
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Shuts down the reading side, the writing side, or both. After
    /// `Shutdown::Write` the peer reads end of stream once it has read what
    /// was sent. Returns at once.
    ///
    /// # Errors
    /// `NotConnected` if the connection is already gone.
    ///
    /// ```
    /// use std::net::Shutdown;
    /// use futures::io::AsyncReadExt;
    ///
    /// gorun::run(async {
    ///     let (a, mut b) = gorun::net::UnixStream::pair().unwrap();
    ///     a.shutdown(Shutdown::Write).unwrap();
    ///     assert_eq!(b.read(&mut [0; 8]).await.unwrap(), 0);
    /// });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.get_ref().shutdown(how)
    }
}

crate::net::impl_stream_io!(UnixStream);
