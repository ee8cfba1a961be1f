//! TCP over real loopback sockets: echo under load, connect errors, shutdown.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use simmer::net::{TcpListener, TcpStream};
use simmer::Runtime;

/// Starts an echo server on its own thread and runtime; returns its address.
fn echo_server() -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                drop(simmer::spawn(async move {
                    let mut buf = [0u8; 4096];
                    loop {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => stream.write_all(&buf[..n]).await.unwrap(),
                        }
                    }
                }));
            }
        });
    });
    rx.recv().unwrap()
}

#[test]
fn thousand_concurrent_connections_each_exchange_100_messages() {
    let addr = echo_server();
    let rt = Runtime::new().unwrap();
    let checked = rt.block_on(async move {
        let clients: Vec<_> = (0..1000u32)
            .map(|client| {
                simmer::spawn(async move {
                    let stream = TcpStream::connect(addr).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    let mut reply = [0u8; 8];
                    for message in 0..100u32 {
                        let sent = [client.to_le_bytes(), message.to_le_bytes()].concat();
                        stream.write_all(&sent).await.unwrap();
                        stream.read_exact(&mut reply).await.unwrap();
                        assert_eq!(&reply[..], &sent[..], "client {client} message {message}");
                    }
                    100u32
                })
            })
            .collect();
        let mut total = 0;
        for client in clients {
            total += client.await.unwrap();
        }
        total
    });
    assert_eq!(checked, 100_000);
    let stats = rt.stats();
    assert!(stats.io_events > 0, "{stats:?}");
}

#[test]
fn vectored_write_and_half_close_deliver_everything() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = simmer::spawn(async move {
            let (stream, peer) = listener.accept().await.unwrap();
            assert_eq!(peer, stream.peer_addr().unwrap());
            let mut all = Vec::new();
            let mut buf = [0u8; 3];
            loop {
                match stream.read(&mut buf).await.unwrap() {
                    0 => return all,
                    n => all.extend_from_slice(&buf[..n]),
                }
            }
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let parts = [
            std::io::IoSlice::new(b"status line\r\n"),
            std::io::IoSlice::new(b"body"),
        ];
        let n = stream.write_vectored(&parts).await.unwrap();
        assert_eq!(n, 17);
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        assert_eq!(reader.await.unwrap(), b"status line\r\nbody");
    });
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    let rt = Runtime::new().unwrap();
    let addr = {
        // Bind then drop: nobody listens on this port afterwards.
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let err = rt.block_on(TcpStream::connect(addr)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

#[test]
fn connect_timeout_gives_up_with_timed_out() {
    // The first poll of a non-blocking connect is always pending (readiness arrives at
    // the next reactor turn), so a zero limit must expire before it completes.
    let rt = Runtime::new().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let err = rt
        .block_on(TcpStream::connect_timeout(addr, Duration::ZERO))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    // With time to finish, the same connect succeeds.
    let stream = rt
        .block_on(TcpStream::connect_timeout(addr, Duration::from_secs(5)))
        .unwrap();
    assert_eq!(stream.peer_addr().unwrap(), addr);
}

#[test]
fn sockets_outside_a_runtime_give_a_clear_error() {
    let err = TcpListener::bind("127.0.0.1:0").unwrap_err();
    assert!(err.to_string().contains("no simmer runtime"), "{err}");
}

/// Whether `poll_read_ready` says the socket is drained (`Pending`) right now.
async fn read_waits(stream: &TcpStream) -> bool {
    std::future::poll_fn(|cx| std::task::Poll::Ready(stream.poll_read_ready(cx).is_pending())).await
}

#[test]
fn poll_read_ready_waits_without_a_buffer_until_bytes_arrive() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        // Nothing sent yet: once a read has found the socket empty, readiness waits.
        let mut buf = [0u8; 64];
        let empty = simmer::time::timeout(Duration::from_millis(20), server.read(&mut buf)).await;
        assert!(empty.is_err(), "a read with nothing sent must wait");
        assert!(read_waits(&server).await, "drained socket reported ready");
        client.write_all(b"hello").await.unwrap();
        std::future::poll_fn(|cx| server.poll_read_ready(cx)).await;
        let n = server.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hello");
        // The short read proved the socket drained: not ready again until more comes.
        assert!(
            read_waits(&server).await,
            "socket ready after a short read drained it"
        );
        drop(client);
        std::future::poll_fn(|cx| server.poll_read_ready(cx)).await;
        assert_eq!(server.read(&mut buf).await.unwrap(), 0, "the close is seen");
    });
}
