//! The live page `/_simmer/` in a real browser. Headless Chromium, driven over the
//! DevTools protocol, opens the page from the tour and sees it render (no slow poll
//! yet); then, with the page open, `/block` holds the loop, and the page, without a
//! reload, shows the slow poll with the request it was serving. The page's event
//! stream is read as a raw client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

fn example(name: &str) -> std::path::PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop();
    dir.pop();
    dir.join("examples").join(name)
}

/// The tour on a fresh SQLite file, one worker, any port; killed on drop.
struct Tour {
    child: Child,
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
            .args(["--addr", "127.0.0.1:0", "--workers", "1"])
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

/// How long one DevTools answer may take before the test gives up (a bound on a hung
/// browser, not a measurement).
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

/// Headless Chromium driven over the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`: it reads commands on fd 3 and answers on fd 4, each
/// message JSON ended by a NUL). Killed on drop.
struct Chromium {
    child: Child,
    commands: ChildStdin,
    /// Messages from the browser (answers and events), read by a thread.
    messages: Receiver<Value>,
    next_id: u64,
    /// The page's DevTools session.
    session: String,
    profile: std::path::PathBuf,
}

impl Chromium {
    /// Starts the browser with one blank page; `None` (after saying SKIPPED) when
    /// chromium is not installed, except under CI.
    fn start() -> Option<Chromium> {
        let profile = std::env::temp_dir().join(format!("simmer-chromium-{}", std::process::id()));
        // The shell puts the pipe ends on fds 3 and 4, where Chromium looks for them.
        let spawned = Command::new("sh")
            .args(["-c", "command -v chromium >/dev/null || exit 127; exec chromium \"$@\" 3<&0 4>&1 </dev/null >/dev/null", "sh"])
            .args([
                "--headless",
                "--remote-debugging-pipe",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh runs");
        let mut child = spawned;
        let commands = child.stdin.take().unwrap();
        let mut answers = BufReader::new(child.stdout.take().unwrap());
        let (tx, messages) = mpsc::channel();
        std::thread::spawn(move || loop {
            let mut message = Vec::new();
            if answers.read_until(0, &mut message).unwrap_or(0) == 0 {
                return; // the browser is gone
            }
            message.pop();
            let value = serde_json::from_slice(&message).expect("DevTools sends JSON");
            if tx.send(value).is_err() {
                return;
            }
        });
        let mut browser = Chromium {
            child,
            commands,
            messages,
            next_id: 0,
            session: String::new(),
            profile,
        };
        let target =
            match browser.try_call(None, "Target.createTarget", json!({"url": "about:blank"})) {
                Ok(answer) => answer["targetId"].as_str().unwrap().to_string(),
                Err(_) if browser.child.wait().ok().and_then(|s| s.code()) == Some(127) => {
                    if std::env::var_os("CI").is_some() {
                        panic!("chromium is not installed (CI must install it: see .ci/run)");
                    }
                    let _ = writeln!(std::io::stderr(), "SKIPPED: chromium is not installed");
                    return None;
                }
                Err(e) => panic!("chromium did not start: {e}"),
            };
        let attached = browser.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_string();
        Some(browser)
    }

    /// Sends a command (to the page's session unless `session` is `None` and no page
    /// is attached yet) and returns its result, skipping events meanwhile.
    fn try_call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let mut message = json!({"id": self.next_id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.commands
            .write_all(&bytes)
            .map_err(|e| format!("{method}: {e}"))?;
        loop {
            let answer = self
                .messages
                .recv_timeout(ANSWER_WITHIN)
                .map_err(|e| format!("{method}: no answer ({e})"))?;
            if answer["id"] == self.next_id {
                if let Some(error) = answer.get("error") {
                    return Err(format!("{method}: {error}"));
                }
                return Ok(answer["result"].clone());
            }
        }
    }

    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.try_call(session, method, params).unwrap()
    }

    /// A command to the page.
    fn page(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.call(Some(&session), method, params)
    }

    /// Loads `url` in the page and waits for its load event.
    fn open(&mut self, url: &str) {
        self.page("Page.enable", json!({}));
        self.page("Page.navigate", json!({"url": url}));
        loop {
            let event = self
                .messages
                .recv_timeout(ANSWER_WITHIN)
                .expect("the page loads");
            if event["method"] == "Page.loadEventFired" {
                return;
            }
        }
    }

    /// Evaluates `script` (an expression, possibly a promise) in the page; its value.
    fn eval(&mut self, script: &str) -> Value {
        let result = self.page(
            "Runtime.evaluate",
            json!({"expression": script, "awaitPromise": true, "returnByValue": true}),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("the page's script failed: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Waits (in the page, checking after each refresh of its DOM) until `condition`,
    /// a JavaScript expression, holds; then returns `value`'s. Gives up after 30 s,
    /// returning the page's text instead, for the failure message.
    fn wait_for(&mut self, condition: &str, value: &str) -> Value {
        self.eval(&format!(
            "new Promise(done => {{
                const until = Date.now() + 30000;
                const check = () => {{
                    if ({condition}) done({value});
                    else if (Date.now() > until) done('gave up waiting; the page says: ' + document.body.innerText);
                    else setTimeout(check, 50);
                }};
                check();
            }})"
        ))
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // Asked to close, the browser ends its renderers too; killed if it does not.
        let _ = self
            .commands
            .write_all(b"{\"id\":0,\"method\":\"Browser.close\"}\0");
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Decodes standard base64 (what DevTools sends screenshots in).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let word = chunk
            .iter()
            .enumerate()
            .fold(0u32, |w, (i, &d)| w | (d as u32) << (18 - 6 * i));
        out.extend_from_slice(&word.to_be_bytes()[1..chunk.len()]);
    }
    out
}

#[test]
fn chromium_shows_a_slow_poll_while_the_page_is_open() {
    let tour = Tour::start();
    let Some(mut browser) = Chromium::start() else {
        return;
    };
    browser.open(&format!("http://{}/_simmer/", tour.addr));
    // The page rendered the state it fetched, and there is no slow poll yet.
    let before = browser.wait_for(
        "document.getElementById('status').textContent.startsWith('updated')",
        "document.getElementById('slow').innerText.trim()",
    );
    assert_eq!(before.as_str(), Some("none yet"), "{before}");

    // With the page open, hold the loop for 300 ms (over the 100 ms threshold): the
    // page's next refresh waits behind it.
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
    // The row is built by the page's script from /_simmer/state: it is not in the HTML.
    let slow = browser.wait_for(
        "document.getElementById('slow').innerText.includes('GET /block?ms=300')",
        "document.getElementById('slow').outerHTML",
    );
    let slow = slow.as_str().unwrap();
    assert!(slow.contains("<td>GET /block?ms=300</td>"), "{slow}");
    assert!(slow.contains("conn 127.0.0.1:"), "{slow}");
    assert!(blocker.join().unwrap().starts_with("HTTP/1.1 200"));
    let quantiles = browser.eval("document.getElementById('quantiles').textContent");
    assert!(
        quantiles.as_str().unwrap().contains("turns · p50"),
        "the loop-delay histogram was drawn: {quantiles}"
    );

    // What the page looks like now: a PNG (docs/live-page.png is one such, taken with
    // SIMMER_LIVE_SCREENSHOT=docs/live-page.png).
    let shot = browser.page("Page.captureScreenshot", json!({"format": "png"}));
    let png = base64_decode(shot["data"].as_str().unwrap());
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    if let Some(path) = std::env::var_os("SIMMER_LIVE_SCREENSHOT") {
        std::fs::write(&path, &png).unwrap();
    }
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

#[test]
fn stats_show_the_histograms_with_the_block_in_the_loop_delay() {
    let tour = Tour::start();
    assert!(tour.get("/block?ms=300").starts_with("HTTP/1.1 200"));
    let reply = tour.get("/stats");
    let body = &reply[reply.find("\r\n\r\n").expect("a response") + 4..];
    let stats: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {reply}"));
    for name in [
        "loop_delay",
        "timer_lateness",
        "poll_duration",
        "wake_to_poll",
    ] {
        let h = &stats[name];
        let field = |f: &str| {
            h[f].as_u64()
                .unwrap_or_else(|| panic!("{name}.{f} in {stats}"))
        };
        assert!(field("p50_us") <= field("p90_us"), "{stats}");
        assert!(field("p90_us") <= field("p99_us"), "{stats}");
        assert!(field("p99_us") <= field("max_us"), "{stats}");
        let _ = field("count");
    }
    // The 300 ms the loop was held is one turn's delay (less at most a coarse-clock tick).
    let delay = &stats["loop_delay"];
    assert!(delay["count"].as_u64().unwrap() >= 2, "{stats}");
    assert!(delay["max_us"].as_u64().unwrap() >= 250_000, "{stats}");
    assert!(
        stats["poll_duration"]["max_us"].as_u64().unwrap() >= 250_000,
        "{stats}"
    );
}
