//! `gorun::net` TCP: listeners, streams, halves, errors and fairness, over
//! loopback only.

mod common;

use std::net::{Ipv4Addr, Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use futures::StreamExt;
use gorun::net::tcp::{ReadHalf, WriteHalf};
use gorun::net::{TcpListener, TcpStream};

/// Bytes each echo client sends.
const ECHO_BYTES: usize = 64 * 1024;
/// Size of the chunks they send it in.
const ECHO_CHUNK: usize = 4 * 1024;
/// Concurrent echo clients.
const ECHO_CLIENTS: usize = 200;

/// A listener on a free loopback port, and its address.
async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// A connected pair: (client side, server side).
async fn connected_pair() -> (TcpStream, TcpStream) {
    let (listener, addr) = listener().await;
    let client = TcpStream::connect(addr).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// The byte client `client` sends at offset `i`: distinct per client, so a
/// mix-up between connections shows.
fn pattern(client: usize, i: usize) -> u8 {
    (client.wrapping_mul(31).wrapping_add(i) % 251) as u8
}

/// Serves echo, a task per connection, until `clients` connections ended.
async fn echo_server(listener: TcpListener, clients: usize) {
    let mut handles = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (stream, _) = listener.accept().await.unwrap();
        handles.push(gorun::spawn(async move {
            let (reader, mut writer) = TcpStream::split(&stream);
            let copied = futures::io::copy(reader, &mut writer).await.unwrap();
            writer.close().await.unwrap();
            copied
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), ECHO_BYTES as u64);
    }
}

/// One echo client: writes its pattern in chunks from one task while
/// reading the echo in another, then checks every byte.
async fn echo_client(addr: SocketAddr, id: usize) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let sender = gorun::spawn(async move {
        let data: Vec<u8> = (0..ECHO_BYTES).map(|i| pattern(id, i)).collect();
        for chunk in data.chunks(ECHO_CHUNK) {
            writer.write_all(chunk).await.unwrap();
        }
        writer.close().await.unwrap();
    });
    let mut echoed = Vec::with_capacity(ECHO_BYTES);
    reader.read_to_end(&mut echoed).await.unwrap();
    sender.await.unwrap();
    assert_eq!(echoed.len(), ECHO_BYTES, "client {id}: wrong length");
    for (i, &b) in echoed.iter().enumerate() {
        assert_eq!(b, pattern(id, i), "client {id}: byte {i} differs");
    }
}

#[test]
fn echo_server_serves_200_concurrent_clients_without_loss() {
    let _w = common::watchdog(
        "echo_server_serves_200_concurrent_clients",
        Duration::from_secs(60),
    );
    gorun::run(async {
        let (listener, addr) = listener().await;
        let server = gorun::spawn(echo_server(listener, ECHO_CLIENTS));
        let clients: Vec<_> = (0..ECHO_CLIENTS)
            .map(|id| gorun::spawn(echo_client(addr, id)))
            .collect();
        for c in clients {
            c.await.unwrap();
        }
        server.await.unwrap();
    });
}

#[test]
fn read_of_closed_peer_returns_zero() {
    let _w = common::watchdog("read_of_closed_peer_returns_zero", Duration::from_secs(10));
    gorun::run(async {
        let (mut client, server) = connected_pair().await;
        drop(server);
        let mut buf = [0; 16];
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        // And again: end of stream stays end of stream.
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
    });
}

#[test]
fn data_sent_before_close_is_read_before_end_of_stream() {
    let _w = common::watchdog("data_sent_before_close", Duration::from_secs(10));
    gorun::run(async {
        let (mut client, mut server) = connected_pair().await;
        server.write_all(b"last words").await.unwrap();
        drop(server);
        let mut text = String::new();
        client.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "last words");
    });
}

#[test]
fn a_read_after_one_that_emptied_the_socket_waits_for_new_data() {
    // On Linux the first read learns that it took everything (TCP_INQ) and
    // the second waits for readiness without trying first: it must still
    // see data that arrives later.
    let _w = common::watchdog("read_after_emptying_read", Duration::from_secs(10));
    gorun::run(async {
        let (mut client, mut server) = connected_pair().await;
        let writer = gorun::spawn(async move {
            client.write_all(b"first").await.unwrap();
            gorun::sleep(Duration::from_millis(30)).await;
            client.write_all(b"second").await.unwrap();
            client
        });
        let mut buf = [0; 64];
        let n = server.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"first");
        let n = server.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"second");
        drop(writer.await.unwrap());
        assert_eq!(server.read(&mut buf).await.unwrap(), 0);
    });
}

#[test]
fn data_and_end_of_stream_queued_together_are_both_read() {
    // The data and the FIN arrive before the reader looks, so one readiness
    // event covers both: the read of the data must not count as having
    // emptied the socket, or the end of stream would never be seen.
    let _w = common::watchdog("data_and_fin_together", Duration::from_secs(10));
    gorun::run(async {
        let (mut client, mut server) = connected_pair().await;
        client.write_all(b"bye").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        gorun::sleep(Duration::from_millis(30)).await;
        let mut buf = [0; 64];
        let n = server.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"bye");
        assert_eq!(server.read(&mut buf).await.unwrap(), 0);
    });
}

#[test]
fn end_of_stream_after_an_emptying_read_is_seen() {
    // The reader empties the socket, then the peer closes: the FIN raises
    // a new readiness event that the waiting read must get.
    let _w = common::watchdog("fin_after_emptying_read", Duration::from_secs(10));
    gorun::run(async {
        let (mut client, mut server) = connected_pair().await;
        client.write_all(b"ping").await.unwrap();
        let mut buf = [0; 64];
        let n = server.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
        let closer = gorun::spawn(async move {
            gorun::sleep(Duration::from_millis(30)).await;
            drop(client);
        });
        assert_eq!(server.read(&mut buf).await.unwrap(), 0);
        closer.await.unwrap();
    });
}

#[test]
fn connect_to_closed_port_is_refused() {
    let _w = common::watchdog("connect_to_closed_port_is_refused", Duration::from_secs(10));
    gorun::run(async {
        let (listener, addr) = listener().await;
        drop(listener);
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
    });
}

#[test]
fn bind_to_address_in_use_fails_with_addr_in_use() {
    gorun::run(async {
        let (_listener, addr) = listener().await;
        let err = TcpListener::bind(addr).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
    });
}

#[test]
fn bind_tries_each_address_until_one_works() {
    gorun::run(async {
        let (_listener, taken) = listener().await;
        let free = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let second = TcpListener::bind(&[taken, free][..]).await.unwrap();
        assert_ne!(second.local_addr().unwrap(), taken);
    });
}

#[test]
fn connect_tries_each_address_until_one_accepts() {
    let _w = common::watchdog("connect_tries_each_address", Duration::from_secs(10));
    gorun::run(async {
        let (closed, closed_addr) = listener().await;
        drop(closed);
        let (listener, addr) = listener().await;
        let stream = TcpStream::connect(&[closed_addr, addr][..]).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), addr);
        drop(listener);
    });
}

#[test]
fn connect_resolves_localhost_on_the_blocking_pool() {
    let _w = common::watchdog("connect_resolves_localhost", Duration::from_secs(20));
    gorun::run(async {
        let (listener, addr) = listener().await;
        // "localhost" may resolve to ::1 first, which refuses: the next
        // address, 127.0.0.1, must then be tried.
        let stream = TcpStream::connect(("localhost", addr.port()))
            .await
            .unwrap();
        assert_eq!(stream.peer_addr().unwrap(), addr);
        drop(listener);
    });
}

#[test]
fn set_nodelay_round_trips() {
    gorun::run(async {
        let (client, _server) = connected_pair().await;
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap());
    });
}

#[test]
fn local_and_peer_addresses_mirror_each_other() {
    gorun::run(async {
        let (client, server) = connected_pair().await;
        assert_eq!(client.local_addr().unwrap(), server.peer_addr().unwrap());
        assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
    });
}

#[test]
fn shutdown_write_makes_peer_read_zero() {
    let _w = common::watchdog(
        "shutdown_write_makes_peer_read_zero",
        Duration::from_secs(10),
    );
    gorun::run(async {
        let (mut client, mut server) = connected_pair().await;
        client.write_all(b"req").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut request = Vec::new();
        server.read_to_end(&mut request).await.unwrap();
        assert_eq!(request, b"req");
        // The other direction still works after a half close.
        server.write_all(b"resp").await.unwrap();
        let mut buf = [0; 4];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"resp");
    });
}

#[test]
fn close_shuts_down_the_writing_side() {
    let _w = common::watchdog("close_shuts_down_the_writing_side", Duration::from_secs(10));
    gorun::run(async {
        let (mut client, mut server) = connected_pair().await;
        client.close().await.unwrap();
        assert_eq!(server.read(&mut [0; 8]).await.unwrap(), 0);
    });
}

#[test]
fn owned_halves_are_used_from_two_tasks_concurrently() {
    let _w = common::watchdog("owned_halves_from_two_tasks", Duration::from_secs(20));
    gorun::run(async {
        let (client, server) = connected_pair().await;
        // The server echoes through `&TcpStream`.
        let echo =
            gorun::spawn(async move { futures::io::copy(&server, &mut &server).await.unwrap() });
        // The client writes from one task and reads from another, at the
        // same time: 1 MiB is more than the socket buffers hold, so neither
        // side can finish without the other making progress.
        const TOTAL: usize = 1 << 20;
        let (mut reader, mut writer) = client.into_split();
        let write_task = gorun::spawn(async move {
            let data: Vec<u8> = (0..TOTAL).map(|i| pattern(7, i)).collect();
            writer.write_all(&data).await.unwrap();
            // Dropping the owned write half shuts the writing side down.
        });
        let read_task = gorun::spawn(async move {
            let mut back = Vec::with_capacity(TOTAL);
            reader.read_to_end(&mut back).await.unwrap();
            back
        });
        write_task.await.unwrap();
        let back = read_task.await.unwrap();
        assert_eq!(back.len(), TOTAL);
        assert!(back.iter().enumerate().all(|(i, &b)| b == pattern(7, i)));
        assert_eq!(echo.await.unwrap(), TOTAL as u64);
    });
}

#[test]
fn borrowed_halves_read_and_write_concurrently_in_one_task() {
    let _w = common::watchdog("borrowed_halves_in_one_task", Duration::from_secs(20));
    const TOTAL: usize = 1 << 20;
    gorun::run(async {
        let (client, server) = connected_pair().await;
        gorun::spawn(async move { futures::io::copy(&server, &mut &server).await });
        let (mut reader, mut writer): (ReadHalf<'_>, WriteHalf<'_>) = TcpStream::split(&client);
        // 1 MiB overflows the socket buffers: the write only finishes if
        // the read runs at the same time.
        let write = async {
            writer.write_all(&vec![0xa5; TOTAL]).await.unwrap();
            writer.close().await.unwrap();
        };
        let read = async {
            let mut back = Vec::with_capacity(TOTAL);
            reader.read_to_end(&mut back).await.unwrap();
            back
        };
        let ((), back) = futures::join!(write, read);
        assert_eq!(back.len(), TOTAL);
        assert!(back.iter().all(|&b| b == 0xa5));
    });
}

#[test]
fn dropping_owned_write_half_shuts_down_writing_side() {
    let _w = common::watchdog("dropping_owned_write_half", Duration::from_secs(10));
    gorun::run(async {
        let (client, mut server) = connected_pair().await;
        let (reader, writer) = client.into_split();
        drop(writer);
        assert_eq!(server.read(&mut [0; 8]).await.unwrap(), 0);
        // The reading half still works.
        server.write_all(b"still here").await.unwrap();
        let mut reader = reader;
        let mut buf = [0; 10];
        reader.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"still here");
    });
}

#[test]
fn incoming_yields_each_accepted_connection() {
    let _w = common::watchdog(
        "incoming_yields_each_accepted_connection",
        Duration::from_secs(10),
    );
    gorun::run(async {
        let (listener, addr) = listener().await;
        let clients: Vec<_> = (0..5u8)
            .map(|i| {
                gorun::spawn(async move {
                    let mut s = TcpStream::connect(addr).await.unwrap();
                    s.write_all(&[i]).await.unwrap();
                })
            })
            .collect();
        let mut seen = Vec::new();
        let mut incoming = listener.incoming().take(5);
        while let Some(stream) = incoming.next().await {
            let mut stream = stream.unwrap();
            let mut byte = [0; 1];
            stream.read_exact(&mut byte).await.unwrap();
            seen.push(byte[0]);
        }
        for c in clients {
            c.await.unwrap();
        }
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 2, 3, 4]);
    });
}

#[test]
fn accept_waits_without_blocking_other_tasks() {
    let _w = common::watchdog("accept_waits_without_blocking", Duration::from_secs(10));
    let rt = common::runtime(1);
    rt.block_on(async {
        let (listener, addr) = listener().await;
        let accepting = rt.spawn(async move { listener.accept().await.map(|(_, peer)| peer) });
        // With one worker, this task only runs if the accept parked.
        let other = rt.spawn(async { 42 });
        assert_eq!(other.await.unwrap(), 42);
        let client = TcpStream::connect(addr).await.unwrap();
        assert_eq!(
            accepting.await.unwrap().unwrap(),
            client.local_addr().unwrap()
        );
    });
}

#[test]
fn tight_read_loop_does_not_starve_other_task_on_one_worker() {
    let _w = common::watchdog("tight_read_loop_does_not_starve", Duration::from_secs(30));
    // Reads past the budget that a starved neighbour would let through.
    const MAX_READS: usize = 100_000;
    let rt = common::runtime(1);
    let (reads, neighbour_ran) = rt.block_on(async {
        let (mut client, server) = connected_pair().await;
        // The peer is gone: every read is ready at once and returns 0.
        drop(server);
        let ran = Arc::new(AtomicBool::new(false));
        let seen_by_hog = ran.clone();
        let hog = gorun::spawn(async move {
            // Spawned from the hog itself, so it is queued behind it on
            // the only worker, and runs only if the hog yields.
            let set_by_neighbour = seen_by_hog.clone();
            let neighbour =
                gorun::spawn(async move { set_by_neighbour.store(true, Ordering::SeqCst) });
            let mut reads = 0;
            while !seen_by_hog.load(Ordering::SeqCst) && reads < MAX_READS {
                assert_eq!(client.read(&mut [0; 8]).await.unwrap(), 0);
                reads += 1;
            }
            neighbour.await.unwrap();
            reads
        });
        let reads = hog.await.unwrap();
        (reads, ran.load(Ordering::SeqCst))
    });
    assert!(neighbour_ran);
    assert!(
        reads < MAX_READS,
        "the neighbour only ran after {reads} reads"
    );
}

#[test]
fn sequential_connections_are_each_served() {
    let _w = common::watchdog(
        "sequential_connections_are_each_served",
        Duration::from_secs(30),
    );
    gorun::run(async {
        let (listener, addr) = listener().await;
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let server = gorun::spawn(async move {
            for _ in 0..500 {
                let (mut s, _) = listener.accept().await.unwrap();
                s.write_all(b"x").await.unwrap();
                count.fetch_add(1, Ordering::SeqCst);
            }
        });
        for _ in 0..500 {
            let mut s = TcpStream::connect(addr).await.unwrap();
            let mut b = [0; 1];
            s.read_exact(&mut b).await.unwrap();
        }
        server.await.unwrap();
        assert_eq!(accepted.load(Ordering::SeqCst), 500);
    });
}

#[test]
fn types_and_futures_can_move_between_workers() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    gorun::run(async {
        let (listener, addr) = listener().await;
        send_sync(&listener);
        send(&TcpListener::bind("127.0.0.1:0"));
        send(&TcpStream::connect(addr));
        send(&listener.accept());
        send(&listener.incoming());
        let (client, _server) = connected_pair().await;
        send_sync(&client);
        {
            let (r, w) = TcpStream::split(&client);
            send_sync(&r);
            send_sync(&w);
        }
        let (r, w) = client.into_split();
        send_sync(&r);
        send_sync(&w);
    });
}

#[test]
fn io_is_noticed_while_every_worker_is_busy() {
    let _w = common::watchdog("I/O under load", Duration::from_secs(60));
    let rt = common::runtime(1);
    rt.block_on(rt.spawn(async {
        let (listener, addr) = listener().await;
        let peer = std::thread::spawn(move || {
            use std::io::Write;
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            std::thread::sleep(Duration::from_millis(5));
            stream.write_all(b"ping").unwrap();
            stream
        });
        let done = Arc::new(AtomicBool::new(false));
        let reader = {
            let done = done.clone();
            gorun::spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = [0; 4];
                stream.read_exact(&mut buf).await.unwrap();
                done.store(true, Ordering::SeqCst);
                buf
            })
        };
        // Keep the only worker busy (yielding through the budget, so it
        // never runs out of work and never blocks in the reactor) until the
        // reader is done. Only the busy worker's maintenance polls can see
        // the connection and the bytes; if they did not, this loop would
        // never end and the watchdog fails the test.
        while !done.load(Ordering::SeqCst) {
            gorun::consume_budget().await;
        }
        assert_eq!(&reader.await.unwrap(), b"ping");
        drop(peer.join().unwrap());
    }))
    .unwrap();
}
