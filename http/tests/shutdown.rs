//! Graceful shutdown: in-flight requests finish, idle connections close, new
//! connections are refused, `serve_until` returns.
mod support;

use std::io::{BufReader, Write};
use std::time::Duration;

use simmer::http::{Request, Router};
use support::{exchange, read_response, read_to_close, serve};

fn app() -> Router {
    Router::new()
        .get("/", |_r: Request| async { "hi" })
        .get("/slow", |_r: Request| async {
            simmer::time::sleep(Duration::from_millis(400)).await;
            "finished after shutdown began"
        })
}

#[test]
fn in_flight_request_completes_while_new_connections_are_refused() {
    let server = serve(app);
    let addr = server.addr;
    let idle = server.connect();
    assert_eq!(
        exchange(&idle, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").status,
        200
    );
    let busy = server.connect();
    (&busy)
        .write_all(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(100)); // the slow request is in its handler
    let stopper = std::thread::spawn(move || server.stop());
    // Shutdown has begun: wait until the listener is gone (connects are refused).
    let mut refused = false;
    for _ in 0..200 {
        match std::net::TcpStream::connect(addr) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                refused = true;
                break;
            }
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    assert!(refused, "new connections are refused during shutdown");
    let mut reader = BufReader::new(busy.try_clone().unwrap());
    let reply = read_response(&mut reader, false).expect("the in-flight request was answered");
    assert_eq!(reply.text(), "finished after shutdown began");
    assert_eq!(reply.header("connection"), Some("close"));
    let mut idle = idle;
    assert_eq!(
        read_to_close(&mut idle),
        "",
        "the idle connection was closed"
    );
    stopper.join().unwrap().expect("serve_until returned Ok");
}
