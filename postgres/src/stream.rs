//! A result streamed row by row, for results too large to collect.
//!
//! The statement runs in a portal that the server fills a batch at a time: Execute
//! with a row limit, then `PortalSuspended` when the limit is reached. The next batch
//! is asked for only once the last row of this one has been handed out, so the client
//! holds one row at a time and the server sends at most one batch ahead of the reader;
//! a slow reader slows the server down (the socket's buffers fill) instead of
//! filling memory.
//!
//! Cancel safety: dropping the stream (or a `next()` future) before the end leaves
//! the connection usable. The stream has sent no Sync yet; the connection's next
//! operation sends it, which makes the server close the portal, and reads and drops
//! what was already on its way (at most one batch) before its own request.

use std::rc::Rc;

use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

use crate::client::{db_error, statement_key, Client, StatementKey};
use crate::error::Error;
use crate::row::{Column, Row};
use crate::types::ToSql;

/// Rows of one statement, delivered one at a time by [`RowStream::next`]. Made by
/// [`Client::query_stream`]; it borrows the connection until dropped.
///
/// ```no_run
/// # async fn demo(pool: simmer_postgres::Pool) -> Result<(), simmer_postgres::Error> {
/// let mut db = pool.get().await?;
/// let mut rows = db.query_stream("SELECT id, body FROM events", &[]).await?;
/// while let Some(row) = rows.next().await {
///     let id: i64 = row?.get("id")?;
///     // ... handle one row; memory stays flat however many there are
/// }
/// # Ok(()) }
/// ```
pub struct RowStream<'a> {
    client: &'a mut Client,
    columns: Rc<[Column]>,
    rows_per_fetch: i32,
    done: bool,
    /// To forget the statement if the server says its plan went stale.
    statement: StatementKey,
}

impl<'a> RowStream<'a> {
    /// Rows asked for per round trip by [`Client::query_stream`].
    pub const DEFAULT_FETCH: u32 = 1000;

    pub(crate) async fn start(
        client: &'a mut Client,
        sql: &str,
        params: &[&dyn ToSql],
        rows_per_fetch: u32,
    ) -> Result<RowStream<'a>, Error> {
        client.ready().await?;
        let columns = client.bind(sql, params).await?;
        let rows_per_fetch = rows_per_fetch.clamp(1, i32::MAX as u32) as i32;
        frontend::execute("", rows_per_fetch, &mut client.write_buf).map_err(Error::Io)?;
        frontend::flush(&mut client.write_buf);
        client.unsynced = true;
        client.send().await?;
        Ok(RowStream {
            client,
            columns,
            rows_per_fetch,
            done: false,
            statement: statement_key(sql, params),
        })
    }

    /// The next row, `None` after the last one. After an error (the server's, or a
    /// broken connection) it returns `None`.
    pub async fn next(&mut self) -> Option<Result<Row, Error>> {
        if self.done {
            return None;
        }
        let next = self.advance().await;
        if !matches!(next, Ok(Some(_))) {
            self.done = true;
        }
        next.transpose()
    }

    /// The result's columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    async fn advance(&mut self) -> Result<Option<Row>, Error> {
        loop {
            match self.client.read_message().await? {
                Message::DataRow(body) => {
                    return Row::new(Rc::clone(&self.columns), body).map(Some)
                }
                Message::PortalSuspended => {
                    // This batch is used up: ask for the next one.
                    let buf = &mut self.client.write_buf;
                    frontend::execute("", self.rows_per_fetch, buf).map_err(Error::Io)?;
                    frontend::flush(buf);
                    self.client.send().await?;
                }
                Message::CommandComplete(_) => {
                    // (Its row count is only the last batch's.)
                    self.client.ready().await?; // the Sync, and its ReadyForQuery
                    return Ok(None);
                }
                Message::ErrorResponse(body) => {
                    let e = db_error(&body);
                    self.client.forget_if_stale(&e, &self.statement);
                    self.client.ready().await?;
                    return Err(self.client.failed(Error::Db(e)));
                }
                _ => {} // BindComplete, notices, parameter changes
            }
        }
    }
}

impl std::fmt::Debug for RowStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowStream")
            .field("columns", &self.columns)
            .field("rows_per_fetch", &self.rows_per_fetch)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
