//! `gorun::net` Unix domain sockets: listener, connect, pair, shutdown.

mod common;

use std::net::Shutdown;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use gorun::net::{UnixListener, UnixStream};

/// A socket path in the temp dir, unique to this process and call, removed
/// when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(tag: &str) -> TempPath {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("gorun-net-unix-{tag}-{}-{n}.sock", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_file(&path);
        TempPath(path)
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn listener_and_connect_round_trip() {
    let _w = common::watchdog("listener_and_connect_round_trip", Duration::from_secs(10));
    let path = TempPath::new("round-trip");
    gorun::run(async {
        let listener = UnixListener::bind(&path.0).unwrap();
        let server = gorun::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            stream.read_to_end(&mut request).await.unwrap();
            stream.write_all(&request).await.unwrap();
        });
        let mut client = UnixStream::connect(&path.0).await.unwrap();
        client.write_all(b"over unix").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut reply = String::new();
        client.read_to_string(&mut reply).await.unwrap();
        assert_eq!(reply, "over unix");
        server.await.unwrap();
    });
}

#[test]
fn pair_round_trip() {
    let _w = common::watchdog("pair_round_trip", Duration::from_secs(10));
    gorun::run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let echo = gorun::spawn(async move {
            let mut buf = [0; 5];
            b.read_exact(&mut buf).await.unwrap();
            b.write_all(&buf).await.unwrap();
        });
        a.write_all(b"hello").await.unwrap();
        let mut buf = [0; 5];
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");
        echo.await.unwrap();
    });
}

#[test]
fn read_of_closed_peer_returns_zero() {
    let _w = common::watchdog(
        "unix_read_of_closed_peer_returns_zero",
        Duration::from_secs(10),
    );
    gorun::run(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        drop(b);
        assert_eq!(a.read(&mut [0; 8]).await.unwrap(), 0);
    });
}

#[test]
fn shared_reference_reads_and_writes_from_two_tasks() {
    let _w = common::watchdog("shared_reference_reads_and_writes", Duration::from_secs(20));
    const TOTAL: usize = 1 << 20;
    gorun::run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let echo = gorun::spawn(async move { futures::io::copy(&b, &mut &b).await.unwrap() });
        let a = std::sync::Arc::new(a);
        let writer = a.clone();
        let write_task = gorun::spawn(async move {
            let data = vec![0x5a; TOTAL];
            (&*writer).write_all(&data).await.unwrap();
            writer.shutdown(Shutdown::Write).unwrap();
        });
        let mut back = Vec::new();
        (&*a).read_to_end(&mut back).await.unwrap();
        write_task.await.unwrap();
        assert_eq!(back.len(), TOTAL);
        assert!(back.iter().all(|&b| b == 0x5a));
        assert_eq!(echo.await.unwrap(), TOTAL as u64);
    });
}

#[test]
fn connect_to_missing_path_fails_with_not_found() {
    let path = TempPath::new("missing");
    gorun::run(async {
        let err = UnixStream::connect(&path.0).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
    });
}

#[test]
fn connect_to_path_without_listener_is_refused() {
    let path = TempPath::new("refused");
    drop(UnixListener::bind(&path.0).unwrap());
    gorun::run(async {
        let err = UnixStream::connect(&path.0).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
    });
}

#[test]
fn bind_to_existing_path_fails_with_addr_in_use() {
    let path = TempPath::new("in-use");
    let _listener = UnixListener::bind(&path.0).unwrap();
    let err = UnixListener::bind(&path.0).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
}

#[test]
fn connect_completes_when_backlog_is_full() {
    let _w = common::watchdog(
        "connect_completes_when_backlog_is_full",
        Duration::from_secs(30),
    );
    const CLIENTS: usize = 8;
    let path = TempPath::new("backlog");
    // A listener whose queue holds one or two connections, so most of the
    // connects below find it full (`EAGAIN`) and must wait for accepts.
    let fd = rustix::net::socket(
        rustix::net::AddressFamily::UNIX,
        rustix::net::SocketType::STREAM,
        None,
    )
    .unwrap();
    rustix::net::bind(&fd, &rustix::net::SocketAddrUnix::new(&path.0).unwrap()).unwrap();
    rustix::net::listen(&fd, 1).unwrap();
    let listener = std::os::unix::net::UnixListener::from(fd);
    gorun::run(async {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let path = path.0.clone();
                gorun::spawn(async move {
                    let mut s = UnixStream::connect(&path).await.unwrap();
                    let mut b = [0; 1];
                    s.read_exact(&mut b).await.unwrap();
                })
            })
            .collect();
        // Let the connects pile up, then accept them all (blocking, on a
        // plain thread: this listener is not gorun's).
        gorun::sleep(Duration::from_millis(50)).await;
        let server = std::thread::spawn(move || {
            let mut accepted = Vec::with_capacity(CLIENTS);
            for _ in 0..CLIENTS {
                let (mut s, _) = listener.accept().unwrap();
                std::io::Write::write_all(&mut s, b"!").unwrap();
                accepted.push(s);
            }
            accepted
        });
        for c in clients {
            c.await.unwrap();
        }
        drop(server.join().unwrap());
    });
}
