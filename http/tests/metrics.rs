//! `/metrics`: the text is read by Prometheus's own Python parser
//! (`prometheus_client.parser`), and the values move as requests are made.

mod support;

use std::io::{BufReader, Write as _};
use std::process::{Command, Stdio};

use serde_json::Value;
use simmer::http::{HttpError, Request, Router};
use support::{exchange, read_response, serve};

/// The parser, as a short Python program: a JSON list of `/metrics` texts in, their
/// samples out as JSON; exit code 3 when prometheus_client is not installed.
const PARSE: &str = r#"
import json, sys
try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    sys.exit(3)
out = []
for text in json.load(sys.stdin):
    samples = []
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.append({"family": family.name, "type": family.type, "name": s.name,
                            "labels": s.labels, "value": s.value})
    out.append(samples)
print(json.dumps(out))
"#;

/// Parses each `/metrics` text with prometheus_client (`SIMMER_PYTHON`, the venv
/// `.ci/run` makes, or `python3`); panics if it rejects one. None (after saying
/// SKIPPED) when that Python lacks prometheus_client, except under CI.
fn parse(texts: &[String]) -> Option<Vec<Vec<Value>>> {
    let python = std::env::var("SIMMER_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let Ok(mut child) = Command::new(&python)
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        return skip(&python);
    };
    let input = serde_json::to_vec(texts).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.code() == Some(3) {
        return skip(&python);
    }
    assert!(
        out.status.success(),
        "prometheus_client rejected the text: {}\n{texts:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

fn skip(python: &str) -> Option<Vec<Vec<Value>>> {
    if std::env::var_os("CI").is_some() {
        panic!("{python} lacks prometheus_client (.ci/run makes a venv with it: SIMMER_PYTHON)");
    }
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {python} lacks prometheus_client (pip install prometheus_client, or set SIMMER_PYTHON)"
    );
    None
}

/// The value of the sample `name` whose labels include every pair of `labels`.
fn value(samples: &[Value], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .find(|s| {
            s["name"] == name
                && labels
                    .iter()
                    .all(|(k, v)| s["labels"][*k].as_str() == Some(*v))
        })
        .map_or(0.0, |s| s["value"].as_f64().unwrap())
}

/// The figures are summed over every loop alive in the process, so a loop that ends
/// between two scrapes takes its counts with it: the tests of this file run one at a
/// time, each server stopped (its loop gone) before the next starts.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn router() -> Router {
    Router::new()
        .get("/items/{id}", |req: Request| async move {
            format!("item {}", req.param("id").unwrap_or("?"))
        })
        .get("/fail", |_req: Request| async {
            Err::<&str, _>(HttpError::new(503, "busy"))
        })
        // A timer fires: the lateness histogram gets a value.
        .get("/nap", |_req: Request| async {
            simmer::time::sleep(std::time::Duration::from_millis(1)).await;
            "rested"
        })
        // A job on the offload pool.
        .get("/pool", |_req: Request| async {
            simmer::offload(|| "pooled").await.unwrap()
        })
        .metrics("/metrics")
}

#[test]
fn metrics_parse_as_prometheus_text_and_move_with_requests() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let server = serve(router);
    let conn = server.connect();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut get = |path: &str| {
        (&conn)
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
            .unwrap();
        read_response(&mut reader, false).expect("a response")
    };
    let before = get("/metrics").text();
    for id in ["1", "2", "three"] {
        assert_eq!(get(&format!("/items/{id}")).status, 200);
    }
    assert_eq!(get("/fail").status, 503);
    assert_eq!(get("/no/such/page").status, 404);
    assert_eq!(get("/nap").status, 200);
    assert_eq!(get("/pool").status, 200);
    // A second connection, open while the scrape runs.
    let other = server.connect();
    assert_eq!(
        exchange(&other, b"GET /items/4 HTTP/1.1\r\nHost: t\r\n\r\n").status,
        200
    );
    let after = get("/metrics").text();
    let Some(parsed) = parse(&[before, after]) else {
        return;
    };
    let (before, after) = (&parsed[0], &parsed[1]);

    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(after, name, labels) - value(before, name, labels)
    };
    let items = [
        ("method", "GET"),
        ("route", "/items/{id}"),
        ("status", "2xx"),
    ];
    // The route pattern is the label, never the raw path.
    assert_eq!(moved("simmer_http_requests_total", &items), 4.0);
    assert!(!after.iter().any(|s| s["labels"]["route"] == "/items/1"));
    let fail = [("method", "GET"), ("route", "/fail"), ("status", "5xx")];
    assert_eq!(moved("simmer_http_requests_total", &fail), 1.0);
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "4xx")];
    assert_eq!(moved("simmer_http_requests_total", &unmatched), 1.0);
    let route = [("route", "/items/{id}")];
    assert_eq!(
        moved("simmer_http_request_duration_seconds_count", &route),
        4.0
    );
    let inf = [("route", "/items/{id}"), ("le", "+Inf")];
    assert_eq!(
        moved("simmer_http_request_duration_seconds_bucket", &inf),
        4.0
    );
    // The nap took at least its millisecond, and the histogram's sum says so.
    let nap = [("route", "/nap")];
    assert_eq!(
        moved("simmer_http_request_duration_seconds_count", &nap),
        1.0
    );
    assert!(moved("simmer_http_request_duration_seconds_sum", &nap) >= 0.001);
    // The scrape before this one was counted too, on its own route.
    let scrapes = [("route", "/metrics"), ("status", "2xx")];
    assert!(value(after, "simmer_http_requests_total", &scrapes) >= 1.0);

    // Runtime figures: the loop turned and polled the connection between the scrapes.
    assert!(moved("simmer_polls_total", &[]) >= 1.0);
    assert!(moved("simmer_loop_delay_seconds_count", &[]) >= 1.0);
    assert!(moved("simmer_poll_duration_seconds_count", &[]) >= 1.0);
    assert!(moved("simmer_wake_to_poll_seconds_count", &[]) >= 1.0);
    assert!(
        moved("simmer_tasks_spawned_total", &[]) >= 1.0,
        "the second connection's task"
    );
    assert!(moved("simmer_io_events_total", &[]) >= 1.0);
    // The nap's timer fired, and how late it was is in the histogram.
    assert!(moved("simmer_timers_fired_total", &[]) >= 1.0);
    assert!(moved("simmer_timer_lateness_seconds_count", &[]) >= 1.0);
    // Both connections are open during the second scrape.
    assert!(value(after, "simmer_http_open_connections", &[]) >= 2.0);
    // The pool ran /pool's job, and still runs the test server's stop waiter.
    assert!(value(after, "simmer_offload_threads", &[]) >= 1.0);
    assert!(value(after, "simmer_offload_running", &[]) >= 1.0);
    let families: Vec<&str> = after
        .iter()
        .map(|s| s["family"].as_str().unwrap())
        .collect();
    for family in [
        "simmer_offload_queued",
        "simmer_tasks_alive",
        "simmer_loop_turns",
        "simmer_slow_polls",
        "simmer_longest_poll_seconds",
    ] {
        assert!(families.contains(&family), "{family} is exported");
    }
    assert!(moved("simmer_loop_turns_total", &[]) >= 1.0);
    // Histograms are well formed: buckets never decrease, +Inf equals the count.
    for family in [
        "simmer_loop_delay_seconds",
        "simmer_poll_duration_seconds",
        "simmer_timer_lateness_seconds",
        "simmer_wake_to_poll_seconds",
    ] {
        let buckets: Vec<f64> = after
            .iter()
            .filter(|s| s["name"] == format!("{family}_bucket"))
            .map(|s| s["value"].as_f64().unwrap())
            .collect();
        assert!(buckets.len() > 10, "{family}: {buckets:?}");
        assert!(
            buckets.windows(2).all(|w| w[0] <= w[1]),
            "{family}: {buckets:?}"
        );
        let count = value(after, &format!("{family}_count"), &[]);
        assert_eq!(*buckets.last().unwrap(), count, "{family}");
    }
    let types: Vec<_> = after
        .iter()
        .filter(|s| s["family"] == "simmer_loop_delay_seconds")
        .map(|s| s["type"].as_str().unwrap())
        .collect();
    assert!(types.iter().all(|t| *t == "histogram"), "{types:?}");
}

#[test]
fn routers_without_metrics_count_nothing() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let server = serve(|| Router::new().get("/", |_r: Request| async { "hi" }));
    let reply = exchange(
        &server.connect(),
        b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(reply.status, 404);
}
