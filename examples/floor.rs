//! The floor: about the least work a single-threaded HTTP/1.1 server can do per request,
//! for `benches/http.sh` (`WITH_FLOOR=1`) to measure beside simmer and hyper.
//!
//! A bare mio loop. It counts the requests in what it reads by their blank lines and
//! writes that many canned `/plaintext` responses in one `send`. There is no parsing,
//! routing, timers or task, and the Date header is fixed. Its CPU per request is
//! mostly the kernel's share, which no server on this machine can go below. It is a
//! measuring stick, not a server to use: it trusts every byte it is sent.
//!
//! ```text
//! cargo run --release --example floor -- --addr 127.0.0.1:8082
//! ```

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nServer: simmer\r\n\
Date: Sat, 21 Nov 2026 10:00:00 GMT\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Length: 13\r\n\r\nHello, World!";
const LISTENER: Token = Token(usize::MAX);

/// One client: its socket, and responses not yet accepted by the kernel.
struct Client {
    stream: TcpStream,
    unsent: Vec<u8>,
    /// The last bytes read, for a blank line split across two reads.
    tail: [u8; 3],
}

fn main() -> io::Result<()> {
    let addr = listen_addr();
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind(addr)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    println!("floor: listening on http://{}", listener.local_addr()?);
    let mut clients: Slab<Client> = Slab::new();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        poll.poll(&mut events, None)?;
        for event in events.iter() {
            if event.token() == LISTENER {
                accept_all(&poll, &listener, &mut clients)?;
                continue;
            }
            let id = event.token().0;
            let Some(client) = clients.get_mut(id) else {
                continue;
            };
            if !serve(client, &mut buf) {
                let mut gone = clients.remove(id);
                poll.registry().deregister(&mut gone.stream)?;
            }
        }
    }
}

fn accept_all(poll: &Poll, listener: &TcpListener, clients: &mut Slab<Client>) -> io::Result<()> {
    loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                stream.set_nodelay(true)?;
                let entry = clients.vacant_entry();
                let token = Token(entry.key());
                poll.registry().register(
                    &mut stream,
                    token,
                    Interest::READABLE | Interest::WRITABLE,
                )?;
                entry.insert(Client {
                    stream,
                    unsent: Vec::new(),
                    tail: [0; 3],
                });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// Reads what has arrived, answers every complete request; false once the client is gone.
fn serve(client: &mut Client, buf: &mut [u8]) -> bool {
    loop {
        let n = match client.stream.read(buf) {
            Ok(0) => return false,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(_) => return false,
        };
        for _ in 0..count_requests(&mut client.tail, &buf[..n]) {
            client.unsent.extend_from_slice(RESPONSE);
        }
        if n < buf.len() {
            break; // a short read: nothing more is waiting
        }
    }
    while !client.unsent.is_empty() {
        match client.stream.write(&client.unsent) {
            Ok(n) => drop(client.unsent.drain(..n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(_) => return false,
        }
    }
    true
}

/// Blank lines (`\r\n\r\n`) in `bytes`, counting one that began in the previous read.
fn count_requests(tail: &mut [u8; 3], bytes: &[u8]) -> usize {
    let mut window = u32::from_be_bytes([0, tail[0], tail[1], tail[2]]);
    let mut count = 0;
    for &b in bytes {
        window = (window << 8) | u32::from(b);
        count += usize::from(window == 0x0d0a_0d0a);
    }
    *tail = [(window >> 16) as u8, (window >> 8) as u8, window as u8];
    count
}

/// `--addr IP:PORT`, else 127.0.0.1:8082.
fn listen_addr() -> SocketAddr {
    let args: Vec<String> = std::env::args().collect();
    let text = match args.iter().position(|a| a == "--addr") {
        Some(i) => args.get(i + 1).cloned().unwrap_or_default(),
        None => "127.0.0.1:8082".to_string(),
    };
    text.parse().unwrap_or_else(|e| {
        eprintln!("floor: bad address {text:?}: {e}");
        std::process::exit(2);
    })
}
