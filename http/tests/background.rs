//! Background tasks over real sockets: they start after the response is written, and
//! a task that fails or panics is logged while the server goes on.
mod support;

use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

use simmer::http::extract::State;
use simmer::http::{BackgroundTasks, Request, Router, TestClient};
use support::exchange;

/// The test's ends of the channels a handler's tasks use.
struct Channels {
    /// A task waits for the test to send on this before it finishes.
    release: Mutex<Option<mpsc::Receiver<()>>>,
    /// Tasks report here.
    report: mpsc::Sender<&'static str>,
}

/// Schedules a task that blocks the loop's own thread until the test releases it: had
/// it started before the response was written, the response could not be written
/// until the release.
async fn blocks_the_loop(tasks: BackgroundTasks, State(channels): State<Channels>) -> &'static str {
    let release = channels
        .release
        .lock()
        .unwrap()
        .take()
        .expect("one request");
    let report = channels.report.clone();
    tasks.add(async move {
        report.send("loop task started").unwrap();
        release.recv().unwrap();
        report.send("loop task finished").unwrap();
    });
    "answered"
}

/// The same through `Request::background`, on the pool.
async fn blocks_a_pool_thread(req: Request) -> &'static str {
    let channels = req.state::<Channels>().unwrap();
    let release = channels
        .release
        .lock()
        .unwrap()
        .take()
        .expect("one request");
    let report = channels.report.clone();
    req.background().add_sync(move || {
        report.send("pool task started").unwrap();
        release.recv().unwrap();
        report.send("pool task finished").unwrap();
    });
    "answered"
}

fn blocking_app(release: mpsc::Receiver<()>, report: mpsc::Sender<&'static str>) -> Router {
    Router::new()
        .get("/loop", blocks_the_loop)
        .get("/pool", blocks_a_pool_thread)
        .get("/ping", |_r: Request| async { "pong" })
        .state(Channels {
            release: Mutex::new(Some(release)),
            report,
        })
}

fn released_after_the_response(target: &str, started: &str, finished: &str) {
    let (release_tx, release_rx) = mpsc::channel();
    let (report_tx, report_rx) = mpsc::channel();
    let server = support::serve(move || blocking_app(release_rx, report_tx));
    // Declared after the server, so dropped before it if an assertion fails: the
    // task's wait ends and the server can stop.
    let release_tx = release_tx;
    let s = server.connect();
    let request = format!("GET {target} HTTP/1.1\r\nHost: a\r\n\r\n");
    let reply = exchange(&s, request.as_bytes());
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.text(),
        "answered",
        "the response came while the task waits"
    );
    let wait = Duration::from_secs(10);
    assert_eq!(report_rx.recv_timeout(wait), Ok(started));
    assert_eq!(
        report_rx.try_recv(),
        Err(mpsc::TryRecvError::Empty),
        "the task waits for the release"
    );
    release_tx.send(()).unwrap();
    assert_eq!(report_rx.recv_timeout(wait), Ok(finished));
    let reply = exchange(&s, b"GET /ping HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(reply.text(), "pong", "the connection goes on");
}

#[test]
fn a_task_on_the_loop_starts_after_the_response_is_written() {
    released_after_the_response("/loop", "loop task started", "loop task finished");
}

#[test]
fn a_sync_task_runs_on_the_pool_after_the_response() {
    released_after_the_response("/pool", "pool task started", "pool task finished");
}

/// A task body with a bug.
fn explode(what: &str) {
    panic!("{what}")
}

/// Schedules failing and panicking tasks, then one that reports that all have run.
async fn troubled(tasks: BackgroundTasks, State(done): State<Mutex<mpsc::Sender<()>>>) -> String {
    tasks.add(async { explode("async task bug") });
    tasks.add(async { Err::<(), _>("the mail server said no") });
    tasks.add_sync(|| -> Result<(), String> { Err("disk full".into()) });
    tasks.add_sync(|| explode("sync task bug"));
    let done = done.lock().unwrap().clone();
    tasks.add(async move { done.send(()).unwrap() });
    format!("{} tasks scheduled", tasks.pending())
}

#[test]
fn failing_and_panicking_tasks_are_logged_and_the_server_goes_on() {
    // The log goes to stderr: run this test binary again as a child and read it.
    if std::env::var_os("SIMMER_CHILD_BACKGROUND").is_some() {
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let server = support::serve(move || {
            Router::new()
                .get("/troubled", troubled)
                .get("/ping", |_r: Request| async { "pong" })
                .state(Mutex::new(done_tx))
        });
        let s = server.connect();
        let reply = exchange(&s, b"GET /troubled HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(
            (reply.status, reply.text().as_str()),
            (200, "5 tasks scheduled")
        );
        done_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the last task ran after the failures");
        let reply = exchange(&s, b"GET /ping HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(reply.text(), "pong", "the same connection goes on");
        assert!(server.raw(b"GET /ping HTTP/1.0\r\n\r\n").ends_with("pong"));
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "failing_and_panicking_tasks_are_logged_and_the_server_goes_on",
            "--exact",
            "--nocapture",
        ])
        .env("SIMMER_CHILD_BACKGROUND", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let prefix = "background tasks of GET /troubled failed: ";
    let expected = [
        "task panicked: async task bug",
        "the mail server said no",
        "disk full",
        "task panicked: sync task bug",
    ];
    let mut rest = &stderr[..];
    for message in expected {
        let line = format!("{prefix}{message}");
        let at = rest
            .find(&line)
            .unwrap_or_else(|| panic!("{line:?} logged, in order, in:\n{stderr}"));
        rest = &rest[at + line.len()..];
    }
}

#[test]
fn test_client_answers_once_the_tasks_have_run() {
    let (report_tx, report_rx) = mpsc::channel::<&'static str>();
    let router = Router::new().post("/signup", move |tasks: BackgroundTasks| {
        let report = report_tx.clone();
        async move {
            let on_pool = report.clone();
            tasks.add(async move { report.send("welcome mail").unwrap() });
            tasks.add_sync(move || on_pool.send("audit line").unwrap());
            "welcome"
        }
    });
    let client = TestClient::new(router);
    let reply = client.post("/signup").send();
    assert_eq!(reply.text(), "welcome");
    let ran: Vec<_> = report_rx.try_iter().collect();
    assert_eq!(
        ran,
        ["welcome mail", "audit line"],
        "in order, before send returned"
    );
}
