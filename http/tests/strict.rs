//! RFC 9112 strictness over a real socket: each bad request is answered with its
//! status, then the connection is closed (nothing after it is processed).
mod support;

use simmer::http::Router;
use support::{serve, status_of};

fn app() -> Router {
    Router::new()
        .get("/", || async { "root" })
        .post("/", || async { "posted" })
        .post("/echo", |mut req: simmer::http::Request| async move {
            req.body().await
        })
}

/// (request bytes, expected status). A valid request follows each bad one on the same
/// connection: it must not be answered.
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
                assert_eq!(reply.matches("Server: simmer").count(), 1, "nothing after the error: {reply}");
            }
        )*
    };
}

rejects! {
    missing_host_is_400: b"GET / HTTP/1.1\r\n\r\n" => 400;
    two_hosts_is_400: b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" => 400;
    length_and_chunked_is_400: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" => 400;
    differing_lengths_is_400: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab" => 400;
    signed_length_is_400: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n" => 400;
    empty_length_is_400: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n" => 400;
    length_with_empty_element_is_400: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3,\r\n\r\nabc" => 400;
    spaced_length_is_400: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n" => 400;
    hex_length_is_400: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0xA\r\n\r\n" => 400;
    overflowing_length_is_400: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 184467440737095516160\r\n\r\n" => 400;
    chunked_not_last_is_400: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n" => 400;
    unknown_coding_is_501: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: br, chunked\r\n\r\n" => 501;
    obs_fold_is_400: b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  continued\r\n\r\n" => 400;
    space_before_colon_is_400: b"GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n" => 400;
    bare_cr_is_400: b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r2\r\n\r\n" => 400;
    nul_in_field_is_400: b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\x002\r\n\r\n" => 400;
    control_byte_in_field_is_400: b"GET / HTTP/1.1\r\nHost: a\r\nX-A: \x1b[31m\r\n\r\n" => 400;
    bad_method_token_is_400: b"GE{T / HTTP/1.1\r\nHost: a\r\n\r\n" => 400;
    space_in_target_is_400: b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n" => 400;
    http2_version_is_505: b"GET / HTTP/2.0\r\nHost: a\r\n\r\n" => 505;
    bad_chunk_size_is_400: b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" => 400;
    chunk_without_crlf_is_400: b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n" => 400;
    empty_chunk_size_is_400: b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n\r\nhello\r\n0\r\n\r\n" => 400;
    lf_in_chunk_extension_is_400: b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nhello\r\n0\r\n\r\n" => 400;
    trailer_without_colon_is_400: b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\ngarbage\r\n\r\n" => 400;
    trailer_with_space_before_colon_is_400: b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX :v\r\n\r\n" => 400;
}

#[test]
fn a_leading_empty_line_is_ignored() {
    let server = serve(app);
    let reply = server.raw(b"\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert_eq!(status_of(&reply), 200, "{reply}");
    assert!(reply.ends_with("root"));
}
