//! RFC 9112 / RFC 9110 conformance: every MUST and MUST NOT of RFC 9112 (HTTP/1.1
//! messages) and of RFC 9110's message-handling sections that binds an origin server,
//! or a client parsing responses, with the test that shows it. Tests named here live in
//! other files of `http/tests/` (`file::test`) or below (`rfc9112::test`); every one
//! talks to a real server or client over a real socket. The first test checks that
//! every row names a test that exists, so the table cannot drift from the code.
//!
//! Requirements on proxies, caches, TLS and HTTP/2 are left out, as are the ones a
//! server meets by never doing the thing (sending obs-fold, bare CR, or whitespace
//! before the first header field: `write.rs` produces none of them).
//!
//! | where | requirement | shown by |
//! | --- | --- | --- |
//! | 9112 §2.2 | a bare CR in a request is invalid (MUST reject or replace) | strict::bare_cr_is_400 |
//! | 9112 §2.2 | whitespace between the start-line and the first field: MUST reject or ignore those lines | rfc9112::whitespace_before_the_first_field_is_400 |
//! | 9112 §2.3 | a major version the server does not speak is refused (505) | strict::http2_version_is_505 |
//! | 9112 §3 | a request-target longer than the server parses MUST be 414 | limits::long_request_line_is_414 |
//! | 9112 §3.2 | an HTTP/1.1 request without Host MUST be 400 | strict::missing_host_is_400 |
//! | 9112 §3.2 | more than one Host field line MUST be 400 | strict::two_hosts_is_400 |
//! | 9112 §3.2 | a Host with an invalid value MUST be 400 | forms::host_with_a_path_is_400 |
//! | 9112 §3.2 | (the same, other invalid values) | forms::host_with_a_letter_in_the_port_is_400 |
//! | 9112 §3.2 | a client MUST send Host in every HTTP/1.1 request | rfc9112::client_sends_host_and_frames_its_body |
//! | 9112 §3.2.2 | a server MUST accept the absolute-form | forms::absolute_form_is_routed_by_its_path_and_query_whatever_host_says |
//! | 9112 §3.2.3 | the authority-form only with CONNECT | forms::authority_form_without_connect_is_400 |
//! | 9112 §3.2.4 | the asterisk-form only with OPTIONS | forms::asterisk_without_options_is_400 |
//! | 9112 §3.3 | with an absolute-form target, the server MUST ignore Host | forms::absolute_form_is_routed_by_its_path_and_query_whatever_host_says |
//! | 9112 §5.1 | whitespace between a field name and the colon MUST be 400 | strict::space_before_colon_is_400 |
//! | 9112 §5.2 | obs-fold in a request: MUST reject (400) or replace with SP | strict::obs_fold_is_400 |
//! | 9112 §5.2 | obs-fold in a response: a user agent MUST replace it with SP | rfc9112::client_unfolds_obs_fold_in_a_response |
//! | 9112 §6.1 | Transfer-Encoding whose last coding is not chunked in a request MUST be 400, then close | strict::chunked_not_last_is_400 |
//! | 9112 §6.1 | chunked MUST NOT be applied more than once | rfc9112::chunked_twice_is_400 |
//! | 9112 §6.1 | Transfer-Encoding in an HTTP/1.0 message: faulty framing, close | forms::transfer_encoding_in_http10_is_400 |
//! | 9112 §6.1 | a server MUST NOT send Transfer-Encoding (nor Content-Length, §6.2) in a 1xx or 204 response | rfc9112::no_framing_headers_or_content_on_204_and_304 |
//! | 9112 §6.1 | a server MUST NOT send Transfer-Encoding to an HTTP/1.0 request | connection::streamed_body_is_chunked_on_http11_and_close_delimited_on_http10 |
//! | 9112 §6.2 | a sender MUST NOT send Content-Length with Transfer-Encoding | connection::streamed_body_is_chunked_on_http11_and_close_delimited_on_http10 |
//! | 9112 §6.2 | Content-Length in a HEAD response MUST equal what GET would send | connection::head_gets_get_headers_and_no_body |
//! | 9112 §6.3 ¶1 | a response to HEAD, or 1xx, 204, 304, has no content (client) | client::head_204_chunked_and_streamed_bodies |
//! | 9112 §6.3 ¶3 | both Content-Length and Transfer-Encoding: the server MUST close after responding | strict::length_and_chunked_is_400 |
//! | 9112 §6.3 ¶3 | in a response, Transfer-Encoding overrides Content-Length (client) | rfc9112::client_lets_transfer_encoding_override_content_length |
//! | 9112 §6.3 ¶4 | a response whose last coding is not chunked is read until close (client) | rfc9112::client_reads_a_non_chunked_coding_until_close |
//! | 9112 §6.3 ¶5 | an invalid Content-Length in a request MUST be 400 and close | strict::signed_length_is_400 |
//! | 9112 §6.3 ¶5 | an empty Content-Length value or list element (`5,`) is invalid too | strict::length_with_empty_element_is_400 |
//! | 9112 §6.3 ¶5 | (the same: differing values, spaces, hex, overflow) | strict::differing_lengths_is_400 |
//! | 9112 §6.3 ¶5 | an invalid Content-Length in a response: the client MUST close and discard it | rfc9112::client_refuses_an_invalid_content_length |
//! | 9112 §6.3 ¶6 | a request body cut short by close MUST be incomplete, and the connection closed | rfc9112::a_body_cut_short_is_incomplete_not_handled_as_whole |
//! | 9112 §6.3 ¶6 | a response body cut short: the client MUST treat it as incomplete | rfc9112::client_treats_a_short_response_body_as_an_error |
//! | 9112 §6.3 ¶7 | a request with neither field has no body | connection::keep_alive_serves_many_requests_on_one_connection |
//! | 9112 §6.3 | a user agent MUST send a valid Content-Length or chunked with a body | rfc9112::client_sends_host_and_frames_its_body |
//! | 9112 §7.1 | recipients MUST parse chunked | connection::chunked_body_with_extensions_and_trailers_is_decoded |
//! | 9112 §7.1 | recipients MUST guard against overflow of large chunk sizes | rfc9112::chunk_size_overflow_is_400 |
//! | 9112 §7.1 | bad chunk framing is refused (400) | strict::bad_chunk_size_is_400 |
//! | 9112 §7.1 | a chunk-size is 1*HEXDIG: an empty size line is not a last chunk | strict::empty_chunk_size_is_400 |
//! | 9112 §7.1.1 | a chunk extension is tokens or quoted strings: an LF inside it is refused | strict::lf_in_chunk_extension_is_400 |
//! | 9112 §7.1.2 | a trailer line must be a field line (`name: value`) | strict::trailer_without_colon_is_400 |
//! | 9112 §7.1.1 | a recipient MUST ignore unrecognized chunk extensions | connection::chunked_body_with_extensions_and_trailers_is_decoded |
//! | 9112 §7.1.2 | trailer fields MUST NOT be merged into the header section (simmer drops them) | rfc9112::trailers_do_not_become_headers |
//! | 9112 §9.3 | a server MUST read the whole body, or close after responding | forms::an_unread_body_still_arriving_is_read_and_dropped_after_the_response |
//! | 9112 §9.3 | (an unread body past the bound: close) | forms::an_unread_body_past_the_bound_is_answered_with_connection_close |
//! | 9112 §9.3 | persistence follows the version and Connection (HTTP/1.0) | connection::http10_closes_unless_it_asks_for_keep_alive |
//! | 9112 §9.3.2 | pipelined responses MUST be sent in request order | connection::thirty_two_pipelined_requests_in_one_write_are_answered_in_order |
//! | 9112 §9.6 | after "close" the server MUST close and MUST NOT process further requests | connection::connection_close_is_honoured_and_nothing_after_it_is_processed |
//! | 9112 §9.6 | a server that sends "close" MUST close and process nothing more | strict::missing_host_is_400 |
//! | 9112 §9.6 | a client that receives "close" MUST stop sending on that connection | rfc9112::client_opens_a_new_connection_after_close |
//! | 9112 §9.3.1 | a user agent MUST NOT retry a non-idempotent request by itself | rfc9112::client_does_not_resend_a_post_on_a_dropped_connection |
//! | 9110 §5.4 | a header section larger than the server processes MUST get a 4xx | limits::header_section_over_16k_is_431 |
//! | 9110 §5.5 | CR, LF or NUL in a field value: MUST reject or replace with SP | strict::nul_in_field_is_400 |
//! | 9110 §6.6.1 | an origin server with a clock MUST send Date in 2xx, 3xx, 4xx | connection::every_response_has_a_date_header |
//! | 9110 §9.3.2 | a response to HEAD MUST NOT have content | connection::head_gets_get_headers_and_no_body |
//! | 9110 §10.1.1 | a 100-continue expectation in an HTTP/1.0 request MUST be ignored | rfc9112::http10_expect_100_continue_gets_no_interim_response |
//! | 9110 §10.1.1 | after 100 Continue the server MUST send a final status | connection::expect_100_continue_is_answered_when_the_handler_reads_the_body |
//! | 9110 §15 | a client MUST treat an unknown status as the x00 of its class | rfc9112::client_keeps_an_unknown_status_and_reads_its_body |
//! | 9110 §15.2 | a client MUST parse 1xx responses before the final one, even unexpected | rfc9112::client_skips_interim_responses |
//! | 9110 §15.2 | a server MUST NOT send a 1xx to an HTTP/1.0 client | rfc9112::http10_expect_100_continue_gets_no_interim_response |
//! | 9110 §15.3.5, §15.4.5 | 204 and 304 responses end at the header section | rfc9112::no_framing_headers_or_content_on_204_and_304 |
//! | 9110 §15.5.6 | a 405 MUST carry Allow | app::unknown_path_is_404_and_wrong_method_is_405_with_allow |
mod support;

use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, TcpListener};

use simmer::http::client::{Client, ClientError};
use simmer::http::{Request, Response, Router, StatusCode};
use support::{exchange, read_response, serve, status_of};

fn app() -> Router {
    Router::new()
        .get("/", |_r: Request| async { "root" })
        .post("/echo", |mut req: Request| async move { req.body().await })
        .post("/headers", |mut req: Request| async move {
            let body = req.body().await?;
            let names: Vec<String> = req.headers().map(|(n, _)| n.to_lowercase()).collect();
            Ok::<_, simmer::http::HttpError>(format!("{} {}", body.len(), names.join(",")))
        })
        .get("/204", |_r: Request| async {
            Response::text("dropped").with_status(StatusCode::NO_CONTENT)
        })
        .get("/304-stream", |_r: Request| async {
            Response::stream(|tx| async move {
                let _ = tx.send("dropped".to_string()).await;
            })
            .with_status(StatusCode(304))
        })
}

#[test]
fn every_row_names_a_test_that_exists() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests");
    let this = include_str!("rfc9112.rs");
    let mut rows = 0;
    for line in this.lines().filter(|l| l.starts_with("//! | 91")) {
        let cell = line
            .trim_end_matches('|')
            .rsplit('|')
            .next()
            .unwrap()
            .trim();
        let (file, test) = cell.split_once("::").unwrap_or_else(|| panic!("{line}"));
        let source = std::fs::read_to_string(format!("{dir}/{file}.rs")).unwrap();
        // Plain tests are `fn name(`; the table-driven ones in strict.rs and forms.rs
        // are `name: b"..." => status;` rows of a macro.
        let defined =
            source.contains(&format!("fn {test}(")) || source.contains(&format!("    {test}: b\""));
        assert!(defined, "{file}.rs has no test {test}");
        rows += 1;
    }
    assert!(rows > 50, "the table has {rows} rows");
}

/// Sends `raw` on a new connection; the whole reply until the server closes.
fn reply_to(raw: &[u8]) -> String {
    serve(app).raw(raw)
}

#[test]
fn whitespace_before_the_first_field_is_400() {
    let reply = reply_to(b"GET / HTTP/1.1\r\n Host: a\r\n\r\n");
    assert_eq!(status_of(&reply), 400, "{reply}");
    assert!(reply.contains("Connection: close"), "{reply}");
}

#[test]
fn chunked_twice_is_400() {
    let reply = reply_to(
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
    );
    assert_eq!(status_of(&reply), 400, "{reply}");
}

#[test]
fn chunk_size_overflow_is_400() {
    // 2^64 + 5 as hex: an overflowing parser would see a 5-byte chunk.
    let reply = reply_to(
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
          10000000000000005\r\nhello\r\n0\r\n\r\n",
    );
    assert_eq!(status_of(&reply), 400, "{reply}");
    assert!(!reply.contains("hello"), "{reply}");
}

#[test]
fn a_body_cut_short_is_incomplete_not_handled_as_whole() {
    let server = serve(app);
    let mut s = server.connect();
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        .unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let reply = support::read_to_close(&mut s);
    assert_eq!(status_of(&reply), 400, "{reply}");
    assert!(
        !reply.ends_with("abc"),
        "the partial body was not echoed: {reply}"
    );
}

#[test]
fn trailers_do_not_become_headers() {
    let server = serve(app);
    let s = server.connect();
    let reply = exchange(
        &s,
        b"POST /headers HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
          3\r\nabc\r\n0\r\nX-Smuggled: 1\r\n\r\n",
    );
    assert_eq!(reply.text(), "3 host,transfer-encoding");
}

#[test]
fn no_framing_headers_or_content_on_204_and_304() {
    let server = serve(app);
    let s = server.connect();
    for path in ["/204", "/304-stream"] {
        (&s).write_all(format!("GET {path} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes())
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            (&s).read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap().to_lowercase();
        assert!(!head.contains("content-length"), "{head}");
        assert!(!head.contains("transfer-encoding"), "{head}");
    }
    // Nothing followed either head: the next response starts at once.
    assert_eq!(
        exchange(&s, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").text(),
        "root"
    );
}

#[test]
fn http10_expect_100_continue_gets_no_interim_response() {
    let server = serve(app);
    let mut s = server.connect();
    s.write_all(b"POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        .unwrap();
    // An HTTP/1.1 client would wait for the 100; this one sends its body anyway.
    s.write_all(b"hello").unwrap();
    let reply = support::read_to_close(&mut s);
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(!reply.contains("100 Continue"), "{reply}");
    assert!(reply.ends_with("hello"), "{reply}");
}

/// A server that answers each of its connections with the next canned reply, then
/// closes it; it returns what each connection sent.
fn canned(replies: Vec<&'static [u8]>) -> (String, std::thread::JoinHandle<Vec<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let thread = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for reply in replies {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            seen.push(read_request(&mut s));
            s.write_all(reply).unwrap();
            let _ = s.shutdown(Shutdown::Write);
            // Wait for the client to close, so the reply is never cut by a reset.
            let _ = s.read(&mut [0u8; 64]);
        }
        seen
    });
    (url, thread)
}

/// One request's head and (Content-Length) body.
fn read_request(s: &mut std::net::TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).unwrap() == 0 {
            return got;
        }
        got.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&got).to_lowercase();
    if let Some(len) = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|n| n.trim().parse::<usize>().ok())
    {
        let mut body = vec![0; len];
        s.read_exact(&mut body).unwrap();
        got.extend_from_slice(&body);
    }
    got
}

fn runtime() -> simmer::Runtime {
    simmer::Runtime::builder()
        .no_slow_poll_warnings()
        .build()
        .unwrap()
}

/// GETs `url` once; the status and body, or the error.
fn get(url: &str) -> Result<(u16, Vec<u8>), ClientError> {
    runtime().block_on(async {
        let response = Client::new().get(url).send().await?;
        let status = response.status().0;
        Ok((status, response.bytes().await?))
    })
}

#[test]
fn client_sends_host_and_frames_its_body() {
    let (url, server) = canned(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]);
    runtime().block_on(async {
        let response = Client::new()
            .post(&format!("{url}/up"))
            .body(b"hello".to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().0, 200);
    });
    let request = String::from_utf8(server.join().unwrap().remove(0)).unwrap();
    let lower = request.to_lowercase();
    let host = url.trim_start_matches("http://");
    assert!(
        lower.contains(&format!("\r\nhost: {host}\r\n")),
        "{request}"
    );
    assert!(lower.contains("\r\ncontent-length: 5\r\n"), "{request}");
    assert!(request.ends_with("\r\n\r\nhello"), "{request}");
}

#[test]
fn client_unfolds_obs_fold_in_a_response() {
    let (url, _server) = canned(vec![
        b"HTTP/1.1 200 OK\r\nX-Folded: one\r\n two\r\nContent-Length: 2\r\n\r\nok",
    ]);
    runtime().block_on(async {
        let response = Client::new().get(&url).send().await.unwrap();
        let folded = response.header("x-folded").unwrap().to_string();
        assert!(
            !folded.contains('\r') && !folded.contains('\n'),
            "{folded:?}"
        );
        assert_eq!(
            folded.split_whitespace().collect::<Vec<_>>(),
            ["one", "two"]
        );
        assert_eq!(response.bytes().await.unwrap(), b"ok");
    });
}

#[test]
fn client_lets_transfer_encoding_override_content_length() {
    let (url, _server) = canned(vec![
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ]);
    assert_eq!(get(&url).unwrap(), (200, b"hello".to_vec()));
}

#[test]
fn client_reads_a_non_chunked_coding_until_close() {
    let (url, _server) = canned(vec![
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nuntil close",
    ]);
    assert_eq!(get(&url).unwrap(), (200, b"until close".to_vec()));
}

#[test]
fn client_refuses_an_invalid_content_length() {
    for reply in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
    ] {
        let (url, _server) = canned(vec![reply]);
        let err = get(&url).expect_err(&String::from_utf8_lossy(reply));
        assert!(matches!(err, ClientError::MalformedResponse(_)), "{err}");
    }
}

#[test]
fn client_treats_a_short_response_body_as_an_error() {
    let (url, _server) = canned(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"]);
    assert!(get(&url).is_err());
}

#[test]
fn client_skips_interim_responses() {
    let (url, _server) = canned(vec![
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
          HTTP/1.1 199 Whatever\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal",
    ]);
    assert_eq!(get(&url).unwrap(), (200, b"final".to_vec()));
}

#[test]
fn client_keeps_an_unknown_status_and_reads_its_body() {
    let (url, _server) = canned(vec![b"HTTP/1.1 299 Fine\r\nContent-Length: 4\r\n\r\nbody"]);
    assert_eq!(get(&url).unwrap(), (299, b"body".to_vec()));
}

#[test]
fn client_opens_a_new_connection_after_close() {
    let (url, server) = canned(vec![
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb",
    ]);
    runtime().block_on(async {
        let client = Client::new();
        for expected in [b"a", b"b"] {
            let response = client.get(&url).send().await.unwrap();
            assert_eq!(&response.bytes().await.unwrap(), expected);
        }
    });
    // The canned server answers one request per connection: two connections were used.
    assert_eq!(server.join().unwrap().len(), 2);
}

#[test]
fn client_does_not_resend_a_post_on_a_dropped_connection() {
    // One connection: the first GET is answered keep-alive; the POST that reuses it
    // is read and the connection dropped without a reply.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        let (mut s, _) = listener.accept().unwrap();
        read_request(&mut s);
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")
            .unwrap();
        let post = read_request(&mut s);
        drop(s);
        // A resent POST would arrive on a new connection within the client's timeout.
        listener.set_nonblocking(true).unwrap();
        let resent = (0..50).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            listener.accept().is_ok()
        });
        (post, resent)
    });
    runtime().block_on(async {
        let client = Client::new();
        let first = client.get(&url).send().await.unwrap();
        assert_eq!(first.bytes().await.unwrap(), b"a");
        let posted = client.post(&url).body(b"once".to_vec()).send().await;
        assert!(posted.is_err(), "no reply came");
    });
    let (post, resent) = server.join().unwrap();
    assert!(
        post.starts_with(b"POST "),
        "{}",
        String::from_utf8_lossy(&post)
    );
    assert!(!resent, "the POST was sent again on a new connection");
}

#[test]
fn read_response_helper_sees_a_pipelined_pair() {
    // Guards the helper the server-side rows above lean on.
    let server = serve(app);
    let s = server.connect();
    (&s).write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    for _ in 0..2 {
        assert_eq!(read_response(&mut r, false).unwrap().text(), "root");
    }
}
