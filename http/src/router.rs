//! The router: method and path to handler, with `{name}` parameters and a trailing
//! `{*rest}` wildcard; 404 and 405 (with `Allow`); HEAD served by GET handlers;
//! middleware around everything; errors and panics turned into responses.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;

use crate::error::{Error, HttpError};
use crate::handler::{BoxFuture, CatchPanic, Handler, Middleware, Next};
use crate::method::Method;
use crate::percent;
use crate::request::{Request, RequestHead, StateMap};
use crate::response::{IntoResponse, Response};
use crate::type_map::TypeMap;

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
///     .get("/", |_req| async { "Hello" })
///     .get("/items/{id}", item)
///     .middleware(simmer_http::middleware::process_time);
/// ```
///
/// Middleware runs in the order it was added: the first added is the outermost layer
/// (it sees the request first and the response last).
#[derive(Default)]
pub struct Router {
    routes: Vec<Route>,
    middleware: Vec<Rc<dyn Middleware>>,
    state: StateMap,
    error_handlers: TypeMap<ErrorHandler>,
}

type ErrorHandler = Rc<dyn Fn(&Error) -> Option<Response>>;

/// Path parameters as (name, decoded value).
type Params = Vec<(Rc<str>, String)>;

/// How well a route matched: two bits per segment from the left (literal 3, parameter
/// 2, wildcard 1), so comparing scores compares segment by segment.
type Score = u64;

struct Route {
    pattern: String,
    segments: Vec<Segment>,
    handlers: Vec<(Method, Rc<dyn Handler>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(Rc<str>),
    Rest(Rc<str>),
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
    /// empty `{}`), or the same method and pattern twice: both are programming errors
    /// found at start-up.
    pub fn route(mut self, method: Method, pattern: &str, handler: impl Handler) -> Router {
        let segments = parse_pattern(pattern).unwrap_or_else(|e| panic!("route {pattern:?}: {e}"));
        let handler: Rc<dyn Handler> = Rc::new(handler);
        match self.routes.iter_mut().find(|r| r.segments == segments) {
            Some(route) => {
                assert!(
                    !route.handlers.iter().any(|(m, _)| *m == method),
                    "route {method} {pattern:?} registered twice"
                );
                route.handlers.push((method, handler));
            }
            None => self.routes.push(Route {
                pattern: pattern.to_string(),
                segments,
                handlers: vec![(method, handler)],
            }),
        }
        self
    }

    /// `GET` (and so `HEAD`) requests for `pattern`.
    pub fn get(self, pattern: &str, handler: impl Handler) -> Router {
        self.route(Method::Get, pattern, handler)
    }

    /// `POST` requests for `pattern`.
    pub fn post(self, pattern: &str, handler: impl Handler) -> Router {
        self.route(Method::Post, pattern, handler)
    }

    /// `PUT` requests for `pattern`.
    pub fn put(self, pattern: &str, handler: impl Handler) -> Router {
        self.route(Method::Put, pattern, handler)
    }

    /// `DELETE` requests for `pattern`.
    pub fn delete(self, pattern: &str, handler: impl Handler) -> Router {
        self.route(Method::Delete, pattern, handler)
    }

    /// `PATCH` requests for `pattern`.
    pub fn patch(self, pattern: &str, handler: impl Handler) -> Router {
        self.route(Method::Patch, pattern, handler)
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

    /// The routes as `METHOD pattern` lines, for start-up banners.
    pub fn describe(&self) -> Vec<String> {
        self.routes
            .iter()
            .flat_map(|r| {
                r.handlers
                    .iter()
                    .map(move |(m, _)| format!("{m:<6} {}", r.pattern))
            })
            .collect()
    }

    pub(crate) fn into_app(self) -> Rc<App> {
        Rc::new(App {
            routes: self.routes,
            middleware: self.middleware,
            state: Rc::new(self.state),
            error_handlers: self.error_handlers,
        })
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
    middleware: Vec<Rc<dyn Middleware>>,
    pub(crate) state: Rc<StateMap>,
    error_handlers: TypeMap<ErrorHandler>,
}

/// What routing found for a request.
enum Routed<'a> {
    Found(&'a Rc<dyn Handler>, Params),
    NotFound,
    MethodNotAllowed(String),
}

impl App {
    /// Runs the request through every middleware layer and the router. Without
    /// middleware the router's future is awaited in place, not boxed.
    pub(crate) async fn handle(self: &Rc<Self>, req: Request) -> Response {
        if self.middleware.is_empty() {
            Rc::clone(self).endpoint(req).await
        } else {
            self.run_from(0, req).await
        }
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
            None => Box::pin(Rc::clone(self).endpoint(req)),
        }
    }

    async fn endpoint(self: Rc<Self>, mut req: Request) -> Response {
        let handler = match self.route(&req) {
            Routed::Found(handler, params) => {
                req.set_params(params);
                Rc::clone(handler)
            }
            Routed::NotFound => {
                return HttpError::new(404, "Not Found").into_response();
            }
            Routed::MethodNotAllowed(allow) => {
                return HttpError::new(405, "Method Not Allowed")
                    .into_response()
                    .with_header("allow", allow);
            }
        };
        let what = RequestLine::of(&req);
        match CatchPanic(handler.call(req)).await {
            Ok(response) => self.answer_errors(response, &what),
            Err(message) => {
                eprintln!("simmer-http: handler for {what} panicked: {message}");
                HttpError::new(500, "Internal Server Error").into_response()
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
            eprintln!("simmer-http: handler for {what} failed: {error}");
            return HttpError::new(500, "Internal Server Error").into_response();
        }
        response
    }

    fn route(&self, req: &Request) -> Routed<'_> {
        let path = req.path().strip_prefix('/').unwrap_or(req.path());
        let encoded = path.contains('%');
        let mut best: Option<(&Route, Score, Params)> = None;
        let mut allowed: Vec<&Method> = Vec::new();
        for route in &self.routes {
            let Some((score, params)) = match_segments(&route.segments, path, encoded) else {
                continue;
            };
            if !route.handlers.iter().any(|(m, _)| handles(m, req.method())) {
                allowed.extend(route.handlers.iter().map(|(m, _)| m));
                continue;
            }
            if best.as_ref().is_none_or(|(_, s, _)| score > *s) {
                best = Some((route, score, params));
            }
        }
        match best {
            Some((route, _, params)) => {
                let handler = route
                    .handlers
                    .iter()
                    .find(|(m, _)| m == req.method())
                    .or_else(|| {
                        route
                            .handlers
                            .iter()
                            .find(|(m, _)| handles(m, req.method()))
                    })
                    .map(|(_, h)| h)
                    .expect("matched route has a handler for the method");
                Routed::Found(handler, params)
            }
            None if allowed.is_empty() => Routed::NotFound,
            None => Routed::MethodNotAllowed(allow_header(&allowed)),
        }
    }
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

/// A handler registered for `registered` serves `requested` (GET also serves HEAD).
fn handles(registered: &Method, requested: &Method) -> bool {
    registered == requested || (*registered == Method::Get && *requested == Method::Head)
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

/// Matches a path (without its leading `/`, still percent-encoded) against a pattern.
/// Segments are decoded as they are compared (only if the path has a `%` at all);
/// nothing is allocated unless the route has parameters.
fn match_segments(pattern: &[Segment], path: &str, encoded: bool) -> Option<(Score, Params)> {
    let mut score: Score = 0;
    let mut params = Params::new();
    let mut rest = Some(path);
    for (i, segment) in pattern.iter().enumerate() {
        let weight: Score = match segment {
            Segment::Literal(_) => 3,
            Segment::Param(_) => 2,
            Segment::Rest(_) => 1,
        };
        if i < 32 {
            score |= weight << (62 - 2 * i);
        }
        if let Segment::Rest(name) = segment {
            let tail = rest.unwrap_or("");
            let tail = if encoded {
                percent::decode(tail, false).into_owned()
            } else {
                tail.to_string()
            };
            params.push((Rc::clone(name), tail));
            return Some((score, params));
        }
        let (here, after) = match rest?.split_once('/') {
            Some((here, after)) => (here, Some(after)),
            None => (rest?, None),
        };
        rest = after;
        let here = if encoded {
            percent::decode(here, false)
        } else {
            Cow::Borrowed(here)
        };
        match segment {
            Segment::Literal(text) if *here == **text => {}
            Segment::Param(name) if !here.is_empty() => {
                params.push((Rc::clone(name), here.into_owned()));
            }
            _ => return None,
        }
    }
    rest.is_none().then_some((score, params))
}

fn parse_pattern(pattern: &str) -> Result<Vec<Segment>, String> {
    let rest = pattern
        .strip_prefix('/')
        .ok_or("a pattern must start with '/'")?;
    let parts: Vec<&str> = rest.split('/').collect();
    let last = parts.len() - 1;
    parts
        .iter()
        .enumerate()
        .map(
            |(i, part)| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if name.starts_with('*') => {
                    let name = &name[1..];
                    if i != last {
                        Err(format!("wildcard {{*{name}}} must be the last segment"))
                    } else if name.is_empty() {
                        Err("wildcard needs a name: {*rest}".into())
                    } else {
                        Ok(Segment::Rest(name.into()))
                    }
                }
                Some("") => Err("parameter needs a name: {id}".into()),
                Some(name) => Ok(Segment::Param(name.into())),
                None => Ok(Segment::Literal(part.to_string())),
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> &str {
        p.trim_start_matches('/')
    }

    #[test]
    fn params_wildcards_and_specificity() {
        let item = parse_pattern("/items/{id}").unwrap();
        let me = parse_pattern("/items/me").unwrap();
        let files = parse_pattern("/files/{*rest}").unwrap();
        let (s1, p1) = match_segments(&item, path("/items/42"), false).unwrap();
        assert_eq!(p1, vec![(Rc::from("id"), "42".to_string())]);
        let (s2, _) = match_segments(&me, path("/items/me"), false).unwrap();
        assert!(s2 > s1, "literal beats parameter");
        assert!(
            match_segments(&item, path("/items/"), false).is_none(),
            "empty parameter"
        );
        assert!(match_segments(&item, path("/items/1/2"), false).is_none());
        let (_, p3) = match_segments(&files, path("/files/a/b/c.txt"), false).unwrap();
        assert_eq!(p3[0].1, "a/b/c.txt");
    }

    #[test]
    fn bad_patterns_are_rejected() {
        assert!(parse_pattern("items").is_err());
        assert!(parse_pattern("/{*rest}/x").is_err());
        assert!(parse_pattern("/{}").is_err());
    }
}
