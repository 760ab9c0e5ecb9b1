//! `Async<T>`: any non-blocking file descriptor, driven by the reactor.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::reactor::source::{Direction, Source};
use crate::runtime::coop;
use crate::runtime::scheduler::Shared;

/// A non-blocking I/O object (socket, pipe, terminal, eventfd...) whose
/// readiness is reported by the gorun reactor: the building block of
/// `gorun::net`, and the way to drive any other file descriptor.
///
/// `Async::new` switches the descriptor to non-blocking mode and registers
/// it. Operations try the system call first and wait for readiness only
/// when it would block; each completed operation spends one unit of the
/// task's cooperative budget. `Async<T>` implements `futures::io`'s
/// `AsyncRead` and `AsyncWrite` when `&T` implements `Read` and `Write`.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
///
/// gorun::run(async {
///     let (a, b) = UnixStream::pair().unwrap();
///     let mut a = gorun::io::Async::new(a).unwrap();
///     let mut b = gorun::io::Async::new(b).unwrap();
///     a.write_all(b"ping").await.unwrap();
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"ping");
/// });
/// ```
pub struct Async<T: AsFd> {
    /// `None` only after `into_inner` took it.
    io: Option<T>,
    /// The descriptor's registration with the reactor.
    source: Arc<Source>,
    /// The runtime whose reactor the descriptor is registered with.
    shared: Arc<Shared>,
}

impl<T: AsFd> Async<T> {
    /// Puts `io` in non-blocking mode and registers it with the reactor of
    /// the current runtime (the global one outside any runtime).
    ///
    /// # Errors
    /// If the descriptor cannot be made non-blocking or registered.
    ///
    /// ```
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let listener = gorun::io::Async::new(listener).unwrap();
    /// assert!(listener.get_ref().local_addr().is_ok());
    /// ```
    pub fn new(io: T) -> io::Result<Async<T>> {
        set_nonblocking(&io)?;
        let shared = crate::runtime::current_or_global();
        // SAFETY: `Async` owns `io`, and deregisters the descriptor (in
        // `Drop` or `into_inner`) before it can be closed.
        let source = unsafe { shared.reactor.register(io.as_fd().as_raw_fd())? };
        Ok(Async {
            io: Some(io),
            source,
            shared,
        })
    }

    /// The inner I/O object.
    ///
    /// ```
    /// let a = gorun::io::Async::new(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    /// println!("bound to {}", a.get_ref().local_addr().unwrap());
    /// ```
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect("Async used after into_inner")
    }

    /// Deregisters the descriptor and returns the I/O object (still in
    /// non-blocking mode).
    ///
    /// # Errors
    /// If the reactor fails to deregister it.
    ///
    /// ```
    /// let a = gorun::io::Async::new(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    /// let socket: std::net::UdpSocket = a.into_inner().unwrap();
    /// # drop(socket);
    /// ```
    pub fn into_inner(mut self) -> io::Result<T> {
        let io = self.io.take().expect("Async used after into_inner");
        self.shared.reactor.deregister(&self.source)?;
        Ok(io)
    }

    /// The error of an operation on a runtime that has shut down, if it has.
    fn shut_down(&self) -> Option<io::Error> {
        self.shared.is_shutdown().then(|| {
            io::Error::other("the gorun runtime this I/O object was registered with has shut down")
        })
    }

    /// Runs the non-blocking operation `op` until it does not return
    /// `WouldBlock`, waiting for readiness in `dir` in between (the
    /// readiness protocol of `reactor/source.rs`). `op` gets the sequence
    /// number read in step 1.
    fn poll_io<R>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T, u64) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let spent = ready!(coop::poll_proceed(cx));
        loop {
            if let Some(err) = self.shut_down() {
                return Poll::Ready(Err(err));
            }
            let seen = self.source.sequence(dir);
            match op(self.get_ref(), seen) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                result => {
                    spent.made_progress();
                    return Poll::Ready(result);
                }
            }
            ready!(self
                .source
                .poll_wait(dir, seen, cx, || self.shared.reactor.arm(&self.source)))?;
        }
    }

    /// Polls a read `op` that also says whether it emptied the descriptor
    /// (`(bytes, drained)`); after one that did, the next read waits for
    /// readiness without calling `op` first (see `reactor/source.rs`).
    pub(crate) fn poll_read_draining(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<(usize, bool)>,
    ) -> Poll<io::Result<usize>> {
        self.poll_io(Direction::Read, cx, |io, seen| {
            if self.source.is_drained(seen) {
                // The read could only fail with `WouldBlock`: skip it.
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let (n, drained) = op(io)?;
            if drained {
                self.source.set_drained(seen);
            }
            Ok(n)
        })
    }

    /// Polls a read-side operation: `op` is retried when the descriptor
    /// becomes readable.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    ///
    /// gorun::run(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     let a = gorun::io::Async::new(a).unwrap();
    ///     b.write_all(b"x").unwrap();
    ///     let n = poll_fn(|cx| a.poll_read_with(cx, |s| std::io::Read::read(&mut &*s, &mut [0; 8]))).await;
    ///     assert_eq!(n.unwrap(), 1);
    /// });
    /// ```
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io(Direction::Read, cx, |io, _| op(io))
    }

    /// Polls a write-side operation: `op` is retried when the descriptor
    /// becomes writable.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::os::unix::net::UnixStream;
    ///
    /// gorun::run(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     let a = gorun::io::Async::new(a).unwrap();
    ///     let n = poll_fn(|cx| a.poll_write_with(cx, |s| std::io::Write::write(&mut &*s, b"hi"))).await;
    ///     assert_eq!(n.unwrap(), 2);
    /// });
    /// ```
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io(Direction::Write, cx, |io, _| op(io))
    }

    /// Runs a read-side operation, waiting for readability while it would
    /// block.
    ///
    /// ```
    /// gorun::run(async {
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let listener = gorun::io::Async::new(listener).unwrap();
    ///     let client = std::thread::spawn(move || std::net::TcpStream::connect(addr).unwrap());
    ///     let (_stream, _peer) = listener.read_with(|l| l.accept()).await.unwrap();
    ///     client.join().unwrap();
    /// });
    /// ```
    pub async fn read_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let mut op = op;
        std::future::poll_fn(|cx| self.poll_read_with(cx, &mut op)).await
    }

    /// Runs a write-side operation, waiting for writability while it would
    /// block.
    ///
    /// ```
    /// gorun::run(async {
    ///     let socket = gorun::io::Async::new(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
    ///     let to = socket.get_ref().local_addr().unwrap();
    ///     let n = socket.write_with(|s| s.send_to(b"hello", to)).await.unwrap();
    ///     assert_eq!(n, 5);
    /// });
    /// ```
    pub async fn write_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let mut op = op;
        std::future::poll_fn(|cx| self.poll_write_with(cx, &mut op)).await
    }
}

/// Sets `O_NONBLOCK` on a descriptor.
fn set_nonblocking(fd: &impl AsFd) -> io::Result<()> {
    let flags = rustix::fs::fcntl_getfl(fd)?;
    rustix::fs::fcntl_setfl(fd, flags | rustix::fs::OFlags::NONBLOCK)?;
    Ok(())
}

impl<T: AsFd> Drop for Async<T> {
    fn drop(&mut self) {
        if self.io.is_some() {
            // Deregister before `io` (and with it the descriptor) is closed.
            let _ = self.shared.reactor.deregister(&self.source);
        }
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async").field("io", &self.io).finish()
    }
}

impl<T: AsFd> AsyncRead for Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, |mut io| io.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, |mut io| io.read_vectored(bufs))
    }
}

impl<T: AsFd> AsyncRead for &Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, |mut io| io.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, |mut io| io.read_vectored(bufs))
    }
}

impl<T: AsFd> AsyncWrite for Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |mut io| io.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |mut io| io.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write_with(cx, |mut io| io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T: AsFd> AsyncWrite for &Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |mut io| io.write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write_with(cx, |mut io| io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
