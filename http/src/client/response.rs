//! Sending one request on a connection and reading the response.

use std::rc::Rc;
use std::time::Instant;

use simmer_reactor::time::timeout;

use super::url::Url;
use super::{Client, ClientError};
use crate::body::BodyReader;
use crate::conn_io::{BodyProgress, ChunkState, ConnIo};
use crate::error::HttpError;
use crate::method::Method;
use crate::status::StatusCode;

/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// Why an exchange failed, and whether the request could safely be sent again.
pub(crate) enum Failure {
    /// Nothing of a reply arrived (the connection was dead): retryable if idempotent.
    BeforeReply(ClientError),
    /// Anything else.
    Other(ClientError),
}

impl Failure {
    pub(crate) fn into_error(self) -> ClientError {
        match self {
            Failure::BeforeReply(e) | Failure::Other(e) => e,
        }
    }
}

/// Writes `request` on `io` and reads the response head.
pub(crate) async fn exchange(
    io: ConnIo,
    request: &[u8],
    method: &Method,
    client: &Client,
    url: &Url,
    deadline: Option<Instant>,
) -> Result<ClientResponse, Failure> {
    let io = Rc::new(io);
    io.stream
        .write_all(request)
        .await
        .map_err(|e| Failure::BeforeReply(ClientError::Io(e)))?;
    let head = read_head(&io).await?;
    let no_body =
        *method == Method::Head || head.status < 200 || head.status == 204 || head.status == 304;
    let progress = if no_body {
        BodyProgress::Done
    } else if head.chunked {
        BodyProgress::Chunked(ChunkState::Size)
    } else if let Some(n) = head.length {
        if n == 0 {
            BodyProgress::Done
        } else {
            BodyProgress::Length(n)
        }
    } else {
        BodyProgress::UntilClose
    };
    io.body.set(progress);
    let keep_alive = head.keep_alive && progress != BodyProgress::UntilClose;
    let limit = client.inner.config.max_body_bytes;
    Ok(ClientResponse {
        status: StatusCode(head.status),
        headers: head.headers,
        body: BodyReader::new(Some(Rc::clone(&io)), limit),
        io: Some(io),
        keep_alive,
        client: client.clone(),
        host: url.host.clone(),
        port: url.port,
        tls: url.tls,
        deadline,
        limit,
    })
}

/// A parsed response head: what the client needs of it.
pub(crate) struct Head {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) chunked: bool,
    pub(crate) length: Option<u64>,
    pub(crate) keep_alive: bool,
}

/// Reads response heads until a final (non-1xx) one.
pub(crate) async fn read_head(io: &ConnIo) -> Result<Head, Failure> {
    let mut received_any = false;
    loop {
        let parsed = io.with_unread(parse_head);
        match parsed {
            Some(Ok(head)) if (100..200).contains(&head.status) && head.status != 101 => continue,
            Some(Ok(head)) => return Ok(head),
            Some(Err(e)) => return Err(Failure::Other(e)),
            None => {}
        }
        match io.read_more(MAX_HEAD + 1).await {
            Ok(0) if !received_any => {
                return Err(Failure::BeforeReply(ClientError::Io(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "the server closed the connection without a response",
                ))))
            }
            Ok(0) => {
                return Err(Failure::Other(malformed(
                    "the server closed the connection mid-head",
                )))
            }
            Ok(_) => received_any = true,
            Err(e) if !received_any => return Err(Failure::BeforeReply(ClientError::Io(e))),
            Err(e) => return Err(Failure::Other(ClientError::Io(e))),
        }
    }
}

/// Looks for a response head at the start of `buf`: the bytes it takes and the head
/// (or why it is malformed), or `None` while more bytes are needed.
pub(crate) fn parse_head(buf: &[u8]) -> (usize, Option<Result<Head, ClientError>>) {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    // Folded lines (obs-fold) are accepted and unfolded, as RFC 9112 §5.2 asks of a
    // user agent.
    let parsed = httparse::ParserConfig::default()
        .allow_obsolete_multiline_headers_in_responses(true)
        .parse_response(&mut response, buf);
    match parsed {
        Ok(httparse::Status::Complete(len)) => (len, Some(head_of(&response))),
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
            (0, Some(Err(malformed("response head larger than 64 KiB"))))
        }
        Ok(httparse::Status::Partial) => (0, None),
        Err(e) => (
            0,
            Some(Err(malformed(&format!("invalid response head: {e}")))),
        ),
    }
}

fn head_of(response: &httparse::Response<'_, '_>) -> Result<Head, ClientError> {
    let status = response.code.ok_or_else(|| malformed("no status code"))?;
    let mut head = Head {
        status,
        headers: Vec::with_capacity(response.headers.len()),
        chunked: false,
        length: None,
        keep_alive: response.version == Some(1),
    };
    let mut transfer_coded = false;
    for h in response.headers.iter() {
        let mut value = String::from_utf8_lossy(h.value).into_owned();
        if value.contains(['\r', '\n']) {
            value = value.replace(['\r', '\n'], " ");
        }
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            transfer_coded = true;
            head.chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
        } else if h.name.eq_ignore_ascii_case("content-length") {
            // 1*DIGIT (RFC 9110 §8.6): Rust's integer parsing would also take "+5".
            let digits = value.trim();
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed("invalid Content-Length"));
            }
            let n = digits
                .parse()
                .map_err(|_| malformed("invalid Content-Length"))?;
            if head.length.is_some_and(|seen| seen != n) {
                return Err(malformed("differing Content-Length values"));
            }
            head.length = Some(n);
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    head.keep_alive = false;
                } else if token.eq_ignore_ascii_case("keep-alive") && response.version == Some(0) {
                    head.keep_alive = true;
                }
            }
        }
        head.headers.push((h.name.to_string(), value));
    }
    if transfer_coded {
        // Transfer-Encoding overrides Content-Length; without chunked last, the body
        // runs until the server closes (RFC 9112 §6.3).
        head.length = None;
    }
    Ok(head)
}

fn malformed(why: &str) -> ClientError {
    ClientError::MalformedResponse(why.to_string())
}

/// A response: status and headers now, the body as it is read.
///
/// Reading the body to its end hands the connection back to the client's pool.
pub struct ClientResponse {
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: BodyReader,
    io: Option<Rc<ConnIo>>,
    keep_alive: bool,
    client: Client,
    host: String,
    port: u16,
    tls: bool,
    deadline: Option<Instant>,
    limit: usize,
}

impl ClientResponse {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header, in order.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The next piece of the body as it arrives, or `None` at its end (streaming).
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>, ClientError> {
        let read = self.body.chunk();
        let result = match self.deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                timeout(left, read)
                    .await
                    .unwrap_or_else(|_| Err(HttpError::new(408, "request timeout passed")))
            }
            None => read.await,
        };
        result.map_err(|e| body_error(e, self.limit))
    }

    /// The whole body.
    pub async fn bytes(mut self) -> Result<Vec<u8>, ClientError> {
        let mut all = Vec::new();
        while let Some(piece) = self.chunk().await? {
            all.extend_from_slice(&piece);
        }
        Ok(all)
    }

    /// The whole body as text (invalid UTF-8 is replaced).
    pub async fn text(self) -> Result<String, ClientError> {
        Ok(String::from_utf8_lossy(&self.bytes().await?).into_owned())
    }

    /// The body parsed as JSON.
    #[cfg(feature = "json")]
    pub async fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, ClientError> {
        let body = self.bytes().await?;
        serde_json::from_slice(&body)
            .map_err(|e| ClientError::MalformedResponse(format!("invalid JSON body: {e}")))
    }

    /// Where a redirect points, if this is one.
    pub(crate) fn redirect_location(&self) -> Option<String> {
        matches!(self.status.0, 301 | 302 | 303 | 307 | 308)
            .then(|| self.header("location").map(String::from))?
    }
}

fn body_error(e: HttpError, limit: usize) -> ClientError {
    match e.status().0 {
        413 => ClientError::BodyTooLarge(limit),
        408 => ClientError::Timeout(e.message().to_string()),
        _ => ClientError::MalformedResponse(e.message().to_string()),
    }
}

impl Drop for ClientResponse {
    fn drop(&mut self) {
        // Release the body reader's handle first, so the connection is ours alone.
        drop(std::mem::replace(&mut self.body, BodyReader::new(None, 0)));
        let Some(io) = self.io.take() else { return };
        if !self.keep_alive || io.body.get() != BodyProgress::Done {
            return; // closed with the response (its body was not read to the end)
        }
        if let Ok(io) = Rc::try_unwrap(io) {
            let max = self.client.inner.config.max_idle_per_host;
            self.client
                .inner
                .pool
                .borrow_mut()
                .put(&self.host, self.port, self.tls, io, max);
        }
    }
}
