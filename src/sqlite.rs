//! SQLite rows as JSON objects, the same shape as `simmer::postgres::Row::to_json`, so
//! a `SELECT *` answers the same JSON on either database.
//!
//! SQLite stores five kinds of value, and each becomes JSON by its kind: NULL as
//! `null`, INTEGER and REAL as numbers (a NaN, which JSON cannot hold, as `null`),
//! TEXT as a string, BLOB as a base64 string (standard alphabet, padded), as
//! simmer-postgres gives `bytea`. SQLite has no separate boolean, date or JSON kind: a
//! `BOOLEAN` column holds 0 or 1, dates are the TEXT the application stored, JSON is
//! TEXT.
//!
//! ```no_run
//! let conn = simmer::rusqlite::Connection::open_in_memory()?;
//! let mut statement = conn.prepare("SELECT * FROM mytable")?;
//! let rows: Vec<serde_json::Value> = statement
//!     .query_map([], simmer::sqlite::row_to_json)?
//!     .collect::<Result<_, _>>()?;
//! # Ok::<(), simmer::rusqlite::Error>(())
//! ```

use rusqlite::types::ValueRef;
use serde_json::{Map, Number, Value};

/// One row as `{"column": value, ...}` (keys sorted; for a repeated name the last
/// column wins). Usable directly as the closure of `query_map`.
pub fn row_to_json(row: &rusqlite::Row<'_>) -> rusqlite::Result<Value> {
    let statement = row.as_ref();
    let mut object = Map::new();
    for i in 0..statement.column_count() {
        let value = match row.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::from(n),
            ValueRef::Real(x) => Number::from_f64(x).map_or(Value::Null, Value::Number),
            ValueRef::Text(bytes) => Value::String(
                std::str::from_utf8(bytes)
                    .map_err(rusqlite::Error::Utf8Error)?
                    .to_string(),
            ),
            ValueRef::Blob(bytes) => Value::String(base64(bytes)),
        };
        object.insert(statement.column_name(i)?.to_string(), value);
    }
    Ok(Value::Object(object))
}

/// Bytes as base64, standard alphabet with `=` padding (Python's `base64.b64encode`).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        // Three bytes are 24 bits: four 6-bit letters; a short chunk pads with '='.
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn every_kind_of_sqlite_value_becomes_json() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut statement = conn
            .prepare("SELECT 7 AS i, 2.5 AS r, 'tea' AS t, x'0001ff' AS b, NULL AS n")
            .unwrap();
        let row = statement.query_row([], super::row_to_json).unwrap();
        assert_eq!(
            row,
            json!({"i": 7, "r": 2.5, "t": "tea", "b": "AAH/", "n": null})
        );
    }
}
