//! Reading a TCP socket so that the read also says whether it emptied the
//! receive queue, which saves the `EAGAIN` read that otherwise follows every
//! short read (Linux's `TCP_INQ`).
//!
//! An echo server reads a 64-byte request into a 4 KiB buffer, answers,
//! and reads again: without more information that second read is a system
//! call that fails with `EAGAIN` before the task can wait for the socket.
//! A short read alone does not prove the queue empty, because the peer's
//! FIN may be queued behind the data, and with edge-triggered readiness
//! its event may already have been consumed: waiting then would hang. (tokio
//! knows from `EPOLLRDHUP`, which the `polling` crate does not report.)
//!
//! With the `TCP_INQ` socket option, `recvmsg` returns the number of bytes
//! still queued as a control message, and the kernel reports a queued FIN
//! as 1 byte. So 0 proves the read drained the socket with no FIN waiting,
//! and the next read can wait for the next readiness event without trying
//! first. On other systems (this module is Linux-only), or if the option
//! is refused, every read tries the system call as before.

use std::io;
use std::os::fd::BorrowedFd;

/// Turns on `TCP_INQ` for `fd`; `false` if the system refuses.
pub(crate) fn enable(fd: BorrowedFd<'_>) -> bool {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: `fd` is a valid open socket for the duration of the call,
    // and the option value is a live `c_int` of the stated size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_TCP,
            libc::TCP_INQ,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    rc == 0
}

/// Reads into `buf` from the non-blocking socket `fd`; returns the byte
/// count and whether the receive queue is now known to be empty with no
/// FIN queued (only ever `true` after `enable` succeeded on `fd`).
pub(crate) fn recv(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, bool)> {
    use std::os::fd::AsRawFd;
    // Room for one control message holding a `c_int`, aligned for
    // `cmsghdr`.
    #[repr(C)]
    union Control {
        _align: libc::cmsghdr,
        bytes: [u8; 64],
    }
    let mut control = Control { bytes: [0; 64] };
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: an all-zero `msghdr` is valid (no name, no iovecs, no control).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    // SAFETY: taking the address of a union field does not read it.
    msg.msg_control = unsafe { control.bytes.as_mut_ptr() }.cast();
    msg.msg_controllen = std::mem::size_of::<Control>() as _;
    // SAFETY: `msg` points at `iov` (which covers exactly `buf`) and at
    // `control`, all live and writable for the duration of the call.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    let mut drained = false;
    // SAFETY: the kernel filled `msg.msg_control` / `msg_controllen` with
    // well-formed control messages inside `control`; the CMSG_* helpers
    // stay within `msg_controllen`, and a `TCP_CM_INQ` message carries one
    // `c_int` (read unaligned, as its data need not be aligned for it).
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_TCP && (*cmsg).cmsg_type == libc::TCP_CM_INQ {
                let inq = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::c_int>());
                drained = n > 0 && inq == 0;
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((n, drained))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::os::fd::AsFd;
    use std::time::Duration;

    /// A connected pair of blocking std sockets, the second non-blocking
    /// with `TCP_INQ` on.
    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        assert!(enable(server.as_fd()), "TCP_INQ needs Linux 4.18");
        (client, server)
    }

    /// Reads until something arrives (loopback delivery is quick but not
    /// synchronous).
    fn recv_some(fd: &TcpStream, buf: &mut [u8]) -> (usize, bool) {
        loop {
            match recv(fd.as_fd(), buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                other => return other.unwrap(),
            }
        }
    }

    #[test]
    fn a_read_that_leaves_bytes_is_not_draining() {
        let (mut client, server) = pair();
        client.write_all(b"0123456789").unwrap();
        let mut buf = [0; 4];
        assert_eq!(recv_some(&server, &mut buf), (4, false));
        let mut buf = [0; 64];
        assert_eq!(recv_some(&server, &mut buf), (6, true));
    }

    /// Blocks until the peer's FIN has reached `fd` (`POLLRDHUP`), so the
    /// test does not depend on how fast loopback delivers it.
    fn wait_for_fin(fd: &TcpStream) {
        use std::os::fd::AsRawFd;
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLRDHUP,
            revents: 0,
        };
        // SAFETY: `pfd` is one valid `pollfd` for the duration of the call.
        let n = unsafe { libc::poll(&mut pfd, 1, 10_000) };
        assert_eq!(n, 1, "the FIN did not arrive within 10 s");
    }

    #[test]
    fn a_queued_fin_keeps_the_read_from_draining() {
        let (mut client, server) = pair();
        client.write_all(b"abc").unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        wait_for_fin(&server);
        let mut buf = [0; 64];
        assert_eq!(recv_some(&server, &mut buf), (3, false));
        assert_eq!(recv_some(&server, &mut buf), (0, false));
    }

    #[test]
    fn an_empty_socket_would_block() {
        let (_client, server) = pair();
        let mut buf = [0; 8];
        let err = recv(server.as_fd(), &mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }
}
