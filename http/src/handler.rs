//! Handlers and middleware as traits, so plain `async fn`s and closures work.
//!
//! A handler is any function whose arguments are extractors (see [`crate::extract`]):
//! `async fn(Request)`, `async fn(Path<i64>, Query<Page>)`, `async fn(State<Db>,
//! Json<Item>)`… Each shape of function has its own [`Handler`] impl, and each impl
//! returns its own concrete future. The router stores handlers behind one object-safe
//! trait, `ErasedHandler`, and [`Erased`] is the single place where a handler's
//! concrete future becomes one type for the router: an [`InlineFuture`], stored in
//! place (no allocation) when it is small.

use std::any::{Any, TypeId};
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::extract::{FromRequest, FromRequestParts, Rejections};
use crate::inline_future::InlineFuture;
use crate::request::Request;
use crate::response::{IntoResponse, Response};
use crate::router::App;

/// A boxed response future (one allocation per middleware layer; handlers' own futures
/// are not boxed unless they are large, see `InlineFuture`).
pub type BoxFuture = Pin<Box<dyn Future<Output = Response>>>;

/// A state type a handler needs, for the router's start-up check: its `TypeId` and name.
pub type NeededState = (TypeId, &'static str);

/// Something that answers a request: an `async fn` (or closure) whose arguments are
/// extractors, returning anything that implements [`IntoResponse`].
///
/// `Args` only tells the impls apart (one per argument shape); it is inferred.
/// Every argument but the last must implement [`FromRequestParts`] (it reads the
/// request's head); the last may also consume the body ([`FromRequest`]: `Json`,
/// `Form`, `String`, `Request`). `Request` itself is therefore always last.
pub trait Handler<Args>: 'static {
    /// Starts handling `req`: extracts the arguments, calls the function, converts the
    /// result. The future is this impl's own type, not boxed.
    fn call(this: &Rc<Self>, req: Request) -> impl Future<Output = Response> + 'static;

    /// Adds the state types the arguments read ([`crate::State`]) to `needed`, so the
    /// router can refuse to start without them.
    fn needed_state(needed: &mut Vec<NeededState>) {
        let _ = needed;
    }
}

/// A handler's future whose output becomes a [`Response`] when it is ready: what
/// `async move { future.await.into_response() }` does, without the async block's own
/// state machine around the handler's (callgrind, pipelined /plaintext: the handler's
/// poll 86 -> 69 instructions per request).
pub(crate) struct Responding<F>(pub(crate) F);

impl<F: Future<Output = R>, R: IntoResponse> Future for Responding<F> {
    type Output = Response;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        // SAFETY: the one field is pinned with the whole (structural pinning): it is
        // never moved out, `Responding` has no `Drop` of its own, and it is `Unpin`
        // only when `F` is.
        let future = unsafe { self.map_unchecked_mut(|this| &mut this.0) };
        future.poll(cx).map(IntoResponse::into_response)
    }
}

/// `async fn()`: a handler that needs nothing from the request (`def say_hello()`).
impl<F, Fut, R> Handler<()> for F
where
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = R> + 'static,
    R: IntoResponse,
{
    fn call(this: &Rc<Self>, _req: Request) -> impl Future<Output = Response> + 'static {
        Responding(this())
    }
}

/// One argument: `async fn(Request)`, `async fn(Path<i64>)`, `async fn(Json<Item>)`…
/// The extractor decides how the function is called ([`FromRequest::call_with`]):
/// `Request` calls it at once and awaits its future as it is, so the plain handler
/// costs exactly what it cost before extractors existed.
impl<F, Fut, R, M, T1> Handler<(M, T1)> for F
where
    F: Fn(T1) -> Fut + 'static,
    Fut: Future<Output = R> + 'static,
    R: IntoResponse,
    T1: FromRequest<M> + 'static,
    M: 'static,
{
    fn call(this: &Rc<Self>, req: Request) -> impl Future<Output = Response> + 'static {
        T1::call_with(this, req)
    }

    fn needed_state(needed: &mut Vec<NeededState>) {
        T1::needed_state(needed);
    }
}

/// Runs the extractors of one argument shape, collecting every validation failure
/// (FastAPI reports all failing fields at once, not the first).
pub trait Extract<Args>: Sized {
    /// Extracts the arguments, or answers with the rejection.
    fn extract(req: Request) -> impl Future<Output = Result<Self, Response>> + 'static;

    /// The state types the arguments read.
    fn needed_state(needed: &mut Vec<NeededState>);
}

/// Implements [`Extract`] for a tuple of extractors and [`Handler`] for functions
/// taking them.
macro_rules! extractor_handlers {
    ($($part:ident),* ; $last:ident) => {
        #[allow(non_snake_case)]
        impl<M, $($part,)* $last> Extract<(M, $($part,)* $last,)> for ($($part,)* $last,)
        where
            $($part: FromRequestParts + 'static,)*
            $last: FromRequest<M> + 'static,
            M: 'static,
        {
            fn extract(req: Request) -> impl Future<Output = Result<Self, Response>> + 'static {
                async move {
                    let mut rejections = Rejections::default();
                    $(let $part = rejections.keep($part::from_request_parts(&req));)*
                    let $last = rejections.keep($last::from_request(req).await);
                    match ($($part,)* $last,) {
                        ($(Some($part),)* Some($last),) => Ok(($($part,)* $last,)),
                        _ => Err(rejections.into_response()),
                    }
                }
            }

            fn needed_state(needed: &mut Vec<NeededState>) {
                $($part::needed_state(needed);)*
                $last::needed_state(needed);
            }
        }

        #[allow(non_snake_case)]
        impl<F, Fut, R, M, $($part,)* $last> Handler<(M, $($part,)* $last,)> for F
        where
            F: Fn($($part,)* $last) -> Fut + 'static,
            Fut: Future<Output = R> + 'static,
            R: IntoResponse,
            $($part: FromRequestParts + 'static,)*
            $last: FromRequest<M> + 'static,
            M: 'static,
        {
            fn call(this: &Rc<Self>, req: Request) -> impl Future<Output = Response> + 'static {
                let handler = Rc::clone(this);
                async move {
                    match <($($part,)* $last,) as Extract<(M, $($part,)* $last,)>>::extract(req).await {
                        Ok(($($part,)* $last,)) => handler($($part,)* $last).await.into_response(),
                        Err(rejection) => rejection,
                    }
                }
            }

            fn needed_state(needed: &mut Vec<NeededState>) {
                <($($part,)* $last,) as Extract<(M, $($part,)* $last,)>>::needed_state(needed);
            }
        }
    };
}

extractor_handlers!(T1; T2);
extractor_handlers!(T1, T2; T3);
extractor_handlers!(T1, T2, T3; T4);
extractor_handlers!(T1, T2, T3, T4; T5);
extractor_handlers!(T1, T2, T3, T4, T5; T6);

/// What the router stores for a route: any handler, behind one object-safe trait.
pub(crate) trait ErasedHandler {
    /// Starts handling `req`: its future goes into `slot`.
    fn start(&self, req: Request, slot: Pin<&mut InlineFuture>);
}

/// A handler with its argument shape fixed, so it can be stored as `dyn ErasedHandler`.
pub(crate) struct Erased<H, Args> {
    handler: Rc<H>,
    args: PhantomData<fn() -> Args>,
}

impl<H: Handler<Args>, Args> Erased<H, Args> {
    pub(crate) fn new(handler: H) -> Erased<H, Args> {
        Erased {
            handler: Rc::new(handler),
            args: PhantomData,
        }
    }
}

impl<H: Handler<Args>, Args: 'static> ErasedHandler for Erased<H, Args> {
    fn start(&self, req: Request, slot: Pin<&mut InlineFuture>) {
        // THE ERASURE POINT: the only place a handler's concrete future (its size and
        // type known here, and nowhere after) becomes the router's one future type.
        // A `Box::pin` here cost a malloc and a free per request (about 110
        // instructions of a pipelined request, callgrind). `InlineFuture` instead
        // writes the future into a fixed buffer (the connection's slot, reused for
        // every request) when it fits (a plain handler's future is a few dozen
        // bytes), and keeps two function pointers made for its type to poll and drop
        // it: a `Box<dyn Future>` without the box. Only a future too large for the
        // buffer is boxed (see inline_future.rs).
        slot.set(|| H::call(&self.handler, req))
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

/// The text of a panic's payload (a `&str` or `String` message).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}
