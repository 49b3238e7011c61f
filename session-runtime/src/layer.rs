//! The tower [`Layer`] and [`Service`] that give each request its session slot and save the
//! session after the handler.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{CACHE_CONTROL, HeaderMap, HeaderValue, SET_COOKIE, VARY};
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::engine::Engine;
use crate::metrics::SessionMetrics;
use crate::schema::SessionSchema;
use crate::slot::{SessionSlot, SlotState};

/// The session layer of type `T`, made by `T::layer()...build()`.
///
/// Layers of different session types stack: each reads and writes only its own cookie.
///
/// ```
/// use axum::{Router, routing::get};
/// use session_runtime::Session;
///
/// #[derive(Session)]
/// #[session(cookie_name = "auth")]
/// struct Auth { user: Option<String> }
///
/// #[derive(Session)]
/// #[session(cookie_name = "cart", store = "memory")]
/// struct Cart { items: Vec<String> }
///
/// # async fn app() -> Result<Router, session_runtime::ConfigError> {
/// let app = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .layer(Auth::layer().from_env()?.build().await?)
///     .layer(Cart::layer().build().await?);
/// # Ok(app) }
/// ```
pub struct SessionLayer<T> {
    engine: Arc<Engine>,
    _schema: PhantomData<fn() -> T>,
}

impl<T> Clone for SessionLayer<T> {
    fn clone(&self) -> Self {
        SessionLayer {
            engine: Arc::clone(&self.engine),
            _schema: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for SessionLayer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionLayer")
            .field("type", &self.engine.settings.type_name)
            .field("cookie_name", &self.engine.settings.cookie_name)
            .finish()
    }
}

impl<T> SessionLayer<T> {
    pub(crate) fn new(engine: Engine) -> Self {
        SessionLayer {
            engine: Arc::new(engine),
            _schema: PhantomData,
        }
    }

    /// The layer's counters (loads, refused and expired sessions, store errors, writes), for
    /// export to a metrics system. Clones of the layer share them.
    pub fn metrics(&self) -> Arc<SessionMetrics> {
        self.engine.metrics.counters()
    }
}

impl<S, T> Layer<S> for SessionLayer<T> {
    type Service = SessionService<S, T>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            engine: Arc::clone(&self.engine),
            _schema: PhantomData,
        }
    }
}

/// The service [`SessionLayer`] wraps around the application.
pub struct SessionService<S, T> {
    inner: S,
    engine: Arc<Engine>,
    _schema: PhantomData<fn() -> T>,
}

impl<S: Clone, T> Clone for SessionService<S, T> {
    fn clone(&self) -> Self {
        SessionService {
            inner: self.inner.clone(),
            engine: Arc::clone(&self.engine),
            _schema: PhantomData,
        }
    }
}

impl<S, T> std::fmt::Debug for SessionService<S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService")
            .field("type", &self.engine.settings.type_name)
            .finish()
    }
}

impl<S, T, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S, T>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    T: SessionSchema,
    ReqBody: Send + 'static,
    ResBody: From<&'static str> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let slot = SessionSlot::<T>::new(Arc::clone(&self.engine));
        request.extensions_mut().insert(slot.clone());
        // The clone that was driven to readiness serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let response = inner.call(request);
        Box::pin(async move {
            let mut response = response.await?;
            match slot.take() {
                SlotState::Untouched => {}
                SlotState::CheckedOut => tracing::error!(
                    session = slot.engine.settings.type_name,
                    "a Session was still held when the response was ready (moved into a \
                     spawned task?); its changes are not saved"
                ),
                SlotState::Returned(loaded) => match slot.engine.save(loaded).await {
                    Ok(cookies) => mark_response(response.headers_mut(), cookies),
                    Err(error) => {
                        tracing::error!(
                            session = slot.engine.settings.type_name,
                            %error,
                            "saving the session failed; answering with an error instead"
                        );
                        let status = error.status();
                        let mut failed = Response::new(ResBody::from(
                            status.canonical_reason().unwrap_or("Session error"),
                        ));
                        *failed.status_mut() = status;
                        response = failed;
                    }
                },
            }
            Ok(response)
        })
    }
}

/// Adds the session's cookies to a response that read the session, and keeps caches honest:
/// the response varies with the `Cookie` header, and one that sets a cookie is for this client
/// only (a shared cache must not hand one user's session cookie to another).
fn mark_response(headers: &mut HeaderMap, cookies: Vec<HeaderValue>) {
    let varies = headers.get_all(VARY).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|name| name.trim() == "*" || name.trim().eq_ignore_ascii_case("cookie"))
        })
    });
    if !varies {
        headers.append(VARY, HeaderValue::from_static("cookie"));
    }
    if !cookies.is_empty() {
        keep_from_shared_caches(headers);
    }
    for cookie in cookies {
        headers.append(SET_COOKIE, cookie);
    }
}

/// Makes a response that sets a session cookie unstorable by shared caches.
///
/// Without a `Cache-Control` of the handler's, `private` is enough: the browser may still keep
/// the page. A handler's own `private` or `no-store` is kept as it is. Anything else (`public`,
/// `s-maxage`, `no-cache`, which still lets a shared cache store the response) is replaced by
/// `no-store`: adding `private` beside `public` would leave caches to settle the conflict, and
/// the handler's freshness rules were written for a response without a session cookie.
fn keep_from_shared_caches(headers: &mut HeaderMap) {
    let mut said_anything = false;
    let mut private = false;
    for value in headers.get_all(CACHE_CONTROL) {
        said_anything = true;
        // A directive that is not text cannot be read; it is replaced below.
        let text = value.to_str().unwrap_or_default();
        private |= text.split(',').any(|directive| {
            let directive = directive.trim();
            // A qualified `private="set-cookie"` leaves the rest of the response storable.
            directive.eq_ignore_ascii_case("private") || directive.eq_ignore_ascii_case("no-store")
        });
    }
    if !said_anything {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("private"));
    } else if !private {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}
