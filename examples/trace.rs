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
    // The label column fits the longest name (monospace 11 px: about 6.7 px a character).
    let longest = rows
        .values()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0);
    let (width, row_h) = (1100.0, 26.0);
    let label_w = (longest as f64 * 6.7 + 14.0).max(60.0);
    let height = 40.0 + rows.len() as f64 * row_h;
    let mut svg = format!(
        r#"<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" font-family="monospace" font-size="11" style="cursor:grab;user-select:none">"#,
        label_w + width
    );
    for (i, row) in rows.values().enumerate() {
        let y = 30.0 + i as f64 * row_h;
        let _ = write!(
            svg,
            r##"<text x="4" y="{}">{}</text><line x1="{label_w}" x2="{}" y1="{}" y2="{}" stroke="#ddd"/>"##,
            y + 15.0,
            escape(&row.label),
            label_w + width,
            y + 20.0,
            y + 20.0
        );
    }
    let _ = write!(
        svg,
        r#"<text id="from" x="{label_w}" y="14"></text><text id="to" x="{}" y="14" text-anchor="end"></text><g id="plot"></g></svg>"#,
        label_w + width - 10.0
    );
    // The bars and ticks are drawn by the script from this data, for the time window
    // in view: the wheel zooms around the pointer, dragging pans, a double click resets.
    let data: Vec<Value> = rows
        .values()
        .map(|r| serde_json::json!({"spans": r.spans, "wakes": r.wakes}))
        .collect();
    let script = format!(
        r##"<script>
"use strict";
const ROWS = {data}, END = {end}, LEFT = {label_w}, WIDTH = {width} - 10, ROW_H = {row_h};
const COLOURS = {{"io": "#2e9e44", "timer": "#e08a00", "other thread": "#c0392b", "yield": "#8e44ad"}};
let t0 = 0, t1 = END;
const svg = document.getElementById("timeline"), plot = document.getElementById("plot");
const NS = "http://www.w3.org/2000/svg";
function rect(x, y, w, h, fill, title) {{
  const r = document.createElementNS(NS, "rect");
  r.setAttribute("x", x.toFixed(1)); r.setAttribute("y", y); r.setAttribute("width", w.toFixed(1));
  r.setAttribute("height", h); r.setAttribute("fill", fill);
  const t = document.createElementNS(NS, "title"); t.textContent = title; r.append(t); return r;
}}
function draw() {{
  const x = t => LEFT + (t - t0) / (t1 - t0) * WIDTH, out = [];
  ROWS.forEach((row, i) => {{
    const y = 30 + i * ROW_H;
    for (const [ts, dur] of row.spans) {{
      if (ts + dur < t0 || ts > t1) continue;
      const a = Math.max(x(ts), LEFT), b = Math.min(x(ts + dur), LEFT + WIDTH);
      out.push(rect(a, y + 4, Math.max(b - a, 1.5), 14, "#4a7ebb", `${{dur.toFixed(1)}} µs at ${{ts.toFixed(1)}} µs`));
    }}
    for (const [ts, source] of row.wakes) {{
      if (ts < t0 || ts > t1) continue;
      out.push(rect(x(ts), y, 2, 20, COLOURS[source] || "#555", `woken by ${{source}} at ${{ts.toFixed(1)}} µs`));
    }}
  }});
  plot.replaceChildren(...out);
  document.getElementById("from").textContent = t0.toFixed(0) + " µs";
  document.getElementById("to").textContent = t1.toFixed(0) + " µs";
}}
function timeAt(clientX) {{
  const px = clientX - svg.getBoundingClientRect().left - LEFT;
  return t0 + Math.min(Math.max(px / WIDTH, 0), 1) * (t1 - t0);
}}
svg.addEventListener("wheel", e => {{
  e.preventDefault();
  const at = timeAt(e.clientX), k = e.deltaY < 0 ? 0.8 : 1.25;
  const span = Math.min(Math.max((t1 - t0) * k, 1), END);
  t0 = Math.max(0, at - (at - t0) / (t1 - t0) * span); t1 = Math.min(END, t0 + span); t0 = t1 - span;
  draw();
}}, {{ passive: false }});
let drag = null;
svg.addEventListener("mousedown", e => {{ drag = {{ x: e.clientX, t0, t1 }}; svg.style.cursor = "grabbing"; }});
window.addEventListener("mouseup", () => {{ drag = null; svg.style.cursor = "grab"; }});
window.addEventListener("mousemove", e => {{
  if (!drag) return;
  const span = drag.t1 - drag.t0, dt = (drag.x - e.clientX) / WIDTH * span;
  t0 = Math.min(Math.max(drag.t0 + dt, 0), END - span); t1 = t0 + span; draw();
}});
svg.addEventListener("dblclick", () => {{ t0 = 0; t1 = END; draw(); }});
draw();
</script>"##,
        data = Value::Array(data)
    );
    format!(
        "<!doctype html><meta charset=\"utf-8\"><title>simmer trace</title>\
         <body style=\"font-family:sans-serif\"><h1>simmer trace</h1>\
         <p>One row per task (and per offload thread). Blue bars: polls. Ticks: wakes — \
         <span style=\"color:#2e9e44\">I/O</span>, <span style=\"color:#e08a00\">timer</span>, \
         <span style=\"color:#c0392b\">other thread</span>, <span style=\"color:#8e44ad\">yield</span>, \
         <span style=\"color:#555\">another task</span>. Hover for times. Scroll to zoom around \
         the pointer, drag to pan, double-click to see it all.</p>{svg}{script}</body>\n"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
