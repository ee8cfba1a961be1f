//! Seeing the schedule: run a small mixed workload with tracing on, then look at it.
//!
//! ```text
//! cargo run --example trace                 # writes trace.json and trace.html here
//! cargo run --example trace -- --out /tmp   # or into another directory
//! ```
//!
//! `trace.json` is Chrome's trace-event format: open it at https://ui.perfetto.dev or in
//! chrome://tracing. `trace.html` draws the same timeline on its own (no network): one
//! row per task, a bar for each poll, a tick for each wake coloured by what woke it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use simmer::http::client::Client;
use simmer::http::{Request, Router, Server};
use simmer::time::sleep;

fn main() {
    let out_dir = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [flag, dir] if flag == "--out" => PathBuf::from(dir),
        [] => PathBuf::from("."),
        _ => {
            eprintln!("usage: trace [--out DIR]");
            std::process::exit(2);
        }
    };
    let json_path = out_dir.join("trace.json");
    {
        let rt = simmer::Runtime::builder()
            .trace_path(&json_path)
            .build()
            .expect("runtime");
        rt.block_on(workload());
    } // dropping the runtime writes trace.json
    let trace: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).expect("trace written"))
            .expect("trace is JSON");
    let html_path = out_dir.join("trace.html");
    std::fs::write(&html_path, render_html(&trace)).expect("writing trace.html");
    println!("wrote {} and {}", json_path.display(), html_path.display());
    println!("open trace.json at https://ui.perfetto.dev or in chrome://tracing;");
    println!("open trace.html in any browser (it needs no network).");
}

/// Timers, an HTTP server and client, and an offloaded job, all at once.
async fn workload() {
    let server = Server::bind("127.0.0.1:0").expect("bind");
    let addr = server.local_addr().expect("address");
    let router = Router::new().get("/slow", |_r: Request| async {
        sleep(Duration::from_millis(15)).await;
        "done"
    });
    let serving = simmer::spawn_named("http server", async move {
        let stop = sleep(Duration::from_millis(60));
        server.serve_until(router, stop).await
    });
    let naps: Vec<_> = [5u64, 10, 20]
        .into_iter()
        .map(|ms| simmer::spawn_named(format!("nap {ms} ms"), sleep(Duration::from_millis(ms))))
        .collect();
    let crunch = simmer::spawn_named("offload sum", async {
        simmer::offload(|| (0..5_000_000u64).fold(0u64, |a, b| a.wrapping_add(b * b))).await
    });
    let client = Client::new();
    let requests: Vec<_> = (0..3)
        .map(|i| {
            let (client, url) = (client.clone(), format!("http://{addr}/slow"));
            simmer::spawn_named(format!("client request {i}"), async move {
                client.get(&url).send().await?.text().await
            })
        })
        .collect();
    for nap in naps {
        nap.await.expect("nap");
    }
    crunch.await.expect("crunch task").expect("offloaded job");
    for request in requests {
        request.await.expect("request task").expect("request");
    }
    serving.await.expect("server task").expect("server");
}

/// One row per task (and per pool thread), in order of first appearance.
struct Row {
    label: String,
    spans: Vec<(f64, f64)>,
    wakes: Vec<(f64, String)>,
}

fn render_html(trace: &Value) -> String {
    let events = trace["traceEvents"].as_array().cloned().unwrap_or_default();
    let mut rows: BTreeMap<(u8, u64), Row> = BTreeMap::new();
    let mut end: f64 = 1.0;
    for e in &events {
        let ts = e["ts"].as_f64().unwrap_or(0.0);
        let dur = e["dur"].as_f64().unwrap_or(0.0);
        end = end.max(ts + dur);
        let (key, label) = match (e["cat"].as_str(), e["args"]["task"].as_u64()) {
            (Some("offload"), _) => {
                let tid = e["tid"].as_u64().unwrap_or(0);
                (
                    (1, tid),
                    format!("pool thread {}", tid.saturating_sub(1000)),
                )
            }
            (Some("poll"), Some(task)) => ((0, task), e["name"].as_str().unwrap_or("").to_string()),
            (Some("wake"), Some(task)) => {
                let name = e["name"]
                    .as_str()
                    .unwrap_or("")
                    .trim_start_matches("wake ")
                    .to_string();
                ((0, task), name)
            }
            _ => continue,
        };
        let row = rows.entry(key).or_insert_with(|| Row {
            label,
            spans: Vec::new(),
            wakes: Vec::new(),
        });
        match e["ph"].as_str() {
            Some("X") => row.spans.push((ts, dur)),
            Some("i") => row
                .wakes
                .push((ts, e["args"]["source"].as_str().unwrap_or("?").to_string())),
            _ => {}
        }
    }
    let (width, row_h, label_w) = (1100.0, 26.0, 190.0);
    let x = |t: f64| label_w + t / end * (width - label_w - 10.0);
    let height = 40.0 + rows.len() as f64 * row_h;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="11">"#
    );
    for (i, row) in rows.values().enumerate() {
        let y = 30.0 + i as f64 * row_h;
        let _ = write!(
            svg,
            r#"<text x="4" y="{}">{}</text>"#,
            y + 15.0,
            escape(&row.label)
        );
        let _ = write!(
            svg,
            r##"<line x1="{label_w}" x2="{width}" y1="{}" y2="{}" stroke="#ddd"/>"##,
            y + 20.0,
            y + 20.0
        );
        for (ts, dur) in &row.spans {
            let w = (x(ts + dur) - x(*ts)).max(1.5);
            let _ = write!(
                svg,
                r##"<rect x="{:.1}" y="{}" width="{w:.1}" height="14" fill="#4a7ebb"><title>{:.1} µs at {:.1} µs</title></rect>"##,
                x(*ts),
                y + 4.0,
                dur,
                ts
            );
        }
        for (ts, source) in &row.wakes {
            let colour = match source.as_str() {
                "io" => "#2e9e44",
                "timer" => "#e08a00",
                "other thread" => "#c0392b",
                "yield" => "#8e44ad",
                _ => "#555",
            };
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{}" width="2" height="20" fill="{colour}"><title>woken by {source} at {ts:.1} µs</title></rect>"#,
                x(*ts),
                y
            );
        }
    }
    let _ = write!(
        svg,
        r#"<text x="{label_w}" y="14">0 µs</text><text x="{}" y="14" text-anchor="end">{end:.0} µs</text></svg>"#,
        width - 10.0
    );
    format!(
        "<!doctype html><meta charset=\"utf-8\"><title>simmer trace</title>\
         <body style=\"font-family:sans-serif\"><h1>simmer trace</h1>\
         <p>One row per task (and per offload thread). Blue bars: polls. Ticks: wakes — \
         <span style=\"color:#2e9e44\">I/O</span>, <span style=\"color:#e08a00\">timer</span>, \
         <span style=\"color:#c0392b\">other thread</span>, <span style=\"color:#8e44ad\">yield</span>, \
         <span style=\"color:#555\">another task</span>. Hover for times.</p>{svg}</body>\n"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
