//! Networking: TCP, UDP and Unix domain sockets on the gorun reactor, Go's
//! `net` package for async Rust.
//!
//! | Go | gorun |
//! |---|---|
//! | `net.Listen("tcp", addr)` | [`TcpListener::bind(addr).await`](TcpListener::bind) |
//! | `l.Accept()` | [`listener.accept().await`](TcpListener::accept), or [`incoming()`](TcpListener::incoming) as a stream |
//! | `net.Dial("tcp", addr)` | [`TcpStream::connect(addr).await`](TcpStream::connect) |
//! | `conn.Read` / `conn.Write` | `futures::io::{AsyncReadExt, AsyncWriteExt}` on [`TcpStream`] |
//! | `conn.(*net.TCPConn).CloseWrite()` | [`stream.shutdown(Shutdown::Write)`](TcpStream::shutdown), or `close().await` |
//! | `net.ListenUDP` | [`UdpSocket::bind(addr).await`](UdpSocket::bind) |
//! | `net.Listen("unix", path)` / `net.Dial("unix", path)` | [`UnixListener::bind`], [`UnixStream::connect`] |
//!
//! A goroutine per connection is the idiom here too:
//!
//! ```
//! use futures::io::{AsyncReadExt, AsyncWriteExt};
//! use gorun::net::{TcpListener, TcpStream};
//!
//! gorun::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     gorun::spawn(async move {
//!         loop {
//!             let (stream, _) = listener.accept().await.unwrap();
//!             // `&TcpStream` reads and writes: copy the stream into itself.
//!             gorun::spawn(async move { futures::io::copy(&stream, &mut &stream).await });
//!         }
//!     });
//!     let mut client = TcpStream::connect(addr).await.unwrap();
//!     client.write_all(b"hello").await.unwrap();
//!     let mut buf = [0; 5];
//!     client.read_exact(&mut buf).await.unwrap();
//!     assert_eq!(&buf, b"hello");
//! });
//! ```
//!
//! # Design
//!
//! Every socket is a std socket in an [`Async`](crate::io::Async): created
//! non-blocking, registered once with the runtime's reactor (edge
//! triggered), and operated by trying the system call first and waiting for
//! readiness only when it would block. Each completed operation spends one
//! unit of the task's cooperative budget, so a task reading a socket that is
//! always ready still lets its neighbours run. Errors are the OS's, as plain
//! [`std::io::Error`]s: `AddrInUse`, `ConnectionRefused`,
//! `ConnectionReset`...; a read of a closed peer returns `Ok(0)`.
//!
//! Nothing here blocks a worker:
//! - Connecting: std's `connect` blocks until the handshake ends. gorun
//!   starts it non-blocking and waits for writability, then reads the
//!   outcome from `SO_ERROR` (`socket.rs`).
//! - Resolving: a host name is looked up by std's resolver on the blocking
//!   pool; an IP address is used as it is (`addr.rs`, [`ToSocketAddrs`]).
//! - Binding, listening, shutting down: these system calls never wait.
//!
//! Reading and writing take `&self` underneath, since a socket's two
//! directions are independent in the kernel and in the reactor: a stream
//! splits into halves without a lock ([`TcpStream::split`],
//! [`TcpStream::into_split`]).

mod addr;
mod socket;
pub mod tcp;
mod udp;
mod unix;

pub use addr::ToSocketAddrs;
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixListener, UnixStream};

/// Runs a blocking socket call (a DNS lookup, a blocking connect) on the
/// blocking pool. A panic in `f` is re-raised here; if the runtime shuts
/// down first, the error says that `what` was cancelled.
async fn blocking_io<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    match crate::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(std::io::Error::other(format!(
            "{what} cancelled: the runtime is shutting down"
        ))),
    }
}

/// Implements `AsFd` and `AsRawFd` for a type whose `inner` is an
/// `Async` of a std socket: listeners, streams and UDP sockets.
macro_rules! impl_as_fd {
    ($ty:ty) => {
        impl ::std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> ::std::os::fd::BorrowedFd<'_> {
                ::std::os::fd::AsFd::as_fd(self.inner.get_ref())
            }
        }

        impl ::std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> ::std::os::fd::RawFd {
                ::std::os::fd::AsRawFd::as_raw_fd(self.inner.get_ref())
            }
        }
    };
}
pub(crate) use impl_as_fd;

/// Implements `AsFd`, `AsRawFd`, and `futures::io::{AsyncRead, AsyncWrite}`
/// for a stream type and for shared references to it, through the
/// `poll_*_priv` methods it defines on the type (reading and writing take
/// `&self`: a socket's two directions are independent; the split halves in
/// `tcp/split.rs` call them too). `TcpStream` and `UnixStream`
/// share this one definition; `TcpStream` brings its own `poll_read_priv`
/// (the `custom_read` form), which reads with `TCP_INQ` on Linux.
macro_rules! impl_stream_io {
    ($ty:ty) => {
        impl $ty {
            /// Reads into `buf`, waiting while nothing is available.
            fn poll_read_priv(
                &self,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.inner
                    .poll_read_with(cx, |mut s| ::std::io::Read::read(&mut s, buf))
            }
        }

        $crate::net::impl_stream_io!($ty, custom_read);
    };
    ($ty:ty, custom_read) => {
        $crate::net::impl_as_fd!($ty);

        impl $ty {
            /// Reads into `bufs`, waiting while nothing is available.
            fn poll_read_vectored_priv(
                &self,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                self.inner
                    .poll_read_with(cx, |mut s| ::std::io::Read::read_vectored(&mut s, bufs))
            }

            /// Writes from `buf`, waiting while the send buffer is full.
            fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                self.inner
                    .poll_write_with(cx, |mut s| ::std::io::Write::write(&mut s, buf))
            }

            /// Writes from `bufs`, waiting while the send buffer is full.
            fn poll_write_vectored_priv(
                &self,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.inner
                    .poll_write_with(cx, |mut s| ::std::io::Write::write_vectored(&mut s, bufs))
            }

            /// `AsyncWrite::poll_close` for every writer of the stream: shuts
            /// down the writing side, so the peer reads end-of-file (a socket
            /// has nothing to flush).
            fn poll_close_priv(&self) -> Poll<io::Result<()>> {
                Poll::Ready(self.shutdown(::std::net::Shutdown::Write))
            }
        }

        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.poll_read_priv(cx, buf)
            }

            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                self.poll_read_vectored_priv(cx, bufs)
            }
        }

        impl AsyncRead for &$ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.poll_read_priv(cx, buf)
            }

            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                self.poll_read_vectored_priv(cx, bufs)
            }
        }

        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.poll_write_vectored_priv(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.poll_close_priv()
            }
        }

        impl AsyncWrite for &$ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.poll_write_vectored_priv(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.poll_close_priv()
            }
        }
    };
}
pub(crate) use impl_stream_io;
