//! Entry point for the fuzz target in `fuzz/` and the corpus replay test: bytes as a
//! hostile server might send them, read the way a query reads its replies. Not part
//! of the API.

use std::rc::Rc;

use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::Message;

use crate::client::{db_error, next_message, rows_affected};
use crate::row::{Column, Row};

/// Reads backend messages from `bytes` until they end or one is unreadable, handling
/// each as a query does (row descriptions, rows and every value type, rows as JSON,
/// command tags, errors). Returns how many messages were read; never panics on any input.
pub fn read_messages(bytes: &[u8]) -> usize {
    let mut buf = BytesMut::from(bytes);
    let mut columns: Rc<[Column]> = Rc::from(Vec::new());
    let mut count = 0;
    while let Ok(Some(message)) = next_message(&mut buf) {
        count += 1;
        match message {
            Message::RowDescription(body) => {
                let described: Result<Vec<Column>, _> = body
                    .fields()
                    .map(|f| Ok(Column::new(f.name().to_string(), f.type_oid())))
                    .collect();
                if let Ok(described) = described {
                    columns = described.into();
                }
            }
            Message::DataRow(body) => {
                if let Ok(row) = Row::new(Rc::clone(&columns), body) {
                    read_every_value(&row);
                }
            }
            Message::CommandComplete(body) => {
                let _ = rows_affected(&body);
            }
            Message::ErrorResponse(body) => {
                let _ = db_error(&body);
            }
            _ => {}
        }
    }
    // Waiting for a message's rest must not reserve room beyond what arrived.
    assert!(
        buf.capacity() <= bytes.len().max(64),
        "the reader reserved {} bytes for {} received",
        buf.capacity(),
        bytes.len()
    );
    count
}

/// Every column as every supported type: errors are fine, panics are not.
fn read_every_value(row: &Row) {
    for i in 0..row.columns().len() {
        let _ = row.get::<bool>(i);
        let _ = row.get::<i16>(i);
        let _ = row.get::<i32>(i);
        let _ = row.get::<i64>(i);
        let _ = row.get::<f32>(i);
        let _ = row.get::<f64>(i);
        let _ = row.get::<String>(i);
        let _ = row.get::<&str>(i);
        let _ = row.get::<&[u8]>(i);
        let _ = row.get::<Vec<u8>>(i);
        let _ = row.get::<serde_json::Value>(i);
        let _ = row.get::<Option<i64>>(i);
        let _ = row.get::<Option<String>>(i);
    }
    let _ = row.get::<i32>("id");
    let _ = row.to_json();
}
