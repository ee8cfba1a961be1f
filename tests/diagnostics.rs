//! Diagnostics: the slow-poll warning and the Chrome trace file.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use simmer::time::sleep;
use simmer::{offload, Runtime, SlowPoll};

#[test]
fn slow_poll_warning_names_the_task_that_blocked() {
    let seen: Arc<Mutex<Vec<SlowPoll>>> = Arc::default();
    let sink = seen.clone();
    let rt = Runtime::builder()
        .slow_poll_threshold(Duration::from_millis(50))
        .on_slow_poll(move |slow| sink.lock().unwrap().push(slow.clone()))
        .build()
        .unwrap();
    rt.block_on(async {
        let polite = simmer::spawn_named("polite", async {
            for _ in 0..10 {
                sleep(Duration::from_millis(1)).await;
            }
        });
        let rude = simmer::spawn_named("rude handler", async {
            std::thread::sleep(Duration::from_millis(150)); // blocks the loop
        });
        rude.await.unwrap();
        polite.await.unwrap();
    });
    let seen = seen.lock().unwrap();
    // A loaded machine may deschedule another poll past 50 ms too; the blocking task
    // must be reported, once.
    let rude: Vec<_> = seen
        .iter()
        .filter(|w| w.task_name.as_deref() == Some("rude handler"))
        .collect();
    assert_eq!(rude.len(), 1, "one warning for the blocking poll: {seen:?}");
    let warning = rude[0];
    assert!(warning.held >= Duration::from_millis(50), "{warning:?}");
    let text = warning.to_string();
    assert!(
        text.contains("rude handler") && text.contains("offload"),
        "{text}"
    );
    assert!(rt.stats().slow_polls >= 1);
    assert!(rt.stats().longest_poll >= Duration::from_millis(50));
}

#[test]
fn slow_poll_warning_goes_to_stderr_by_default() {
    // Run this test binary again as a child with only the printing test selected, and
    // capture what the default hook writes.
    if std::env::var_os("SIMMER_CHILD_SLOW_POLL").is_some() {
        let rt = Runtime::builder()
            .slow_poll_threshold(Duration::from_millis(30))
            .build()
            .unwrap();
        rt.block_on(async {
            simmer::spawn_named("sleepy", async {
                std::thread::sleep(Duration::from_millis(80))
            })
            .await
            .unwrap();
        });
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "slow_poll_warning_goes_to_stderr_by_default",
            "--exact",
            "--nocapture",
        ])
        .env("SIMMER_CHILD_SLOW_POLL", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("slow poll") && stderr.contains("\"sleepy\""),
        "stderr: {stderr}"
    );
}

#[test]
fn no_warning_when_the_detector_is_off() {
    let seen = Arc::new(Mutex::new(0));
    let sink = seen.clone();
    let rt = Runtime::builder()
        .no_slow_poll_warnings()
        .on_slow_poll(move |_| *sink.lock().unwrap() += 1)
        .build()
        .unwrap();
    rt.block_on(async { std::thread::sleep(Duration::from_millis(120)) });
    assert_eq!(*seen.lock().unwrap(), 0);
}

#[test]
fn trace_file_is_json_with_poll_spans_wakes_and_offload_jobs() {
    let path = std::env::temp_dir().join(format!("simmer-trace-{}.json", std::process::id()));
    {
        let rt = Runtime::builder().trace_path(&path).build().unwrap();
        rt.block_on(async {
            let timer_task = simmer::spawn_named("napper", async {
                sleep(Duration::from_millis(2)).await;
            });
            let pool_task = simmer::spawn_named("cruncher", async {
                offload(|| (0..10_000u64).sum::<u64>()).await.unwrap()
            });
            timer_task.await.unwrap();
            pool_task.await.unwrap();
        });
    } // dropping the runtime writes the file
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).ok();
    let json: serde_json::Value = serde_json::from_str(&text).expect("trace is valid JSON");
    let events = json["traceEvents"].as_array().unwrap();
    let spans_of = |needle: &str| {
        events
            .iter()
            .filter(|e| e["ph"] == "X" && e["name"].as_str().unwrap().contains(needle))
            .count()
    };
    assert!(
        spans_of("napper") >= 2,
        "napper polled twice (start, after timer)"
    );
    assert!(
        spans_of("cruncher") >= 2,
        "cruncher polled twice (start, after offload)"
    );
    assert!(spans_of("block_on") >= 1);
    assert_eq!(spans_of("offload"), 1, "one span for the pool job");
    let wake_sources: Vec<&str> = events
        .iter()
        .filter(|e| e["cat"] == "wake")
        .map(|e| e["args"]["source"].as_str().unwrap())
        .collect();
    assert!(wake_sources.contains(&"timer"), "{wake_sources:?}");
    assert!(wake_sources.contains(&"other thread"), "{wake_sources:?}");
    for e in events.iter().filter(|e| e["ph"] == "X") {
        assert!(e["dur"].as_f64().unwrap() >= 0.0 && e["ts"].as_f64().unwrap() >= 0.0);
    }
}
