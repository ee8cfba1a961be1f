//! The HTTPS client against TLS servers nobody here wrote: `openssl s_server` and
//! Python's `ssl` module, with certificates made per run. It must fetch from the good
//! ones, reuse pooled TLS connections, and refuse the bad ones with the right cause.

mod tls_support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use simmer::http::client::{Client, ClientError, TlsError};
use tls_support::{free_port, have, Certs, Pair};

/// `openssl s_server -www` with `pair`, killed on drop.
struct SServer {
    child: Child,
    port: u16,
}

impl SServer {
    fn start(pair: &Pair) -> Option<SServer> {
        if !have("openssl") {
            return None;
        }
        let port = free_port();
        let mut child = Command::new("openssl")
            .args(["s_server", "-www", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(&pair.cert_path)
            .arg("-key")
            .arg(&pair.key_path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl runs");
        // s_server prints ACCEPT once it listens.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = lines.any(|l| l.is_ok_and(|l| l.contains("ACCEPT")));
        assert!(ready, "openssl s_server did not start");
        Some(SServer { child, port })
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(certs: &Certs) -> Client {
    Client::builder()
        .tls_roots_pem(certs.ca.cert_pem.as_bytes())
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .build()
}

fn get(client: &Client, url: &str) -> Result<(u16, String), ClientError> {
    let client = client.clone();
    let url = url.to_string();
    simmer::block_on(async move {
        let reply = client.get(&url).send().await?;
        let status = reply.status().0;
        Ok((status, reply.text().await?))
    })
}

fn tls_cause(result: Result<(u16, String), ClientError>) -> TlsError {
    match result {
        Err(e) => e
            .tls_cause()
            .cloned()
            .unwrap_or_else(|| panic!("not a TLS error: {e}")),
        Ok((status, _)) => panic!("expected a TLS failure, got {status}"),
    }
}

#[test]
fn fetches_from_openssl_s_server_with_sni_and_verification() {
    let certs = Certs::new("s-server-good");
    let Some(server) = SServer::start(&certs.good) else {
        return;
    };
    let (status, body) = get(
        &client(&certs),
        &format!("https://localhost:{}/", server.port),
    )
    .unwrap();
    assert_eq!(status, 200);
    // s_server -www describes the session it negotiated.
    assert!(
        body.contains("TLSv1.3") || body.contains("TLSv1.2"),
        "{body}"
    );
}

#[test]
fn refuses_an_expired_certificate() {
    let certs = Certs::new("s-server-expired");
    let Some(server) = SServer::start(&certs.expired) else {
        return;
    };
    let url = format!("https://localhost:{}/", server.port);
    assert_eq!(tls_cause(get(&client(&certs), &url)), TlsError::Expired);
}

#[test]
fn refuses_a_certificate_for_another_name() {
    let certs = Certs::new("s-server-wrong-name");
    let Some(server) = SServer::start(&certs.wrong_name) else {
        return;
    };
    let url = format!("https://localhost:{}/", server.port);
    let error = get(&client(&certs), &url).unwrap_err();
    assert!(
        error.to_string().contains("not valid for this host name"),
        "{error}"
    );
    assert_eq!(error.tls_cause(), Some(&TlsError::NameMismatch));
}

#[test]
fn refuses_a_certificate_from_an_unknown_issuer() {
    let certs = Certs::new("s-server-untrusted");
    let Some(server) = SServer::start(&certs.untrusted) else {
        return;
    };
    let url = format!("https://localhost:{}/", server.port);
    assert_eq!(
        tls_cause(get(&client(&certs), &url)),
        TlsError::UnknownIssuer
    );
}

#[test]
fn says_so_when_the_port_speaks_plain_http() {
    let certs = Certs::new("plain-port");
    // A plain HTTP server (Python's, so that nothing of simmer's is on the other side).
    if !have("python3") {
        return;
    }
    let mut child = Command::new("python3")
        .args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"])
        .current_dir(&certs.dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "Serving HTTP on 127.0.0.1 port 12345 (http://127.0.0.1:12345/) ..."
    let port: u16 = line
        .split("port ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    let result = get(&client(&certs), &format!("https://127.0.0.1:{port}/"));
    let _ = child.kill();
    let _ = child.wait();
    let error = result.unwrap_err();
    // Python answers the ClientHello, which it cannot parse as a request line, with an
    // HTML error page (HTTP/0.9 style: no status line).
    match error.tls_cause() {
        Some(TlsError::NotTls(sent)) => assert!(sent.starts_with("<!DOCTYP"), "{sent}"),
        other => panic!("expected NotTls, got {other:?}"),
    }
    assert!(error.to_string().contains("plain HTTP"), "{error}");
}

#[test]
fn a_server_that_never_answers_the_hello_is_a_handshake_timeout() {
    let certs = Certs::new("silent");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts (the kernel completes the TCP handshake), then says nothing.
    let client = Client::builder()
        .tls_roots_pem(certs.ca.cert_pem.as_bytes())
        .unwrap()
        .connect_timeout(Duration::from_millis(300))
        .build();
    let error = get(&client, &format!("https://127.0.0.1:{port}/")).unwrap_err();
    assert_eq!(
        error.tls_cause(),
        Some(&TlsError::HandshakeTimeout),
        "{error}"
    );
    assert!(error.is_timeout());
    drop(listener);
}

/// Python's `ssl` module over `http.server`, HTTP/1.1 keep-alive; each reply names the
/// client's port, so a reused connection shows as the same port twice.
const PYTHON_HTTPS: &str = r#"
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = ("port=%d alpn=%s" % (self.client_address[1], self.connection.selected_alpn_protocol())).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ctx.set_alpn_protocols(["http/1.1"])
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"#;

#[test]
fn reuses_pooled_tls_connections_to_a_python_ssl_server() {
    let certs = Certs::new("python-pool");
    if !have("python3") {
        return;
    }
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(PYTHON_HTTPS)
        .arg(&certs.good.cert_path)
        .arg(&certs.good.key_path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line.trim().parse().expect("python printed its port");
    let client = client(&certs);
    let url = format!("https://localhost:{port}/");
    // One runtime for both: a pooled connection belongs to its runtime's reactor.
    let (first, second, idle) = simmer::block_on(async {
        let mut bodies = Vec::new();
        for _ in 0..2 {
            let reply = client.get(&url).send().await.unwrap();
            bodies.push(reply.text().await.unwrap());
        }
        (
            bodies.remove(0),
            bodies.remove(0),
            client.idle_connections(),
        )
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.ends_with("alpn=http/1.1"), "ALPN not agreed: {first}");
    assert_eq!(first, second, "the second request used a new connection");
    assert_eq!(idle, 1);
}
