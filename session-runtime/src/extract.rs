//! `Session<T>`: the extractor handlers take, with the fields as typed properties.

use std::ops::{Deref, DerefMut};
use std::time::{Duration, SystemTime};

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::engine::{Intent, Loaded};
use crate::error::SessionRejection;
use crate::schema::SessionSchema;
use crate::slot::SessionSlot;
use crate::time::{system_time, unix_now};

/// The session of type `T` for this request: use its fields directly.
///
/// `Session<T>` dereferences to `T`, so fields read and write as typed properties. When the
/// handler returns, the layer compares each field's encoding with what was loaded: only a real
/// change is written (and only then is a `Set-Cookie` sent).
///
/// The session is loaded when, and only when, a handler extracts it: routes that do not ask
/// for it cost no decryption and no store call. `Result<Session<T>, SessionRejection>` extracts
/// too, for handlers that want to answer store outages themselves.
///
/// # Example
///
/// ```
/// use axum::{Router, routing::get};
/// use session_runtime::Session;
///
/// #[derive(Session)]
/// #[session(cookie_name = "myapp", expire = 3600)]
/// struct Visit {
///     counter: u32,
/// }
///
/// async fn count(mut visit: Session<Visit>) -> String {
///     visit.counter += 1;
///     format!("This is your {} visit", visit.counter)
/// }
///
/// # async fn app() -> Result<Router, session_runtime::ConfigError> {
/// let app = Router::new()
///     .route("/counter", get(count))
///     .layer(Visit::layer().from_env()?.build().await?);
/// # Ok(app) }
/// ```
///
/// Without its layer the extractor answers 500, naming the type and the missing layer.
pub struct Session<T: SessionSchema> {
    loaded: Option<Loaded<T>>,
    slot: SessionSlot<T>,
}

impl<T: SessionSchema> Session<T> {
    fn loaded(&self) -> &Loaded<T> {
        self.loaded
            .as_ref()
            .expect("a Session holds its value until it is dropped")
    }

    fn loaded_mut(&mut self) -> &mut Loaded<T> {
        self.loaded
            .as_mut()
            .expect("a Session holds its value until it is dropped")
    }

    /// Whether this session started empty in this request (no valid cookie or record).
    ///
    /// ```
    /// # use session_runtime::Session;
    /// # #[derive(Session)] struct Visit { counter: u32 }
    /// async fn hello(visit: Session<Visit>) -> &'static str {
    ///     if visit.is_new() { "Welcome!" } else { "Welcome back!" }
    /// }
    /// ```
    pub fn is_new(&self) -> bool {
        self.loaded().state.is_new
    }

    /// When the session expires unless activity extends it (for a new session: if it is saved
    /// in this request). `None` only for `legacy` cookies, whose expiry only the browser knows.
    pub fn expires_at(&self) -> Option<SystemTime> {
        let at = self.slot.engine.expires_at(&self.loaded().state);
        (at != 0).then(|| system_time(at))
    }

    /// How long until [`expires_at`](Self::expires_at).
    pub fn remaining(&self) -> Option<Duration> {
        let at = self.slot.engine.expires_at(&self.loaded().state);
        (at != 0).then(|| Duration::from_secs(at.saturating_sub(unix_now())))
    }

    /// Gives this session its own idle timeout ("remember me"): it is kept with the session,
    /// and the cookie becomes persistent even for a `sessioncookie` type. Capped by
    /// `max_lifetime`.
    ///
    /// ```
    /// # use session_runtime::Session;
    /// # #[derive(Session)] struct Auth { user: Option<String> }
    /// use std::time::Duration;
    ///
    /// async fn login(mut auth: Session<Auth>) {
    ///     auth.user = Some("ada".into());
    ///     auth.regenerate();
    ///     auth.set_expiry(Duration::from_secs(30 * 24 * 3600));
    /// }
    /// ```
    pub fn set_expiry(&mut self, idle_timeout: Duration) {
        self.loaded_mut()
            .state
            .set_idle_timeout(idle_timeout.as_secs().max(1));
    }

    /// Issues a new session id keeping the data, and deletes the old record: call it on every
    /// privilege change (log in, log out, role change) against session fixation. With the
    /// cookie store the value is re-sealed under a fresh nonce.
    pub fn regenerate(&mut self) {
        self.loaded_mut().state.intent = Intent::Regenerate;
    }

    /// Ends the session: the record is deleted and the cookie expired (same domain and path).
    ///
    /// ```
    /// # use session_runtime::Session;
    /// # #[derive(Session)] struct Auth { user: Option<String> }
    /// async fn logout(auth: Session<Auth>) -> &'static str {
    ///     auth.destroy();
    ///     "Logged out"
    /// }
    /// ```
    pub fn destroy(mut self) {
        self.loaded_mut().state.intent = Intent::Destroy;
    }
}

impl<T: SessionSchema> Deref for Session<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.loaded().data
    }
}

impl<T: SessionSchema> DerefMut for Session<T> {
    fn deref_mut(&mut self) -> &mut T {
        let loaded = self.loaded_mut();
        loaded.touch();
        &mut loaded.data
    }
}

impl<T: SessionSchema + std::fmt::Debug> std::fmt::Debug for Session<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("data", &self.loaded().data)
            .field("is_new", &self.is_new())
            .finish()
    }
}

impl<T: SessionSchema> Drop for Session<T> {
    fn drop(&mut self) {
        if let Some(loaded) = self.loaded.take() {
            self.slot.give_back(loaded);
        }
    }
}

impl<T: SessionSchema, S: Send + Sync> FromRequestParts<S> for Session<T> {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(slot) = parts.extensions.get::<SessionSlot<T>>().cloned() else {
            return Err(SessionRejection::MissingLayer {
                type_name: T::attributes().type_name,
            });
        };
        let loaded = slot.check_out(&parts.headers).await?;
        Ok(Session {
            loaded: Some(loaded),
            slot,
        })
    }
}
