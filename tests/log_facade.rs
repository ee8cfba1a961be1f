//! With a logger installed, library messages go through the `log` facade (here: the
//! slow-poll warning); without one they are printed to stderr (tests/tour.rs and
//! tests/examples.rs read them there).

use std::sync::Mutex;
use std::time::Duration;

use simmer::Runtime;

/// Keeps every record it is given.
struct Capture(Mutex<Vec<(log::Level, String, String)>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        let entry = (
            record.level(),
            record.target().to_string(),
            record.args().to_string(),
        );
        self.0.lock().unwrap().push(entry);
    }
    fn flush(&self) {}
}

static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));

#[test]
fn the_slow_poll_warning_goes_to_the_installed_logger() {
    log::set_logger(&CAPTURE).unwrap();
    log::set_max_level(log::LevelFilter::Info);
    let rt = Runtime::builder()
        .slow_poll_threshold(Duration::from_millis(20))
        .build()
        .unwrap();
    rt.block_on(async {
        simmer::spawn_named("sleeper", async {
            std::thread::sleep(Duration::from_millis(60)); // blocks the loop
        })
        .await
        .unwrap();
    });
    let records = CAPTURE.0.lock().unwrap();
    let warning = records
        .iter()
        .find(|(_, _, text)| text.contains("slow poll") && text.contains("\"sleeper\""))
        .unwrap_or_else(|| panic!("no slow-poll record: {records:?}"));
    assert_eq!(warning.0, log::Level::Warn);
    assert_eq!(warning.1, "simmer");
}
