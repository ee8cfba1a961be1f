//! The application layer: routing, parameters, JSON, state, middleware, errors, panics.
mod support;

use std::cell::Cell;
use std::fmt;
use std::time::Duration;

use simmer::http::{
    middleware, Error, HttpError, Json, Next, Request, Response, Router, StatusCode, TestClient,
};
use support::{exchange, serve};

#[derive(Debug)]
struct OutOfStock(String);

impl fmt::Display for OutOfStock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is out of stock", self.0)
    }
}

impl std::error::Error for OutOfStock {}

#[derive(serde::Deserialize, serde::Serialize)]
struct Item {
    name: String,
    price: f64,
}

struct Counter(Cell<u64>);

async fn tag(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let seen = response.header("x-order").unwrap_or("").to_string();
    response.set_header("x-order", format!("{seen}outer"));
    response
}

async fn inner_tag(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    response.set_header("x-order", "inner,");
    response
}

fn app() -> Router {
    Router::new()
        .get("/items/{id}", |req: Request| async move {
            let id: i64 = req.param_as("id")?;
            let q = req.query("q");
            Ok::<_, HttpError>(Json(serde_json::json!({ "item_id": id, "q": q })))
        })
        .get("/items/special", |_r: Request| async {
            "the literal route wins"
        })
        .get("/files/{*path}", |req: Request| async move {
            format!("file {}", req.param("path").unwrap())
        })
        .post("/files/upload", |_r: Request| async { "uploaded" })
        .post("/items", |mut req: Request| async move {
            let item: Item = req.json().await?;
            Ok::<_, HttpError>((StatusCode::CREATED, Json(item)))
        })
        .get("/count", |req: Request| async move {
            let counter = req.state::<Counter>().expect("state registered");
            counter.0.set(counter.0.get() + 1);
            format!("{}", counter.0.get())
        })
        .get("/stock/{name}", |req: Request| async move {
            Err::<&str, Error>(OutOfStock(req.param("name").unwrap().to_string()).into())
        })
        .get("/io-error", |_r: Request| async {
            Err::<&str, Error>(std::io::Error::other("disk unplugged").into())
        })
        .get("/panic", |_r: Request| async {
            if true {
                panic!("handler bug");
            }
            "unreachable"
        })
        .get("/slow", |_r: Request| async {
            simmer::time::sleep(Duration::from_millis(200)).await;
            "slow done"
        })
        .state(Counter(Cell::new(0)))
        .exception_handler(|e: &OutOfStock| {
            (
                StatusCode(409),
                Json(serde_json::json!({ "error": e.to_string() })),
            )
        })
        .middleware(middleware::process_time)
        .middleware(tag)
        .middleware(inner_tag)
}

fn get(server: &support::TestServer, target: &str) -> support::RawResponse {
    let s = server.connect();
    exchange(
        &s,
        format!("GET {target} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes(),
    )
}

// Routing, parameters, JSON, state, middleware and error answers need no socket: these
// go through the whole app in-process with `TestClient`.

#[test]
fn typed_path_and_decoded_query_parameters() {
    let client = TestClient::new(app());
    let reply = client.get("/items/42?q=caf%C3%A9+au+lait").send();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.text(), r#"{"item_id":42,"q":"café au lait"}"#);
    let reply = client.get("/items/forty-two").send();
    assert_eq!(
        reply.status(),
        422,
        "a non-integer id is a validation error"
    );
    assert!(
        reply.text().contains("\"id\"") && reply.text().contains("forty-two"),
        "{}",
        reply.text()
    );
}

#[test]
fn literal_beats_parameter_and_wildcards_take_the_rest() {
    let client = TestClient::new(app());
    assert_eq!(
        client.get("/items/special").send().text(),
        "the literal route wins"
    );
    assert_eq!(
        client.get("/files/a/b%20c/d.txt").send().text(),
        "file a/b c/d.txt"
    );
}

#[test]
fn a_route_without_the_method_lets_a_less_specific_one_answer() {
    let client = TestClient::new(app());
    // /files/upload only has POST; GET falls through to /files/{*path}.
    assert_eq!(client.get("/files/upload").send().text(), "file upload");
    assert_eq!(client.post("/files/upload").send().text(), "uploaded");
    // Neither has DELETE: the Allow header names what both offer.
    let reply = client.delete("/files/upload").send();
    assert_eq!(reply.status(), 405);
    assert_eq!(reply.header("allow"), Some("POST, GET, HEAD"));
}

#[test]
#[should_panic(expected = "other parameter names")]
fn one_shape_with_two_parameter_names_is_refused_at_start_up() {
    let _ = Router::new()
        .get("/items/{id}", |_r: Request| async { "by id" })
        .delete("/items/{key}", |_r: Request| async { "by key" });
}

#[test]
fn unknown_path_is_404_and_wrong_method_is_405_with_allow() {
    let client = TestClient::new(app());
    assert_eq!(client.get("/nowhere").send().status(), 404);
    let reply = client.delete("/items/1").send();
    assert_eq!(reply.status(), 405);
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
}

#[test]
fn json_bodies_round_trip_and_invalid_json_is_422_saying_why() {
    let client = TestClient::new(app());
    let body = r#"{"name":"tea","price":2.5}"#;
    let reply = client.post("/items").body(body).send();
    assert_eq!(reply.status(), 201);
    assert_eq!(reply.text(), body);
    let reply = client
        .post("/items")
        .json(&serde_json::json!({"name": "tea"}))
        .send();
    assert_eq!(reply.status(), 422);
    assert!(
        reply.text().contains("missing field `price`"),
        "{}",
        reply.text()
    );
}

/// A body with what JSON must escape, text that is not ASCII, numbers, nesting and a
/// `RawValue`, which serde_json writes as it is.
fn tricky_json() -> serde_json::Value {
    serde_json::json!({
        "quote": "she said \"hi\"\\ then left\n\t\u{1}",
        "unicode": "café ☕ 日本 🦀",
        "numbers": [0, -1, u64::MAX, 1.5, 1e300],
        "nested": {"empty": [], "none": null, "yes": true},
        "long": "a clean run longer than a word, then a \" near its end",
    })
}

#[test]
fn a_json_response_on_the_wire_is_byte_for_byte_what_serde_json_writes() {
    let server = serve(|| {
        Router::new()
            .get("/tricky", |_req: Request| async {
                Response::json(&tricky_json())
            })
            .get("/raw", |_req: Request| async {
                let raw = serde_json::value::RawValue::from_string("[1,  2]".into()).unwrap();
                Response::json(&std::collections::BTreeMap::from([("raw", raw)]))
            })
            .get("/bad-key", |_req: Request| async {
                Response::json(&std::collections::HashMap::from([((1, 2), "tuple key")]))
            })
    });
    let reply = get(&server, "/tricky");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.body, serde_json::to_vec(&tricky_json()).unwrap());
    let reply = get(&server, "/raw");
    assert_eq!(reply.body, br#"{"raw":[1,  2]}"#);
    // What serde_json refuses is a 500 that says why, and the server goes on.
    let reply = get(&server, "/bad-key");
    assert_eq!(reply.status, 500);
    let text = String::from_utf8_lossy(&reply.body);
    assert!(text.contains("key must be a string"), "{text}");
    assert_eq!(get(&server, "/tricky").status, 200);
    server.stop().unwrap();
}

#[test]
fn state_is_shared_by_every_request() {
    let client = TestClient::new(app());
    assert_eq!(client.get("/count").send().text(), "1");
    assert_eq!(client.get("/count").send().text(), "2");
}

#[test]
fn middleware_runs_in_order_and_adds_process_time() {
    let client = TestClient::new(app());
    let reply = client.get("/count").send();
    assert_eq!(
        reply.header("x-order"),
        Some("inner,outer"),
        "first added is outermost"
    );
    let seconds: f64 = reply
        .header("x-process-time")
        .expect("X-Process-Time")
        .parse()
        .unwrap();
    assert!(seconds >= 0.0);
    // Middleware also wraps errors.
    assert!(client
        .get("/nowhere")
        .send()
        .header("x-process-time")
        .is_some());
}

#[test]
fn registered_exception_handler_answers_its_error_type() {
    let client = TestClient::new(app());
    let reply = client.get("/stock/tea").send();
    assert_eq!(reply.status(), 409);
    assert_eq!(reply.text(), r#"{"error":"tea is out of stock"}"#);
    let reply = client.get("/io-error").send();
    assert_eq!(reply.status(), 500);
    assert!(!reply.text().contains("disk"), "details stay in the log");
}

#[test]
fn a_panicking_handler_gets_a_500_and_other_connections_go_on() {
    let server = serve(app);
    // A slow request is in flight on one connection while another panics.
    let slow = server.connect();
    use std::io::Write;
    (&slow)
        .write_all(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    let reply = get(&server, "/panic");
    assert_eq!(reply.status, 500);
    assert!(
        reply.header("x-process-time").is_some(),
        "the middleware saw the 500"
    );
    let mut reader = std::io::BufReader::new(slow.try_clone().unwrap());
    let slow_reply = support::read_response(&mut reader, false).unwrap();
    assert_eq!(
        slow_reply.text(),
        "slow done",
        "the other connection's work survived"
    );
    assert_eq!(get(&server, "/count").status, 200, "the server goes on");
}

#[test]
fn thousand_concurrent_keep_alive_clients() {
    let server = serve(app);
    let addr = server.addr;
    // The clients run on their own simmer runtime: 1,000 tasks, 5 requests each.
    let rt = simmer::Runtime::new().unwrap();
    let ok = rt.block_on(async move {
        let clients: Vec<_> = (0..1000)
            .map(|i| {
                simmer::spawn(async move {
                    let s = simmer::net::TcpStream::connect(addr).await.unwrap();
                    let mut done = 0;
                    for _ in 0..5 {
                        let req = format!("GET /items/{i} HTTP/1.1\r\nHost: a\r\n\r\n");
                        s.write_all(req.as_bytes()).await.unwrap();
                        let mut buf = vec![0u8; 4096];
                        let mut got = Vec::new();
                        while !got.ends_with(b"}") {
                            let n = s.read(&mut buf).await.unwrap();
                            assert!(n > 0, "server closed a keep-alive connection");
                            got.extend_from_slice(&buf[..n]);
                        }
                        let text = String::from_utf8(got).unwrap();
                        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
                        assert!(text.contains(&format!("\"item_id\":{i}")));
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        let mut ok = 0;
        for c in clients {
            ok += c.await.unwrap();
        }
        ok
    });
    assert_eq!(ok, 5000);
}

#[test]
fn access_log_writes_one_uvicorn_style_line_per_request() {
    // The log goes to stderr: run this test binary again as a child and read it.
    if std::env::var_os("SIMMER_CHILD_ACCESS_LOG").is_some() {
        let server = serve(|| {
            Router::new()
                .get("/logged", |_r: Request| async { "ok" })
                .middleware(middleware::access_log)
        });
        assert_eq!(get(&server, "/logged?x=1").status, 200);
        assert_eq!(get(&server, "/missing").status, 404);
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "access_log_writes_one_uvicorn_style_line_per_request",
            "--exact",
            "--nocapture",
        ])
        .env("SIMMER_CHILD_ACCESS_LOG", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("- \"GET /logged?x=1 HTTP/1.1\" 200 OK "),
        "{stderr}"
    );
    assert!(
        stderr.contains("- \"GET /missing HTTP/1.1\" 404 Not Found "),
        "{stderr}"
    );
}
