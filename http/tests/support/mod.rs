//! Test harness: a server on its own thread and runtime, and a raw HTTP/1.1 reader.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use simmer::http::{Router, Server, ServerConfig};

/// A running server; dropping it shuts the server down gracefully and joins it.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

/// Starts `make_router()` with `config` on 127.0.0.1 (any port).
pub fn serve_with(
    config: ServerConfig,
    make_router: impl FnOnce() -> Router + Send + 'static,
) -> TestServer {
    let (addr_tx, addr_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = simmer::Runtime::builder().no_slow_poll_warnings().build()?;
        rt.block_on(async move {
            let server = Server::bind("127.0.0.1:0")?.with_config(config)?;
            addr_tx.send(server.local_addr()?).unwrap();
            // The stop signal crosses threads: a pool thread waits for it.
            let stop = simmer::offload(move || {
                let _ = stop_rx.recv();
            });
            server
                .serve_until(make_router(), async move {
                    let _ = stop.await;
                })
                .await
        })
    });
    let addr = addr_rx.recv().expect("server started");
    TestServer {
        addr,
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}

/// Starts `make_router()` with default limits.
pub fn serve(make_router: impl FnOnce() -> Router + Send + 'static) -> TestServer {
    serve_with(ServerConfig::default(), make_router)
}

impl TestServer {
    /// Triggers graceful shutdown and waits for `serve_until` to return.
    pub fn stop(mut self) -> std::io::Result<()> {
        self.stop.take();
        self.thread.take().unwrap().join().unwrap()
    }

    /// A new connection with a 10 s read timeout (a hung test fails instead of hanging).
    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    /// Sends raw bytes on a new connection and returns everything until the server
    /// closes it.
    pub fn raw(&self, request: &[u8]) -> String {
        let mut s = self.connect();
        s.write_all(request).unwrap();
        read_to_close(&mut s)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Everything until the peer closes (or a reset), as text.
pub fn read_to_close(s: &mut TcpStream) -> String {
    let mut all = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!(
                "reading until close: {e} (got so far: {:?})",
                String::from_utf8_lossy(&all)
            ),
        }
    }
    String::from_utf8_lossy(&all).into_owned()
}

/// One parsed response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads one response (Content-Length, chunked, or until close) from `r`.
/// `head_request`: the response to a HEAD has no body whatever its headers say.
pub fn read_response(r: &mut BufReader<TcpStream>, head_request: bool) -> Option<RawResponse> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let status = line.split(' ').nth(1)?.parse().ok()?;
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':')?;
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
    let mut resp = RawResponse {
        status,
        headers,
        body: Vec::new(),
    };
    if head_request || status == 204 || status == 304 || status < 200 {
        return Some(resp);
    }
    if let Some(len) = resp.header("content-length") {
        let mut body = vec![0; len.parse().ok()?];
        r.read_exact(&mut body).ok()?;
        resp.body = body;
    } else if resp.header("transfer-encoding") == Some("chunked") {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            resp.body.extend_from_slice(&chunk[..size]);
        }
    } else {
        r.read_to_end(&mut resp.body).ok()?;
    }
    Some(resp)
}

/// Sends `request` on `s` and reads one response.
pub fn exchange(s: &TcpStream, request: &[u8]) -> RawResponse {
    (&*s).write_all(request).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    read_response(&mut r, request.starts_with(b"HEAD")).expect("a response")
}

/// The status code at the start of a raw response text.
pub fn status_of(raw: &str) -> u16 {
    raw.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
