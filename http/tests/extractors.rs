//! Extractors over real sockets: handlers that declare what they need, and FastAPI's
//! 422 listing every failing field.
mod support;

use serde::Deserialize;
use serde_json::{json, Value};
use simmer::http::extract::{Form, Header, Json, Path, Query, State};
use simmer::http::{Request, Router, StatusCode};
use support::{exchange, serve};

#[derive(Deserialize)]
struct Page {
    q: Option<String>,
    #[serde(default = "ten")]
    limit: u32,
    #[serde(default)]
    tag: Vec<String>,
}

fn ten() -> u32 {
    10
}

#[derive(Deserialize, serde::Serialize)]
struct Item {
    name: String,
    price_cents: i64,
}

#[derive(Deserialize)]
struct Ids {
    user: u32,
    post: String,
}

#[derive(Deserialize)]
struct Agent {
    user_agent: String,
    x_token: Option<u32>,
}

struct Greeting(&'static str);

async fn item(Path(id): Path<i64>, Query(page): Query<Page>) -> Json<Value> {
    Json(json!({"id": id, "q": page.q, "limit": page.limit, "tag": page.tag}))
}

async fn pair(Path((user, post)): Path<(u32, String)>) -> String {
    format!("user {user} post {post}")
}

async fn named(Path(ids): Path<Ids>) -> String {
    format!("user {} post {}", ids.user, ids.post)
}

async fn create(
    State(greeting): State<Greeting>,
    Json(item): Json<Item>,
) -> (StatusCode, Json<Item>) {
    let _ = greeting.0;
    (StatusCode::CREATED, Json(item))
}

async fn form(Form(item): Form<Item>) -> String {
    format!("{} costs {}", item.name, item.price_cents)
}

async fn headers(Header(agent): Header<Agent>) -> String {
    format!("{} {:?}", agent.user_agent, agent.x_token)
}

async fn mixed(q: Query<Page>, greeting: State<Greeting>, id: Path<i64>, req: Request) -> String {
    format!("{} {} {} {}", (*greeting).0, id.0, q.limit, req.method())
}

async fn hello() -> &'static str {
    "Hello"
}

fn app() -> Router {
    Router::new()
        .get("/items/{id}", item)
        .get("/users/{user}/posts/{post}", pair)
        .get("/named/{user}/{post}", named)
        .post("/items", create)
        .post("/form", form)
        .get("/headers", headers)
        .get("/mixed/{id}", mixed)
        .get("/hello", hello)
        .state(Greeting("hi"))
}

fn send(server: &support::TestServer, request: String) -> support::RawResponse {
    exchange(&server.connect(), request.as_bytes())
}

fn get(server: &support::TestServer, target: &str) -> support::RawResponse {
    send(server, format!("GET {target} HTTP/1.1\r\nHost: a\r\n\r\n"))
}

fn post(
    server: &support::TestServer,
    target: &str,
    content_type: &str,
    body: &str,
) -> support::RawResponse {
    send(
        server,
        format!(
            "POST {target} HTTP/1.1\r\nHost: a\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn json_of(reply: &support::RawResponse) -> Value {
    serde_json::from_str(&reply.text()).unwrap_or_else(|e| panic!("{e}: {}", reply.text()))
}

#[test]
fn path_and_query_extract_with_options_defaults_and_lists() {
    let server = serve(app);
    let reply = get(&server, "/items/7?q=caf%C3%A9&tag=a&tag=b");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        json_of(&reply),
        json!({"id": 7, "q": "café", "limit": 10, "tag": ["a", "b"]})
    );
    let reply = get(&server, "/items/7?limit=3");
    assert_eq!(
        json_of(&reply),
        json!({"id": 7, "q": null, "limit": 3, "tag": []})
    );
    assert_eq!(
        get(&server, "/users/5/posts/intro").text(),
        "user 5 post intro"
    );
    assert_eq!(get(&server, "/named/6/outro").text(), "user 6 post outro");
    assert_eq!(get(&server, "/hello").text(), "Hello");
}

#[test]
fn every_failing_field_is_listed_with_its_place() {
    let server = serve(app);
    let reply = get(&server, "/items/seven?limit=many");
    assert_eq!(reply.status, 422);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        json_of(&reply),
        json!({"detail": [
            {"type": "int_parsing", "loc": ["path", "id"],
             "msg": "Input should be a valid integer, unable to parse string as an integer",
             "input": "seven"},
            {"type": "int_parsing", "loc": ["query", "limit"],
             "msg": "Input should be a valid integer, unable to parse string as an integer",
             "input": "many"},
        ]})
    );
    let reply = get(&server, "/users/x/posts/intro");
    assert_eq!(json_of(&reply)["detail"][0]["loc"], json!(["path", "user"]));
}

#[test]
fn json_body_reports_missing_and_ill_typed_fields_together() {
    let server = serve(app);
    let reply = post(
        &server,
        "/items",
        "application/json",
        r#"{"name":"tea","price_cents":250}"#,
    );
    assert_eq!(reply.status, 201);
    assert_eq!(json_of(&reply), json!({"name": "tea", "price_cents": 250}));

    let reply = post(
        &server,
        "/items",
        "application/json",
        r#"{"price_cents":"cheap"}"#,
    );
    assert_eq!(reply.status, 422);
    let detail = json_of(&reply)["detail"].clone();
    assert_eq!(detail.as_array().map(Vec::len), Some(2), "{detail}");
    assert_eq!(detail[0]["loc"], json!(["body", "price_cents"]));
    assert_eq!(detail[0]["type"], "int_parsing");
    assert_eq!(detail[0]["input"], "cheap");
    assert_eq!(detail[1]["loc"], json!(["body", "name"]));
    assert_eq!(detail[1]["type"], "missing");
    assert_eq!(detail[1]["msg"], "Field required");

    let reply = post(&server, "/items", "application/json", "{not json");
    assert_eq!(reply.status, 422);
    let detail = json_of(&reply)["detail"].clone();
    assert_eq!(detail[0]["type"], "json_invalid");
    assert_eq!(detail[0]["loc"][0], "body");
    assert!(detail[0]["loc"][1].is_u64(), "{detail}");

    let reply = post(&server, "/items", "application/json", "");
    assert_eq!(json_of(&reply)["detail"][0]["type"], "missing");
}

#[test]
fn form_and_header_structs() {
    let server = serve(app);
    let reply = post(
        &server,
        "/form",
        "application/x-www-form-urlencoded",
        "name=green+tea&price_cents=250",
    );
    assert_eq!(reply.text(), "green tea costs 250");
    let reply = post(
        &server,
        "/form",
        "application/x-www-form-urlencoded",
        "price_cents=x",
    );
    let detail = json_of(&reply)["detail"].clone();
    assert_eq!(detail.as_array().map(Vec::len), Some(2), "{detail}");

    let reply = send(
        &server,
        "GET /headers HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8\r\nX-Token: 12\r\n\r\n".into(),
    );
    assert_eq!(reply.text(), "curl/8 Some(12)");
    let reply = send(
        &server,
        "GET /headers HTTP/1.1\r\nHost: a\r\nX-Token: no\r\n\r\n".into(),
    );
    let detail = json_of(&reply)["detail"].clone();
    assert_eq!(detail[0]["loc"], json!(["header", "x_token"]), "{detail}");
    assert_eq!(
        detail[1]["loc"],
        json!(["header", "user_agent"]),
        "{detail}"
    );
}

#[test]
fn extractors_in_any_order_with_the_request_last() {
    let server = serve(app);
    assert_eq!(get(&server, "/mixed/3?limit=4").text(), "hi 3 4 GET");
}

#[test]
fn state_that_was_never_given_fails_at_start_up_naming_type_and_route() {
    let router = Router::new().post("/items", create);
    let error = router.check().expect_err("State<Greeting> is missing");
    let text = error.to_string();
    assert!(
        text.contains("Greeting") && text.contains("POST /items"),
        "{text}"
    );
    let served = simmer::block_on(async {
        let server = simmer::http::Server::bind("127.0.0.1:0")?;
        let router = Router::new().post("/items", create);
        server.serve_until(router, std::future::pending()).await
    });
    let text = served.expect_err("serve refuses").to_string();
    assert!(text.contains("Greeting"), "{text}");
}

#[test]
fn not_found_and_method_not_allowed_are_json_unless_plain_errors() {
    let server = serve(app);
    let reply = get(&server, "/nowhere");
    assert_eq!(reply.status, 404);
    assert_eq!(reply.text(), r#"{"detail":"Not Found"}"#);
    let reply = post(&server, "/hello", "text/plain", "");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.text(), r#"{"detail":"Method Not Allowed"}"#);

    let plain = serve(|| app().plain_errors());
    let reply = get(&plain, "/nowhere");
    assert_eq!(reply.text(), "Not Found");
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let reply = get(&plain, "/items/seven");
    assert_eq!(reply.status, 422);
    assert!(
        reply
            .text()
            .starts_with("path.id: Input should be a valid integer"),
        "{}",
        reply.text()
    );
}

#[test]
fn sync_routes_run_on_the_pool_with_the_same_extractors() {
    let server = serve(|| {
        Router::new().get_sync("/sync/{id}", |Path(id): Path<i64>| {
            format!("sync {id} on {:?}", std::thread::current().id())
        })
    });
    let reply = get(&server, "/sync/5");
    assert_eq!(reply.status, 200);
    assert!(reply.text().starts_with("sync 5 on "), "{}", reply.text());
    let reply = get(&server, "/sync/five");
    assert_eq!(reply.status, 422);
    assert_eq!(json_of(&reply)["detail"][0]["loc"], json!(["path", "id"]));
}

#[test]
fn errors_the_connection_answers_before_routing_follow_the_router_style() {
    let too_large = |server: &support::TestServer| {
        server.raw(b"POST /items HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n")
    };
    let no_host = b"GET /hello HTTP/1.1\r\n\r\n";
    let server = serve(app);
    let reply = too_large(&server);
    assert_eq!(support::status_of(&reply), 413, "{reply}");
    assert!(
        reply.ends_with(r#"{"detail":"request body larger than the limit of 1048576 bytes"}"#),
        "{reply}"
    );
    let reply = server.raw(no_host);
    assert_eq!(support::status_of(&reply), 400, "{reply}");
    assert!(reply.contains("\r\n\r\n{\"detail\":\""), "{reply}");

    let plain = serve(|| app().plain_errors());
    let reply = too_large(&plain);
    assert_eq!(support::status_of(&reply), 413, "{reply}");
    assert!(reply.contains("Content-Type: text/plain"), "{reply}");
    assert!(
        reply.ends_with("\r\n\r\nrequest body larger than the limit of 1048576 bytes"),
        "{reply}"
    );
    let reply = plain.raw(no_host);
    assert_eq!(support::status_of(&reply), 400, "{reply}");
    assert!(reply.contains("Content-Type: text/plain"), "{reply}");
    assert!(!reply.contains("detail"), "{reply}");
}
