//! The router: method and path to handler, with `{name}` parameters and a trailing
//! `{*rest}` wildcard; 404 and 405 (with `Allow`); HEAD served by GET handlers;
//! middleware around everything; errors and panics turned into responses.

use std::any::{Any, TypeId};
use std::cell::Cell;
use std::fmt;
use std::pin::Pin;
use std::rc::Rc;

use crate::error::{Error, HttpError};
use crate::handler::{
    BoxFuture, CatchPanic, Erased, ErasedHandler, Handler, Middleware, NeededState, Next,
};
use crate::handler_sync::{OnPool, SyncHandler};
use crate::inline_future::InlineFuture;
use crate::method::Method;
#[cfg(feature = "metrics")]
use crate::metrics::{method_index, RouteMetrics};
use crate::request::{Request, RequestHead, StateMap};
use crate::response::{IntoResponse, Response, TEXT};
use crate::route_tree::{parse_pattern, Captures, Node, Segment};
use crate::type_map::TypeMap;
use literals::LiteralTable;
use methods::MethodHandlers;

mod literals;
mod methods;

/// Routes, middleware, state and error handlers: the application.
///
/// ```no_run
/// use simmer_http::{Request, Router};
///
/// async fn item(req: Request) -> String {
///     format!("item {}", req.param("id").unwrap_or("?"))
/// }
///
/// let router = Router::new()
///     .get("/", |_req: Request| async { "Hello" })
///     .get("/items/{id}", item)
///     .middleware(simmer_http::middleware::process_time);
/// ```
///
/// Middleware runs in the order it was added: the first added is the outermost layer
/// (it sees the request first and the response last).
#[derive(Default)]
pub struct Router {
    routes: Vec<Route>,
    tree: Node,
    literals: LiteralTable,
    middleware: Vec<Rc<dyn Middleware>>,
    state: StateMap,
    error_handlers: TypeMap<ErrorHandler>,
    /// The state types each handler reads, checked against `state` when serving starts.
    needed_state: Vec<(String, NeededState)>,
    /// Answer errors as `text/plain` messages instead of FastAPI's JSON.
    plain_errors: bool,
    /// Count requests per route for `/metrics` (set by `Router::metrics`).
    #[cfg(feature = "metrics")]
    pub(crate) count_requests: bool,
}

type ErrorHandler = Rc<dyn Fn(&Error) -> Option<Response>>;

/// Path parameters as (name, decoded value).
type Params = Vec<(Rc<str>, String)>;

/// One path shape and its handlers, one per method.
struct Route {
    pattern: String,
    /// The names of its `{param}` and `{*rest}` segments, in order.
    param_names: Vec<Rc<str>>,
    handlers: MethodHandlers,
}

impl Route {
    /// The handler for `method`: its own, or GET's for HEAD.
    fn handler_for(&self, method: &Method) -> Option<&Rc<dyn ErasedHandler>> {
        self.handlers.get(method)
    }

    /// Pairs the parameter names with the values captured for them.
    fn params(&self, captures: &Captures<'_>) -> Params {
        if self.param_names.is_empty() {
            return Params::new();
        }
        let values = captures.iter().map(|v| v.to_string());
        self.param_names.iter().cloned().zip(values).collect()
    }
}

impl Router {
    /// An empty router (every path is a 404).
    pub fn new() -> Router {
        Router::default()
    }

    /// Routes `method` requests for `pattern` to `handler`.
    ///
    /// # Panics
    /// On a malformed pattern (it must start with `/`; `{*rest}` only at the end; no
    /// empty `{}`), the same method and pattern twice, or two patterns of the same shape
    /// with different parameter names (`/items/{id}` and `/items/{key}`): all are
    /// programming errors found at start-up.
    /// A handler whose arguments read router state ([`crate::extract::State`]) needs
    /// that state registered by the time the router serves: [`crate::Server::serve`]
    /// fails otherwise, naming the type and the route.
    pub fn route<Args: 'static, H: Handler<Args>>(
        mut self,
        method: Method,
        pattern: &str,
        handler: H,
    ) -> Router {
        let mut needed = Vec::new();
        H::needed_state(&mut needed);
        for state in needed {
            self.needed_state
                .push((format!("{method} {pattern}"), state));
        }
        self.add_route(method, pattern, Rc::new(Erased::new(handler)));
        self
    }

    /// The body of [`Router::route`], compiled once rather than once per handler type.
    /// It borrows the router rather than taking it by value, so the router is not
    /// moved in and out of it.
    fn add_route(&mut self, method: Method, pattern: &str, handler: Rc<dyn ErasedHandler>) {
        let segments = parse_pattern(pattern).unwrap_or_else(|e| panic!("route {pattern:?}: {e}"));
        let param_names: Vec<Rc<str>> = segments
            .iter()
            .filter_map(|s| match s {
                Segment::Literal(_) => None,
                Segment::Param(name) | Segment::Rest(name) => Some(Rc::clone(name)),
            })
            .collect();
        let id = self.tree.insert(&segments, self.routes.len());
        // A pattern with a `%` in it is left to the tree, which compares decoded text;
        // so a path equal to a table entry has no escapes, and needs no check for them.
        let literal_only = param_names.is_empty() && !has_rest(&segments) && !pattern.contains('%');
        if id == self.routes.len() && literal_only {
            self.literals.insert(pattern, id);
        }
        if id == self.routes.len() {
            self.routes.push(Route {
                pattern: pattern.to_string(),
                param_names: param_names.clone(),
                handlers: MethodHandlers::default(),
            });
        }
        let route = &mut self.routes[id];
        assert!(
            route.param_names == param_names,
            "route {pattern:?} has the shape of {:?} with other parameter names; use the same names",
            route.pattern
        );
        if let Err(method) = route.handlers.add(method, handler) {
            panic!("route {method} {pattern:?} registered twice");
        }
    }

    /// `GET` (and so `HEAD`) requests for `pattern`.
    pub fn get<Args: 'static>(self, pattern: &str, handler: impl Handler<Args>) -> Router {
        self.route(Method::Get, pattern, handler)
    }

    /// `POST` requests for `pattern`.
    pub fn post<Args: 'static>(self, pattern: &str, handler: impl Handler<Args>) -> Router {
        self.route(Method::Post, pattern, handler)
    }

    /// `PUT` requests for `pattern`.
    pub fn put<Args: 'static>(self, pattern: &str, handler: impl Handler<Args>) -> Router {
        self.route(Method::Put, pattern, handler)
    }

    /// `DELETE` requests for `pattern`.
    pub fn delete<Args: 'static>(self, pattern: &str, handler: impl Handler<Args>) -> Router {
        self.route(Method::Delete, pattern, handler)
    }

    /// `PATCH` requests for `pattern`.
    pub fn patch<Args: 'static>(self, pattern: &str, handler: impl Handler<Args>) -> Router {
        self.route(Method::Patch, pattern, handler)
    }

    /// `GET` (and `HEAD`) requests for `pattern`, answered by a plain (not `async`)
    /// function run on the offload pool, as FastAPI runs a `def` path operation: for
    /// handlers that block (a synchronous driver, a file API) or compute for long.
    pub fn get_sync<Args: 'static>(self, pattern: &str, handler: impl SyncHandler<Args>) -> Router {
        self.route(Method::Get, pattern, OnPool::new(handler))
    }

    /// `POST` requests for `pattern`, answered on the offload pool (see
    /// [`Router::get_sync`]).
    pub fn post_sync<Args: 'static>(
        self,
        pattern: &str,
        handler: impl SyncHandler<Args>,
    ) -> Router {
        self.route(Method::Post, pattern, OnPool::new(handler))
    }

    /// Adds a middleware layer (see the type's docs for the order).
    pub fn middleware(mut self, layer: impl Middleware) -> Router {
        self.middleware.push(Rc::new(layer));
        self
    }

    /// Makes `value` available to every handler as `req.state::<T>()`.
    pub fn state<T: 'static>(mut self, value: T) -> Router {
        self.state
            .insert(TypeId::of::<T>(), Rc::new(value) as Rc<dyn Any>);
        self
    }

    /// Answers handler errors of type `E` with `handler` (FastAPI's
    /// `@app.exception_handler(E)`). Handlers return such errors with `?` into
    /// [`crate::Error`], or as `Result<_, E>` where `E: Into<Error>`.
    pub fn exception_handler<E, R>(mut self, handler: impl Fn(&E) -> R + 'static) -> Router
    where
        E: std::error::Error + 'static,
        R: IntoResponse,
    {
        let handler: ErrorHandler =
            Rc::new(move |e: &Error| e.downcast_ref::<E>().map(|e| handler(e).into_response()));
        self.error_handlers.insert(TypeId::of::<E>(), handler);
        self
    }

    /// Answers errors (404, 405, 422, handler `HttpError`s…) with their message as
    /// `text/plain`, as simmer did before, instead of FastAPI's `{"detail": …}` JSON.
    pub fn plain_errors(mut self) -> Router {
        self.plain_errors = true;
        self
    }

    /// Checks that the router can serve: every state type a handler reads was
    /// registered. The error names the type and the route. [`crate::Server::serve`]
    /// calls it; call it yourself to fail earlier.
    pub fn check(&self) -> Result<(), std::io::Error> {
        for (route, (type_id, type_name)) in &self.needed_state {
            if self.state.get(type_id).is_none() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "route {route} reads State<{type_name}>, but the router has no state of \
                         that type: add it with Router::state"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The routes as `METHOD pattern` lines, for start-up banners.
    pub fn describe(&self) -> Vec<String> {
        self.routes
            .iter()
            .flat_map(|r| {
                r.handlers
                    .methods()
                    .map(move |m| format!("{m:<6} {}", r.pattern))
            })
            .collect()
    }

    /// The router ready to serve, after [`Router::check`].
    pub(crate) fn into_app(self) -> std::io::Result<Rc<App>> {
        self.check()?;
        #[cfg(feature = "metrics")]
        let metrics = self
            .count_requests
            .then(|| RouteMetrics::register(self.routes.iter().map(|r| r.pattern.as_str())));
        Ok(Rc::new(App {
            #[cfg(feature = "metrics")]
            metrics,
            routes: self.routes,
            tree: self.tree,
            literals: self.literals,
            middleware: self.middleware,
            state: Rc::new(self.state),
            error_handlers: self.error_handlers,
            plain_errors: self.plain_errors,
        }))
    }
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("routes", &self.describe())
            .finish_non_exhaustive()
    }
}

/// A router ready to serve: shared by every connection.
pub(crate) struct App {
    routes: Vec<Route>,
    tree: Node,
    literals: LiteralTable,
    middleware: Vec<Rc<dyn Middleware>>,
    pub(crate) state: Rc<StateMap>,
    error_handlers: TypeMap<ErrorHandler>,
    plain_errors: bool,
    /// Per-route request counters, when `/metrics` is served.
    #[cfg(feature = "metrics")]
    metrics: Option<std::sync::Arc<RouteMetrics>>,
}

/// How a request starts, for the connection (see [`App::start`]).
pub(crate) enum Started {
    /// Routing answered it at once (404, 405).
    Answered(Response),
    /// A future to poll to its response is in the slot given to [`App::start`].
    /// `plain`: it is the handler's own future (no middleware, no metrics), so the
    /// connection passes its response through [`App::finish`] (error handlers) and
    /// catches its panics itself.
    Running { plain: bool },
}

/// What routing found for a request.
enum Routed<'a> {
    /// The handler, the parameters and the route's index.
    Found(&'a Rc<dyn ErasedHandler>, Params, usize),
    NotFound,
    MethodNotAllowed(String),
}

impl App {
    /// Runs the request through every middleware layer and the router. Without
    /// middleware the router's future is awaited in place, not boxed, and a panic in
    /// the handler is caught once, by the connection (a second `catch_unwind` here was
    /// 2.5% of a pipelined request's instructions); with middleware (or metrics) it is
    /// caught here, so the layers (and the counters) see the 500.
    pub(crate) async fn handle(self: &Rc<Self>, req: Request) -> Response {
        if self.middleware.is_empty() {
            // Metrics count a panic's 500, so with metrics on it is caught here.
            #[cfg(feature = "metrics")]
            let catch_panics = self.metrics.is_some();
            #[cfg(not(feature = "metrics"))]
            let catch_panics = false;
            Rc::clone(self).endpoint(req, catch_panics).await
        } else {
            self.run_from(0, req).await
        }
    }

    /// Starts a request for the connection. Without middleware and metrics (the plain
    /// path) it routes right here, outside any future, and hands back the handler's own
    /// future: the connection polls it directly, with no router futures around it
    /// (each async layer cost a poll, a drop and a move of the `Response` per request,
    /// about 500 instructions in all, callgrind). With layers or counters the whole
    /// chain runs as one future, as [`App::handle`] does. The future goes into `slot`
    /// (the connection's, reused for each of its requests).
    pub(crate) fn start(
        self: &Rc<Self>,
        mut req: Request,
        slot: Pin<&mut InlineFuture>,
    ) -> Started {
        if self.has_layers() {
            let app = Rc::clone(self);
            slot.set(|| async move { app.handle(req).await });
            return Started::Running { plain: false };
        }
        // The common case first, inline: a literal path with a handler for the method
        // needs no `Routed` value and no parameters (callgrind: about 20 instructions
        // per request less than going through `route`).
        if let Some(id) = self.literals.find(req.path()) {
            if let Some(handler) = self.routes[id].handler_for(req.method()) {
                handler.start(req, slot);
                return Started::Running { plain: true };
            }
        }
        match self.route(&req) {
            Routed::Found(handler, params, _) => {
                req.set_params(params);
                handler.start(req, slot);
                Started::Running { plain: true }
            }
            Routed::NotFound => {
                Started::Answered(self.error_response(HttpError::new(404, "Not Found")))
            }
            Routed::MethodNotAllowed(allow) => Started::Answered(
                self.error_response(HttpError::new(405, "Method Not Allowed"))
                    .with_header("allow", allow),
            ),
        }
    }

    /// What the plain path does after the handler: a response carrying a handler error
    /// gets the registered answer (see [`Router::exception_handler`]).
    /// In place: the common response, without an error, is not moved.
    #[inline]
    pub(crate) fn finish(&self, response: &mut Response, head: &Rc<RequestHead>) {
        if response.error.is_none() {
            return;
        }
        let taken = std::mem::replace(response, Response::new(crate::status::StatusCode(500)));
        *response = self.answer_errors(taken, &RequestLine(Rc::clone(head)));
    }

    /// Runs the request through middleware layer `index` onwards, then the router.
    pub(crate) fn run_from(self: &Rc<Self>, index: usize, req: Request) -> BoxFuture {
        match self.middleware.get(index) {
            Some(layer) => layer.call(
                req,
                Next {
                    app: Rc::clone(self),
                    index: index + 1,
                },
            ),
            None => Box::pin(Rc::clone(self).endpoint(req, true)),
        }
    }

    /// Whether anything wraps the handlers: middleware, or (with the `metrics` feature)
    /// per-route counters.
    fn has_layers(&self) -> bool {
        #[cfg(feature = "metrics")]
        let counted = self.metrics.is_some();
        #[cfg(not(feature = "metrics"))]
        let counted = false;
        !self.middleware.is_empty() || counted
    }

    #[cfg(not(feature = "metrics"))]
    async fn endpoint(self: Rc<Self>, req: Request, catch_panics: bool) -> Response {
        self.dispatch(req, &Cell::new(None), catch_panics).await
    }

    #[cfg(feature = "metrics")]
    async fn endpoint(self: Rc<Self>, req: Request, catch_panics: bool) -> Response {
        let Some(metrics) = self.metrics.clone() else {
            return self.dispatch(req, &Cell::new(None), catch_panics).await;
        };
        let (started, method) = (std::time::Instant::now(), method_index(req.method()));
        let route = Cell::new(None);
        let response = self.dispatch(req, &route, catch_panics).await;
        metrics.record(
            route.get(),
            method,
            response.status().as_u16(),
            started.elapsed(),
        );
        response
    }

    /// Routes and runs the handler; `route` learns the matched route's index.
    async fn dispatch(
        self: Rc<Self>,
        mut req: Request,
        route: &Cell<Option<usize>>,
        catch_panics: bool,
    ) -> Response {
        let handler = match self.route(&req) {
            Routed::Found(handler, params, id) => {
                req.set_params(params);
                route.set(Some(id));
                Rc::clone(handler)
            }
            Routed::NotFound => {
                return self.error_response(HttpError::new(404, "Not Found"));
            }
            Routed::MethodNotAllowed(allow) => {
                return self
                    .error_response(HttpError::new(405, "Method Not Allowed"))
                    .with_header("allow", allow);
            }
        };
        let what = RequestLine::of(&req);
        let mut future = std::pin::pin!(InlineFuture::empty());
        handler.start(req, future.as_mut());
        if !catch_panics {
            let response = future.await;
            return self.answer_errors(response, &what);
        }
        match CatchPanic(future).await {
            Ok(response) => self.answer_errors(response, &what),
            Err(message) => {
                simmer_executor::log_error!(
                    "simmer_http",
                    "simmer-http: handler for {what} panicked: {message}"
                );
                self.error_response(HttpError::new(500, "Internal Server Error"))
            }
        }
    }

    /// Replaces a response that carries a handler error with the registered answer.
    fn answer_errors(&self, mut response: Response, what: &RequestLine) -> Response {
        let Some(error) = response.error.take() else {
            return response;
        };
        if let Some(handler) = self.error_handlers.get(&error.type_id()) {
            if let Some(answer) = handler(&error) {
                return answer;
            }
        }
        if error.downcast_ref::<HttpError>().is_none() {
            // Details go to the log; the client gets a plain 500.
            simmer_executor::log_error!(
                "simmer_http",
                "simmer-http: handler for {what} failed: {error}"
            );
            return self.error_response(HttpError::new(500, "Internal Server Error"));
        }
        if self.plain_errors {
            if let Some(http) = error.downcast_ref::<HttpError>() {
                let mut text = http.to_text_response();
                text.headers = response.headers.take();
                // The text answer's own content type, not one the response carried.
                text.set_header("content-type", TEXT);
                return text;
            }
        }
        response
    }

    /// The answer for an error the router itself raises, in the router's format.
    pub(crate) fn error_response(&self, error: HttpError) -> Response {
        if self.plain_errors {
            error.to_text_response()
        } else {
            error.into_response()
        }
    }

    fn route(&self, req: &Request) -> Routed<'_> {
        // A path without escapes that equals a literal-only pattern is found by
        // comparing strings, without walking the tree (the tree would find the same
        // route first: literals beat parameters at every segment).
        if let Some(id) = self.literals.find(req.path()) {
            if let Some(handler) = self.routes[id].handler_for(req.method()) {
                return Routed::Found(handler, Params::new(), id);
            }
        }
        // `*` (OPTIONS) and `host:port` (CONNECT) name no resource here.
        let Some(path) = req.path().strip_prefix('/') else {
            return Routed::NotFound;
        };
        let mut allowed: Vec<&Method> = Vec::new();
        let mut found = None;
        self.tree
            .find(Some(path), &mut Captures::new(), &mut |id, captures| {
                let route = &self.routes[id];
                match route.handler_for(req.method()) {
                    Some(handler) => {
                        found = Some((handler, route.params(captures), id));
                        true
                    }
                    None => {
                        allowed.extend(route.handlers.methods());
                        false
                    }
                }
            });
        match found {
            Some((handler, params, id)) => Routed::Found(handler, params, id),
            None if allowed.is_empty() => Routed::NotFound,
            None => Routed::MethodNotAllowed(allow_header(&allowed)),
        }
    }
}

fn has_rest(segments: &[Segment]) -> bool {
    segments.iter().any(|s| matches!(s, Segment::Rest(_)))
}

/// `GET /path` for log lines: the request's shared head, formatted only if needed.
struct RequestLine(Rc<RequestHead>);

impl RequestLine {
    fn of(req: &Request) -> RequestLine {
        RequestLine(req.shared_head())
    }
}

impl fmt::Display for RequestLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0.method(), self.0.path())
    }
}

fn allow_header(methods: &[&Method]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for m in methods {
        if !names.contains(&m.as_str()) {
            names.push(m.as_str());
        }
        if **m == Method::Get && !names.contains(&"HEAD") {
            names.push("HEAD");
        }
    }
    names.join(", ")
}
