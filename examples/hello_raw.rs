//! The reference point for `benches/instructions.sh`: the same two TechEmpower routes as
//! `examples/hello.rs`, hand-written on tokio's `current_thread` runtime with httparse
//! and nothing else (both only dev-dependencies of simmer). No RFC checks beyond
//! httparse's syntax, no limits, no timeouts, no router, no bodies: roughly the least
//! work a server can do per request in user space, to measure simmer against.
//!
//! ```text
//! cargo run --release --example hello_raw -- --addr 127.0.0.1:8082
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

/// The `Date` header's value, formatted once per second.
struct Date {
    second: u64,
    text: String,
}

impl Date {
    fn now(&mut self) -> &str {
        let second = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if second != self.second {
            self.second = second;
            self.text = httpdate(second);
        }
        &self.text
    }
}

/// `Thu, 01 Jan 1970 00:00:00 GMT` from seconds since the epoch.
fn httpdate(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs / 86_400;
    // Days to civil date (the algorithm is public domain, by Howard Hinnant).
    let z = days as i64 + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let rem = secs % 86_400;
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[month as usize - 1],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

async fn serve(mut stream: TcpStream) {
    let mut input = vec![0u8; 8192];
    let (mut start, mut end) = (0, 0);
    let mut out = Vec::with_capacity(4096);
    let mut date = Date {
        second: u64::MAX,
        text: String::new(),
    };
    loop {
        // Answer every complete request in the buffer, then write them in one go.
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut req = httparse::Request::new(&mut headers);
            let len = match req.parse(&input[start..end]) {
                Ok(httparse::Status::Complete(len)) => len,
                Ok(httparse::Status::Partial) => break,
                Err(_) => return,
            };
            match req.path {
                Some("/plaintext") => respond(&mut out, date.now(), "text/plain", b"Hello, World!"),
                Some("/json") => {
                    let body = serde_json::to_vec(&Message {
                        message: "Hello, World!",
                    })
                    .unwrap();
                    respond(&mut out, date.now(), "application/json", &body)
                }
                _ => respond(&mut out, date.now(), "text/plain", b"Not Found"),
            }
            start += len;
        }
        if !out.is_empty() {
            if stream.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        if start == end {
            (start, end) = (0, 0);
        } else if end == input.len() {
            input.copy_within(start..end, 0);
            (start, end) = (0, end - start);
        }
        match stream.read(&mut input[end..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => end += n,
        }
    }
}

/// The head from constant pieces and the cached date, the length in decimal: no
/// formatting machinery (`write!` alone cost about 700 instructions per response).
fn respond(out: &mut Vec<u8>, date: &str, content_type: &str, body: &[u8]) {
    out.extend_from_slice(b"HTTP/1.1 200 OK\r\nServer: raw\r\nDate: ");
    out.extend_from_slice(date.as_bytes());
    out.extend_from_slice(b"\r\nContent-Type: ");
    out.extend_from_slice(content_type.as_bytes());
    out.extend_from_slice(b"\r\nContent-Length: ");
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = body.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(body);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = match (args.next().as_deref(), args.next()) {
        (Some("--addr"), Some(addr)) => addr,
        _ => std::env::var("SIMMER_ADDR").unwrap_or_else(|_| "127.0.0.1:8082".to_string()),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
        println!(
            "hello_raw: listening on http://{}",
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
            tokio::spawn(serve(stream));
        }
    });
}
