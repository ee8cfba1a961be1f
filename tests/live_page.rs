//! The live page `/_simmer/` in a real browser: headless Chromium loads it from the
//! tour after `/block` held the loop, and the slow poll, with the request it was
//! serving, is in the rendered DOM. The page's event stream is read as a raw client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

fn example(name: &str) -> std::path::PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop();
    dir.pop();
    dir.join("examples").join(name)
}

/// The tour on a fresh SQLite file and any port; killed on drop.
struct Tour {
    child: std::process::Child,
    addr: String,
    /// Kept open: the tour prints its routes after the first line.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Tour {
    fn start() -> Tour {
        let sqlite =
            std::env::temp_dir().join(format!("simmer-live-{}.sqlite3", std::process::id()));
        let mut child = Command::new(example("tour"))
            .env_remove("DATABASE_URL")
            .env("SIMMER_SQLITE", sqlite)
            .args(["--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("examples are built by cargo test");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr = line.trim().rsplit("http://").next().unwrap().to_string();
        Tour {
            child,
            addr,
            _stdout: stdout,
        }
    }

    fn get(&self, path: &str) -> String {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = Vec::new();
        // A reset after the response (the server closing first) still leaves the bytes.
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl Drop for Tour {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn chromium_renders_the_slow_poll_with_its_request() {
    let tour = Tour::start();
    // Hold the loop for 300 ms (over the 100 ms threshold) while the browser starts.
    let blocker = {
        let addr = tour.addr.clone();
        std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /block?ms=300 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        })
    };
    // The slow poll is recorded once /block has answered; only then is the DOM asked.
    assert!(blocker.join().unwrap().starts_with("HTTP/1.1 200"));
    let profile = std::env::temp_dir().join(format!("simmer-chromium-{}", std::process::id()));
    let url = format!("http://{}/_simmer/?timeline=off", tour.addr);
    let result = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=2000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(&url)
        .stderr(Stdio::null())
        .output();
    let _ = std::fs::remove_dir_all(&profile);
    let output = match result {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::env::var_os("CI").is_some() {
                panic!("chromium is not installed (CI must install it: see .ci/run)");
            }
            let _ = writeln!(std::io::stderr(), "SKIPPED: chromium is not installed");
            return;
        }
        Err(e) => panic!("running chromium: {e}"),
    };
    let dom = String::from_utf8_lossy(&output.stdout);
    // The row is built by the page's script from /_simmer/state: it is not in the HTML.
    let slow = dom
        .split("id=\"slow\">")
        .nth(1)
        .unwrap_or_else(|| panic!("no slow-poll table in the DOM: {dom}"));
    let slow = &slow[..slow.find("</tbody>").unwrap()];
    assert!(slow.contains("<td>GET /block?ms=300</td>"), "{slow}");
    assert!(slow.contains("conn 127.0.0.1:"), "{slow}");
    assert!(
        dom.contains("turns · p50"),
        "the loop-delay histogram was drawn"
    );
}

#[test]
fn the_event_stream_sends_polls_and_wakes() {
    let tour = Tour::start();
    assert!(tour
        .get("/_simmer/")
        .contains("<title>simmer: live loop</title>"));
    let mut events = TcpStream::connect(&tour.addr).unwrap();
    events
        .write_all(b"GET /_simmer/events HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(events);
    let mut head = String::new();
    while head.ends_with("\r\n\r\n").then_some(()).is_none() {
        reader.read_line(&mut head).unwrap();
    }
    assert!(head.contains("text/event-stream"), "{head}");
    // Traffic on another connection shows up as polls in the stream.
    tour.get("/hello");
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "stream ended");
        if line.contains("data: {") && line.contains("\"p\"") {
            break;
        }
    }
    assert!(line.contains("\"missed\":0"), "{line}");
}
