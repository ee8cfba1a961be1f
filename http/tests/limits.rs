//! Limits and timeouts over a real socket: 414, 431, 413, 408, idle keep-alive, a client
//! that stops reading.
mod support;

use std::io::{BufReader, Write};
use std::time::{Duration, Instant};

use simmer::http::{Request, Response, Router, ServerConfig};
use support::{exchange, read_response, read_to_close, serve, serve_with, status_of};

fn app() -> Router {
    Router::new()
        .get("/", || async { "root" })
        .post("/echo", |mut req: Request| async move { req.body().await })
}

#[test]
fn long_request_line_is_414() {
    let server = serve(app);
    let target = "a".repeat(9000);
    let reply = server.raw(format!("GET /{target} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes());
    assert_eq!(status_of(&reply), 414, "{reply}");
}

#[test]
fn header_section_over_16k_is_431() {
    let server = serve(app);
    let big = "v".repeat(17 * 1024);
    let reply = server.raw(format!("GET / HTTP/1.1\r\nHost: a\r\nX-Big: {big}\r\n\r\n").as_bytes());
    assert_eq!(status_of(&reply), 431, "{reply}");
}

#[test]
fn more_than_100_fields_is_431_and_the_limit_is_configurable() {
    let fields: String = (0..101).map(|i| format!("X-{i}: v\r\n")).collect();
    let request = format!("GET / HTTP/1.1\r\nHost: a\r\n{fields}Connection: close\r\n\r\n");
    let server = serve(app);
    assert_eq!(status_of(&server.raw(request.as_bytes())), 431);
    let roomy = ServerConfig {
        max_headers: 200,
        ..ServerConfig::default()
    };
    let server = serve_with(roomy, app);
    assert_eq!(status_of(&server.raw(request.as_bytes())), 200);
}

#[test]
fn declared_body_over_the_limit_is_413_without_reading_it() {
    let config = ServerConfig {
        max_body_bytes: 1000,
        ..ServerConfig::default()
    };
    let server = serve_with(config, app);
    // Only the head is sent: the 413 must come anyway.
    let reply = server.raw(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n");
    assert_eq!(status_of(&reply), 413, "{reply}");
    assert!(reply.contains("Connection: close"));
}

#[test]
fn chunked_body_over_the_limit_is_413() {
    let config = ServerConfig {
        max_body_bytes: 10,
        ..ServerConfig::default()
    };
    let server = serve_with(config, app);
    let reply = server.raw(
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n",
    );
    assert_eq!(status_of(&reply), 413, "{reply}");
}

#[test]
fn slow_client_is_cut_off_by_the_header_timeout_with_408() {
    let config = ServerConfig {
        header_read_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    };
    let server = serve_with(config, app);
    let mut s = server.connect();
    s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n").unwrap(); // never finishes the head
    let started = Instant::now();
    let reply = read_to_close(&mut s);
    assert_eq!(status_of(&reply), 408, "{reply}");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "not before the timeout"
    );
}

#[test]
fn a_head_trickling_in_is_timed_from_its_first_byte() {
    let config = ServerConfig {
        header_read_timeout: Duration::from_millis(400),
        ..ServerConfig::default()
    };
    let server = serve_with(config, app);
    let mut s = server.connect();
    // One byte every 50 ms: each byte is within the timeout, the whole head is not.
    let head = b"GET / HTTP/1.1\r\nHost: a\r\nX-Padding: 0123456789\r\n\r\n";
    let mut cut_off = false;
    for byte in head {
        if s.write_all(&[*byte]).is_err() {
            cut_off = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let reply = read_to_close(&mut s);
    assert!(
        cut_off || status_of(&reply) == 408,
        "trickling head must time out: {reply}"
    );
}

#[test]
fn a_request_fed_one_byte_at_a_time_is_answered() {
    let server = serve(app);
    let mut s = server.connect();
    s.set_nodelay(true).unwrap();
    for byte in
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
    {
        s.write_all(&[*byte]).unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
    let reply = read_to_close(&mut s);
    assert_eq!(status_of(&reply), 200, "{reply}");
    assert!(reply.ends_with("hello"));
}

#[test]
fn idle_keep_alive_connections_are_closed_after_the_idle_timeout() {
    let config = ServerConfig {
        keep_alive_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    };
    let server = serve_with(config, app);
    let mut s = server.connect();
    let first = exchange(&s, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(first.status, 200);
    // Nothing more is sent: the server closes the connection without a response.
    assert_eq!(read_to_close(&mut s), "");
}

#[test]
fn a_keep_alive_timeout_shorter_than_the_grace_still_closes_the_connection() {
    // The server keeps a connection's buffers for a short grace after each response
    // (10 ms); a keep-alive timeout below it bounds the grace too.
    let config = ServerConfig {
        keep_alive_timeout: Duration::from_millis(2),
        ..ServerConfig::default()
    };
    let server = serve_with(config, app);
    let mut s = server.connect();
    let first = exchange(&s, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(first.status, 200);
    let started = Instant::now();
    assert_eq!(read_to_close(&mut s), "");
    // The connect's read timeout is 10 s: a grace that never ended would fail here.
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn connections_past_the_grace_limit_still_close_after_the_keep_alive_timeout() {
    // 80 connections answered at once: the server keeps 64 in their grace, and the
    // others go idle at once. Every one is closed after the keep-alive timeout, none
    // left until its header timeout (10 s, the read timeout of these sockets).
    let config = ServerConfig {
        keep_alive_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    };
    let server = serve_with(config, app);
    let mut conns: Vec<_> = (0..80).map(|_| server.connect()).collect();
    for s in &mut conns {
        s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    }
    for s in &conns {
        let reply = read_response(&mut BufReader::new(s.try_clone().unwrap()), false);
        assert_eq!(reply.expect("a response").status, 200);
    }
    let started = Instant::now();
    for s in &mut conns {
        assert_eq!(read_to_close(s), "");
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_connection_answered_just_before_shutdown_lets_the_server_stop() {
    // Its grace does not hold the drain up: the server stops, and the connection is
    // closed, not left waiting for its keep-alive timeout (5 s by default).
    let server = serve(app);
    let mut s = server.connect();
    assert_eq!(
        exchange(&s, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").status,
        200
    );
    let started = Instant::now();
    server.stop().unwrap();
    assert_eq!(read_to_close(&mut s), "");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn each_request_restarts_the_idle_timeout() {
    let config = ServerConfig {
        keep_alive_timeout: Duration::from_millis(400),
        ..ServerConfig::default()
    };
    let server = serve_with(config, app);
    let s = server.connect();
    let started = Instant::now();
    // Four requests 150 ms apart: the connection lives well past one idle timeout,
    // because every request pushes the timer back.
    for _ in 0..4 {
        let reply = exchange(&s, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(reply.status, 200);
        std::thread::sleep(Duration::from_millis(150));
    }
    assert!(started.elapsed() > Duration::from_millis(400));
    let reply = exchange(&s, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(
        reply.status, 200,
        "still open after more than one idle timeout"
    );
}

#[test]
fn bad_configuration_is_rejected_with_its_name() {
    let rt = simmer::Runtime::new().unwrap();
    let err = rt
        .block_on(async {
            let zero = ServerConfig {
                max_connections: 0,
                ..ServerConfig::default()
            };
            simmer::http::Server::bind("127.0.0.1:0")?
                .with_config(zero)
                .map(|_| ())
        })
        .unwrap_err();
    assert!(err.to_string().contains("max_connections"), "{err}");
}

#[test]
fn connection_limit_makes_new_clients_wait_in_the_backlog() {
    let config = ServerConfig {
        max_connections: 1,
        ..ServerConfig::default()
    };
    let server = serve_with(config, app);
    let first = server.connect();
    assert_eq!(
        exchange(&first, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").status,
        200
    );
    // The second connects (kernel backlog) but is not served while the first is open.
    let second = server.connect();
    second
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    (&second)
        .write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(second.try_clone().unwrap());
    assert!(
        read_response(&mut reader, false).is_none(),
        "served over the limit"
    );
    drop(first); // frees the slot
    second
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let reply = read_response(&mut reader, false).expect("served once a slot was free");
    assert_eq!(reply.status, 200);
}

#[test]
fn a_body_that_stops_arriving_gets_408_after_the_body_read_timeout() {
    let config = ServerConfig {
        body_read_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    };
    let server = serve_with(config, app);
    let mut s = server.connect();
    // Ten bytes promised, three sent, then silence.
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        .unwrap();
    let reply = read_to_close(&mut s);
    assert_eq!(status_of(&reply), 408, "{reply}");
    assert!(reply.contains("Connection: close"));
}

#[test]
fn a_client_that_stops_reading_is_cut_off_by_the_write_timeout() {
    const BODY: usize = 64 << 20; // far more than the socket buffers hold
    let config = ServerConfig {
        write_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    };
    let server = serve_with(config, || {
        app().get("/big", || async { Response::bytes(vec![b'x'; BODY]) })
    });
    let mut stalled = server.connect();
    stalled
        .write_all(b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    // The stalled client reads nothing for three write timeouts; meanwhile another
    // connection is answered as usual.
    let stalled_since = Instant::now();
    let other = server.connect();
    assert_eq!(
        exchange(&other, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").status,
        200
    );
    while stalled_since.elapsed() < Duration::from_millis(600) {
        std::thread::sleep(Duration::from_millis(50));
    }
    // What the socket buffers held arrives, then the close: never the whole body.
    let mut received = 0;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match std::io::Read::read(&mut stalled, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => received += n,
        }
    }
    assert!(received > 0, "the response started");
    assert!(
        received < BODY,
        "{received} bytes: the server kept writing to a client that stopped reading"
    );
    assert_eq!(
        exchange(&other, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").status,
        200
    );
}
