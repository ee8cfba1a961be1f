//! The PostgreSQL client's reading of backend messages (rows, values, tags, errors).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    simmer_postgres::fuzz::read_messages(data);
});
