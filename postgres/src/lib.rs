//! # simmer-postgres: a non-blocking PostgreSQL client on simmer's reactor
//!
//! The async half of FastAPI's database advice (asyncpg's role): queries go over a
//! socket registered with the reactor, so while one waits for the server, the loop
//! serves everything else. The wire format and authentication (MD5, SCRAM-SHA-256)
//! come from the `postgres-protocol` crate; the connection, its state machine, the
//! statement cache, types, transactions and the pool are here, and rows come back
//! as values by column (`row.get`), as JSON objects (`row.to_json`), as serde types
//! (`row.deserialize`, `client.query_as`) or one at a time (`client.query_stream`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), simmer_postgres::Error> {
//! let pool = simmer_postgres::Pool::new("postgres://app:secret@127.0.0.1:5432/shop", 10)?;
//! let mut db = pool.get().await?;
//! let row = db.query_one("SELECT $1::int4 + 1 AS n", &[&41i32]).await?;
//! assert_eq!(row.get::<i32>("n")?, 42);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod client;
mod config;
mod de;
mod error;
#[doc(hidden)]
pub mod fuzz;
mod json;
mod pool;
mod row;
mod stream;
mod text_form;
pub mod types;

pub use client::{Client, Transaction};
pub use config::Config;
pub use error::{DbError, Error};
pub use pool::{Pool, PoolBuilder, PooledClient};
pub use row::{Column, Row, RowIndex};
pub use stream::RowStream;
pub use types::{FromSql, ToSql};
