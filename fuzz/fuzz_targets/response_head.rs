//! The client's response head parser.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    simmer_http::fuzz::response_head(data);
});
