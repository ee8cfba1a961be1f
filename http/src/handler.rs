//! Handlers and middleware as traits, so plain `async fn`s and closures work.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::request::Request;
use crate::response::{IntoResponse, Response};
use crate::router::App;

/// A boxed response future (one allocation per request and layer).
pub type BoxFuture = Pin<Box<dyn Future<Output = Response>>>;

/// Something that answers a request: any `async fn(Request) -> impl IntoResponse`.
pub trait Handler: 'static {
    /// Starts handling `req`.
    fn call(&self, req: Request) -> BoxFuture;
}

impl<F, Fut, R> Handler for F
where
    F: Fn(Request) -> Fut + 'static,
    Fut: Future<Output = R> + 'static,
    R: IntoResponse,
{
    fn call(&self, req: Request) -> BoxFuture {
        let response = self(req);
        Box::pin(async move { response.await.into_response() })
    }
}

/// A layer around every request: any `async fn(Request, Next) -> impl IntoResponse`
/// that calls `next.run(req).await` (FastAPI's `call_next`) somewhere inside.
pub trait Middleware: 'static {
    /// Handles `req`, passing it on with `next`.
    fn call(&self, req: Request, next: Next) -> BoxFuture;
}

impl<F, Fut, R> Middleware for F
where
    F: Fn(Request, Next) -> Fut + 'static,
    Fut: Future<Output = R> + 'static,
    R: IntoResponse,
{
    fn call(&self, req: Request, next: Next) -> BoxFuture {
        let response = self(req, next);
        Box::pin(async move { response.await.into_response() })
    }
}

/// The rest of the chain after a middleware: the next middleware, or the router.
pub struct Next {
    pub(crate) app: Rc<App>,
    pub(crate) index: usize,
}

impl Next {
    /// Passes the request on and returns the response (FastAPI's `await call_next(request)`).
    pub async fn run(self, req: Request) -> Response {
        self.app.run_from(self.index, req).await
    }
}

/// Polls a future while telling the executor which request it serves, so a slow poll
/// is reported with its request line.
pub(crate) struct Described<F> {
    pub(crate) detail: Rc<dyn std::fmt::Display>,
    pub(crate) future: F,
}

impl<F: Future + Unpin> Future for Described<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        simmer_executor::describe_current_poll(Rc::clone(&self.detail));
        Pin::new(&mut self.future).poll(cx)
    }
}

/// Polls a future, turning a panic inside it into `Err(message)`.
pub(crate) struct CatchPanic<F>(pub(crate) F);

impl<F: Future + Unpin> Future for CatchPanic<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match catch_unwind(AssertUnwindSafe(|| Pin::new(&mut self.0).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(panic_message(&*payload))),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}
