//! Creating sockets, and connecting them without blocking a worker.
//!
//! std's `TcpStream::connect` and `UnixStream::connect` block the calling
//! thread until the handshake ends (for an unreachable host, a minute or
//! more); on a worker that would stall every task queued behind it. gorun
//! connects the way Go's netpoller does instead. Protocol, in [`connect`]:
//!
//! 1. Create the socket already non-blocking and close-on-exec
//!    ([`new_socket`]).
//! 2. Call `connect`. It either succeeds at once (common on loopback),
//!    fails at once (a refused loopback port, a missing Unix path), or
//!    reports `EINPROGRESS`: the handshake goes on in the kernel. `EINTR`
//!    means the same as `EINPROGRESS`.
//! 3. Register the socket with the reactor and wait until it is writable,
//!    which the kernel reports when the handshake ends either way.
//! 4. Read and clear `SO_ERROR`: the handshake's outcome. If it is clear
//!    but the socket still has no peer, the wake-up was early: back to 3.
//!
//! Step 3 comes after step 2 so that a connect that fails at once costs no
//! registration; registering a socket that is already writable is still
//! reported, so the edge cannot be missed. Step 4 runs inside the readiness
//! protocol of `reactor/source.rs` (a would-block result waits for the next
//! event), which closes the race between the check and the wait.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use rustix::io::Errno;
use rustix::net::addr::SocketAddrArg;
use rustix::net::{AddressFamily, SocketType};

use crate::io::Async;

/// Step 1: a new socket of `domain` and `ty`, non-blocking and
/// close-on-exec, created atomically with them where the OS allows.
#[cfg(not(any(
    target_vendor = "apple",
    target_os = "aix",
    target_os = "haiku",
    target_os = "espidf",
    target_os = "horizon",
    target_os = "nto",
    target_os = "vita",
)))]
pub(crate) fn new_socket(domain: AddressFamily, ty: SocketType) -> io::Result<OwnedFd> {
    use rustix::net::SocketFlags;
    let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
    Ok(rustix::net::socket_with(domain, ty, flags, None)?)
}

/// Step 1: a new socket of `domain` and `ty`, non-blocking and
/// close-on-exec, set one after the other (this OS has no flags for them
/// in `socket`). Apple systems also get `SO_NOSIGPIPE`, as std's sockets do,
/// since their `send` has no `MSG_NOSIGNAL`.
#[cfg(any(
    target_vendor = "apple",
    target_os = "aix",
    target_os = "haiku",
    target_os = "espidf",
    target_os = "horizon",
    target_os = "nto",
    target_os = "vita",
))]
pub(crate) fn new_socket(domain: AddressFamily, ty: SocketType) -> io::Result<OwnedFd> {
    let fd = rustix::net::socket(domain, ty, None)?;
    rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC)?;
    rustix::io::ioctl_fionbio(&fd, true)?;
    #[cfg(target_vendor = "apple")]
    rustix::net::sockopt::set_socket_nosigpipe(&fd, true)?;
    Ok(fd)
}

/// Steps 2 to 4: connects the new socket `fd` to `addr` and returns it
/// registered with the reactor, as a `T` (a std stream type).
///
/// # Errors
/// The handshake's error (`ConnectionRefused`, `TimedOut`, `NotFound` for
/// a missing Unix path...), or `WouldBlock` when the kernel refuses to
/// start a connect now: a Unix listener whose backlog is full reports
/// `EAGAIN` instead of queueing the attempt (callers handle that case).
pub(crate) async fn connect<T>(fd: OwnedFd, addr: &impl SocketAddrArg) -> io::Result<Async<T>>
where
    T: AsFd + From<OwnedFd>,
{
    match rustix::net::connect(&fd, addr) {
        Ok(()) => return Async::new(T::from(fd)),
        Err(Errno::INPROGRESS | Errno::INTR) => {}
        Err(e) => return Err(e.into()),
    }
    let socket = Async::new(T::from(fd))?;
    socket.write_with(|s| handshake_outcome(s)).await?;
    Ok(socket)
}

/// Step 4: the result of the handshake, or `WouldBlock` while it goes on.
fn handshake_outcome(socket: &impl AsFd) -> io::Result<()> {
    if let Err(e) = rustix::net::sockopt::socket_error(socket)? {
        return Err(e.into());
    }
    match rustix::net::getpeername(socket) {
        Ok(_) => Ok(()),
        Err(Errno::NOTCONN) => Err(io::ErrorKind::WouldBlock.into()),
        Err(e) => Err(e.into()),
    }
}
