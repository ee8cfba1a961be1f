//! Replays the fuzz corpus of backend messages (`fuzz/corpus/pg_messages/`, every past
//! crash included) on stable: reading them as a query does must never panic.

use std::path::PathBuf;

#[test]
fn backend_messages_in_the_corpus_are_read_without_panicking() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/pg_messages");
    let mut total = 0;
    let mut inputs = 0;
    for entry in std::fs::read_dir(&dir).expect("the pg_messages corpus") {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let read = std::panic::catch_unwind(|| simmer_postgres::fuzz::read_messages(&bytes))
            .unwrap_or_else(|_| panic!("{} panicked", path.display()));
        total += read;
        inputs += 1;
    }
    assert!(inputs >= 5, "the pg_messages corpus is missing");
    assert!(total >= inputs, "the seeds hold readable messages");
}
