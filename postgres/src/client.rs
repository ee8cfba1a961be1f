//! One connection: startup and authentication, then queries over the extended protocol.
//!
//! Cancel safety: every request ends with a Sync, and the client counts the Syncs the
//! server has not answered yet. A query future dropped mid-flight leaves that count
//! above zero; the next operation first reads and discards replies until it is back to
//! zero, so the connection never gets out of step. A streamed query
//! ([`crate::RowStream`]) sends its Sync only at the end; dropped before that, it leaves
//! a flag, and the next operation sends the Sync first. A write cut off halfway would
//! leave a partial message on the wire, so the connection is marked broken while writing.

use std::collections::HashMap;
use std::rc::Rc;

use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use postgres_protocol::authentication::md5_hash;
use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256, SCRAM_SHA_256};
use postgres_protocol::message::backend::{CommandCompleteBody, ErrorResponseBody, Message};
use postgres_protocol::message::frontend;
use postgres_protocol::IsNull;
use simmer_reactor::net::{lookup_host, TcpStream};
use simmer_reactor::time::timeout;

use crate::config::Config;
use crate::error::{DbError, Error};
use crate::row::{Column, Row};
use crate::stream::RowStream;
use crate::types::{Oid, ToSql};

/// A prepared statement the server knows by name on this connection.
struct Statement {
    name: String,
    columns: Rc<[Column]>,
}

/// A connection to PostgreSQL. Use it from one task at a time (`&mut self`); for
/// concurrency use a [`crate::Pool`].
pub struct Client {
    stream: TcpStream,
    read_buf: BytesMut,
    pub(crate) write_buf: BytesMut,
    /// Syncs sent whose ReadyForQuery has not been read (see the module docs).
    pub(crate) owed_syncs: usize,
    /// A [`crate::RowStream`] sent an Execute and no Sync after it yet: the next
    /// operation sends the Sync, which closes the portal, then reads up to it.
    pub(crate) unsynced: bool,
    /// A write was interrupted, or the server failed fatally: unusable.
    broken: bool,
    /// A transaction was dropped uncommitted: roll it back before the next statement.
    rollback_pending: bool,
    statements: HashMap<StatementKey, Statement>,
    next_statement: u64,
}

impl Client {
    /// Connects and authenticates (trust, cleartext, MD5 or SCRAM-SHA-256).
    pub async fn connect(url: &str) -> Result<Client, Error> {
        Client::connect_with(&Config::from_url(url)?).await
    }

    /// Connects with an explicit [`Config`].
    pub async fn connect_with(config: &Config) -> Result<Client, Error> {
        let limit = config.connect_timeout;
        match timeout(limit, Client::start(config)).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout(format!(
                "connecting to {}:{} took over {limit:?}",
                config.host, config.port
            ))),
        }
    }

    async fn start(config: &Config) -> Result<Client, Error> {
        let target = if config.host.contains(':') {
            format!("[{}]:{}", config.host, config.port)
        } else {
            format!("{}:{}", config.host, config.port)
        };
        let addrs = lookup_host(&target).await.map_err(Error::Connect)?;
        let mut last = None;
        let mut stream = None;
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let stream = stream.ok_or_else(|| {
            Error::Connect(last.unwrap_or_else(|| std::io::Error::other("no address")))
        })?;
        let _ = stream.set_nodelay(true);
        let mut client = Client {
            stream,
            read_buf: BytesMut::with_capacity(8192),
            write_buf: BytesMut::with_capacity(1024),
            owed_syncs: 0,
            unsynced: false,
            broken: false,
            rollback_pending: false,
            statements: HashMap::new(),
            next_statement: 0,
        };
        client.authenticate(config).await?;
        Ok(client)
    }

    async fn authenticate(&mut self, config: &Config) -> Result<(), Error> {
        let params = [
            ("user", config.user.as_str()),
            ("database", config.dbname.as_str()),
            ("client_encoding", "UTF8"),
            ("application_name", config.application_name.as_str()),
        ];
        frontend::startup_message(params, &mut self.write_buf).map_err(Error::Io)?;
        self.send().await?;
        let password = || {
            config
                .password
                .as_deref()
                .map(str::as_bytes)
                .ok_or_else(|| {
                    Error::Config(format!(
                        "the server asks user {:?} for a password and none was given",
                        config.user
                    ))
                })
        };
        let mut scram: Option<ScramSha256> = None;
        loop {
            match self.read_message().await? {
                Message::AuthenticationOk
                | Message::ParameterStatus(_)
                | Message::BackendKeyData(_) => {}
                Message::NoticeResponse(_) => {}
                Message::AuthenticationCleartextPassword => {
                    frontend::password_message(password()?, &mut self.write_buf)
                        .map_err(Error::Io)?;
                    self.send().await?;
                }
                Message::AuthenticationMd5Password(body) => {
                    let hash = md5_hash(config.user.as_bytes(), password()?, body.salt());
                    frontend::password_message(hash.as_bytes(), &mut self.write_buf)
                        .map_err(Error::Io)?;
                    self.send().await?;
                }
                Message::AuthenticationSasl(body) => {
                    let mut mechanisms = body.mechanisms();
                    let mut supported = false;
                    while let Some(m) = mechanisms.next().map_err(Error::Io)? {
                        supported |= m == SCRAM_SHA_256;
                    }
                    if !supported {
                        return Err(Error::Config(
                            "the server offers no SASL mechanism simmer supports (SCRAM-SHA-256)"
                                .into(),
                        ));
                    }
                    let s = ScramSha256::new(password()?, ChannelBinding::unsupported());
                    frontend::sasl_initial_response(
                        SCRAM_SHA_256,
                        s.message(),
                        &mut self.write_buf,
                    )
                    .map_err(Error::Io)?;
                    scram = Some(s);
                    self.send().await?;
                }
                Message::AuthenticationSaslContinue(body) => {
                    let s = scram
                        .as_mut()
                        .ok_or_else(|| Error::Protocol("SASL continue without a start".into()))?;
                    s.update(body.data())
                        .map_err(|e| Error::Protocol(format!("SCRAM: {e}")))?;
                    frontend::sasl_response(s.message(), &mut self.write_buf).map_err(Error::Io)?;
                    self.send().await?;
                }
                Message::AuthenticationSaslFinal(body) => {
                    let s = scram
                        .as_mut()
                        .ok_or_else(|| Error::Protocol("SASL final without a start".into()))?;
                    s.finish(body.data())
                        .map_err(|e| Error::Protocol(format!("SCRAM server signature: {e}")))?;
                }
                Message::ReadyForQuery(_) => return Ok(()),
                Message::ErrorResponse(body) => return Err(Error::Db(db_error(&body))),
                _ => return Err(Error::Protocol("unexpected message during startup".into())),
            }
        }
    }

    /// Runs `sql` with `params` (`$1`, `$2`, ...) and returns every row.
    pub async fn query(&mut self, sql: &str, params: &[&dyn ToSql]) -> Result<Vec<Row>, Error> {
        Ok(self.run(sql, params).await?.0)
    }

    /// Runs `sql` and returns every row as `T` (see [`Row::deserialize`]): sqlx's
    /// `query_as`, asyncpg's rows read into a pydantic model.
    pub async fn query_as<T: serde::de::DeserializeOwned>(
        &mut self,
        sql: &str,
        params: &[&dyn ToSql],
    ) -> Result<Vec<T>, Error> {
        let rows = self.query(sql, params).await?;
        rows.iter().map(Row::deserialize).collect()
    }

    /// Runs `sql` and returns its only row (an error for zero or several).
    pub async fn query_one(&mut self, sql: &str, params: &[&dyn ToSql]) -> Result<Row, Error> {
        let mut rows = self.query(sql, params).await?;
        match rows.len() {
            1 => Ok(rows.remove(0)),
            n => Err(Error::Conversion(format!(
                "expected exactly one row, got {n}"
            ))),
        }
    }

    /// Runs `sql` and returns its row, if any (an error for several).
    pub async fn query_opt(
        &mut self,
        sql: &str,
        params: &[&dyn ToSql],
    ) -> Result<Option<Row>, Error> {
        let mut rows = self.query(sql, params).await?;
        match rows.len() {
            0 => Ok(None),
            1 => Ok(Some(rows.remove(0))),
            n => Err(Error::Conversion(format!(
                "expected at most one row, got {n}"
            ))),
        }
    }

    /// Runs `sql` and returns how many rows it affected.
    pub async fn execute(&mut self, sql: &str, params: &[&dyn ToSql]) -> Result<u64, Error> {
        Ok(self.run(sql, params).await?.1)
    }

    /// Runs several `;`-separated statements without parameters (simple protocol).
    pub async fn batch_execute(&mut self, sql: &str) -> Result<(), Error> {
        self.ready().await?;
        frontend::query(sql, &mut self.write_buf).map_err(Error::Io)?;
        self.send().await?;
        self.owed_syncs += 1;
        let mut error = None;
        loop {
            match self.read_message().await? {
                Message::ErrorResponse(body) => error = Some(db_error(&body)),
                Message::ReadyForQuery(_) => {
                    self.owed_syncs -= 1;
                    break;
                }
                _ => {}
            }
        }
        error.map_or(Ok(()), |e| Err(self.failed(Error::Db(e))))
    }

    /// Starts a transaction. It is committed by [`Transaction::commit`]; dropped without
    /// that, it is rolled back (before this connection runs anything else).
    pub async fn transaction(&mut self) -> Result<Transaction<'_>, Error> {
        self.batch_execute("BEGIN").await?;
        Ok(Transaction {
            client: self,
            done: false,
        })
    }

    /// True once the connection can no longer be used.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// True if a dropped query or stream left replies to read (they are read, and
    /// dropped, before the next one).
    pub fn has_pending_replies(&self) -> bool {
        self.owed_syncs > 0 || self.unsynced
    }

    /// Runs `sql` and hands back its rows one at a time as they arrive, for results
    /// too large to collect (asyncpg's cursors, tokio-postgres' `query_raw`). See
    /// [`RowStream`]; it fetches [`RowStream::DEFAULT_FETCH`] rows per round trip.
    pub async fn query_stream(
        &mut self,
        sql: &str,
        params: &[&dyn ToSql],
    ) -> Result<RowStream<'_>, Error> {
        RowStream::start(self, sql, params, RowStream::DEFAULT_FETCH).await
    }

    /// [`Client::query_stream`], asking the server for `rows_per_fetch` rows at a time
    /// (at least 1): fewer means less to throw away when the stream is dropped early,
    /// more means fewer round trips.
    pub async fn query_stream_fetching(
        &mut self,
        sql: &str,
        params: &[&dyn ToSql],
        rows_per_fetch: u32,
    ) -> Result<RowStream<'_>, Error> {
        RowStream::start(self, sql, params, rows_per_fetch).await
    }

    /// Whether the server has closed an idle connection (a non-blocking read probe).
    pub(crate) fn closed_by_server(&self) -> bool {
        if self.owed_syncs > 0 || self.unsynced || !self.read_buf.is_empty() {
            return false;
        }
        let mut probe = [0u8; 1];
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        !matches!(
            self.stream.poll_read(&mut cx, &mut probe),
            std::task::Poll::Pending
        )
    }

    /// Brings the connection back in step before a new request.
    pub(crate) async fn ready(&mut self) -> Result<(), Error> {
        if self.broken {
            return Err(Error::Io(std::io::Error::other(
                "the connection was broken by an earlier failure",
            )));
        }
        if self.unsynced {
            // A stream was dropped before its end: its Sync makes the server close the
            // portal (the rows it has not sent are never sent); the rows already on
            // their way are read and dropped below.
            frontend::sync(&mut self.write_buf);
            self.send().await?;
            self.unsynced = false;
            self.owed_syncs += 1;
        }
        while self.owed_syncs > 0 {
            if let Message::ReadyForQuery(_) = self.read_message().await? {
                self.owed_syncs -= 1;
            }
        }
        if self.rollback_pending {
            self.rollback_pending = false;
            Box::pin(self.batch_execute("ROLLBACK")).await?;
        }
        Ok(())
    }

    async fn run(&mut self, sql: &str, params: &[&dyn ToSql]) -> Result<(Vec<Row>, u64), Error> {
        self.ready().await?;
        let columns = self.bind(sql, params).await?;
        frontend::execute("", 0, &mut self.write_buf).map_err(Error::Io)?;
        frontend::sync(&mut self.write_buf);
        self.send().await?;
        self.owed_syncs += 1;

        let (mut rows, mut affected, mut error) = (Vec::new(), 0, None);
        loop {
            match self.read_message().await? {
                Message::DataRow(body) => rows.push(Row::new(Rc::clone(&columns), body)?),
                Message::CommandComplete(body) => affected = rows_affected(&body)?,
                Message::ErrorResponse(body) => error = Some(db_error(&body)),
                Message::ReadyForQuery(_) => {
                    self.owed_syncs -= 1;
                    break;
                }
                _ => {} // BindComplete, notices, parameter changes
            }
        }
        match error {
            Some(e) => {
                self.forget_if_stale(&e, &statement_key(sql, params));
                Err(self.failed(Error::Db(e)))
            }
            None => Ok((rows, affected)),
        }
    }

    /// After a schema change (`ALTER TABLE`) the server refuses a prepared statement
    /// whose result columns changed ("cached plan must not change result type"):
    /// forgets it, so the next run prepares it afresh. (The old one stays on the
    /// server until the connection closes.)
    pub(crate) fn forget_if_stale(&mut self, e: &DbError, key: &StatementKey) {
        if e.code == "0A000" && e.message.contains("cached plan") {
            self.statements.remove(key);
        }
    }

    /// Prepares `sql` if this connection has not yet, then buffers a Bind of `params`
    /// to the unnamed portal (not sent yet). Returns the result's columns.
    pub(crate) async fn bind(
        &mut self,
        sql: &str,
        params: &[&dyn ToSql],
    ) -> Result<Rc<[Column]>, Error> {
        let oids: Vec<Oid> = params.iter().map(|p| p.oid()).collect();
        let (name, columns) = self.prepare(sql, oids).await?;
        let bound = frontend::bind(
            "",
            &name,
            Some(1), // every parameter in binary
            params.iter(),
            |p, buf| {
                Ok(if p.to_sql(buf) {
                    IsNull::No
                } else {
                    IsNull::Yes
                })
            },
            // Per column: binary for the types simmer decodes, text for the others.
            columns.iter().map(|c| c.format as i16),
            &mut self.write_buf,
        );
        if bound.is_err() {
            self.write_buf.clear();
            return Err(Error::Conversion("a parameter could not be encoded".into()));
        }
        Ok(columns)
    }

    /// The statement's name and result columns, from the cache or from the server: a
    /// statement's first run on a connection costs one round trip more (Parse and
    /// Describe), so that its result formats can be chosen column by column.
    async fn prepare(
        &mut self,
        sql: &str,
        oids: Vec<Oid>,
    ) -> Result<(String, Rc<[Column]>), Error> {
        let key = (sql.to_string(), oids);
        if let Some(known) = self.statements.get(&key) {
            return Ok((known.name.clone(), Rc::clone(&known.columns)));
        }
        let name = format!("simmer{}", self.next_statement);
        self.next_statement += 1;
        frontend::parse(&name, sql, key.1.iter().copied(), &mut self.write_buf)
            .map_err(Error::Io)?;
        frontend::describe(b'S', &name, &mut self.write_buf).map_err(Error::Io)?;
        frontend::sync(&mut self.write_buf);
        self.send().await?;
        self.owed_syncs += 1;
        let (mut columns, mut error) = (None, None);
        loop {
            match self.read_message().await? {
                Message::RowDescription(body) => {
                    let described = body
                        .fields()
                        .map(|f| Ok(Column::new(f.name().to_string(), f.type_oid())))
                        .collect::<Vec<_>>()
                        .map_err(Error::Io)?;
                    columns = Some(Rc::from(described));
                }
                Message::NoData => columns = Some(Rc::from(Vec::new())),
                Message::ErrorResponse(body) => error = Some(db_error(&body)),
                Message::ReadyForQuery(_) => {
                    self.owed_syncs -= 1;
                    break;
                }
                _ => {} // ParseComplete, ParameterDescription, notices
            }
        }
        if let Some(e) = error {
            return Err(self.failed(Error::Db(e)));
        }
        let columns: Rc<[Column]> =
            columns.ok_or_else(|| Error::Protocol("a statement without a description".into()))?;
        let statement = Statement {
            name: name.clone(),
            columns: Rc::clone(&columns),
        };
        self.statements.insert(key, statement);
        Ok((name, columns))
    }

    /// Notes a failure that leaves the connection unusable.
    pub(crate) fn failed(&mut self, e: Error) -> Error {
        if e.breaks_connection() {
            self.broken = true;
        }
        e
    }

    /// Writes the buffered messages. Marked broken while writing: a write cut short
    /// (the future dropped) would leave half a message on the wire.
    pub(crate) async fn send(&mut self) -> Result<(), Error> {
        self.broken = true;
        let result = self.stream.write_all(&self.write_buf).await;
        self.write_buf.clear();
        result.map_err(Error::Io)?;
        self.broken = false;
        Ok(())
    }

    pub(crate) async fn read_message(&mut self) -> Result<Message, Error> {
        loop {
            match next_message(&mut self.read_buf) {
                Ok(Some(message)) => return Ok(message),
                Ok(None) => {}
                Err(e) => {
                    self.broken = true;
                    return Err(Error::Protocol(format!(
                        "unreadable message from the server: {e}"
                    )));
                }
            }
            let mut chunk = [0u8; 8192];
            match self.stream.read(&mut chunk).await {
                Ok(0) => {
                    self.broken = true;
                    return Err(Error::Io(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the server closed the connection",
                    )));
                }
                Ok(n) => self.read_buf.extend_from_slice(&chunk[..n]),
                Err(e) => {
                    self.broken = true;
                    return Err(Error::Io(e));
                }
            }
        }
    }
}

/// The next backend message in `buf` once all of it has arrived. Its declared length is
/// checked first: `Message::parse` reserves room for the whole message as soon as it
/// sees the header, so a bogus length from a broken or hostile server would demand up
/// to 4 GiB before a byte of it came. Waiting here, the buffer grows only with what
/// actually arrives.
pub(crate) fn next_message(buf: &mut BytesMut) -> std::io::Result<Option<Message>> {
    let Some(header) = buf.get(1..5) else {
        return Ok(None);
    };
    let declared = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    if (declared as usize) < 4 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("message length {declared} is shorter than its own length field"),
        ));
    }
    if buf.len() <= declared as usize {
        return Ok(None); // the tag byte plus `declared` bytes are not all here yet
    }
    Message::parse(buf)
}

/// A transaction on a connection; derefs to the [`Client`] for queries.
pub struct Transaction<'a> {
    client: &'a mut Client,
    done: bool,
}

impl Transaction<'_> {
    /// Commits.
    pub async fn commit(mut self) -> Result<(), Error> {
        self.done = true;
        self.client.batch_execute("COMMIT").await
    }

    /// Rolls back.
    pub async fn rollback(mut self) -> Result<(), Error> {
        self.done = true;
        self.client.batch_execute("ROLLBACK").await
    }
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client
    }
}

impl std::ops::DerefMut for Transaction<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.client.rollback_pending = true;
        }
    }
}

/// What the statement cache is keyed by: the SQL and the parameters' types.
pub(crate) type StatementKey = (String, Vec<Oid>);

pub(crate) fn statement_key(sql: &str, params: &[&dyn ToSql]) -> StatementKey {
    (sql.to_string(), params.iter().map(|p| p.oid()).collect())
}

/// The count at the end of a command tag (`INSERT 0 3`, `SELECT 5`), 0 if none.
pub(crate) fn rows_affected(body: &CommandCompleteBody) -> Result<u64, Error> {
    let tag = body.tag().map_err(Error::Io)?;
    Ok(tag
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0))
}

pub(crate) fn db_error(body: &ErrorResponseBody) -> DbError {
    let mut e = DbError::default();
    let mut fields = body.fields();
    while let Ok(Some(field)) = fields.next() {
        let value = String::from_utf8_lossy(field.value_bytes()).into_owned();
        match field.type_() {
            b'S' => e.severity = value,
            b'C' => e.code = value,
            b'M' => e.message = value,
            b'D' => e.detail = Some(value),
            b'H' => e.hint = Some(value),
            _ => {}
        }
    }
    e
}
