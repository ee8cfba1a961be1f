//! Request-target forms, Host validity, Transfer-Encoding in HTTP/1.0 and unread
//! bodies (RFC 9112 §3.2, §6.1, §9.3; RFC 9110 §7.2), over a real socket.
mod support;

use std::io::{BufReader, Write};

use simmer::http::{Request, Router};
use support::{read_response, read_to_close, serve, status_of};

fn app() -> Router {
    Router::new()
        .get("/where", |req: Request| async move {
            format!("{} {:?}", req.path(), req.query_string())
        })
        .get("/", |_r| async { "root" })
        .post("/ignore", |_r| async { "ignored" })
        .post("/echo", |mut req: Request| async move { req.body().await })
}

/// Sends `raw` on one connection and returns every response until the server closes.
fn replies(server: &support::TestServer, raw: &[u8]) -> Vec<support::RawResponse> {
    let s = server.connect();
    (&s).write_all(raw).unwrap();
    let mut r = BufReader::new(s);
    std::iter::from_fn(|| read_response(&mut r, false)).collect()
}

#[test]
fn absolute_form_is_routed_by_its_path_and_query_whatever_host_says() {
    let server = serve(app);
    let got = replies(
        &server,
        b"GET http://example.com:8080/where?x=1 HTTP/1.1\r\nHost: other\r\n\r\n\
          GET HTTP://example.com HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].status, 200);
    assert_eq!(got[0].text(), "/where Some(\"x=1\")");
    assert_eq!(got[1].text(), "root", "an empty path is /");
}

/// (request, status): each bad one is answered and the connection closed.
macro_rules! rejects {
    ($($name:ident: $raw:expr => $status:expr;)*) => {
        $(
            #[test]
            fn $name() {
                let server = serve(app);
                let mut raw = $raw.to_vec();
                raw.extend_from_slice(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
                let reply = server.raw(&raw);
                assert_eq!(status_of(&reply), $status, "{reply}");
                assert!(reply.contains("Connection: close"), "{reply}");
                assert_eq!(reply.matches("Server: simmer").count(), 1, "{reply}");
            }
        )*
    };
}

rejects! {
    authority_form_without_connect_is_400: b"GET example.com:80 HTTP/1.1\r\nHost: example.com\r\n\r\n" => 400;
    asterisk_without_options_is_400: b"GET * HTTP/1.1\r\nHost: a\r\n\r\n" => 400;
    connect_with_origin_form_is_400: b"CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n" => 400;
    unknown_scheme_is_400: b"GET ftp://a/where HTTP/1.1\r\nHost: a\r\n\r\n" => 400;
    absolute_form_without_host_header_is_400: b"GET http://a/where HTTP/1.1\r\n\r\n" => 400;
    host_with_a_space_is_400: b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n" => 400;
    host_with_a_path_is_400: b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n" => 400;
    host_with_userinfo_is_400: b"GET / HTTP/1.1\r\nHost: user@a\r\n\r\n" => 400;
    host_with_a_letter_in_the_port_is_400: b"GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n" => 400;
    host_with_a_bad_ipv6_literal_is_400: b"GET / HTTP/1.1\r\nHost: [::1:zz]\r\n\r\n" => 400;
    transfer_encoding_in_http10_is_400: b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" => 400;
    bad_chunk_framing_in_an_unread_body_is_400: b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX\r\n0\r\n\r\n" => 400;
}

#[test]
fn options_asterisk_and_connect_authority_are_accepted_but_route_nowhere() {
    let server = serve(app);
    let got = replies(
        &server,
        b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n\
          CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nConnection: close\r\n\r\n",
    );
    let statuses: Vec<u16> = got.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [404, 404]);
}

#[test]
fn valid_hosts_are_accepted() {
    let server = serve(app);
    for host in [
        "a",
        "",
        "a.example:8080",
        "127.0.0.1:1",
        "[::1]:80",
        "[v1.x]",
        "a%2Db",
        "x_y-z~!$",
    ] {
        let raw = format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        let reply = server.raw(raw.as_bytes());
        assert_eq!(status_of(&reply), 200, "Host: {host}: {reply}");
    }
}

#[test]
fn an_unread_chunked_body_is_skipped_and_the_pipelined_request_behind_it_answered() {
    let server = serve(app);
    let got = replies(
        &server,
        b"GET /where HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n\
          POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc\
          GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    let texts: Vec<String> = got.iter().map(|r| r.text()).collect();
    assert_eq!(texts, ["/where None", "ignored", "root"]);
    assert!(got[..2].iter().all(|r| r.header("connection").is_none()));
}

#[test]
fn an_unread_body_still_arriving_is_read_and_dropped_after_the_response() {
    let server = serve(app);
    let s = server.connect();
    (&s).write_all(
        b"POST /ignore HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab",
    )
    .unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let first = read_response(&mut r, false).unwrap();
    assert_eq!((first.status, first.text().as_str()), (200, "ignored"));
    assert_eq!(first.header("connection"), None, "the connection stays");
    (&s).write_all(b"cd\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut r, false).unwrap().text(), "root");
}

#[test]
fn bad_framing_found_after_the_response_closes_the_connection() {
    let server = serve(app);
    let mut s = server.connect();
    s.write_all(b"POST /ignore HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab")
        .unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    assert_eq!(read_response(&mut r, false).unwrap().status, 200);
    s.write_all(b"cdXX\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    let rest = read_to_close(&mut s);
    assert!(
        !rest.contains("root"),
        "nothing after a broken body: {rest}"
    );
}

#[test]
fn an_unread_body_past_the_bound_is_answered_with_connection_close() {
    let server = serve(app);
    let mut s = server.connect();
    let body = vec![b'x'; 100_000];
    let mut raw = b"POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n".to_vec();
    raw.extend_from_slice(&body);
    s.write_all(&raw).unwrap();
    let reply = read_to_close(&mut s);
    assert_eq!(status_of(&reply), 200, "{reply}");
    assert!(reply.contains("Connection: close"), "{reply}");
}

#[test]
fn an_unread_chunked_body_past_the_bound_closes_after_the_response() {
    let server = serve(app);
    let mut s = server.connect();
    let mut raw =
        b"POST /ignore HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..20 {
        raw.extend_from_slice(b"1000\r\n");
        raw.extend_from_slice(&[b'y'; 0x1000]);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    s.write_all(&raw).unwrap();
    let reply = read_to_close(&mut s);
    assert_eq!(status_of(&reply), 200, "{reply}");
    assert!(
        !reply.contains("root"),
        "80 KiB is past the 64 KiB bound: {reply}"
    );
}
