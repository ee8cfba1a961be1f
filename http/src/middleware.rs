//! Middleware shipped with simmer-http. Add them with `Router::middleware`.

use std::time::Instant;

use crate::handler::Next;
use crate::request::Request;
use crate::response::Response;

/// Adds `X-Process-Time` (seconds, as FastAPI's middleware example does) to every
/// response: the time from entering this layer to the response.
pub async fn process_time(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let mut response = next.run(req).await;
    let seconds = start.elapsed().as_secs_f64();
    response.set_header("x-process-time", format!("{seconds:.6}"));
    response
}

/// Logs every request as uvicorn does (`log` facade, target `simmer_http::access`, else stderr):
/// `127.0.0.1:51234 - "GET /items/1 HTTP/1.1" 200 OK 0.12ms`.
pub async fn access_log(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let peer = req
        .peer_addr()
        .map_or_else(|| "-".to_string(), |a| a.to_string());
    let line = format!(
        "{} {} {}",
        req.method(),
        req.target(),
        req.version().as_str()
    );
    let response = next.run(req).await;
    simmer_executor::log_info!(
        "simmer_http::access",
        "{peer} - \"{line}\" {} {:.2}ms",
        response.status(),
        start.elapsed().as_secs_f64() * 1e3
    );
    response
}
