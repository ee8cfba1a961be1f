//! The tour's WebSocket echo (`/ws`) and its page (`/ws-echo`), and the tour over
//! HTTPS (`--tls-cert`, `--tls-key`): headless Chromium loads the page and the echoes
//! are in its DOM; curl and Python's `websockets` talk to the tour over TLS with a
//! certificate the openssl command made for this run.

#[path = "support/cert.rs"]
mod cert;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn example(name: &str) -> PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop();
    dir.pop();
    dir.join("examples").join(name)
}

/// True under CI (a missing tool fails there), else says SKIPPED.
fn skip(what: &str) -> bool {
    if std::env::var_os("CI").is_some() {
        panic!("{what} (CI must install it: see .ci/run)");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what}");
    true
}

/// The tour on a fresh SQLite file and any port; killed on drop.
struct Tour {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT` or `https://…`.
    base: String,
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Tour {
    fn start(name: &str, extra: &[&Path], ca_file: Option<&Path>) -> Tour {
        let sqlite = std::env::temp_dir().join(format!(
            "simmer-tour-ws-{name}-{}.sqlite3",
            std::process::id()
        ));
        let mut command = Command::new(example("tour"));
        if let Some(ca_file) = ca_file {
            command.env("SSL_CERT_FILE", ca_file);
        }
        let mut child = command
            .env_remove("DATABASE_URL")
            .env("SIMMER_SQLITE", sqlite)
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("examples are built by cargo test");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let base = line.trim().rsplit(' ').next().unwrap().to_string();
        Tour {
            child,
            base,
            _stdout: stdout,
        }
    }
}

impl Drop for Tour {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn chromium_shows_the_text_and_binary_echoes_of_the_ws_page() {
    let tour = Tour::start("page", &[], None);
    let profile = std::env::temp_dir().join(format!("simmer-chromium-ws-{}", std::process::id()));
    let result = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=3000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("{}/ws-echo", tour.base))
        .stderr(Stdio::null())
        .output();
    let _ = std::fs::remove_dir_all(&profile);
    let output = match result {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            skip("chromium is not installed");
            return;
        }
        Err(e) => panic!("running chromium: {e}"),
    };
    let dom = String::from_utf8_lossy(&output.stdout);
    // The list items are made by the page's script as the echoes arrive.
    assert!(
        dom.contains("<li class=\"echo\">echo: hello from the page</li>"),
        "{dom}"
    );
    assert!(
        dom.contains("<li class=\"echo\">echo: 4 bytes [1,2,3,250]</li>"),
        "{dom}"
    );
}

/// Python's `websockets` over TLS to the tour's `/ws`.
const PYTHON_WSS: &str = r#"
import asyncio, ssl, sys
try:
    from websockets.asyncio.client import connect
except ImportError:
    sys.exit(3)

async def main(url, cafile):
    async with connect(url, ssl=ssl.create_default_context(cafile=cafile)) as ws:
        await ws.send("tea")
        assert await ws.recv() == "tea"
        await ws.send(b"\x01\x02")
        assert await ws.recv() == b"\x01\x02"
    print("ok")

asyncio.run(main(sys.argv[1], sys.argv[2]))
"#;

#[test]
fn the_tour_serves_https_and_wss_with_the_files_it_is_given() {
    let dir = std::env::temp_dir().join(format!("simmer-tour-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let Some((cert, key)) = cert::self_signed_localhost(&dir) else {
        return;
    };
    let tour = Tour::start(
        "tls",
        &[Path::new("--tls-cert"), &cert, Path::new("--tls-key"), &key],
        Some(&cert),
    );
    let port = tour.base.rsplit(':').next().unwrap().to_string();
    assert!(tour.base.starts_with("https://127.0.0.1:"), "{}", tour.base);

    // /external-api: the tour's own client fetches /upstream from itself over HTTPS,
    // trusting the certificate through SSL_CERT_FILE.
    let curl = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(&cert)
        .arg(format!("https://localhost:{port}/hello"))
        .arg(format!("https://localhost:{port}/external-api"))
        .output();
    match curl {
        Ok(out) => assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            r#"{"message":"Hello"}{"items":[1,2,3],"source":"simmer tour upstream"}"#,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => {
            skip("curl is not installed");
        }
    }

    let python = std::env::var("SIMMER_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let out = Command::new(&python)
        .args(["-c", PYTHON_WSS, &format!("wss://localhost:{port}/ws")])
        .arg(&cert)
        .output();
    match out {
        Ok(out) if out.status.code() != Some(3) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success() && text.trim_end() == "ok", "{text}");
        }
        _ => {
            skip(&format!("{python} lacks websockets (set SIMMER_PYTHON)"));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
