//! The server's side of a TLS connection: the handshake inside the connection's task,
//! bounded in time, and a plain-text answer for a client that spoke plain HTTP.
//!
//! A client that stalls, sends garbage or gives up mid-handshake costs its own
//! connection only: the handshake is one more `.await` in that connection's task, so
//! the loop goes on serving every other connection while it waits, and a timer ends
//! the wait.

use std::net::Shutdown;
use std::time::Duration;

use simmer_reactor::net::TcpStream;
use simmer_reactor::time::timeout;

use super::{ServerTls, TlsStream};

/// What a plain-HTTP request to the TLS port gets (as nginx answers it, with a 400).
const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Length: 59\r\n\
Connection: close\r\n\
\r\n\
This port speaks HTTPS: send the request to https:// here.\n";

/// Runs the server's handshake on `tcp` within `limit`. `None` if it failed or timed
/// out; the connection has then been answered (plain HTTP gets a 400 in plain text)
/// or is closed when the stream drops.
pub(crate) async fn accept(tcp: TcpStream, tls: &ServerTls, limit: Duration) -> Option<TlsStream> {
    let stream = TlsStream::new(tcp, tls.session().ok()?);
    match timeout(limit, stream.handshake()).await {
        Ok(Ok(())) => Some(stream),
        Ok(Err(_)) if looks_like_plain_http(&stream.first_bytes()) => {
            answer_plain_http(stream.tcp()).await;
            None
        }
        Ok(Err(_)) | Err(_) => None,
    }
}

/// True if a peer's first bytes are the start of an HTTP request line (`GET /`,
/// `POST /`…): a method in capitals, then a space (or the bytes end before it).
fn looks_like_plain_http(first: &[u8]) -> bool {
    let method_len = first.iter().take_while(|b| b.is_ascii_uppercase()).count();
    method_len > 0 && (method_len == first.len() || first[method_len] == b' ')
}

/// Writes the 400, half-closes, and reads what the client still sends (at most 64 KiB,
/// for at most a second), so the close does not become a reset that destroys the
/// answer before the client reads it.
async fn answer_plain_http(tcp: &TcpStream) {
    let answered = timeout(Duration::from_secs(1), tcp.write_all(PLAIN_HTTP_ANSWER)).await;
    if !matches!(answered, Ok(Ok(()))) || tcp.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let drain = async {
        let mut scratch = [0u8; 4096];
        let mut left = 64 * 1024;
        while left > 0 {
            match tcp.read(&mut scratch).await {
                Ok(0) | Err(_) => return,
                Ok(n) => left -= n.min(left),
            }
        }
    };
    let _ = timeout(Duration::from_secs(1), drain).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_told_from_tls_records() {
        assert!(looks_like_plain_http(b"GET / HT"));
        assert!(looks_like_plain_http(b"OPTIONS "));
        assert!(looks_like_plain_http(b"DELE"));
        assert!(!looks_like_plain_http(&[0x16, 0x03, 0x01, 0x02, 0x00]));
        assert!(!looks_like_plain_http(b"get / HT"));
        assert!(!looks_like_plain_http(b"GET/ HTT"));
        assert!(!looks_like_plain_http(b""));
    }

    #[test]
    fn the_plain_http_answer_declares_its_body_length() {
        let text = std::str::from_utf8(PLAIN_HTTP_ANSWER).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())));
    }
}
