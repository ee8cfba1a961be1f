//! A streamed result's memory stays bounded: 100,000 rows of 1 KiB (about 100 MiB)
//! pass through while the process's resident set grows by far less. Alone in its test
//! binary, so no other test's allocations move the figure.

mod support;

use support::{database_url, rt};

/// The process's resident set in bytes (Linux).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[test]
fn streaming_a_hundred_mebibytes_keeps_memory_flat() {
    let Some(url) = database_url() else { return };
    let Some(start) = resident_bytes() else {
        eprintln!("SKIPPED: no /proc/self/statm");
        return;
    };
    rt().block_on(async {
        let mut db = simmer_postgres::Client::connect(&url).await.unwrap();
        let mut rows = db
            .query_stream(
                "SELECT i, repeat('x', 1024) FROM generate_series(1, 100000) i",
                &[],
            )
            .await
            .unwrap();
        let (mut count, mut bytes, mut peak) = (0u64, 0u64, start);
        while let Some(row) = rows.next().await {
            let row = row.unwrap();
            bytes += row.get::<&str>(1).unwrap().len() as u64;
            count += 1;
            if count % 1000 == 0 {
                peak = peak.max(resident_bytes().unwrap());
            }
        }
        assert_eq!(count, 100_000);
        assert!(bytes > 100_000_000, "the result is ~100 MiB: {bytes}");
        let growth = peak.saturating_sub(start);
        assert!(
            growth < 24 << 20,
            "resident set grew by {} MiB while streaming {} MiB",
            growth >> 20,
            bytes >> 20
        );
    });
}
