//! `Router::ws`: a route that upgrades to a WebSocket.

use std::future::Future;
use std::rc::Rc;

use super::socket::{Role, WebSocket, WsConfig};
use crate::request::Request;
use crate::response::Response;
use crate::router::Router;
use crate::status::StatusCode;

impl Router {
    /// A WebSocket endpoint at `pattern`: a `GET` whose handshake is valid is answered
    /// `101 Switching Protocols`, and `on_connect` then runs with the [`WebSocket`]
    /// for as long as it likes. A request that is not a valid handshake gets `426`
    /// (not an upgrade, or a version other than 13) or `400` (a bad key).
    pub fn ws<F, Fut>(self, pattern: &str, on_connect: F) -> Router
    where
        F: Fn(WebSocket) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.ws_with(pattern, WsConfig::default(), on_connect)
    }

    /// [`Router::ws`] with limits and timeouts of your choosing.
    pub fn ws_with<F, Fut>(self, pattern: &str, config: WsConfig, on_connect: F) -> Router
    where
        F: Fn(WebSocket) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let on_connect = Rc::new(on_connect);
        self.get(pattern, move |request: Request| {
            let on_connect = Rc::clone(&on_connect);
            let config = config.clone();
            async move { upgrade(request, on_connect, config) }
        })
    }
}

/// Checks the handshake and, if it is good, leaves the connection's next job on it.
fn upgrade<F, Fut>(request: Request, on_connect: Rc<F>, config: WsConfig) -> Response
where
    F: Fn(WebSocket) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let response = match super::handshake::accept(&request) {
        Ok(response) => response,
        Err(refusal) => return refusal,
    };
    let Some(io) = request.connection() else {
        return Response::text("a WebSocket needs a connection\n").with_status(StatusCode(500));
    };
    io.upgrade.set(Some(Box::new(move |io| {
        Box::pin(async move {
            on_connect(WebSocket::new(io, Role::Server, config)).await;
        })
    })));
    response
}
