//! Keep-alive, pipelining, HTTP/1.0, Connection: close, request and response bodies.
mod support;

use std::io::{BufReader, Read, Write};
use std::time::Duration;

use simmer::http::{Request, Response, Router};
use support::{exchange, read_response, read_to_close, serve, status_of};

fn app() -> Router {
    Router::new()
        .get("/n/{n}", |req: Request| async move {
            format!("reply {}", req.param("n").unwrap())
        })
        .post("/echo", |mut req: Request| async move { req.body().await })
        .post("/ignore", |_req: Request| async { "did not read the body" })
        .get("/stream", |_req: Request| async {
            Response::stream(|tx| async move {
                for i in 0..3 {
                    simmer::time::sleep(Duration::from_millis(5)).await;
                    if tx.send(format!("piece {i};")).await.is_err() {
                        return;
                    }
                }
            })
        })
}

#[test]
fn thirty_two_pipelined_requests_in_one_write_are_answered_in_order() {
    let server = serve(app);
    let s = server.connect();
    let batch: String = (0..32)
        .map(|i| format!("GET /n/{i} HTTP/1.1\r\nHost: a\r\n\r\n"))
        .collect();
    (&s).write_all(batch.as_bytes()).unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    for i in 0..32 {
        let reply = read_response(&mut reader, false).expect("one response per request");
        assert_eq!(reply.text(), format!("reply {i}"));
    }
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let server = serve(app);
    let s = server.connect();
    for i in 0..100 {
        let reply = exchange(
            &s,
            format!("GET /n/{i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes(),
        );
        assert_eq!(reply.text(), format!("reply {i}"));
        assert!(reply.header("connection").is_none());
    }
}

#[test]
fn connection_close_is_honoured_and_nothing_after_it_is_processed() {
    let server = serve(app);
    let reply = server.raw(b"GET /n/1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /n/2 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(reply.contains("Connection: close"));
    assert!(
        reply.contains("reply 1") && !reply.contains("reply 2"),
        "{reply}"
    );
}

#[test]
fn http10_closes_unless_it_asks_for_keep_alive() {
    let server = serve(app);
    let reply = server.raw(b"GET /n/1 HTTP/1.0\r\n\r\n");
    assert!(
        reply.contains("reply 1") && reply.contains("Connection: close"),
        "{reply}"
    );
    let s = server.connect();
    for i in 0..3 {
        let reply = exchange(
            &s,
            format!("GET /n/{i} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").as_bytes(),
        );
        assert_eq!(reply.header("connection"), Some("keep-alive"));
        assert_eq!(reply.text(), format!("reply {i}"));
    }
}

#[test]
fn content_length_body_is_echoed() {
    let server = serve(app);
    let s = server.connect();
    let body = "x".repeat(100_000);
    let reply = exchange(
        &s,
        format!(
            "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert_eq!(reply.body.len(), 100_000);
    // The connection is still usable.
    assert_eq!(
        exchange(&s, b"GET /n/7 HTTP/1.1\r\nHost: a\r\n\r\n").text(),
        "reply 7"
    );
}

#[test]
fn chunked_body_with_extensions_and_trailers_is_decoded() {
    let server = serve(app);
    let s = server.connect();
    let reply = exchange(
        &s,
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: yes\r\n\r\n",
    );
    assert_eq!(reply.text(), "hello world");
    assert_eq!(
        exchange(&s, b"GET /n/8 HTTP/1.1\r\nHost: a\r\n\r\n").text(),
        "reply 8"
    );
}

#[test]
fn expect_100_continue_is_answered_when_the_handler_reads_the_body() {
    let server = serve(app);
    let mut s = server.connect();
    s.write_all(
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    )
    .unwrap();
    let mut interim = [0u8; 25];
    s.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(b"hello").unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    assert_eq!(read_response(&mut reader, false).unwrap().text(), "hello");
}

#[test]
fn expect_100_continue_is_not_sent_when_the_handler_ignores_the_body() {
    let server = serve(app);
    let mut s = server.connect();
    s.write_all(
        b"POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    )
    .unwrap();
    let reply = read_to_close(&mut s);
    assert_eq!(status_of(&reply), 200, "{reply}");
    assert!(!reply.contains("100 Continue"));
    assert!(
        reply.contains("Connection: close"),
        "the unsent body makes the connection unusable"
    );
}

#[test]
fn an_unread_body_that_arrived_is_skipped_and_the_connection_reused() {
    let server = serve(app);
    let s = server.connect();
    let reply = exchange(
        &s,
        b"POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(reply.status, 200);
    assert_eq!(
        exchange(&s, b"GET /n/9 HTTP/1.1\r\nHost: a\r\n\r\n").text(),
        "reply 9"
    );
}

#[test]
fn head_gets_get_headers_and_no_body() {
    let server = serve(app);
    let s = server.connect();
    let head = exchange(&s, b"HEAD /n/5 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("7"));
    // No body was sent: the next response starts right away.
    assert_eq!(
        exchange(&s, b"GET /n/6 HTTP/1.1\r\nHost: a\r\n\r\n").text(),
        "reply 6"
    );
}

#[test]
fn streamed_body_is_chunked_on_http11_and_close_delimited_on_http10() {
    let server = serve(app);
    let s = server.connect();
    let reply = exchange(&s, b"GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(reply.header("transfer-encoding"), Some("chunked"));
    assert_eq!(reply.text(), "piece 0;piece 1;piece 2;");
    assert_eq!(
        exchange(&s, b"GET /n/1 HTTP/1.1\r\nHost: a\r\n\r\n").text(),
        "reply 1"
    );
    let reply = server.raw(b"GET /stream HTTP/1.0\r\n\r\n");
    assert!(!reply.contains("Transfer-Encoding") && !reply.contains("Content-Length"));
    assert!(reply.ends_with("piece 0;piece 1;piece 2;"), "{reply}");
}

#[test]
fn every_response_has_a_date_header() {
    let server = serve(app);
    let s = server.connect();
    let reply = exchange(&s, b"GET /n/1 HTTP/1.1\r\nHost: a\r\n\r\n");
    let date = reply.header("date").expect("Date header");
    assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
}
