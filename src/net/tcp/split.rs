//! The halves of a [`TcpStream`]: borrowed ([`ReadHalf`], [`WriteHalf`])
//! and owned ([`OwnedReadHalf`], [`OwnedWriteHalf`]).
//!
//! No locking is needed to read and write a socket at once: the two
//! directions have their own kernel buffers and their own readiness state
//! in the reactor (`reactor/source.rs`), so a reader and a writer never
//! wait on each other. The borrowed halves are `&TcpStream` under a name
//! that says which direction each is for; the owned ones share the stream
//! through an `Arc`, so each can move to its own task.
//!
//! Rejected: a lock around the stream (what a generic `split` over any
//! `AsyncRead + AsyncWrite` must do, as `futures::io::split` does). It would
//! make the reader and the writer contend for nothing.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::TcpStream;

/// Borrows `stream` as two halves.
pub(super) fn split(stream: &TcpStream) -> (ReadHalf<'_>, WriteHalf<'_>) {
    (ReadHalf { stream }, WriteHalf { stream })
}

/// Splits `stream` into two halves that own it together.
pub(super) fn into_split(stream: TcpStream) -> (OwnedReadHalf, OwnedWriteHalf) {
    let stream = Arc::new(stream);
    let reader = OwnedReadHalf {
        stream: stream.clone(),
    };
    (reader, OwnedWriteHalf { stream })
}

/// The reading half of a borrowed [`TcpStream`], from
/// [`TcpStream::split`].
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use gorun::net::{TcpListener, TcpStream};
///
/// gorun::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (server, _) = listener.accept().await.unwrap();
///     client.write_all(b"hi").await.unwrap();
///     let (mut reader, _writer) = TcpStream::split(&server);
///     let mut buf = [0; 2];
///     reader.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hi");
/// });
/// ```
pub struct ReadHalf<'a> {
    /// The stream read from.
    stream: &'a TcpStream,
}

/// The writing half of a borrowed [`TcpStream`], from
/// [`TcpStream::split`]. Closing it shuts down the stream's writing side.
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use gorun::net::{TcpListener, TcpStream};
///
/// gorun::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     let (_reader, mut writer) = TcpStream::split(&client);
///     writer.write_all(b"bye").await.unwrap();
///     writer.close().await.unwrap();
///     let mut text = String::new();
///     server.read_to_string(&mut text).await.unwrap();
///     assert_eq!(text, "bye");
/// });
/// ```
pub struct WriteHalf<'a> {
    /// The stream written to.
    stream: &'a TcpStream,
}

/// The reading half of a [`TcpStream`] from [`TcpStream::into_split`]: it
/// owns the stream together with the [`OwnedWriteHalf`], and can move to
/// another task.
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use gorun::net::{TcpListener, TcpStream};
///
/// gorun::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (server, _) = listener.accept().await.unwrap();
///     let (mut reader, _writer) = server.into_split();
///     let reading = gorun::spawn(async move {
///         let mut buf = [0; 3];
///         reader.read_exact(&mut buf).await.map(|()| buf)
///     });
///     client.write_all(b"abc").await.unwrap();
///     assert_eq!(&reading.await.unwrap().unwrap(), b"abc");
/// });
/// ```
pub struct OwnedReadHalf {
    /// The stream, shared with the writing half.
    stream: Arc<TcpStream>,
}

/// The writing half of a [`TcpStream`] from [`TcpStream::into_split`]: it
/// owns the stream together with the [`OwnedReadHalf`], and can move to
/// another task. Closing or dropping it shuts down the stream's writing
/// side, so the peer reads end of stream even while the reading half lives
/// on.
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use gorun::net::{TcpListener, TcpStream};
///
/// gorun::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     let (_reader, mut writer) = client.into_split();
///     gorun::spawn(async move { writer.write_all(b"done").await }); // dropped at the end
///     let mut text = String::new();
///     server.read_to_string(&mut text).await.unwrap();
///     assert_eq!(text, "done");
/// });
/// ```
pub struct OwnedWriteHalf {
    /// The stream, shared with the reading half.
    stream: Arc<TcpStream>,
}

impl ReadHalf<'_> {
    /// The address of the peer (see [`TcpStream::peer_addr`]).
    ///
    /// # Errors
    /// `NotConnected` once the connection is gone.
    ///
    /// ```
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (reader, _) = client.split();
    ///     assert_eq!(reader.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// The local address of the connection (see [`TcpStream::local_addr`]).
    ///
    /// # Errors
    /// If the OS cannot report it.
    ///
    /// ```
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (reader, _) = client.split();
    ///     assert_eq!(reader.local_addr().unwrap(), client.local_addr().unwrap());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }
}

impl WriteHalf<'_> {
    /// The address of the peer (see [`TcpStream::peer_addr`]).
    ///
    /// # Errors
    /// `NotConnected` once the connection is gone.
    ///
    /// ```
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_, writer) = client.split();
    ///     assert_eq!(writer.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// The local address of the connection (see [`TcpStream::local_addr`]).
    ///
    /// # Errors
    /// If the OS cannot report it.
    ///
    /// ```
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_, writer) = client.split();
    ///     assert_eq!(writer.local_addr().unwrap(), client.local_addr().unwrap());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }
}

impl OwnedReadHalf {
    /// The address of the peer (see [`TcpStream::peer_addr`]).
    ///
    /// # Errors
    /// `NotConnected` once the connection is gone.
    ///
    /// ```
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (reader, _) = client.into_split();
    ///     assert_eq!(reader.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// The local address of the connection (see [`TcpStream::local_addr`]).
    ///
    /// # Errors
    /// If the OS cannot report it.
    ///
    /// ```
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let local = client.local_addr().unwrap();
    ///     let (reader, _) = client.into_split();
    ///     assert_eq!(reader.local_addr().unwrap(), local);
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }
}

impl OwnedWriteHalf {
    /// The address of the peer (see [`TcpStream::peer_addr`]).
    ///
    /// # Errors
    /// `NotConnected` once the connection is gone.
    ///
    /// ```
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_, writer) = client.into_split();
    ///     assert_eq!(writer.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// The local address of the connection (see [`TcpStream::local_addr`]).
    ///
    /// # Errors
    /// If the OS cannot report it.
    ///
    /// ```
    /// use gorun::net::{TcpListener, TcpStream};
    ///
    /// gorun::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let local = client.local_addr().unwrap();
    ///     let (_, writer) = client.into_split();
    ///     assert_eq!(writer.local_addr().unwrap(), local);
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        // The peer may have gone already (`NotConnected`): nothing to do.
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}

impl fmt::Debug for ReadHalf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadHalf").field(self.stream).finish()
    }
}

impl fmt::Debug for WriteHalf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WriteHalf").field(self.stream).finish()
    }
}

impl fmt::Debug for OwnedReadHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedReadHalf").field(&self.stream).finish()
    }
}

impl fmt::Debug for OwnedWriteHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedWriteHalf").field(&self.stream).finish()
    }
}

impl AsRef<TcpStream> for ReadHalf<'_> {
    fn as_ref(&self) -> &TcpStream {
        self.stream
    }
}

impl AsRef<TcpStream> for WriteHalf<'_> {
    fn as_ref(&self) -> &TcpStream {
        self.stream
    }
}

impl AsRef<TcpStream> for OwnedReadHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.stream
    }
}

impl AsRef<TcpStream> for OwnedWriteHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.stream
    }
}

impl AsyncRead for ReadHalf<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_priv(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_vectored_priv(cx, bufs)
    }
}

impl AsyncRead for OwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_priv(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_vectored_priv(cx, bufs)
    }
}

impl AsyncWrite for WriteHalf<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_vectored_priv(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.poll_close_priv()
    }
}

impl AsyncWrite for OwnedWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_vectored_priv(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.poll_close_priv()
    }
}
