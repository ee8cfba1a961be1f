//! Resources under churn and abuse, against examples/backend in a child process:
//! its open fds and RSS after 30,000 short connections (a tenth vanishing mid-head),
//! and 5,000 connections trickling a byte a second, all cut at the header timeout while
//! a live client is still served.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/backend.rs"]
mod backend;
use backend::Backend;

/// Raises this process's soft RLIMIT_NOFILE to at least `want` (children inherit it).
fn raise_fd_limit(want: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_cur < want {
            limit.rlim_cur = want.min(limit.rlim_max);
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
    }
    assert!(
        limit.rlim_cur >= want,
        "RLIMIT_NOFILE hard limit {} is below the {want} this test needs",
        limit.rlim_max
    );
}

/// Waits (bounded) until `fds()` is back to `idle`; returns the last count.
fn settled_fds(server: &Backend, idle: usize) -> usize {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let now = server.open_fds();
        if now <= idle || Instant::now() > until {
            return now;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `count` connections over 4 threads; every tenth sends half a head and vanishes,
/// the others get their 200 and see the server close.
fn churn(addr: &str, count: usize) {
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let addr = addr.to_string();
            std::thread::spawn(move || {
                for i in (t..count).step_by(4) {
                    let mut s = TcpStream::connect(&addr).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    if i % 10 == 0 {
                        s.write_all(b"GET /hello HTTP/1.1\r\nHo").unwrap();
                        continue; // dropped: gone mid-head
                    }
                    s.write_all(b"GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                        .unwrap();
                    let mut reply = Vec::new();
                    s.read_to_end(&mut reply).unwrap();
                    assert!(reply.starts_with(b"HTTP/1.1 200 OK\r\n"), "connection {i}");
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
}

#[test]
fn thirty_thousand_short_connections_leave_fds_and_rss_flat() {
    let server = Backend::start("127.0.0.1:0", &[]);
    // The first connection opens the runtime's lazily made descriptors (a few): count
    // from after it.
    assert!(backend::get(&server.addr, "/hello").ends_with("Hello, World!"));
    let idle_fds = server.open_fds();
    churn(&server.addr, 3_000); // warm-up: buffers, slab, allocator pools
    let warm_fds = settled_fds(&server, idle_fds);
    let warm_rss = server.rss_kib();
    churn(&server.addr, 27_000);
    let after_fds = settled_fds(&server, idle_fds);
    let after_rss = server.rss_kib();
    eprintln!(
        "fds idle {idle_fds} warm {warm_fds} after {after_fds}; RSS warm {warm_rss} KiB after {after_rss} KiB"
    );
    assert_eq!(warm_fds, idle_fds, "fds back to idle after the warm-up");
    assert_eq!(
        after_fds, idle_fds,
        "fds back to idle after 30,000 connections"
    );
    // Nine times the warm-up's connections may not grow memory by more than 10%.
    assert!(
        after_rss <= warm_rss + warm_rss / 10,
        "RSS grew from {warm_rss} KiB to {after_rss} KiB"
    );
    assert!(backend::get(&server.addr, "/hello").ends_with("Hello, World!"));
}

#[test]
fn five_thousand_trickling_heads_are_cut_at_the_header_timeout_while_others_are_served() {
    const TRICKLERS: usize = 5_000;
    raise_fd_limit(3 * TRICKLERS as u64);
    let server = Backend::start("127.0.0.1:0", &["--header-timeout-ms", "1500"]);
    assert!(backend::get(&server.addr, "/hello").ends_with("Hello, World!"));
    let idle_fds = server.open_fds();

    // A live client on one keep-alive connection, timing each request.
    let done = Arc::new(AtomicBool::new(false));
    let live = {
        let (addr, done) = (server.addr.clone(), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut latencies = Vec::new();
            let mut buf = [0u8; 4096];
            while !done.load(Ordering::Relaxed) {
                let start = Instant::now();
                s.write_all(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                    .unwrap();
                let n = s.read(&mut buf).unwrap();
                assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK\r\n"));
                assert!(
                    buf[..n].ends_with(b"Hello, World!"),
                    "one read, one response"
                );
                latencies.push(start.elapsed());
                std::thread::sleep(Duration::from_millis(2));
            }
            latencies
        })
    };

    let request = b"GET /hello HTTP/1.1\r\nHost: trickle\r\nX-Padding: aaaaaaaaaaaaaaaa\r\n";
    let mut tricklers: Vec<Option<TcpStream>> = (0..TRICKLERS)
        .map(|_| {
            let s = TcpStream::connect(&server.addr).unwrap();
            s.set_nonblocking(true).unwrap();
            Some(s)
        })
        .collect();
    let (mut cut, mut got_408) = (0, 0);
    let mut sent = 0;
    let give_up = Instant::now() + Duration::from_secs(60);
    while cut < TRICKLERS && Instant::now() < give_up {
        for slot in tricklers.iter_mut() {
            let Some(s) = slot else { continue };
            let mut buf = [0u8; 512];
            let closed = match s.read(&mut buf) {
                Ok(0) => true,
                Ok(n) => {
                    got_408 += usize::from(buf[..n].starts_with(b"HTTP/1.1 408 "));
                    true
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    // Never completes the head: one more byte of it.
                    matches!(s.write(&request[sent % request.len()..][..1]), Err(e) if e.kind() != ErrorKind::WouldBlock)
                }
                Err(_) => true,
            };
            if closed {
                *slot = None;
                cut += 1;
            }
        }
        sent += 1;
        std::thread::sleep(Duration::from_secs(1)); // a byte a second, as promised
    }
    done.store(true, Ordering::Relaxed);
    let mut latencies = live.join().unwrap();
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    eprintln!(
        "{cut} of {TRICKLERS} trickling heads cut ({got_408} saw the 408) after {sent} bytes each at most; \
         live client: {} requests, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        p99.as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3
    );
    assert_eq!(cut, TRICKLERS, "every trickling connection was cut");
    // The server answers 408 and closes; when a trickled byte crosses the close, the
    // peer's kernel answers it with a reset that can discard the 408 before it is read,
    // so only some clients see it.
    assert!(got_408 > 0, "the cut is the header timeout's 408");
    assert!(sent < request.len(), "cut before any head could complete");
    assert!(
        latencies.len() >= 10,
        "the live client was served throughout"
    );
    assert_eq!(settled_fds(&server, idle_fds), idle_fds);
}
