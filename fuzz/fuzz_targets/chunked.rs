//! The chunked body decoder: the first byte picks how the rest arrives (in pieces of
//! 1..=16 bytes); the verdict must be the same as when it arrives all at once.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let whole = simmer_http::fuzz::chunked_body(body, 0);
    let pieces = simmer_http::fuzz::chunked_body(body, usize::from(first % 16) + 1);
    assert_eq!(whole, pieces, "the verdict depends on how the body arrives");
});
