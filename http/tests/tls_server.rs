//! The HTTPS server against TLS clients nobody here wrote: curl with `--cacert`,
//! Python's `ssl` module and httpx with a CA file, `openssl s_client`; and against
//! clients that misbehave: one that stalls in the handshake, one that sends garbage
//! in the middle of it, one that speaks plain HTTP to the TLS port.

mod support;
mod tls_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use simmer::http::client::Client;
use simmer::http::tls::ServerTls;
use simmer::http::{Request, Router, Server, ServerConfig};
use support::{read_to_close, serve_with, TestServer};
use tls_support::{have, text, Certs};

/// `/hello`, and `/echo` that answers with the request body.
fn app() -> Router {
    Router::new()
        .get("/hello", || async { "hello over TLS" })
        .post("/echo", |mut req: Request| async move { req.body().await })
}

fn config(certs: &Certs) -> ServerConfig {
    let tls = ServerTls::from_pem_files(&certs.good.cert_path, &certs.good.key_path).unwrap();
    ServerConfig {
        tls: Some(tls),
        tls_handshake_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    }
}

fn serve_tls(certs: &Certs) -> TestServer {
    serve_with(config(certs), app)
}

/// GET over simmer's own client (used only to show that the server is still fine).
fn fetch(certs: &Certs, server: &TestServer, path: &str) -> (u16, String) {
    let client = Client::builder()
        .tls_roots_pem(certs.ca.cert_pem.as_bytes())
        .unwrap()
        .build();
    let url = format!("https://localhost:{}{path}", server.addr.port());
    simmer::block_on(async move {
        let reply = client.get(&url).send().await.unwrap();
        (reply.status().0, reply.text().await.unwrap())
    })
}

#[test]
fn curl_with_a_ca_file_reuses_one_tls_connection_for_two_requests_and_a_post() {
    let certs = Certs::new("server-curl");
    if !have("curl") {
        return;
    }
    let server = serve_tls(&certs);
    let base = format!("https://localhost:{}", server.addr.port());
    let options = |command: &mut Command| {
        command
            .args(["-sS", "--max-time", "10", "--cacert"])
            .arg(&certs.ca.cert_path)
            .args([
                "-w",
                " connects=%{num_connects} tls=%{ssl_verify_result}\\n",
            ]);
    };
    let mut curl = Command::new("curl");
    options(&mut curl);
    curl.arg(format!("{base}/hello"))
        .arg(format!("{base}/hello"));
    // `--next` starts the options afresh; the connection stays in curl's cache.
    curl.arg("--next");
    options(&mut curl);
    curl.args(["--data-binary", "sent by curl"])
        .arg(format!("{base}/echo"));
    let out = curl.output().unwrap();
    let out_text = text(&out);
    assert!(out.status.success(), "{out_text}");
    // The first transfer connects; the second and third reuse the connection.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello over TLS connects=1 tls=0\n\
         hello over TLS connects=0 tls=0\n\
         sent by curl connects=0 tls=0\n",
        "{out_text}"
    );
}

/// Pipelined requests over Python's `ssl` socket, then httpx keep-alive; each with
/// the CA file only.
const PYTHON_CLIENTS: &str = r#"
import socket, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
context = ssl.create_default_context(cafile=cafile)
with socket.create_connection(("127.0.0.1", port)) as raw:
    with context.wrap_socket(raw, server_hostname="localhost") as tls:
        assert tls.selected_alpn_protocol() in (None, "http/1.1")
        tls.sendall(b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n" * 3
                    + b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n"
                    + b"Connection: close\r\n\r\nlast")
        data = b""
        while True:
            piece = tls.recv(65536)
            if not piece:
                break
            data += piece
assert data.count(b"HTTP/1.1 200 OK") == 4, data
assert data.endswith(b"last"), data
print("ssl pipelined ok", tls.version())
try:
    import httpx
except ImportError:
    sys.exit(3)
with httpx.Client(verify=context) as client:
    ports = set()
    for _ in range(3):
        reply = client.get(f"https://localhost:{port}/hello")
        assert reply.status_code == 200 and reply.text == "hello over TLS", reply
        assert reply.http_version == "HTTP/1.1"
    reply = client.post(f"https://localhost:{port}/echo", content=b"x" * 100000)
    assert reply.content == b"x" * 100000
print("httpx ok")
"#;

#[test]
fn python_ssl_pipelines_and_httpx_keeps_alive_with_a_ca_file() {
    let certs = Certs::new("server-python");
    let server = serve_tls(&certs);
    let python = std::env::var("SIMMER_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let out = Command::new(&python)
        .args(["-c", PYTHON_CLIENTS, &server.addr.port().to_string()])
        .arg(&certs.ca.cert_path)
        .output();
    let out = match out {
        Ok(out) if out.status.code() != Some(3) => out,
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("{python} lacks httpx (.ci/run makes a venv with it: SIMMER_PYTHON)");
            }
            eprintln!("SKIPPED: {python} lacks httpx (pip install httpx, or set SIMMER_PYTHON)");
            return;
        }
    };
    let out_text = text(&out);
    assert!(
        out.status.success() && out_text.contains("ssl pipelined ok"),
        "{out_text}"
    );
    assert!(out_text.trim_end().ends_with("httpx ok"), "{out_text}");
}

#[test]
fn openssl_s_client_verifies_the_chain_and_agrees_on_http11() {
    let certs = Certs::new("server-s-client");
    if !have("openssl") {
        return;
    }
    let server = serve_tls(&certs);
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect"])
        .arg(server.addr.to_string())
        .args(["-servername", "localhost", "-alpn", "http/1.1", "-ign_eof"])
        .args(["-verify_return_error", "-CAfile"])
        .arg(&certs.ca.cert_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let out_text = text(&out);
    assert!(
        out_text.contains("Verify return code: 0 (ok)"),
        "{out_text}"
    );
    assert!(out_text.contains("ALPN protocol: http/1.1"), "{out_text}");
    assert!(out_text.contains("HTTP/1.1 200 OK"), "{out_text}");
    assert!(out_text.contains("hello over TLS"), "{out_text}");
}

/// Reads until the server closes; panics if it has not within the socket's 10 s read
/// timeout (the server's handshake timeout here is 300 ms).
fn closed_by_server(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
}

fn connect(server: &TestServer) -> TcpStream {
    let s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

#[test]
fn stalled_handshakes_cost_their_own_connections_and_are_closed_at_the_timeout() {
    let certs = Certs::new("server-stall");
    let server = serve_tls(&certs);
    // One says nothing; one sends the first bytes of a ClientHello and stops.
    let mut silent = connect(&server);
    let mut partial = connect(&server);
    partial
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .unwrap();
    // Meanwhile the loop serves others.
    assert_eq!(
        fetch(&certs, &server, "/hello"),
        (200, "hello over TLS".into())
    );
    // Then the handshake timeout closes both, without a byte of HTTP.
    assert_eq!(closed_by_server(&mut silent), b"");
    let partial_got = closed_by_server(&mut partial);
    assert!(!partial_got.starts_with(b"HTTP"), "{partial_got:?}");
    assert_eq!(fetch(&certs, &server, "/hello").0, 200);
}

#[test]
fn garbage_in_the_middle_of_a_handshake_ends_that_connection_only() {
    let certs = Certs::new("server-garbage");
    let server = serve_tls(&certs);
    // A real ClientHello (rustls's), then, after the server's answer, a record that
    // claims to be encrypted data but is noise.
    let roots = {
        let mut roots = rustls::RootCertStore::empty();
        let ca = rustls::pki_types::pem::PemObject::from_pem_slice(certs.ca.cert_pem.as_bytes());
        roots.add(ca.unwrap()).unwrap();
        roots
    };
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = "localhost".try_into().unwrap();
    let mut hello = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let mut s = connect(&server);
    while hello.wants_write() {
        hello.write_tls(&mut s).unwrap();
    }
    let mut answer = [0u8; 1];
    s.read_exact(&mut answer).unwrap();
    assert_eq!(
        answer[0], 0x16,
        "the server answers with a handshake record"
    );
    let mut noise = vec![0x17, 0x03, 0x03, 0x00, 0x40];
    noise.extend((0..64u8).map(|i| i.wrapping_mul(37)));
    s.write_all(&noise).unwrap();
    let rest = closed_by_server(&mut s);
    assert!(!rest.windows(4).any(|w| w == b"HTTP"), "{rest:?}");

    // Pure noise from the first byte too.
    let mut s = connect(&server);
    s.write_all(&[0xde; 300]).unwrap();
    closed_by_server(&mut s);

    assert_eq!(
        fetch(&certs, &server, "/hello"),
        (200, "hello over TLS".into())
    );
}

#[test]
fn plain_http_to_the_tls_port_gets_a_plain_400_and_a_clean_close() {
    let certs = Certs::new("server-plain");
    let server = serve_tls(&certs);
    let mut s = connect(&server);
    s.write_all(b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let reply = read_to_close(&mut s);
    assert!(reply.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{reply}");
    assert!(
        reply.ends_with("send the request to https:// here.\n"),
        "{reply}"
    );
    assert_eq!(fetch(&certs, &server, "/hello").0, 200);
}

#[test]
fn certificate_files_missing_garbage_or_mismatched_are_refused_at_start_naming_the_file() {
    let certs = Certs::new("server-files");
    let bind = |cert: &std::path::Path, key: &std::path::Path| {
        Server::bind_tls("127.0.0.1:0", cert, key)
            .err()
            .expect("bind_tls must refuse")
            .to_string()
    };
    let missing = certs.dir.join("missing.pem");
    let error = bind(&missing, &certs.good.key_path);
    assert!(
        error.contains("certificate file") && error.contains("missing.pem"),
        "{error}"
    );
    let error = bind(&certs.good.cert_path, &missing);
    assert!(
        error.contains("key file") && error.contains("missing.pem"),
        "{error}"
    );

    let garbage = certs.dir.join("garbage.pem");
    std::fs::write(&garbage, "this is no certificate\n").unwrap();
    let error = bind(&garbage, &certs.good.key_path);
    assert!(
        error.contains("garbage.pem") && error.contains("no BEGIN CERTIFICATE"),
        "{error}"
    );
    let error = bind(&certs.good.cert_path, &garbage);
    assert!(
        error.contains("garbage.pem") && error.contains("private key"),
        "{error}"
    );
    // The key of another certificate.
    let error = bind(&certs.good.cert_path, &certs.expired.key_path);
    assert!(
        error.contains("does not fit the certificate") && error.contains("expired.key"),
        "{error}"
    );
    // The good pair binds.
    assert!(Server::bind_tls("127.0.0.1:0", &certs.good.cert_path, &certs.good.key_path).is_ok());
}

#[test]
fn two_workers_serve_tls_with_the_settings_read_once() {
    let certs = Certs::new("server-workers");
    let server =
        Server::bind_tls("127.0.0.1:0", &certs.good.cert_path, &certs.good.key_path).unwrap();
    let port = server.local_addr().unwrap().port();
    let workers = server.workers(2);
    let stopper = workers.stopper();
    let thread = std::thread::spawn(move || workers.serve(app));
    let client = Client::builder()
        .tls_roots_pem(certs.ca.cert_pem.as_bytes())
        .unwrap()
        .build();
    // Separate connections, so the acceptor hands them to both workers.
    for _ in 0..4 {
        let client = client.clone();
        let url = format!("https://localhost:{port}/hello");
        let body = simmer::block_on(async move {
            let reply = client
                .get(&url)
                .header("Connection", "close")
                .send()
                .await
                .unwrap();
            reply.text().await.unwrap()
        });
        assert_eq!(body, "hello over TLS");
    }
    stopper.stop();
    thread.join().unwrap().unwrap();
}
