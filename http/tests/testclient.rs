//! `TestClient`: the whole app in-process answers as the server does over a socket.
mod support;

use serde::Deserialize;
use serde_json::{json, Value};
use simmer::http::extract::{Form, Json, Path, Query};
use simmer::http::{middleware, Request, Response, Router, ServerConfig, TestClient};
use support::exchange;

#[derive(Deserialize, serde::Serialize)]
struct Item {
    name: String,
    price_cents: i64,
}

#[derive(Deserialize)]
struct Page {
    limit: Option<u32>,
}

#[derive(Deserialize)]
struct Login {
    user: String,
}

fn app() -> Router {
    Router::new()
        .get(
            "/items/{id}",
            |Path(id): Path<i64>, Query(page): Query<Page>| async move {
                Json(json!({"id": id, "limit": page.limit}))
            },
        )
        .post("/items", |Json(item): Json<Item>| async move {
            (simmer::http::StatusCode::CREATED, Json(item))
        })
        .post("/login", |Form(login): Form<Login>| async move {
            format!("hello {}", login.user)
        })
        .get("/agent", |req: Request| async move {
            req.header("user-agent").unwrap_or("none").to_string()
        })
        .get("/stream", |_r: Request| async {
            Response::stream(|body| async move {
                for piece in ["one ", "two ", "three"] {
                    if body.send(piece).await.is_err() {
                        return;
                    }
                }
            })
        })
        .get("/panic", |_r: Request| async {
            if true {
                panic!("handler bug");
            }
            "unreachable"
        })
        .middleware(middleware::process_time)
}

/// The parts of a response that must not differ between the two ways of sending.
fn same_parts(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> (u16, Option<String>, String) {
    (
        status,
        content_type.map(str::to_string),
        String::from_utf8_lossy(body).into_owned(),
    )
}

#[test]
fn answers_what_the_server_answers_over_a_socket() {
    let requests: [(&str, &str, &str, &str); 9] = [
        ("GET", "/items/7?limit=3", "", ""),
        ("GET", "/items/seven?limit=-1", "", ""),
        ("GET", "/nowhere", "", ""),
        ("DELETE", "/items/7", "", ""),
        (
            "POST",
            "/items",
            "application/json",
            r#"{"name":"tea","price_cents":250}"#,
        ),
        (
            "POST",
            "/items",
            "application/json",
            r#"{"name":"tea","price_cents":"lots"}"#,
        ),
        ("POST", "/items", "application/json", "not json"),
        (
            "POST",
            "/login",
            "application/x-www-form-urlencoded",
            "user=ann+lee",
        ),
        ("GET", "/panic", "", ""),
    ];
    let server = support::serve(app);
    let client = TestClient::new(app());
    for (method, target, content_type, body) in requests {
        let mut raw = format!("{method} {target} HTTP/1.1\r\nHost: a\r\n");
        let mut request = client.request(simmer::http::Method::from_token(method), target);
        if !content_type.is_empty() {
            raw.push_str(&format!("Content-Type: {content_type}\r\n"));
            request = request.header("content-type", content_type);
        }
        raw.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        let over_socket = exchange(&server.connect(), raw.as_bytes());
        let in_process = request.body(body).send();
        assert_eq!(
            same_parts(
                in_process.status(),
                in_process.header("content-type"),
                in_process.bytes()
            ),
            same_parts(
                over_socket.status,
                over_socket.header("content-type"),
                &over_socket.body
            ),
            "{method} {target}"
        );
        assert_eq!(
            in_process.header("content-length"),
            over_socket.header("content-length"),
            "{method} {target}"
        );
        assert!(
            in_process.header("x-process-time").is_some(),
            "middleware ran"
        );
    }
}

#[test]
fn json_requests_and_responses_and_the_422_shape() {
    let client = TestClient::new(app());
    let reply = client
        .post("/items")
        .json(&json!({"name": "tea", "price_cents": 250}))
        .send();
    assert_eq!(reply.status(), 201);
    let item: Item = reply.json();
    assert_eq!((item.name.as_str(), item.price_cents), ("tea", 250));
    let reply = client
        .post("/items")
        .json(&json!({"price_cents": "x"}))
        .send();
    assert_eq!(reply.status(), 422);
    let detail: Value = reply.json();
    let mut locs: Vec<&Value> = detail["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["loc"])
        .collect();
    locs.sort_by_key(|loc| loc.to_string());
    assert_eq!(
        locs,
        [&json!(["body", "name"]), &json!(["body", "price_cents"])]
    );
}

#[test]
fn headers_forms_streams_and_head_requests() {
    let client = TestClient::new(app());
    assert_eq!(
        client
            .get("/agent")
            .header("User-Agent", "probe/1")
            .send()
            .text(),
        "probe/1"
    );
    assert_eq!(
        client
            .post("/login")
            .form(&[("user", "ann lee & co")])
            .send()
            .text(),
        "hello ann lee & co"
    );
    let reply = client.get("/stream").send();
    assert_eq!(reply.header("transfer-encoding"), Some("chunked"));
    assert_eq!(
        reply.text(),
        "one two three",
        "the pieces, without the chunk framing"
    );
    let reply = client.head("/items/1").send();
    assert_eq!(reply.status(), 200);
    let get = client.get("/items/1").send();
    assert_eq!(get.text(), r#"{"id":1,"limit":null}"#);
    assert_eq!(reply.header("content-length"), Some("21"), "GET's length");
    assert!(reply.bytes().is_empty(), "HEAD has no body");
}

#[test]
fn the_server_checks_and_limits_apply() {
    let config = ServerConfig {
        max_body_bytes: 16,
        ..ServerConfig::default()
    };
    let client = TestClient::with_config(app(), config).unwrap();
    let reply = client
        .post("/login")
        .form(&[("user", "a name longer than sixteen")])
        .send();
    assert_eq!(reply.status(), 413);
    assert_eq!(
        reply.text(),
        r#"{"detail":"request body larger than the limit of 16 bytes"}"#
    );
    let reply = client.get("/agent").header("bad header", "x").send();
    assert_eq!(reply.status(), 400, "{}", reply.text());
    let plain = TestClient::new(app().plain_errors());
    let reply = plain.get("/nowhere").send();
    assert_eq!((reply.status(), reply.text().as_str()), (404, "Not Found"));
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
}

#[test]
#[should_panic(expected = "reads State<")]
fn a_router_missing_state_is_refused() {
    struct Db;
    let router = Router::new().get("/", |_db: simmer::http::State<Db>| async { "" });
    let _ = TestClient::new(router);
}

#[test]
fn every_ill_typed_field_of_any_width_is_listed() {
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Widths {
        small: i8,
        count: u32,
        ratio: f32,
        label: String,
        big: i128,
    }
    let router = Router::new().post("/widths", |Json(_w): Json<Widths>| async { "ok" });
    let client = TestClient::new(router);
    let reply = client
        .post("/widths")
        .json(&json!({"small": "s", "count": -1, "ratio": "r", "label": 5, "big": []}))
        .send();
    assert_eq!(reply.status(), 422);
    let detail: Value = reply.json();
    let mut fields: Vec<&str> = detail["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["loc"][1].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["big", "count", "label", "ratio", "small"],
        "{detail}"
    );
}
