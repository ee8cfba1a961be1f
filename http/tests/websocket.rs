//! WebSockets against a client nobody here wrote: Python's `websockets` library
//! (`SIMMER_PYTHON`, the venv `.ci/run` makes, or `python3`), over `ws://` and over
//! TLS (`wss://`), plus raw bytes for what a well-behaved library never sends
//! (unmasked frames, a refused handshake).

mod support;
mod tls_support;

use std::io::{Read, Write};
use std::process::Command;

use simmer::http::ws::{Message, WebSocket};
use simmer::http::Router;
use support::serve;

/// `/echo` sends every message back; `/close-4001` closes with 4001 after one message.
fn app() -> Router {
    Router::new()
        .ws("/echo", |mut socket: WebSocket| async move {
            while let Some(message) = socket.recv().await {
                if socket.send(message).await.is_err() {
                    break;
                }
            }
        })
        .ws("/close-4001", |mut socket: WebSocket| async move {
            if socket.recv().await.is_some() {
                let _ = socket.close(4001, "done here").await;
            }
        })
}

/// Runs `websockets` against the server; prints one line per check, `ok` at the end.
const PYTHON: &str = r#"
import asyncio, sys
try:
    import websockets
    from websockets.asyncio.client import connect
except ImportError:
    sys.exit(3)

async def main(base):
    async with connect(base + "/echo") as ws:
        await ws.send("héllo")
        assert await ws.recv() == "héllo"
        await ws.send(b"\x00\x01\xff")
        assert await ws.recv() == b"\x00\x01\xff"
        # A fragmented text message, a character split across fragments.
        await ws.send(iter(["frag", "ment", "é"[:1], "d"]))
        assert await ws.recv() == "fragmentéd"
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 5)
        print("echo, fragments, ping ok")
    async with connect(base + "/echo", max_size=None) as ws:
        await ws.send(b"x" * (2 << 20))
        try:
            await ws.recv()
            raise SystemExit("an oversized message was accepted")
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd.code == 1009, closed
        print("oversized ok")
    async with connect(base + "/close-4001") as ws:
        await ws.send("bye")
        try:
            await ws.recv()
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd.code == 4001 and closed.rcvd.reason == "done here", closed
        print("close code ok")
    async with connect(base + "/echo") as ws:
        await ws.close(4002, "client leaves")
        assert ws.close_code == 4002, ws.close_code
    print("ok")

asyncio.run(main(sys.argv[1]))
"#;

#[test]
fn python_websockets_echo_fragments_ping_limits_and_close_codes() {
    let server = serve(app);
    run_python(PYTHON, &[&format!("ws://{}", server.addr)]);
}

/// The same library over TLS, trusting only the test CA.
const PYTHON_WSS: &str = r#"
import asyncio, ssl, sys
try:
    from websockets.asyncio.client import connect
except ImportError:
    sys.exit(3)

async def main(url, cafile):
    context = ssl.create_default_context(cafile=cafile)
    async with connect(url, ssl=context) as ws:
        assert ws.transport.get_extra_info("ssl_object").version() in ("TLSv1.3", "TLSv1.2")
        await ws.send("over tls")
        assert await ws.recv() == "over tls"
        await ws.send(b"\x00" * 100000)
        assert await ws.recv() == b"\x00" * 100000
        await asyncio.wait_for(await ws.ping(b"p"), 5)
        await ws.close(1000)
    print("ok")

asyncio.run(main(sys.argv[1], sys.argv[2]))
"#;

#[test]
fn python_websockets_echoes_over_wss() {
    let certs = tls_support::Certs::new("wss");
    let tls =
        simmer::http::tls::ServerTls::from_pem_files(&certs.good.cert_path, &certs.good.key_path)
            .unwrap();
    let config = simmer::http::ServerConfig {
        tls: Some(tls),
        ..Default::default()
    };
    let server = support::serve_with(config, app);
    let url = format!("wss://localhost:{}/echo", server.addr.port());
    run_python(PYTHON_WSS, &[&url, certs.ca.cert_path.to_str().unwrap()]);
}

/// Runs a Python script that prints `ok` last, or skips if `websockets` is missing
/// (exit code 3) outside CI.
fn run_python(script: &str, args: &[&str]) {
    let python = std::env::var("SIMMER_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let out = Command::new(&python)
        .args(["-c", script])
        .args(args)
        .output();
    let out = match out {
        Ok(out) if out.status.code() != Some(3) => out,
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("{python} lacks websockets (.ci/run makes a venv with it: SIMMER_PYTHON)");
            }
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {python} lacks websockets (pip install websockets, or set SIMMER_PYTHON)"
            );
            return;
        }
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.trim_end().ends_with("ok"),
        "{text}"
    );
}

const HANDSHAKE: &str = "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

#[test]
fn the_handshake_answers_101_with_the_rfc_accept_key_and_refuses_plain_gets() {
    let server = serve(app);
    let mut s = server.connect();
    s.write_all(HANDSHAKE.as_bytes()).unwrap();
    let mut head = vec![0u8; 1024];
    let n = s.read(&mut head).unwrap();
    let head = String::from_utf8_lossy(&head[..n]);
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(
        head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
        "{head}"
    );
    assert!(!head.contains("Content-Length"), "{head}");

    let plain = server.raw(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(plain.starts_with("HTTP/1.1 426 "), "{plain}");
    let old = HANDSHAKE
        .replace("Version: 13", "Version: 8")
        .replace("Host: x\r\n", "Host: x\r\nConnection-Close: 1\r\n");
    let mut s = server.connect();
    s.write_all(old.as_bytes()).unwrap();
    let mut reply = vec![0u8; 1024];
    let n = s.read(&mut reply).unwrap();
    let reply = String::from_utf8_lossy(&reply[..n]);
    assert!(
        reply.starts_with("HTTP/1.1 426 ") && reply.contains("Sec-WebSocket-Version: 13"),
        "{reply}"
    );
}

#[test]
fn an_unmasked_client_frame_is_closed_with_1002() {
    let server = serve(app);
    let mut s = server.connect();
    // The handshake and, in the same write, an unmasked text frame "hi".
    let mut bytes = HANDSHAKE.as_bytes().to_vec();
    bytes.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
    s.write_all(&bytes).unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    let end = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let frame = &all[end..];
    // A close frame (0x88) whose code is 1002.
    assert_eq!(&frame[..1], &[0x88], "{frame:?}");
    assert_eq!(u16::from_be_bytes([frame[2], frame[3]]), 1002, "{frame:?}");
}

#[test]
fn simmer_client_echoes_through_the_server() {
    let server = serve(app);
    let url = format!("ws://{}/echo", server.addr);
    simmer::block_on(async move {
        let client = simmer::http::client::Client::new();
        let mut socket = client.websocket(&url).await.unwrap();
        socket.send(Message::Text("one".into())).await.unwrap();
        assert_eq!(socket.recv().await, Some(Message::Text("one".into())));
        socket.send(Message::Binary(vec![7; 70_000])).await.unwrap();
        assert_eq!(socket.recv().await, Some(Message::Binary(vec![7; 70_000])));
        socket.close(1000, "").await.unwrap();
        assert_eq!(socket.close_code(), Some(1000));
    });
}
