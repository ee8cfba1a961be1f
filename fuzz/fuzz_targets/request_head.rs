//! The server's request head parser and validator (httparse plus RFC 9112's rules).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    simmer_http::fuzz::request_head(data);
});
