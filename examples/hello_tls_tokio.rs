//! The baseline of `benches/tls.sh`, on tokio's `current_thread` runtime (all of it
//! dev-dependencies of simmer): `/plaintext` with hyper 1.x over tokio-rustls (the
//! same rustls and ring as simmer), or, with `--ws`, a tokio-tungstenite echo.
//!
//! ```text
//! cargo run --release --example hello_tls_tokio -- --tls-cert cert.pem --tls-key key.pem
//! cargo run --release --example hello_tls_tokio -- --ws --addr 127.0.0.1:8081
//! ```

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE, SERVER};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

async fn plaintext(
    _req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::new(Bytes::from_static(b"Hello, World!")));
    let headers = response.headers_mut();
    headers.insert(SERVER, HeaderValue::from_static("hyper"));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}

/// rustls's server settings, as `ServerTls::from_pem_files` makes them in simmer.
fn tls_config(cert: &str, key: &str) -> Arc<rustls::ServerConfig> {
    let chain = CertificateDer::pem_file_iter(cert)
        .expect("certificate file")
        .collect::<Result<Vec<_>, _>>()
        .expect("certificates");
    let key = PrivateKeyDer::from_pem_file(key).expect("key file");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("key fits certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

async fn serve_https(stream: tokio::net::TcpStream, acceptor: tokio_rustls::TlsAcceptor) {
    let Ok(tls) = acceptor.accept(stream).await else {
        return;
    };
    let _ = hyper::server::conn::http1::Builder::new()
        .pipeline_flush(true)
        .serve_connection(TokioIo::new(tls), hyper::service::service_fn(plaintext))
        .await;
}

async fn serve_ws(stream: tokio::net::TcpStream) {
    let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    while let Some(Ok(message)) = socket.next().await {
        if (message.is_text() || message.is_binary()) && socket.send(message).await.is_err() {
            break;
        }
    }
}

fn main() {
    let mut addr = "127.0.0.1:8444".to_string();
    let (mut cert, mut key, mut ws) = (None, None, false);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--ws" {
            ws = true;
            continue;
        }
        match (flag.as_str(), args.next()) {
            ("--addr", Some(value)) => addr = value,
            ("--tls-cert", Some(value)) => cert = Some(value),
            ("--tls-key", Some(value)) => key = Some(value),
            _ => panic!(
                "usage: hello_tls_tokio [--addr IP:PORT] (--tls-cert PEM --tls-key PEM | --ws)"
            ),
        }
    }
    let acceptor = match (cert, key) {
        (Some(cert), Some(key)) => Some(tokio_rustls::TlsAcceptor::from(tls_config(&cert, &key))),
        _ if ws => None,
        _ => panic!("give --tls-cert and --tls-key, or --ws"),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
        let scheme = if ws { "ws" } else { "https" };
        println!(
            "hello_tls_tokio: listening on {scheme}://{}",
            listener.local_addr().unwrap()
        );
        loop {
            let (stream, _) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(_) => continue,
                },
                _ = tokio::signal::ctrl_c() => return,
            };
            let _ = stream.set_nodelay(true);
            match &acceptor {
                Some(acceptor) if !ws => {
                    tokio::task::spawn(serve_https(stream, acceptor.clone()));
                }
                _ => {
                    tokio::task::spawn(serve_ws(stream));
                }
            }
        }
    });
}
