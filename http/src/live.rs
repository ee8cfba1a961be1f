//! `/_simmer/`: a live page of the loop (opt-in with [`Router::live_page`]).
//!
//! One self-contained HTML file (`live.html`, script inline, no network beyond this
//! server) that polls `{prefix}/state` for counters, the loop-delay histogram, live
//! tasks, recent slow polls and the offload pool, and draws a scrolling timeline of
//! polls and wakes from `{prefix}/events`, a Server-Sent Events stream fed by the
//! executor's bounded ring (`simmer_executor::watch`): a slow viewer misses samples, it
//! never holds the loop. The page shows the loop that serves its connection (with
//! several workers, one of them).

use std::fmt::Write as _;
use std::time::Duration;

use simmer_executor::{Histogram, LoopEventKind};

use crate::request::Request;
use crate::response::Response;
use crate::router::Router;

const PAGE: &str = include_str!("live.html");

/// How often the event stream sends what the ring gathered.
const EVENT_INTERVAL: Duration = Duration::from_millis(250);

impl Router {
    /// Serves the live page at `{prefix}/` (e.g. `/_simmer/`), with its data at
    /// `{prefix}/state` (JSON) and `{prefix}/events` (Server-Sent Events). Recording
    /// polls and wakes for the timeline starts when the first viewer connects.
    pub fn live_page(self, prefix: &str) -> Router {
        let prefix = prefix.trim_end_matches('/');
        self.get(&format!("{prefix}/"), page)
            .get(&format!("{prefix}/state"), state)
            .get(&format!("{prefix}/events"), events)
    }
}

async fn page(_req: Request) -> Response {
    Response::text(PAGE).with_content_type("text/html; charset=utf-8")
}

/// Everything but the timeline, as JSON (written by hand: the `json` feature is
/// optional).
async fn state(_req: Request) -> Response {
    let mut out = String::with_capacity(4096);
    let s = simmer_executor::stats().unwrap_or_default();
    let counters = [
        ("tasks_spawned", s.tasks_spawned),
        ("tasks_alive", s.tasks_alive),
        ("polls", s.polls),
        ("local_wakes", s.local_wakes),
        ("remote_wakes", s.remote_wakes),
        ("unparks", s.unparks),
        ("io_events", s.io_events),
        ("timers_fired", s.timers_fired),
        ("loop_turns", s.loop_turns),
        ("slow_polls", s.slow_polls),
        ("offload_queued", s.offload_queued),
        ("offload_running", s.offload_running),
        ("offload_threads", s.offload_threads),
    ];
    out.push_str("{\"counters\":{");
    for (i, (name, value)) in counters.iter().enumerate() {
        let comma = if i > 0 { "," } else { "" };
        write!(out, "{comma}\"{name}\":{value}").ok();
    }
    out.push_str("},\"histograms\":{");
    let histograms = [
        ("loop_delay", &s.loop_delay),
        ("timer_lateness", &s.timer_lateness),
        ("poll_duration", &s.poll_duration),
        ("wake_to_poll", &s.wake_to_poll),
    ];
    for (i, (name, h)) in histograms.iter().enumerate() {
        let comma = if i > 0 { "," } else { "" };
        write!(out, "{comma}\"{name}\":").ok();
        histogram_json(&mut out, h);
    }
    out.push_str("},\"tasks\":[");
    let mut tasks = simmer_executor::tasks().unwrap_or_default();
    tasks.sort_by_key(|t| std::cmp::Reverse(t.held));
    for (i, t) in tasks.iter().take(100).enumerate() {
        let comma = if i > 0 { "," } else { "" };
        write!(
            out,
            "{comma}{{\"id\":{},\"name\":\"{}\",\"polls\":{},\"held_us\":{}}}",
            t.id,
            Json(t.name.as_deref().unwrap_or("")),
            t.polls,
            t.held.as_micros()
        )
        .ok();
    }
    write!(out, "],\"tasks_total\":{},\"slow\":[", tasks.len()).ok();
    let slow = simmer_executor::recent_slow_polls().unwrap_or_default();
    for (i, p) in slow.iter().rev().enumerate() {
        let comma = if i > 0 { "," } else { "" };
        write!(
            out,
            "{comma}{{\"task\":{},\"name\":\"{}\",\"held_ms\":{},\"detail\":\"{}\"}}",
            p.task_id,
            Json(p.task_name.as_deref().unwrap_or("")),
            p.held.as_millis(),
            Json(p.detail.as_deref().unwrap_or(""))
        )
        .ok();
    }
    out.push_str("]}");
    Response::text(out)
        .with_content_type("application/json")
        .with_header("cache-control", "no-store")
}

fn histogram_json(out: &mut String, h: &Histogram) {
    let us = |d: Duration| d.as_micros();
    write!(
        out,
        "{{\"count\":{},\"p50_us\":{},\"p90_us\":{},\"p99_us\":{},\"max_us\":{},\"buckets\":[",
        h.count(),
        us(h.p50()),
        us(h.p90()),
        us(h.p99()),
        us(h.max())
    )
    .ok();
    for (i, (lo, hi, n)) in h.buckets().enumerate() {
        let comma = if i > 0 { "," } else { "" };
        write!(out, "{comma}[{},{},{n}]", lo.as_nanos(), hi.as_nanos()).ok();
    }
    out.push_str("]}");
}

/// The timeline: every `EVENT_INTERVAL`, one SSE message with the polls and wakes
/// recorded since the last, as `[seq, task, at_us, "p"|"w", micros|source]` arrays.
async fn events(_req: Request) -> Response {
    simmer_executor::watch_events();
    Response::stream(|tx| async move {
        let mut seq = 0;
        if tx.send(b"retry: 1000\n\n".to_vec()).await.is_err() {
            return;
        }
        loop {
            simmer_reactor::time::sleep(EVENT_INTERVAL).await;
            let Some((events, next)) = simmer_executor::events_since(seq) else {
                return;
            };
            let missed = events.first().map_or(0, |e| e.seq - seq);
            seq = next;
            let mut msg = format!("data: {{\"missed\":{missed},\"events\":[");
            for (i, e) in events.iter().enumerate() {
                let comma = if i > 0 { "," } else { "" };
                let (kind, value) = match e.kind {
                    LoopEventKind::Poll { micros } => ("p", micros.to_string()),
                    LoopEventKind::Wake(source) => ("w", format!("\"{source:?}\"")),
                };
                write!(
                    msg,
                    "{comma}[{},{},{},\"{kind}\",{value}]",
                    e.seq, e.task, e.at_us
                )
                .ok();
            }
            msg.push_str("]}\n\n");
            if tx.send(msg).await.is_err() {
                return; // the viewer left
            }
        }
    })
    .with_content_type("text/event-stream")
    .with_header("cache-control", "no-store")
}

/// A string escaped for a JSON string literal.
struct Json<'a>(&'a str);

impl std::fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}
