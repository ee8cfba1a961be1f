//! Clients nobody here wrote: curl, Python's http.client, ApacheBench, wrk, h2load.
//!
//! `.ci/run` installs them. Run elsewhere without one, a test says it was skipped;
//! under CI (`CI=true`) a missing tool is a failure.

use std::io::Write as _;
mod support;

use std::process::Command;

use simmer::http::{Request, Response, Router};
use support::serve;

fn app() -> Router {
    Router::new()
        .get("/plaintext", |_r: Request| async {
            Response::text("Hello, World!")
        })
        .post("/echo", |mut req: Request| async move { req.body().await })
}

/// Runs `tool args`, or returns None (after saying so) if the tool is not installed.
fn run(tool: &str, args: &[&str]) -> Option<std::process::Output> {
    match Command::new(tool).args(args).output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::env::var_os("CI").is_some() {
                panic!("{tool} is not installed (CI must install it: see .ci/run)");
            }
            // Written to stderr directly: the test harness hides eprintln! of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {tool} is not installed (apt-get install it to run this test)"
            );
            None
        }
        Err(e) => panic!("running {tool}: {e}"),
    }
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn curl_http11_get() {
    let server = serve(app);
    let url = format!("http://{}/plaintext", server.addr);
    let Some(out) = run("curl", &["-sS", "-i", "--http1.1", &url]) else {
        return;
    };
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.starts_with("HTTP/1.1 200 OK") && t.ends_with("Hello, World!"),
        "{t}"
    );
}

/// POSTs `body` (from a temporary file) to `/echo` with curl and `extra` arguments.
fn curl_upload(
    server: &support::TestServer,
    body: &str,
    extra: &[&str],
) -> Option<std::process::Output> {
    let url = format!("http://{}/echo", server.addr);
    let path = std::env::temp_dir().join(format!(
        "simmer-upload-{}-{}",
        std::process::id(),
        body.len()
    ));
    std::fs::write(&path, body).unwrap();
    let data = format!("@{}", path.display());
    let mut args = vec!["-sS"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--data-binary", &data, &url]);
    let out = run("curl", &args);
    std::fs::remove_file(&path).ok();
    out
}

#[test]
fn curl_chunked_upload_is_echoed() {
    let server = serve(app);
    let body = "chunk-me ".repeat(5000);
    let Some(out) = curl_upload(&server, &body, &["-H", "Transfer-Encoding: chunked"]) else {
        return;
    };
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), body);
}

#[test]
fn curl_expect_100_continue_gets_continue_then_the_echo() {
    let server = serve(app);
    let body = "x".repeat(200_000);
    let Some(out) = curl_upload(&server, &body, &["-v", "-H", "Expect: 100-continue"]) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("HTTP/1.1 100 Continue"), "{stderr}");
    assert_eq!(out.stdout.len(), body.len());
}

#[test]
fn python_http_client_keep_alive() {
    let server = serve(app);
    let script = format!(
        "import http.client\n\
         c = http.client.HTTPConnection('127.0.0.1', {})\n\
         for i in range(5):\n\
         \x20   c.request('GET', '/plaintext')\n\
         \x20   r = c.getresponse()\n\
         \x20   print(r.status, r.read().decode(), r.getheader('Date') is not None)\n\
         c.request('POST', '/echo', body=b'posted by python')\n\
         r = c.getresponse()\n\
         print(r.status, r.read().decode())\n",
        server.addr.port()
    );
    let Some(out) = run("python3", &["-c", &script]) else {
        return;
    };
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert_eq!(t.matches("200 Hello, World! True").count(), 5, "{t}");
    assert!(t.contains("200 posted by python"), "{t}");
}

#[test]
fn apachebench_http10_keep_alive_has_no_failures() {
    let server = serve(app);
    let url = format!("http://{}/plaintext", server.addr);
    let Some(out) = run("ab", &["-k", "-q", "-n", "5000", "-c", "8", &url]) else {
        return;
    };
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("Complete requests:      5000"), "{t}");
    assert!(t.contains("Failed requests:        0"), "{t}");
    assert!(
        t.contains("Keep-Alive requests:    5000"),
        "every request reused a connection: {t}"
    );
    assert!(!t.contains("Non-2xx"), "{t}");
}

#[test]
fn wrk_short_run_has_no_errors() {
    let server = serve(app);
    let url = format!("http://{}/plaintext", server.addr);
    let Some(out) = run("wrk", &["-t1", "-c32", "-d1s", &url]) else {
        return;
    };
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("requests in"), "{t}");
    assert!(
        !t.contains("Socket errors") && !t.contains("Non-2xx"),
        "{t}"
    );
}

#[test]
fn h2load_http1_run_has_no_errors() {
    let server = serve(app);
    let url = format!("http://{}/plaintext", server.addr);
    let Some(out) = run("h2load", &["--h1", "-n", "20000", "-c", "16", &url]) else {
        return;
    };
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("20000 succeeded, 0 failed, 0 errored"), "{t}");
    assert!(
        t.contains("status codes: 20000 2xx, 0 3xx, 0 4xx, 0 5xx"),
        "{t}"
    );
}
