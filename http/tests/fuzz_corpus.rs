//! Replays the fuzz corpus (`fuzz/corpus/<target>/`, every past crash included) through
//! the same entry points the fuzz targets call, on stable: no input may panic or break
//! an invariant those entry points check (spans inside the input, a prefix of a
//! complete head waits for more, a chunked body decodes the same however it arrives).

use std::path::PathBuf;

use simmer_http::fuzz::{self, ChunkedVerdict, HeadVerdict, ResponseVerdict};

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 5, "the {target} corpus is missing");
    inputs
}

/// Runs `check` on each input, naming the input that panicked.
fn replay<T>(target: &str, check: impl Fn(&[u8]) -> T) -> Vec<T> {
    corpus(target)
        .iter()
        .map(|(name, bytes)| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(bytes)))
                .unwrap_or_else(|_| panic!("fuzz/corpus/{target}/{name} panicked"))
        })
        .collect()
}

#[test]
fn request_heads_in_the_corpus_are_parsed_or_refused_without_panicking() {
    let verdicts = replay("request_head", fuzz::request_head);
    assert!(verdicts
        .iter()
        .any(|v| matches!(v, HeadVerdict::Complete(_))));
    assert!(verdicts
        .iter()
        .any(|v| matches!(v, HeadVerdict::Invalid(400))));
}

#[test]
fn chunked_bodies_in_the_corpus_decode_the_same_however_they_arrive() {
    let verdicts = replay("chunked", |input| {
        let (&first, body) = input.split_first()?;
        let whole = fuzz::chunked_body(body, 0);
        for piece in [1, usize::from(first % 16) + 1, 7] {
            assert_eq!(
                whole,
                fuzz::chunked_body(body, piece),
                "in pieces of {piece}"
            );
        }
        Some(whole)
    });
    let hello = ChunkedVerdict::Complete(b"hello".to_vec(), 15);
    assert!(verdicts.contains(&Some(hello)));
    assert!(verdicts.contains(&Some(ChunkedVerdict::Invalid)));
}

#[test]
fn response_heads_in_the_corpus_are_parsed_or_refused_without_panicking() {
    let verdicts = replay("response_head", fuzz::response_head);
    assert!(verdicts.contains(&ResponseVerdict::Complete(38, 200, false, Some(2), true)));
    assert!(verdicts.contains(&ResponseVerdict::Malformed));
}
