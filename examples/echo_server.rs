//! An echo server with a goroutine per connection, and a built-in client
//! run that exercises it, then exits.
//!
//! Run it with `cargo run --release --example echo_server`. It listens on a
//! free loopback port only.

use std::net::SocketAddr;
use std::time::Instant;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use gorun::net::{TcpListener, TcpStream};

/// Clients connecting at the same time.
const CLIENTS: usize = 100;
/// Messages each client sends, waiting for each echo before the next.
const ROUND_TRIPS: usize = 100;
/// Bytes per message.
const MESSAGE: usize = 64;

fn main() {
    gorun::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        println!("echo server listening on {addr}");
        // The accept loop: `go serve(conn)` for each connection.
        gorun::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _peer)) => {
                        gorun::spawn(serve(stream));
                    }
                    Err(e) => eprintln!("accept: {e}"),
                }
            }
        });

        let started = Instant::now();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| gorun::spawn(client(addr, id)))
            .collect();
        let mut bytes = 0;
        for c in clients {
            bytes += c.await.expect("client task").expect("client I/O");
        }
        let elapsed = started.elapsed();
        let trips = CLIENTS * ROUND_TRIPS;
        println!(
            "{CLIENTS} clients made {trips} round trips ({bytes} bytes echoed) in {elapsed:.2?}: {:.0} round trips/s",
            trips as f64 / elapsed.as_secs_f64()
        );
    });
}

/// Echoes everything the peer sends until it closes its side.
async fn serve(stream: TcpStream) {
    let peer = stream.peer_addr();
    // Small echoes go out at once, as Go's connections do by default.
    let _ = stream.set_nodelay(true);
    // `&TcpStream` reads and writes: copy the stream into itself.
    if let Err(e) = futures::io::copy(&stream, &mut &stream).await {
        eprintln!("connection {peer:?}: {e}");
    }
}

/// Sends `ROUND_TRIPS` messages and checks each echo; returns the bytes
/// echoed.
async fn client(addr: SocketAddr, id: usize) -> std::io::Result<usize> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut message = [0u8; MESSAGE];
    let mut echo = [0u8; MESSAGE];
    for trip in 0..ROUND_TRIPS {
        message.fill((id + trip) as u8);
        stream.write_all(&message).await?;
        stream.read_exact(&mut echo).await?;
        assert_eq!(message, echo, "client {id}: echo differs on trip {trip}");
    }
    stream.close().await?;
    Ok(ROUND_TRIPS * MESSAGE)
}
