//! Address resolution without blocking a worker.
//!
//! `std::net::ToSocketAddrs` resolves host names with `getaddrinfo`, a
//! blocking call that can take seconds: made on a worker it would stall
//! every task queued there, which is exactly what Go's resolver avoids by
//! parking the goroutine. So gorun has its own [`ToSocketAddrs`], sealed and
//! implemented for the same types as std's, and resolution runs in two steps:
//!
//! 1. [`to_addrs`](sealed::Sealed::to_addrs) turns the argument, on the
//!    calling task, into an owned [`Addrs`]: the addresses themselves when
//!    it is already an IP socket address (a `SocketAddr`, an
//!    `(IpAddr, u16)`, a string that parses as `ip:port`...), or the host
//!    name and port to look up.
//! 2. [`resolve`] returns the addresses at once in the first case, and in
//!    the second hands the lookup to std's resolver on the blocking pool
//!    ([`spawn_blocking`](crate::spawn_blocking)) and awaits it.
//!
//! Rejected: bounding the public functions by std's trait directly. A
//! `T: std::net::ToSocketAddrs` can only be resolved by calling it, which
//! may block, and it cannot be moved to another thread unless it is
//! `'static` (which `&str` arguments are not), so there would be no way to
//! tell a literal address from a host name before blocking.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Something that names one or more socket addresses: gorun's version of
/// [`std::net::ToSocketAddrs`], implemented for the same types, whose host
/// names are resolved on the blocking pool instead of on a worker.
///
/// IP addresses, with their port, are used as they are; anything else
/// (`"localhost:8080"`, `("example.org", 80)`) goes through the system
/// resolver. The trait is sealed: it cannot be implemented outside gorun.
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddr};
/// use gorun::net::UdpSocket;
///
/// gorun::run(async {
///     // A string, an (ip, port) pair and a SocketAddr all work.
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
///     let c = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
///     # let _ = (a, b, c);
/// });
/// ```
pub trait ToSocketAddrs: sealed::Sealed {}

pub(crate) mod sealed {
    use super::Addrs;

    /// The hidden half of [`ToSocketAddrs`](super::ToSocketAddrs).
    pub trait Sealed {
        /// Step 1 of the module's protocol: the addresses, or what to look
        /// up, owned so that the lookup can move to another thread.
        fn to_addrs(&self) -> Addrs;
    }
}

/// What an argument names, once it no longer borrows from the caller.
#[derive(Debug)]
pub enum Addrs {
    /// The argument was one IP socket address (the common case, kept out
    /// of a `Vec` so that `send_to` allocates nothing).
    One(SocketAddr),
    /// The argument was a list of IP socket addresses.
    Many(Vec<SocketAddr>),
    /// A host name and a port to look up.
    Lookup(String, u16),
    /// A `"host:port"` string to look up (std splits and checks it).
    LookupStr(String),
}

/// Step 2 of the module's protocol: the socket addresses `addr` names, in
/// the resolver's order.
///
/// # Errors
/// What the resolver reports (an unknown host, a string without a port...).
pub(crate) async fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    resolve_addrs(addr.to_addrs()).await
}

/// [`resolve`], once the argument is owned.
async fn resolve_addrs(addrs: Addrs) -> io::Result<Vec<SocketAddr>> {
    match addrs {
        Addrs::One(addr) => Ok(vec![addr]),
        Addrs::Many(addrs) => Ok(addrs),
        Addrs::Lookup(host, port) => {
            lookup(move || std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))).await
        }
        Addrs::LookupStr(s) => {
            lookup(move || std::net::ToSocketAddrs::to_socket_addrs(s.as_str())).await
        }
    }
}

/// The first socket address `addr` names: where `send_to` sends.
///
/// # Errors
/// As for [`resolve`], and `InvalidInput` if it names none.
pub(crate) async fn resolve_first(addr: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    match addr.to_addrs() {
        Addrs::One(addr) => Ok(addr),
        other => resolve_addrs(other)
            .await?
            .into_iter()
            .next()
            .ok_or_else(no_addresses),
    }
}

/// Runs the blocking lookup `f` on the blocking pool and collects its
/// addresses.
async fn lookup<I>(
    f: impl FnOnce() -> io::Result<I> + Send + 'static,
) -> io::Result<Vec<SocketAddr>>
where
    I: Iterator<Item = SocketAddr>,
{
    super::blocking_io("address lookup", move || f().map(Iterator::collect)).await
}

/// The error for an argument that named no address at all (an empty slice).
pub(crate) fn no_addresses() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "could not resolve to any address",
    )
}

/// Tries `f` on each address in turn: the first success, or the last error
/// (std's rule for `bind` and `connect`).
pub(crate) async fn each_addr<T, F, Fut>(addrs: Vec<SocketAddr>, mut f: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last_error = None;
    for addr in addrs {
        match f(addr).await {
            Ok(value) => return Ok(value),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(no_addresses))
}

/// Implements the trait for types that always hold IP socket addresses.
macro_rules! ready_addrs {
    ($($ty:ty),* $(,)?) => {$(
        impl ToSocketAddrs for $ty {}
        impl sealed::Sealed for $ty {
            fn to_addrs(&self) -> Addrs {
                Addrs::One(SocketAddr::from(*self))
            }
        }
    )*};
}

ready_addrs!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16),
);

impl ToSocketAddrs for [SocketAddr] {}
impl sealed::Sealed for [SocketAddr] {
    fn to_addrs(&self) -> Addrs {
        Addrs::Many(self.to_vec())
    }
}

impl ToSocketAddrs for str {}
impl sealed::Sealed for str {
    fn to_addrs(&self) -> Addrs {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Addrs::One(addr),
            Err(_) => Addrs::LookupStr(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl sealed::Sealed for String {
    fn to_addrs(&self) -> Addrs {
        self.as_str().to_addrs()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl sealed::Sealed for (&str, u16) {
    fn to_addrs(&self) -> Addrs {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Addrs::One(SocketAddr::new(ip, port)),
            Err(_) => Addrs::Lookup(host.to_owned(), port),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl sealed::Sealed for (String, u16) {
    fn to_addrs(&self) -> Addrs {
        (self.0.as_str(), self.1).to_addrs()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: sealed::Sealed + ?Sized> sealed::Sealed for &T {
    fn to_addrs(&self) -> Addrs {
        (**self).to_addrs()
    }
}

#[cfg(test)]
mod tests {
    use super::sealed::Sealed;
    use super::*;

    #[test]
    fn ip_literals_need_no_lookup() {
        for addrs in [
            "127.0.0.1:80".to_addrs(),
            "[::1]:80".to_addrs(),
            ("127.0.0.1", 80).to_addrs(),
            ("::1", 80).to_addrs(),
            (Ipv4Addr::LOCALHOST, 80).to_addrs(),
        ] {
            assert!(matches!(addrs, Addrs::One(_)), "{addrs:?}");
        }
    }

    #[test]
    fn host_names_are_looked_up() {
        assert!(matches!("localhost:80".to_addrs(), Addrs::LookupStr(_)));
        assert!(matches!(("localhost", 80).to_addrs(), Addrs::Lookup(_, 80)));
    }
}
