//! The tour: every example of FastAPI's async guide, on simmer. The README's main demo.
//!
//! ```text
//! cargo run --release --example tour                    # http://127.0.0.1:8000
//! cargo run --release --example tour -- --addr 127.0.0.1:9000 --upstream http://127.0.0.1:9000/upstream
//! cargo run --release --example tour -- --tls-cert cert.pem --tls-key key.pem   # https://
//! ```
//!
//! Each route is one idea; docs/TOUR.md walks through them. Try `/block?ms=1000` and
//! `/offload?ms=1000` while another terminal polls `/hello` to feel the difference
//! between blocking the loop and moving work to the offload pool.

use std::cell::Cell;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use simmer::http::client::Client;
use simmer::http::extract::{Path, Query, State};
use simmer::http::{
    middleware, HttpError, IntoResponse, Json, Request, Response, Router, Server, StatusCode,
};
use simmer::time::sleep;

/// Shared by the handlers (FastAPI would use dependencies; here: router state).
struct Tour {
    client: Client,
    db: Database,
    upstream: String,
    /// `/async-route` requests sleeping right now, and the most at once.
    sleeping: Cell<u32>,
    most_sleeping: Cell<u32>,
}

/// `GET /`: the first example of every FastAPI tutorial.
async fn root(_req: Request) -> Json<Value> {
    Json(json!({"Hello": "World"}))
}

/// `GET /hello`: the guide's `def say_hello()`: a plain function, not `async`. Routed
/// with `get_sync`, it runs on the offload pool, as FastAPI runs a `def` path operation
/// in its thread pool; right for work that blocks, needless for work this small.
fn say_hello() -> Json<Value> {
    Json(json!({"message": "Hello"}))
}

/// `GET /async-route`: `await asyncio.sleep(1)` — the loop serves others meanwhile.
async fn async_route(req: Request) -> Json<Value> {
    let tour = req.state::<Tour>().expect("tour state");
    tour.sleeping.set(tour.sleeping.get() + 1);
    tour.most_sleeping
        .set(tour.most_sleeping.get().max(tour.sleeping.get()));
    sleep(Duration::from_secs(1)).await;
    tour.sleeping.set(tour.sleeping.get() - 1);
    Json(json!({"message": "This is an async route"}))
}

/// `GET /wait`: a longer sleep.
async fn wait(_req: Request) -> Json<Value> {
    sleep(Duration::from_secs(2)).await;
    Json(json!({"message": "Done waiting"}))
}

/// `GET /cpu-task`: CPU-bound work on the offload pool (`run_in_executor`).
async fn cpu_task(_req: Request) -> Result<Json<Value>, HttpError> {
    let sum = simmer::offload(|| (0..1_000_000u64).sum::<u64>())
        .await
        .map_err(|e| HttpError::new(500, e.to_string()))?;
    Ok(Json(json!({"result": sum})))
}

/// A function that blocks, as a synchronous database driver or file API would.
fn blocking_work() -> &'static str {
    std::thread::sleep(Duration::from_millis(500));
    "Sync task completed"
}

/// `GET /sync-task`: a blocking function, run on the pool instead of the loop.
async fn sync_task(_req: Request) -> Result<Json<Value>, HttpError> {
    let message = simmer::offload(blocking_work)
        .await
        .map_err(|e| HttpError::new(500, e.to_string()))?;
    Ok(Json(json!({"message": message})))
}

/// A failure the handler below catches (`try: ... except Exception:`).
#[derive(Debug)]
struct SomethingWentWrong;

impl std::fmt::Display for SomethingWentWrong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Something went wrong")
    }
}

impl std::error::Error for SomethingWentWrong {}

async fn risky_operation() -> Result<(), SomethingWentWrong> {
    sleep(Duration::from_millis(10)).await;
    Err(SomethingWentWrong)
}

/// `GET /error-handling`: the error is caught and answered, not propagated.
async fn error_handling(_req: Request) -> Json<Value> {
    match risky_operation().await {
        Ok(()) => Json(json!({"message": "all good"})),
        Err(e) => Json(json!({"error": e.to_string()})),
    }
}

/// `GET /external-api`: fetch JSON from another service with the async client.
async fn external_api(req: Request) -> Response {
    let tour = req.state::<Tour>().expect("tour state");
    let fetched = async {
        let reply = tour.client.get(&tour.upstream).send().await?;
        reply.json::<Value>().await
    };
    match fetched.await {
        Ok(value) => Response::json(&value),
        Err(e) => {
            let error = json!({"error": format!("upstream {} failed: {e}", tour.upstream)});
            (StatusCode::BAD_GATEWAY, Json(error)).into_response()
        }
    }
}

/// `GET /upstream`: the default upstream for `/external-api`: a JSON document.
async fn upstream_data(_req: Request) -> Json<Value> {
    Json(json!({"source": "simmer tour upstream", "items": [1, 2, 3]}))
}

/// The query of `GET /items/{id}`: `q: str | None = None`.
#[derive(Deserialize)]
struct ItemQuery {
    q: Option<String>,
}

/// `GET /items/{id}?q=`: `async def read_item(item_id: int, q: str | None = None)`,
/// with extractors: a typed path parameter (a non-integer id is a 422 naming
/// `["path", "id"]`) and an optional query parameter.
async fn item(Path(item_id): Path<i64>, Query(query): Query<ItemQuery>) -> Json<Value> {
    Json(json!({"item_id": item_id, "q": query.q}))
}

/// The seed world's item model (`class Item(BaseModel): name: str; price_cents: int`):
/// the body of `POST /items`.
#[derive(Deserialize)]
struct NewItem {
    name: String,
    price_cents: i64,
}

/// `POST /items`: a JSON body validated into `NewItem` (a missing or ill-typed field is
/// a 422 naming `["body", field]`, a body that is not JSON a 422 too), stored in the
/// database; 201 with the new item and its id.
async fn create_item(
    State(tour): State<Tour>,
    Json(item): Json<NewItem>,
) -> Result<(StatusCode, Json<Value>), HttpError> {
    let id = tour
        .db
        .insert_item(item.name.clone(), item.price_cents)
        .await
        .map_err(|e| HttpError::new(500, e))?;
    let created = json!({"id": id, "name": item.name, "price_cents": item.price_cents});
    Ok((StatusCode::CREATED, Json(created)))
}

/// `DELETE /items/{id}`: the plain style, taking the `Request` and asking it for what
/// the extractors above declare (`param_as` is the `Path<i64>`, `state` the `State`).
/// 204, or 404 for an id that is not there.
async fn delete_item(req: Request) -> Result<StatusCode, HttpError> {
    let id: i64 = req.param_as("id")?;
    let tour = req.state::<Tour>().expect("tour state");
    match tour.db.delete_item(id).await {
        Ok(true) => Ok(StatusCode::NO_CONTENT),
        Ok(false) => Err(HttpError::new(404, "Item not found")),
        Err(e) => Err(HttpError::new(500, e)),
    }
}

/// How long `/block` and `/offload` work: `?ms=N`, 100 by default, at most 10 s.
fn millis(req: &Request) -> Result<Duration, HttpError> {
    let ms: u64 = req.query_as("ms")?.unwrap_or(100);
    Ok(Duration::from_millis(ms.min(10_000)))
}

/// `GET /block?ms=N`: blocks the loop on purpose with `std::thread::sleep`. Every other
/// request waits; the slow-poll detector names this request.
async fn block(req: Request) -> Result<Json<Value>, HttpError> {
    let d = millis(&req)?;
    std::thread::sleep(d);
    Ok(Json(json!({"blocked_loop_ms": d.as_millis() as u64})))
}

/// `GET /offload?ms=N`: the same sleep on the offload pool; the loop stays free.
async fn offload(req: Request) -> Result<Json<Value>, HttpError> {
    let d = millis(&req)?;
    simmer::offload(move || std::thread::sleep(d))
        .await
        .map_err(|e| HttpError::new(500, e.to_string()))?;
    Ok(Json(json!({"offloaded_ms": d.as_millis() as u64})))
}

/// `POST /echo`: the request body back, unchanged (Content-Length or chunked upload).
async fn echo(mut req: Request) -> Result<Response, HttpError> {
    let body = req.body().await?;
    let content_type = req
        .header("content-type")
        .unwrap_or("application/octet-stream")
        .to_string();
    Ok(Response::bytes(body).with_content_type(content_type))
}

/// `GET /stats`: the runtime's counters as JSON.
async fn stats(req: Request) -> Json<Value> {
    let s = simmer::stats().expect("inside the runtime");
    let tour = req.state::<Tour>().expect("tour state");
    Json(json!({
        "tasks_spawned": s.tasks_spawned, "tasks_alive": s.tasks_alive, "polls": s.polls,
        "local_wakes": s.local_wakes, "remote_wakes": s.remote_wakes, "unparks": s.unparks,
        "io_events": s.io_events, "timers_fired": s.timers_fired, "loop_turns": s.loop_turns,
        "offload_queued": s.offload_queued, "offload_running": s.offload_running,
        "offload_threads": s.offload_threads, "longest_poll_ms": s.longest_poll.as_millis() as u64,
        "slow_polls": s.slow_polls, "async_route_most_at_once": tour.most_sleeping.get(),
        "loop_delay": histogram(&s.loop_delay), "timer_lateness": histogram(&s.timer_lateness),
        "poll_duration": histogram(&s.poll_duration), "wake_to_poll": histogram(&s.wake_to_poll),
    }))
}

/// A histogram as `/stats` shows it: count and quantiles in microseconds.
fn histogram(h: &simmer::Histogram) -> Value {
    let us = |d: Duration| d.as_micros() as u64;
    json!({
        "count": h.count(), "p50_us": us(h.p50()), "p90_us": us(h.p90()),
        "p99_us": us(h.p99()), "max_us": us(h.max()),
    })
}

/// Where `/db-data` and `/items` read from: PostgreSQL through simmer-postgres (an async
/// driver: the loop never waits) when `DATABASE_URL` is set, else a SQLite file through
/// rusqlite (a blocking driver: every call runs on the offload pool).
pub enum Database {
    /// `DATABASE_URL`: a pool of non-blocking connections.
    Postgres(simmer::postgres::Pool),
    /// A SQLite file (`SIMMER_SQLITE`, or simmer-tour.sqlite3 in the temp directory).
    Sqlite(Arc<Mutex<simmer::rusqlite::Connection>>),
}

/// Both backends understand this SQL: the tables are created and seeded once.
const SETUP: &str = "
    CREATE TABLE IF NOT EXISTS mytable (id INTEGER PRIMARY KEY, name TEXT NOT NULL, value INTEGER NOT NULL);
    INSERT INTO mytable VALUES (1, 'alpha', 10), (2, 'beta', 20), (3, 'gamma', 30) ON CONFLICT DO NOTHING;
    CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL);
    INSERT INTO items VALUES (1, 'green tea', 250), (2, 'black tea', 300), (3, 'oolong', 400) ON CONFLICT DO NOTHING;";

impl Database {
    /// Connects (or opens the file) and creates and seeds the tables on first start.
    pub async fn open() -> Result<Database, String> {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            let pool = simmer::postgres::Pool::new(&url, 10).map_err(|e| e.to_string())?;
            pool.get()
                .await
                .map_err(|e| e.to_string())?
                .batch_execute(SETUP)
                .await
                .map_err(|e| e.to_string())?;
            return Ok(Database::Postgres(pool));
        }
        let path = std::env::var("SIMMER_SQLITE").unwrap_or_else(|_| {
            std::env::temp_dir()
                .join("simmer-tour.sqlite3")
                .display()
                .to_string()
        });
        let conn = simmer::offload(move || {
            let conn = simmer::rusqlite::Connection::open(&path)?;
            conn.busy_timeout(Duration::from_secs(5))?;
            conn.execute_batch(SETUP)?;
            Ok::<_, simmer::rusqlite::Error>(conn)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("SQLite: {e}"))?;
        Ok(Database::Sqlite(Arc::new(Mutex::new(conn))))
    }

    /// Any query's rows as a JSON list of objects by column name and type:
    /// `Row::to_json` on PostgreSQL, `simmer::sqlite::row_to_json` on SQLite.
    async fn select_json(&self, sql: &'static str) -> Result<Value, String> {
        let rows = match self {
            Database::Postgres(pool) => {
                let mut db = pool.get().await.map_err(|e| e.to_string())?;
                let rows = db.query(sql, &[]).await.map_err(|e| e.to_string())?;
                rows.iter()
                    .map(simmer::postgres::Row::to_json)
                    .collect::<Result<_, _>>()
                    .map_err(|e| e.to_string())?
            }
            Database::Sqlite(conn) => {
                let conn = Arc::clone(conn);
                simmer::offload(move || {
                    let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
                    let mut statement = conn.prepare(sql)?;
                    let rows = statement.query_map([], simmer::sqlite::row_to_json)?;
                    rows.collect::<Result<Vec<_>, _>>()
                })
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("SQLite: {e}"))?
            }
        };
        Ok(Value::Array(rows))
    }

    /// Adds an item and returns its id: one past the largest, which both backends
    /// compute the same way (on PostgreSQL a concurrent insert that took the same id
    /// makes this one try the next).
    async fn insert_item(&self, name: String, price_cents: i64) -> Result<i64, String> {
        match self {
            Database::Postgres(pool) => {
                let mut db = pool.get().await.map_err(|e| e.to_string())?;
                let sql = "INSERT INTO items (id, name, price_cents) \
                           SELECT COALESCE(MAX(id), 0) + 1, $1, $2 FROM items \
                           ON CONFLICT (id) DO NOTHING RETURNING id";
                for _ in 0..10 {
                    let row = db.query_opt(sql, &[&name, &price_cents]).await;
                    if let Some(row) = row.map_err(|e| e.to_string())? {
                        return row.get(0).map_err(|e| e.to_string());
                    }
                }
                Err("no free item id after 10 tries".to_string())
            }
            Database::Sqlite(conn) => {
                let conn = Arc::clone(conn);
                simmer::offload(move || {
                    let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
                    conn.query_row(
                        "INSERT INTO items (id, name, price_cents) \
                         SELECT COALESCE(MAX(id), 0) + 1, ?1, ?2 FROM items RETURNING id",
                        simmer::rusqlite::params![name, price_cents],
                        |row| row.get(0),
                    )
                })
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("SQLite: {e}"))
            }
        }
    }

    /// Removes an item; false if there was none with that id.
    async fn delete_item(&self, id: i64) -> Result<bool, String> {
        match self {
            Database::Postgres(pool) => {
                let mut db = pool.get().await.map_err(|e| e.to_string())?;
                let sql = "DELETE FROM items WHERE id = $1";
                let deleted = db.execute(sql, &[&id]).await.map_err(|e| e.to_string())?;
                Ok(deleted > 0)
            }
            Database::Sqlite(conn) => {
                let conn = Arc::clone(conn);
                simmer::offload(move || {
                    let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
                    conn.execute("DELETE FROM items WHERE id = ?1", [id])
                })
                .await
                .map_err(|e| e.to_string())?
                .map(|deleted| deleted > 0)
                .map_err(|e| format!("SQLite: {e}"))
            }
        }
    }

    /// `SELECT id, name, <number> FROM table ORDER BY id` as a JSON list of objects.
    async fn all(&self, table: &'static str, number: &'static str) -> Result<Value, String> {
        let sql = format!("SELECT id, name, {number} FROM {table} ORDER BY id");
        let rows: Vec<(i64, String, i64)> = match self {
            Database::Postgres(pool) => {
                let mut db = pool.get().await.map_err(|e| e.to_string())?;
                let rows = db.query(&sql, &[]).await.map_err(|e| e.to_string())?;
                rows.iter()
                    .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .collect::<Result<_, simmer::postgres::Error>>()
                    .map_err(|e| e.to_string())?
            }
            Database::Sqlite(conn) => {
                let conn = Arc::clone(conn);
                simmer::offload(move || {
                    let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
                    let mut statement = conn.prepare(&sql)?;
                    let rows =
                        statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                    rows.collect::<Result<Vec<_>, _>>()
                })
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("SQLite: {e}"))?
            }
        };
        Ok(Value::Array(
            rows.into_iter()
                .map(|(id, name, n)| json!({"id": id, "name": name, number: n}))
                .collect(),
        ))
    }
}

/// `GET /db-data`: the guide's literal `SELECT * FROM mytable`, returned as asyncpg's
/// `[dict(row) for row in rows]` would be: a list of objects, each value converted by
/// its column's type, whatever the table's columns are.
async fn db_data(req: Request) -> Result<Json<Value>, HttpError> {
    let tour = req.state::<Tour>().expect("tour state");
    tour.db
        .select_json("SELECT * FROM mytable")
        .await
        .map(Json)
        .map_err(|e| HttpError::new(500, e))
}

/// `GET /items`: every item.
async fn items(req: Request) -> Result<Json<Value>, HttpError> {
    let tour = req.state::<Tour>().expect("tour state");
    tour.db
        .all("items", "price_cents")
        .await
        .map(Json)
        .map_err(|e| HttpError::new(500, e))
}

/// `GET /plaintext` and `GET /json`: the TechEmpower tests.
async fn plaintext(_req: Request) -> Response {
    Response::text("Hello, World!")
}

async fn json_test(_req: Request) -> Json<Value> {
    Json(json!({"message": "Hello, World!"}))
}

/// `GET /ws`: a WebSocket that sends every message back, text as text, bytes as bytes.
async fn ws_echo(mut socket: simmer::http::ws::WebSocket) {
    while let Some(message) = socket.recv().await {
        if socket.send(message).await.is_err() {
            break;
        }
    }
}

/// `GET /ws-echo`: a page whose script talks to `/ws` (one HTML file, script inline).
async fn ws_echo_page(_req: Request) -> Response {
    Response::text(include_str!("tour_echo.html")).with_content_type("text/html; charset=utf-8")
}

/// The tour's routes (also used by `examples/blocking.rs`).
pub fn router(upstream: String, db: Database) -> Router {
    Router::new()
        .get("/", root)
        .get_sync("/hello", say_hello)
        .get("/async-route", async_route)
        .get("/wait", wait)
        .get("/cpu-task", cpu_task)
        .get("/sync-task", sync_task)
        .get("/error-handling", error_handling)
        .get("/external-api", external_api)
        .get("/upstream", upstream_data)
        .get("/items/{id}", item)
        .get("/block", block)
        .get("/offload", offload)
        .post("/echo", echo)
        .get("/plaintext", plaintext)
        .get("/json", json_test)
        .get("/stats", stats)
        .get("/db-data", db_data)
        .get("/items", items)
        .post("/items", create_item)
        .delete("/items/{id}", delete_item)
        .ws("/ws", ws_echo)
        .get("/ws-echo", ws_echo_page)
        .metrics("/metrics")
        .live_page("/_simmer")
        .state(Tour {
            client: Client::new(),
            db,
            upstream,
            sleeping: Cell::new(0),
            most_sleeping: Cell::new(0),
        })
        .middleware(middleware::process_time)
}

fn main() {
    let mut addr = std::env::var("SIMMER_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_string());
    let mut workers = std::env::var("SIMMER_WORKERS").unwrap_or_else(|_| "1".to_string());
    let mut upstream = None;
    let (mut tls_cert, mut tls_key) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--addr", Some(value)) => addr = value,
            ("--upstream", Some(value)) => upstream = Some(value),
            ("--workers", Some(value)) => workers = value,
            ("--tls-cert", Some(value)) => tls_cert = Some(value),
            ("--tls-key", Some(value)) => tls_key = Some(value),
            _ => {
                eprintln!(
                    "usage: tour [--addr IP:PORT] [--upstream URL] [--workers N] \
                     [--tls-cert PEM --tls-key PEM]"
                );
                std::process::exit(2);
            }
        }
    }
    let scheme = if tls_cert.is_some() { "https" } else { "http" };
    let bind = match (tls_cert, tls_key) {
        (None, None) => Server::bind(addr.as_str()),
        (Some(cert), Some(key)) => Server::bind_tls(addr.as_str(), cert, key),
        _ => {
            eprintln!("tour: --tls-cert and --tls-key go together");
            std::process::exit(2);
        }
    };

    let Ok(workers) = workers.parse::<usize>() else {
        eprintln!("tour: --workers wants a number (0 = one per core), not {workers:?}");
        std::process::exit(2);
    };
    let result = bind.and_then(|server| {
        let local = server.local_addr()?;
        // Over TLS by the name a certificate carries (trusted through SSL_CERT_FILE).
        let upstream = upstream.unwrap_or_else(|| match scheme {
            "https" => format!("https://localhost:{}/upstream", local.port()),
            _ => format!("http://{local}/upstream"),
        });
        let workers = server.workers(workers);
        let count = workers.count();
        let announced = std::sync::atomic::AtomicBool::new(false);
        // Each worker builds its own router, with its own database connection, on its
        // own loop: a Router and its state never leave their thread.
        workers.serve_with(move || {
            let upstream = upstream.clone();
            let first = !announced.swap(true, std::sync::atomic::Ordering::SeqCst);
            async move {
                let db = Database::open().await.map_err(std::io::Error::other)?;
                let backend = match &db {
                    Database::Postgres(_) => "PostgreSQL (DATABASE_URL)",
                    Database::Sqlite(_) => "SQLite on the offload pool",
                };
                let router = router(upstream, db);
                if first {
                    println!("simmer tour ({count} worker(s)): listening on {scheme}://{local}");
                    println!("  database: {backend}");
                    for line in router.describe() {
                        println!("  {line}");
                    }
                }
                Ok(router)
            }
        })
    });
    if let Err(e) = result {
        eprintln!("tour: {e}");
        std::process::exit(1);
    }
}
