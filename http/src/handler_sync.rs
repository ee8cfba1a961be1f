//! Sync handlers: plain functions run on the offload pool (FastAPI runs a `def` path
//! operation in a thread pool). Registered with [`crate::Router::get_sync`] and
//! friends; they take the same extractors as async handlers, extracted on the loop
//! thread and then moved to the pool, so each must be `Send` (`Path`, `Query`,
//! `Header`, `Json`, `Form`, `String`, `Vec<u8>`; not `State` or `Request`, which
//! belong to the loop's thread).

use std::future::Future;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use crate::error::HttpError;
use crate::extract::{FromRequest, FromRequestParts, Rejections};
use crate::handler::{Handler, NeededState};
use crate::request::Request;
use crate::response::{IntoResponse, Response};

/// A plain function whose arguments are `Send` extractors, run on the offload pool.
pub trait SyncHandler<Args>: Send + Sync + 'static {
    /// Extracts the arguments on the loop, runs the function on the pool, and answers.
    fn call(this: &Arc<Self>, req: Request) -> impl Future<Output = Response> + 'static;

    /// The state types the arguments read (none can: state is not `Send`).
    fn needed_state(needed: &mut Vec<NeededState>) {
        let _ = needed;
    }
}

/// Runs `work` on the pool; a panic or a missing runtime is a logged 500.
async fn on_pool<R: IntoResponse + Send + 'static>(
    work: impl FnOnce() -> R + Send + 'static,
) -> Response {
    match simmer_executor::offload(work).await {
        Ok(result) => result.into_response(),
        Err(e) => {
            simmer_executor::log_error!(
                "simmer_http",
                "simmer-http: sync handler failed on the offload pool: {e}"
            );
            HttpError::new(500, "Internal Server Error").into_response()
        }
    }
}

impl<F, R> SyncHandler<()> for F
where
    F: Fn() -> R + Send + Sync + 'static,
    R: IntoResponse + Send + 'static,
{
    fn call(this: &Arc<Self>, _req: Request) -> impl Future<Output = Response> + 'static {
        let f = Arc::clone(this);
        on_pool(move || f())
    }
}

/// Implements [`SyncHandler`] for functions of one shape.
macro_rules! sync_handlers {
    ($($part:ident),* ; $last:ident) => {
        #[allow(non_snake_case)]
        impl<F, R, M, $($part,)* $last> SyncHandler<(M, $($part,)* $last,)> for F
        where
            F: Fn($($part,)* $last) -> R + Send + Sync + 'static,
            R: IntoResponse + Send + 'static,
            $($part: FromRequestParts + Send + 'static,)*
            $last: FromRequest<M> + Send + 'static,
            M: 'static,
        {
            fn call(this: &Arc<Self>, req: Request) -> impl Future<Output = Response> + 'static {
                let f = Arc::clone(this);
                async move {
                    let mut rejections = Rejections::default();
                    $(let $part = rejections.keep($part::from_request_parts(&req));)*
                    let $last = rejections.keep($last::from_request(req).await);
                    match ($($part,)* $last,) {
                        ($(Some($part),)* Some($last),) => on_pool(move || f($($part,)* $last)).await,
                        _ => rejections.into_response(),
                    }
                }
            }

            fn needed_state(needed: &mut Vec<NeededState>) {
                $($part::needed_state(needed);)*
                $last::needed_state(needed);
            }
        }
    };
}

sync_handlers!(; T1);
sync_handlers!(T1; T2);
sync_handlers!(T1, T2; T3);
sync_handlers!(T1, T2, T3; T4);
sync_handlers!(T1, T2, T3, T4; T5);
sync_handlers!(T1, T2, T3, T4, T5; T6);

/// A sync handler as the router's [`Handler`].
pub(crate) struct OnPool<F, Args> {
    function: Arc<F>,
    args: PhantomData<fn() -> Args>,
}

impl<F, Args> OnPool<F, Args> {
    pub(crate) fn new(function: F) -> OnPool<F, Args> {
        OnPool {
            function: Arc::new(function),
            args: PhantomData,
        }
    }
}

impl<F: SyncHandler<Args>, Args: 'static> Handler<Args> for OnPool<F, Args> {
    fn call(this: &Rc<Self>, req: Request) -> impl Future<Output = Response> + 'static {
        F::call(&this.function, req)
    }

    fn needed_state(needed: &mut Vec<NeededState>) {
        F::needed_state(needed);
    }
}
